"""Finding values in counter exports: columns by header, values by key."""

from __future__ import annotations

import re
from pathlib import Path

from killcurve.errors import KillcurveInputError


def find_column(path: Path, header: list[str], pattern: str, what: str) -> int:
    """Index of the first header cell matching ``pattern`` (regex, case-insensitive).

    Stops with a message naming the file, the missing value and the header as
    found when no cell matches.

    >>> find_column(Path("x.csv"), ["Sample ID", "Viability (%)"], r"^viability\\b", "viability")
    1
    """
    index = optional_column(header, pattern)
    if index is None:
        cells = ", ".join(repr(c) for c in header if c.strip())
        raise KillcurveInputError(
            f"{path}: no {what} column (a header like {pattern!r}). Its header row has: "
            f"{cells}. Export the full result table from the counter software."
        )
    return index


def optional_column(header: list[str], pattern: str) -> int | None:
    """Index of the first header cell matching ``pattern`` (case-insensitive), or None.

    >>> optional_column(["NAME", "SAMPLE ID"], r"^sample id$"), optional_column(["NAME"], "tag")
    (1, None)
    """
    regex = re.compile(pattern, re.IGNORECASE)
    return next((i for i, cell in enumerate(header) if regex.search(cell.strip())), None)


def cell(row: list[str], index: int | None) -> str:
    """The text of ``row[index]``, ``""`` when the column is absent or the row short.

    >>> cell(["a", "b"], 1), cell(["a"], 3), cell(["a"], None)
    ('b', '', '')
    """
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def find_key(path: Path, pairs: dict[str, str], pattern: str, what: str) -> str:
    """The key of ``pairs`` matching ``pattern`` (regex, case-insensitive), or stop.

    >>> find_key(Path("x.txt"), {"Live (cells/ml)": "2.45E6"}, r"^live\\b", "live")
    'Live (cells/ml)'
    """
    regex = re.compile(pattern, re.IGNORECASE)
    key = next((k for k in pairs if regex.search(k)), None)
    if key is None:
        raise KillcurveInputError(
            f"{path}: no {what} value (a key like {pattern!r}). Keys found: "
            f"{', '.join(repr(k) for k in list(pairs)[:30])}. Export the full result "
            "from the counter software."
        )
    return key
