"""The report and figures as a reader gets them: a real browser, embedded fonts, Excel tables."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import fastexcel
import polars as pl
import pytest
import yaml

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


def _figure_pngs(results: Path) -> list[Path]:
    """Every PNG the report embeds: one per figure, one per plate map."""
    return sorted((results / "figures").glob("*.png")) + sorted(
        (results / "figures/plates").glob("*.png")
    )


def test_report_renders_in_headless_chromium(example_run: Path, tmp_path: Path) -> None:
    browser = _chromium()
    report = (example_run / "results/report.html").resolve()
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*common, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    sections = ("answers", "comparisons", "curves", "stage-trend", "thaw-retention",
                "viability", "qc", "methods", "provenance")  # fmt: skip
    positions = [dom.stdout.index(f'<h2 id="{s}">') for s in sections]
    assert positions == sorted(positions), "sections out of order"
    # The four seed questions, each answered with numbers (or saying why not).
    for answer in ("nonspecific", "specific", "viability", "thaw"):
        assert f'<h3 id="answer-{answer}">' in dom.stdout
    answers = dom.stdout[positions[0] : positions[1]]
    assert answers.count('<ul class="answer">') + answers.count('class="missing"') == 4
    assert "reached half-maximal lysis of" in answers and "95 % CI" in answers
    methods = dom.stdout[dom.stdout.index('<h2 id="methods">') :]
    assert "Outliers: no outlier rule (config fit.outliers.method: none)" in methods
    # Every figure PNG once (dossier figures in the answers), every plate map.
    assert dom.stdout.count("<img") == len(_figure_pngs(example_run / "results"))
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


def test_answers_quote_the_tables(example_run: Path) -> None:
    """The answer on each specific target quotes its comparisons.csv row, rounded."""
    from killcurve.report.numbers import num
    from killcurve.stats.ratios import forest_rows

    page = html.unescape((example_run / "results/report.html").read_text())
    answers = page[page.index('<h2 id="answers">') : page.index('<h2 id="comparisons">')]
    config = yaml.safe_load((example_run / "config/config.yaml").read_text())
    table = pl.read_csv(example_run / "results/tables/comparisons.csv", infer_schema_length=None)
    rows = forest_rows(table, config.get("stages", []))
    assert rows.height > 0
    quoted = 0
    for row in rows.iter_rows(named=True):
        where = ", ".join(str(row[c]) for c in ("stage", "cryo") if row.get(c) is not None)
        head = f"of {row['target']}" + (f" ({where})" if where else "")
        start = answers.find(f"{head} at {num(row['estimate'])}× the E:T of {row['reference']} (")
        if start < 0:
            continue  # e.g. a post-thaw group: the answers quote groups before thaw
        sentence = answers[start : answers.index(").", start)]
        assert f"95 % CI {num(row['lower'])}–{num(row['upper'])}" in sentence
        quoted += 1
    assert quoted >= 2


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
    optional = ["viability", "viability_products"] if (
        example_run / "results/tables/viability.csv"
    ).exists() else []  # fmt: skip
    # the example's time-resolved arm adds its metrics and comparisons
    assert book.sheet_names == [
        "plate_qc", "curves", "comparisons", "stage_trend", "thaw_retention", *optional,
        "timecourse_metrics", "timecourse_comparisons",
    ]  # fmt: skip
    curves = book.load_sheet("curves").to_polars()
    fitted = pl.read_csv(example_run / "results/tables/curves.csv", infer_schema_length=None)
    assert curves.height == fitted.height
    assert curves["et50"].dtype == pl.String


def test_figure_pack_numbers_and_captions_every_figure(example_run: Path) -> None:
    from pypdf import PdfReader

    results = example_run / "results"
    pack = PdfReader(results / "figures/figure_pack.pdf")
    single = [p for p in (results / "figures").glob("*.pdf")
              if p.name not in ("figure_pack.pdf", "plate_maps.pdf")]  # fmt: skip
    n_maps = len(PdfReader(results / "figures/plate_maps.pdf").pages)
    # Contents, one page per single-page figure, the plate maps (or a page pointing to them).
    assert len(pack.pages) == 1 + len(single) + (n_maps if n_maps <= 24 else 1)
    contents = " ".join(pack.pages[0].extract_text().split())
    made = {p.stem for p in single}
    dossier = [d for d in ("stages", "forest", "viability", "thaw") if d in made]
    titles = {
        "stages": "et50 along the manufacturing process",
        "forest": "Ratios test/reference across targets",
        "viability": "Viability and viable-cell recovery after thaw",
        "thaw": "Killing before freezing and after thaw",
    }
    # The dossier figures come first, in caption-file order, numbered from 1.
    for number, figure in enumerate(dossier, start=1):
        assert f"Figure {number}. {titles[figure]}" in contents
    provenance = (results / "provenance.json").read_text()
    page2 = " ".join(pack.pages[1].extract_text().split())
    assert page2.startswith("Figure 1.") or "Figure 1." in page2
    pid = page2.split("Provenance ")[1].split(".")[0]
    assert f'"provenance_id": "{pid}"' in provenance
    # The first per-target curves figure states its target's counts from curves.csv.
    fitted = pl.read_csv(results / "tables/curves.csv", infer_schema_length=None)
    target = sorted(fitted["target"].unique().to_list())[0]
    sub = fitted.filter(pl.col("target") == target)
    page = " ".join(pack.pages[1 + len(dossier)].extract_text().split())
    assert f"Figure {len(dossier) + 1}. {target}: specific lysis against E:T ratio" in page
    n_lots = sub.select("product", "lot").n_unique()
    assert f"{sub.height} curves from {n_lots} lots" in page
    assert f"of {n_maps})" in " ".join(pack.pages[-1].extract_text().split()) or n_maps > 24
