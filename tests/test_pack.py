"""The figure pack places each figure page, unparsed, where and at the scale it should."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from killcurve.report.captions import FigureEntry
from killcurve.report.pack import A4, FIGURE_SHARE, POINTS, build_pack


def _figure_pdf(path: Path, width_in: float, height_in: float, marker: str) -> Path:
    """A one-page PDF filled black edge to edge, with ``marker`` in white text."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width_in, height_in))
    fig.patches.append(
        plt.Rectangle((0, 0), 1, 1, transform=fig.transFigure, color="black", zorder=-1)
    )
    fig.text(0.5, 0.5, marker, color="white", ha="center")
    fig.savefig(path)
    plt.close(fig)
    return path


def _entry(number: int, pdf: Path) -> FigureEntry:
    return FigureEntry(number, f"f{number}", f"Title {number}", f"Caption {number}.", pdf, None)


def test_pack_places_each_figure_scaled_into_its_box(tmp_path: Path) -> None:
    wide = _figure_pdf(tmp_path / "wide.pdf", 10.0, 4.0, "MARKER-WIDE")
    tall = _figure_pdf(tmp_path / "tall.pdf", 4.0, 10.0, "MARKER-TALL")
    out = tmp_path / "pack.pdf"
    build_pack([_entry(1, wide), _entry(2, tall)], "S", out, key="k")
    pack = PdfReader(out)
    assert len(pack.pages) == 3
    # Text of the placed figure (inside its Form XObject) and of the caption both read back.
    page1 = pack.pages[1].extract_text()
    assert "MARKER-WIDE" in page1 and "Figure 1. Title 1" in page1 and "Caption 1." in page1
    assert "MARKER-TALL" in pack.pages[2].extract_text()
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm absent (Debian: apt-get install poppler-utils); .ci/run installs it")
    # Hand-computed placement (points, origin bottom left): box 0.84 × page width by
    # (0.70 − 0.04) × page height; scale = min(box_w / fig_w, box_h / fig_h); centred
    # horizontally, top edge 3 % below the page top.
    width, height = A4[0] * POINTS, A4[1] * POINTS  # 595.44 × 841.68
    box_w, box_h = width * 0.84, height * (FIGURE_SHARE - 0.04)  # 500.17 × 555.51
    for page, (fw, fh) in ((2, (720.0, 288.0)), (3, (288.0, 720.0))):
        scale = min(box_w / fw, box_h / fh)  # wide: 0.6947 (width-bound); tall: 0.7715
        left = (width - fw * scale) / 2
        top = height * 0.03  # from the page top, in points
        dpi = 72
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-f", str(page), "-l", str(page), str(out),
             str(tmp_path / "p")],
            check=True,
        )  # fmt: skip
        pgm = next(tmp_path.glob(f"p-*{page}.pgm"))
        pixels = _read_pgm(pgm)
        dark = pixels < 40
        # The black rectangle's extent in pixels (1 px = 1 pt at 72 dpi), to within 2 px:
        # columns dark over half the figure's height, rows dark over half its width
        # (caption text and the white marker are too sparse to count).
        cols = np.flatnonzero(dark.sum(axis=0) > fh * scale / 2)
        rows = np.flatnonzero(dark.sum(axis=1) > fw * scale / 2)
        assert abs(cols.min() - left) <= 2 and abs(cols.max() + 1 - (left + fw * scale)) <= 2
        assert abs(rows.min() - top) <= 2 and abs(rows.max() + 1 - (top + fh * scale)) <= 2
        pgm.unlink()


def _read_pgm(path: Path) -> np.ndarray:
    """A binary (P5) 8-bit PGM file as a rows × columns array."""
    data = path.read_bytes()
    fields = data.split(maxsplit=4)
    assert fields[0] == b"P5"
    cols, rows = int(fields[1]), int(fields[2])
    return np.frombuffer(fields[4][: rows * cols], dtype=np.uint8).reshape(rows, cols)


def test_pack_bytes_repeat_and_identifier_follows_key(tmp_path: Path) -> None:
    fig = _figure_pdf(tmp_path / "f.pdf", 6.0, 4.0, "M")
    first, second, other = (tmp_path / n for n in ("a.pdf", "b.pdf", "c.pdf"))
    build_pack([_entry(1, fig)], "S", first, key="k1")
    build_pack([_entry(1, fig)], "S", second, key="k1")
    build_pack([_entry(1, fig)], "S", other, key="k2")
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_caption_pages_come_from_the_cache_while_their_lines_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a cache, the caption pages of an unchanged figure list are copied, not drawn:
    the pack is byte for byte the one drawn without a cache. The contents page, which
    carries the provenance id, is always drawn."""
    import killcurve.report.pack as pack

    fig = _figure_pdf(tmp_path / "f.pdf", 6.0, 4.0, "M")
    entries = [_entry(1, fig), _entry(2, fig)]
    plain, cached, again = (tmp_path / n for n in ("plain.pdf", "cached.pdf", "again.pdf"))
    build_pack(entries, "S", plain, key="k1")
    build_pack(entries, "S", cached, key="k1", cache=tmp_path / "cache")
    assert cached.read_bytes() == plain.read_bytes()
    drawn: list[int] = []
    text_pdf = pack._text_pdf
    monkeypatch.setattr(
        pack, "_text_pdf", lambda pages: drawn.append(len(pages)) or text_pdf(pages)
    )
    build_pack(entries, "S", again, key="k2", cache=tmp_path / "cache")
    assert drawn == [1]  # the contents page only
    assert PdfReader(again).pages[0].extract_text() != PdfReader(plain).pages[0].extract_text()
    assert "k2" in PdfReader(again).pages[0].extract_text()
    assert len(PdfReader(again).pages) == 3
    entries[1] = FigureEntry(2, "f2", "Title 2", "Another caption.", fig, None)
    build_pack(entries, "S", again, key="k2", cache=tmp_path / "cache")
    assert drawn == [1, 1, 2]
    assert "Another caption." in PdfReader(again).pages[2].extract_text()


def test_a_figure_of_more_pages_than_max_pages_gets_one_pointing_page(tmp_path: Path) -> None:
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    maps = tmp_path / "plate_maps.pdf"
    with PdfPages(maps) as pdf:
        for i in range(3):
            page = Figure(figsize=(4.0, 3.0))
            page.text(0.5, 0.5, f"PLATE-{i}")
            pdf.savefig(page)
    kept, pointed = tmp_path / "kept.pdf", tmp_path / "pointed.pdf"
    build_pack([_entry(1, maps)], "S", kept, key="k", max_pages=3)
    build_pack([_entry(1, maps)], "S", pointed, key="k", max_pages=2)
    # contents + one page per plate at the limit; contents + one pointing page above it
    assert [p.extract_text().count("PLATE-") for p in PdfReader(kept).pages] == [0, 1, 1, 1]
    pages = PdfReader(pointed).pages
    assert len(pages) == 2
    text = " ".join(pages[1].extract_text().split())
    assert "3 pages: too many for the pack; see plate_maps.pdf" in text and "PLATE-" not in text
