"""Telling an export's format from its content, shared by plate-reader and cell-counter readers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from killcurve.io.readers.sheets import Sheets, is_workbook, read_sheets
from killcurve.io.readers.text import read_text, require_file

TextSniffers = Sequence[tuple[str, Callable[[str], bool]]]
BookSniffers = Sequence[tuple[str, Callable[[Sheets], bool]]]


def detect_format(
    path: Path, text_sniffers: TextSniffers, book_sniffers: BookSniffers
) -> tuple[str | None, str]:
    """The first format whose sniffer accepts ``path`` (None if none), and the file's head.

    Workbooks go to ``book_sniffers`` (first 40 rows of each sheet), text files to
    ``text_sniffers``. The head (sheet names and first rows, or first lines) is for
    the caller's message when nothing matched.
    """
    path = require_file(path)
    if is_workbook(path):
        sheets = read_sheets(path, n_rows=40)
        name = next((fmt for fmt, test in book_sniffers if test(sheets)), None)
        first = next(iter(sheets.values()), [])
        head = f"sheets {', '.join(sheets)}; first rows:\n" + "\n".join(
            " | ".join(c for c in row if c) for row in first[:5]
        )
    else:
        text = read_text(path, allow_latin1=True)
        name = next((fmt for fmt, test in text_sniffers if test(text)), None)
        head = "\n".join(line[:120] for line in text.splitlines()[:5])
    return name, head
