"""Plate-reader export readers, one module per instrument family.

:func:`read_export` is the one entry: it dispatches on the samplesheet's
``format`` (``auto`` sniffs the family from the file's content).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.grid_csv import looks_like as _looks_like_grid
from killcurve.io.readers.grid_csv import read_grid_csv
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.text import read_text

Reader = Callable[[Path], PlateExport]

#: Format name -> reader. The samplesheet's ``format`` column takes these names or ``auto``.
READERS: dict[str, Reader] = {"grid_csv": read_grid_csv}


def sniff(path: Path) -> str:
    """Name the format of ``path`` from its content, or stop with what the file looked like."""
    text = read_text(Path(path), allow_latin1=True)
    if _looks_like_grid(text):
        return "grid_csv"
    head = "\n".join(text.splitlines()[:5])
    raise KillcurveInputError(
        f"{path}: format not recognised. Known formats: {', '.join(sorted(READERS))}. "
        f"The file starts with:\n{head}\nSet the samplesheet's format column to one of them."
    )


def read_export(path: Path, fmt: str = "auto") -> PlateExport:
    """Read a plate-reader export with the reader for ``fmt`` (``auto``: sniffed)."""
    path = Path(path)
    if fmt == "auto":
        fmt = sniff(path)
    if fmt not in READERS:
        raise KillcurveInputError(
            f"{path}: unknown format {fmt!r}. Known formats: auto, {', '.join(sorted(READERS))}."
        )
    return READERS[fmt](path)


__all__ = ["READERS", "PlateExport", "read_export", "sniff"]
