"""Turning cell-counter text into numbers, units and times.

Counters print numbers in several ways: plain (``0.78``), E notation
(``2.45E6``, ``1.12E+06``), with a no-break-space thousands separator
(``274 000``, NC-View), with a percent sign (``87.00%``, Matrix) or followed by
an annotation (``3.58E3 (Out of optimal range)``, NucleoView). A number is
never invented: annotated or non-numeric text gives no value, and the reader
keeps the text as a note. Units are read from the header text, never from
the size of the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from killcurve.errors import KillcurveInputError

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
#: Digits grouped in threes by a space, no-break space or narrow no-break space.
_GROUPED = re.compile(r"^\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?$")
#: A multiplier written in a header: x10^6, x 10^6, (x10^6), 10⁶, (E6), e6.
_POWER = re.compile(
    r"(?:10\s*(?:\^|\*\*)\s*(?P<exp>\d)(?!\d)|10(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹])|(?<![a-z])[eE](?P<e>\d)(?!\d))"
)
_SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
#: A header that names a concentration per millilitre ("cells/mL", "/ml", "per mL").
_PER_ML = re.compile(r"(/\s*ml\b|per\s*ml\b)", re.IGNORECASE)


def parse_number(raw: str) -> float | None:
    """The number in one exported cell, or None when the cell holds anything else.

    >>> parse_number("2.45E6"), parse_number("1.12E+06"), parse_number(" 0.78 ")
    (2450000.0, 1120000.0, 0.78)
    >>> parse_number("274\u00a0000"), parse_number("69 700")
    (274000.0, 69700.0)
    >>> parse_number("3.58E3 (Out of optimal range)") is None, parse_number("ERROR") is None
    (True, True)
    >>> parse_number("2,5") is None
    True
    """
    text = raw.strip()
    if _NUMBER.match(text):
        return float(text)
    if _GROUPED.match(text):
        return float(re.sub(r"[ \u00a0\u202f]", "", text))
    return None


def parse_count(raw: str) -> int | None:
    """A whole-number count (``2191``, ``1752.0``), or None for anything else.

    >>> parse_count("2191"), parse_count("1752.0"), parse_count("12.5"), parse_count("ERROR")
    (2191, 1752, None, None)
    """
    value = parse_number(raw)
    if value is None or not value.is_integer():
        return None
    return int(value)


def header_scale(label: str) -> float | None:
    """Cells/mL per exported unit, read from a column header or key; None when not stated.

    A power of ten in the header (``x10^6``, ``x 10^6``, ``(E6)``, ``10⁵``)
    gives that factor; a header that says per mL without one gives 1.

    >>> header_scale("Total (x10^6) cells/mL"), header_scale("Total cells / ml (x 10^6)")
    (1000000.0, 1000000.0)
    >>> header_scale("Live Concentration (E6)"), header_scale("Viable cells (10^5/mL)")
    (1000000.0, 100000.0)
    >>> header_scale("LIVE (cells/ml)"), header_scale("Live Cells/mL")
    (1.0, 1.0)
    >>> header_scale("Viable Cell Conc.") is None
    True
    """
    match = _POWER.search(label)
    if match:
        if match["sup"]:
            return 10.0 ** _SUPERSCRIPT.index(match["sup"])
        return 10.0 ** int(match["exp"] or match["e"])
    if _PER_ML.search(label):
        return 1.0
    return None


def required_scale(path: Path, label: str) -> float:
    """Cells/mL per unit stated in ``label``, or stop: an unstated unit is never assumed.

    >>> required_scale(Path("x.csv"), "Viable (x10^6) cells/mL")
    1000000.0
    """
    scale = header_scale(label)
    if scale is None:
        raise KillcurveInputError(
            f"{path}: column {label!r} states no unit, so its concentrations cannot be "
            "converted to cells/mL. Export it with its unit in the header (cells/mL, "
            "x10^6 cells/mL or x10^5 cells/mL)."
        )
    return scale


def parse_times(
    raws: Sequence[str], formats: Sequence[str]
) -> tuple[list[datetime | None], str | None, list[str]]:
    """Parse timestamps with the one format (of ``formats``) that reads most of them.

    Runs of spaces are collapsed first (Vi-CELL XR writes ``7 Oct 2022  11:52:44 AM``).
    Returns the parsed times (None where empty or unreadable), the chosen
    format (None when no value parses) and the other formats that read every
    value too (so a day/month ambiguity can be stated, not hidden). Ties go to
    the earlier format: list the instrument's own format first.

    >>> us, eu = "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"
    >>> parse_times(["3/21/2022 16:56", ""], [us, eu])
    ([datetime.datetime(2022, 3, 21, 16, 56), None], '%m/%d/%Y %H:%M', [])
    >>> parse_times(["3/4/2022 9:00"], [us, eu])[2]
    ['%d/%m/%Y %H:%M']
    """
    texts = [" ".join(raw.split()) for raw in raws]
    filled = [text for text in texts if text]
    best: tuple[int, str | None] = (0, None)
    complete: list[str] = []
    for fmt in formats:
        parsed = sum(_strptime(text, fmt) is not None for text in filled)
        if parsed > best[0]:
            best = (parsed, fmt)
        if filled and parsed == len(filled):
            complete.append(fmt)
    chosen = best[1]
    if chosen is None:
        return [None] * len(texts), None, []
    times = [_strptime(text, chosen) if text else None for text in texts]
    return times, chosen, [fmt for fmt in complete if fmt != chosen]


def _strptime(text: str, fmt: str) -> datetime | None:
    """``text`` read with ``fmt``, or None when it does not fit (or is no real date)."""
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None
