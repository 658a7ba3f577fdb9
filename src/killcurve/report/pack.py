"""``figure_pack.pdf``: every dossier figure in order, one per page, captioned, with contents.

Each figure's own vector PDF page is placed, scaled to fit, on an A4 page whose
lower part carries the figure number, title and caption; a contents page comes
first. Pages are placed as PDF Form XObjects (ISO 32000-1 §8.10), the way
LaTeX's pdfpages does: the figure's compressed content stream is copied as is
and drawn with one ``cm … Do`` operator, never parsed, so a curve figure of a
1,000-plate study (millions of drawing operators) costs no more
than a small one to place. Multi-page figures (plate maps) keep their pages,
each captioned, up to ``report.max_plate_maps`` pages; a longer one gets a page
pointing to its own file. The file identifier is derived from the content, so
identical inputs give identical bytes.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    FloatObject,
    IndirectObject,
    NameObject,
)

from killcurve.figures.save import PDF_METADATA
from killcurve.report.captions import FigureEntry
from killcurve.report.html import MAX_PLATE_MAPS

A4 = (8.27, 11.69)  # inches
POINTS = 72.0
#: Share of the page height (from the top) the figure may use.
FIGURE_SHARE = 0.70


class _ReproducibleWriter(PdfWriter):
    """A PdfWriter whose file identifier is a hash of a given key, not random bytes."""

    key: bytes = b""

    def generate_file_identifiers(self) -> None:
        digest = ByteStringObject(hashlib.md5(self.key, usedforsecurity=False).digest())
        self._ID = ArrayObject((digest, digest))


def _form_xobject(writer: PdfWriter, page: PageObject) -> IndirectObject:
    """``page`` as a Form XObject of ``writer``: its content stream and resources, unparsed.

    A single encoded content stream is copied byte for byte with its filters; an
    array of streams (legal, though matplotlib never writes one) is decoded,
    joined and stored uncompressed. The form's /BBox is the page's media box.
    """
    contents = page["/Contents"].get_object()
    if isinstance(contents, ArrayObject):
        form: DecodedStreamObject | EncodedStreamObject = DecodedStreamObject()
        form.set_data(b"\n".join(part.get_object().get_data() for part in contents))
    elif "/Filter" in contents:
        form = EncodedStreamObject()
        form._data = contents._data
        for key in ("/Filter", "/DecodeParms"):
            if key in contents:
                form[NameObject(key)] = contents[key].clone(writer)
    else:
        form = DecodedStreamObject()
        form.set_data(contents.get_data())
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(FloatObject(v) for v in page.mediabox)
    form[NameObject("/Resources")] = page["/Resources"].get_object().clone(writer)
    return writer._add_object(form)


def _place(writer: PdfWriter, forms: Sequence[tuple[IndirectObject, float, float, float]]) -> None:
    """Add an A4 page drawing each (form, scale, x, y): ``q s 0 0 s x y cm /Fn Do Q``."""
    width, height = A4[0] * POINTS, A4[1] * POINTS
    page = writer.add_blank_page(width, height)
    xobjects = DictionaryObject()
    operators = []
    for i, (form, scale, x, y) in enumerate(forms):
        xobjects[NameObject(f"/F{i}")] = form
        operators.append(f"q {scale:.6f} 0 0 {scale:.6f} {x:.4f} {y:.4f} cm /F{i} Do Q")
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): xobjects})
    stream = DecodedStreamObject()
    stream.set_data("\n".join(operators).encode("ascii"))
    page[NameObject("/Contents")] = writer._add_object(stream)


def _text_pdf(pages: Sequence[Sequence[tuple[str, float, float, float, str]]]) -> bytes:
    """A PDF of A4 pages with text lines: (text, x, y, size, weight) in figure fractions.

    All pages are written into one PDF, so each font is subset and embedded once
    (fontTools subsetting costs about 0.3 s a font and file).
    """
    buffer = io.BytesIO()
    with (
        matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}),
        PdfPages(buffer, metadata=PDF_METADATA) as pdf,
    ):
        fig = Figure(figsize=A4)
        for lines in pages:
            fig.clear()
            for text, x, y, size, weight in lines:
                fig.text(x, y, text, fontsize=size, fontweight=weight, va="top", ha="left")
            pdf.savefig(fig)
    return buffer.getvalue()


def _text_pages(
    pages: Sequence[Sequence[tuple[str, float, float, float, str]]], cache: Path | None = None
) -> list:
    """The contents page and the caption pages (:func:`_text_pdf`), as pypdf pages.

    The contents page, which names the run's provenance id, changes with every input;
    the caption pages only with the figures and captions. They are two PDFs, and with
    ``cache`` (a directory) the caption pages drawn from the same lines as last time are
    reused (:func:`killcurve.common.memo.memo_bytes`; ~1.5 CPU-s at the end of every rerun), and the
    contents page's font subsets too (:func:`killcurve.figures.pdf_pages.reused_font_subsets`).
    """
    from killcurve.figures.pdf_pages import reused_font_subsets

    with reused_font_subsets(cache):
        contents = _text_pdf(pages[:1])
    captions = pages[1:]
    if not captions:
        return list(PdfReader(io.BytesIO(contents)).pages)
    if cache is None:
        drawn = _text_pdf(captions)
    else:
        import json

        from killcurve.common.memo import memo_bytes, memo_key, style_digest

        key = memo_key([json.dumps(captions), style_digest()])
        drawn = memo_bytes(Path(cache) / "pack" / "captions", key, lambda: _text_pdf(captions))
    return [*PdfReader(io.BytesIO(contents)).pages, *PdfReader(io.BytesIO(drawn)).pages]


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


def build_pack(
    entries: Sequence[FigureEntry],
    study: str,
    out: Path,
    key: str,
    cache: Path | None = None,
    max_pages: int = MAX_PLATE_MAPS,
) -> None:
    """Write the figure pack of ``entries`` to ``out``; ``key`` seeds the file identifier.
    ``cache``: where caption pages are reused from (:func:`_text_pages`). A multi-page
    figure (the plate maps) of more than ``max_pages`` pages gets one page pointing to its
    file instead of its pages."""
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
    texts: list[list[tuple]] = [contents]
    # (figure page or None, scale, x, y) per pack page after the contents, in order
    placed: list[tuple] = []
    width, height = A4[0] * POINTS, A4[1] * POINTS
    for entry in entries:
        figure_pages = PdfReader(entry.pdf).pages
        if len(figure_pages) > max_pages:
            note = (
                f"Figure {entry.number}. {entry.title}",
                f"{len(figure_pages)} pages: too many for the pack; see {entry.pdf.name} "
                "beside this file. Plates that failed QC are listed in the report and in "
                "plate_qc.csv.",
            )
            texts.append([(note[0], 0.08, 0.94, 11, "bold"), (note[1], 0.08, 0.91, 9, "normal")])
            placed.append((None, 0.0, 0.0, 0.0))
            continue
        for i, figure in enumerate(figure_pages, start=1):
            fw, fh = float(figure.mediabox.width), float(figure.mediabox.height)
            box_w, box_h = width * 0.84, height * (FIGURE_SHARE - 0.04)
            scale = min(box_w / fw, box_h / fh)
            x = (width - fw * scale) / 2
            y = height * (1 - 0.03) - fh * scale
            top = y / height - 0.03
            texts.append(_caption_lines(entry, i, len(figure_pages), top))
            placed.append((figure, scale, x, y))
    text_pages = _text_pages(texts, cache)
    writer.add_page(text_pages[0])
    for text, (figure, scale, x, y) in zip(text_pages[1:], placed, strict=True):
        forms = [(_form_xobject(writer, text), 1.0, 0.0, 0.0)]
        if figure is not None:
            forms.append((_form_xobject(writer, figure), scale, x, y))
        _place(writer, forms)
    writer.add_metadata({"/Title": f"{study} — figure pack", "/Producer": "killcurve"})
    with open(out, "wb") as handle:
        writer.write(handle)
