"""The report and figures as a reader gets them: a real browser, embedded fonts, Excel tables."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import fastexcel
import polars as pl
import pytest

pytestmark = pytest.mark.workflow

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
]  # fmt: skip


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip(
        "no Chromium on this machine (Debian: apt-get install chromium); .ci/run installs it"
    )


def test_report_renders_in_headless_chromium(example_run: Path, tmp_path: Path) -> None:
    browser = _chromium()
    report = (example_run / "results/report.html").resolve()
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*common, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in ("comparisons", "curves", "qc", "methods", "provenance"):
        assert f'id="{section}"' in dom.stdout
    assert dom.stdout.count("<img") == 4 + 8
    assert "<figcaption><b>Figure 1.</b>" in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    assert "Failed to load resource" not in dom.stderr

    shot = tmp_path / "report.png"
    done = subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1280,1800", report.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_every_pdf_embeds_its_fonts(example_run: Path) -> None:
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts absent (Debian: apt-get install poppler-utils); .ci/run installs it")
    pdfs = sorted((example_run / "results").rglob("*.pdf"))
    assert len(pdfs) >= 3
    for pdf in pdfs:
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
        rows = listing.stdout.splitlines()[2:]
        assert rows, f"{pdf.name}: no fonts listed"
        for row in rows:
            emb = re.split(r"\s{1,}", row.strip())[-5]
            assert emb == "yes", f"{pdf.name}: font not embedded: {row}"
            assert "Type 3" not in row, f"{pdf.name}: Type 3 font: {row}"


def test_workbook_has_one_sheet_per_table_and_censored_text(example_run: Path) -> None:
    book = fastexcel.read_excel(example_run / "results/tables/killcurve_tables.xlsx")
    assert book.sheet_names == ["plate_qc", "curves", "comparisons"]
    curves = book.load_sheet("curves").to_polars()
    assert curves.height == 16
    assert curves["et50"].dtype == pl.String


def test_figure_pack_numbers_and_captions_every_figure(example_run: Path) -> None:
    from pypdf import PdfReader

    pack = PdfReader(example_run / "results/figures/figure_pack.pdf")
    # Contents; Figures 1–2 curves (K562, SHP-77), 3–4 residuals, 5 plate maps (8 pages).
    assert len(pack.pages) == 1 + 4 + 8
    contents = pack.pages[0].extract_text()
    for line in ("Figure 1. K562", "Figure 2. SHP-77", "Figure 3. K562: residuals",
                 "Figure 5. Plate maps"):  # fmt: skip
        assert line in contents
    provenance = (example_run / "results/provenance.json").read_text()
    page2 = " ".join(pack.pages[1].extract_text().split())
    assert "Figure 1. K562: specific lysis against E:T ratio" in page2
    assert "8 curves from 4 lots on 4 plates, 192 wells used, 0 excluded" in page2
    pid = page2.split("Provenance ")[1].split(".")[0]
    assert f'"provenance_id": "{pid}"' in provenance
    assert "(page 8 of 8)" in " ".join(pack.pages[12].extract_text().split())
