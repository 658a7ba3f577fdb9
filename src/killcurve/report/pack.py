"""``figure_pack.pdf``: every dossier figure in order, one per page, captioned, with contents.

Each figure's own vector PDF page is placed, scaled to fit, on an A4 page whose
lower part carries the figure number, title and caption; a contents page comes
first. Multi-page figures (plate maps) keep their pages, each captioned, up to
:data:`MAX_FIGURE_PAGES`; a longer one gets a page pointing to its own file. The
file identifier is derived from the content, so identical inputs give
identical bytes.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import ArrayObject, ByteStringObject

from killcurve.figures.save import PDF_METADATA
from killcurve.report.captions import FigureEntry

A4 = (8.27, 11.69)  # inches
POINTS = 72.0
#: A multi-page figure with more pages than this is referred to, not copied, in the pack.
MAX_FIGURE_PAGES = 24
#: Share of the page height (from the top) the figure may use.
FIGURE_SHARE = 0.70


class _ReproducibleWriter(PdfWriter):
    """A PdfWriter whose file identifier is a hash of a given key, not random bytes."""

    key: bytes = b""

    def generate_file_identifiers(self) -> None:
        digest = ByteStringObject(hashlib.md5(self.key, usedforsecurity=False).digest())
        self._ID = ArrayObject((digest, digest))


def _text_page(lines: Sequence[tuple[str, float, float, float, str]]) -> bytes:
    """An A4 PDF page with text lines: (text, x, y, size, weight) in figure fractions."""
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}):
        fig = plt.figure(figsize=A4)
        for text, x, y, size, weight in lines:
            fig.text(x, y, text, fontsize=size, fontweight=weight, va="top", ha="left")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="pdf", metadata=PDF_METADATA)
        plt.close(fig)
    return buffer.getvalue()


def _caption_lines(entry: FigureEntry, page: int, pages: int, top: float) -> list[tuple]:
    """Caption text lines starting at ``top`` (figure fraction, just under the figure)."""
    head = f"Figure {entry.number}. {entry.title}"
    if pages > 1:
        head += f" (page {page} of {pages})"
    lines: list[tuple] = [(head, 0.08, top, 11, "bold")]
    y = top - 0.03
    for line in textwrap.wrap(entry.caption, 100):
        lines.append((line, 0.08, y, 9, "normal"))
        y -= 0.018
    return lines


def build_pack(entries: Sequence[FigureEntry], study: str, out: Path, key: str) -> None:
    """Write the figure pack of ``entries`` to ``out``; ``key`` seeds the file identifier."""
    writer = _ReproducibleWriter()
    writer.key = key.encode()
    contents = [
        (f"{study} — figures", 0.08, 0.94, 16, "bold"),
        ("Contents", 0.08, 0.89, 12, "bold"),
    ]
    y = 0.86
    for entry in entries:
        contents.append((f"Figure {entry.number}. {entry.title}", 0.10, y, 10, "normal"))
        y -= 0.025
    contents.append((f"provenance id {key}", 0.08, 0.05, 8, "normal"))
    writer.add_page(PdfReader(io.BytesIO(_text_page(contents))).pages[0])
    width, height = A4[0] * POINTS, A4[1] * POINTS
    for entry in entries:
        figure_pages = PdfReader(entry.pdf).pages
        if len(figure_pages) > MAX_FIGURE_PAGES:
            note = (
                f"Figure {entry.number}. {entry.title}",
                f"{len(figure_pages)} pages: too many for the pack; see {entry.pdf.name} "
                "beside this file. Plates that failed QC are listed in the report and in "
                "plate_qc.csv.",
            )
            lines = [(note[0], 0.08, 0.94, 11, "bold"), (note[1], 0.08, 0.91, 9, "normal")]
            writer.add_page(PdfReader(io.BytesIO(_text_page(lines))).pages[0])
            continue
        for i, figure in enumerate(figure_pages, start=1):
            fw, fh = float(figure.mediabox.width), float(figure.mediabox.height)
            box_w, box_h = width * 0.84, height * (FIGURE_SHARE - 0.04)
            scale = min(box_w / fw, box_h / fh)
            x = (width - fw * scale) / 2
            y = height * (1 - 0.03) - fh * scale
            top = y / height - 0.03
            caption = _text_page(_caption_lines(entry, i, len(figure_pages), top))
            page = writer.add_page(PdfReader(io.BytesIO(caption)).pages[0])
            page.merge_transformed_page(figure, Transformation().scale(scale).translate(x, y))
    writer.add_metadata({"/Title": f"{study} — figure pack", "/Producer": "killcurve"})
    with open(out, "wb") as handle:
        writer.write(handle)
