"""Decoding exported text files: BOMs, UTF-16, UTF-8 and Latin-1."""

from __future__ import annotations

import codecs
from pathlib import Path

from killcurve.errors import KillcurveInputError


def read_text(path: Path, allow_latin1: bool = False) -> str:
    """Return the text of ``path`` decoded by its byte-order mark, else as UTF-8.

    UTF-16 files (LE/BE, with BOM) and UTF-8 with or without BOM are decoded.
    Without a BOM, bytes that are not UTF-8 are decoded as Latin-1 only when
    ``allow_latin1`` (formats whose software writes Windows-1252/Latin-1);
    otherwise the file is refused with a message that names it.
    """
    path = Path(path)
    if not path.is_file():
        raise KillcurveInputError(
            f"{path}: file not found. Check the path in the samplesheet "
            "(paths are relative to the study directory)."
        )
    data = path.read_bytes()
    if not data.strip():
        raise KillcurveInputError(f"{path}: the file is empty. Re-export it from the reader.")
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec)
    if len(data) > 3 and data[1] == 0 and data[3] == 0:  # UTF-16-LE without BOM
        return data.decode("utf-16-le")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if allow_latin1:
            return data.decode("latin-1")
        raise KillcurveInputError(
            f"{path}: not valid UTF-8 text at byte {err.start} "
            f"({data[err.start : err.start + 1]!r}). "
            "Save the export as UTF-8 (or UTF-16), or use the reader's own format "
            "instead of grid_csv."
        ) from None
