"""Incucyte ``.PlateMap`` files: the plate layout the Incucyte software saves beside a scan.

An XML document (``<plateMap>``): ``<referenceItems>`` define what can be in a well
(compounds, growth conditions, cell types …), and ``<wellStore><wells>`` holds one
``<well row="r" col="c">`` per well (0-based row and column), with an ``<items>`` list of
``<wellItem type="Compound" concentration="10" concentrationUnits="µM">`` entries, each
naming its ``<referenceItem description=…>``. Empty wells have no items.

:func:`read_platemap` gives one row per well that holds an item: ``well`` (``B2``),
``row`` (letter), ``col`` (1-based), then per item type *t* (snake case: ``compound``,
``growth_condition``, ``cell_type`` …) a column *t* with the item's description and
one column ``<t>_<attribute>`` per further attribute of the well item, in snake case
(``compound_concentration`` as Float64 where every value is a number,
``compound_concentration_units``). A well with two items of one type joins their
descriptions with ``; `` (and their attributes likewise).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.plate import row_letter

_HINT = "Save the plate map from the Incucyte software again (File > Save Plate Map)."


def snake(name: str) -> str:
    """``GrowthCondition`` → ``growth_condition``; ``concentrationUnits`` → ``concentration_units``.

    >>> snake("GrowthCondition"), snake("concentrationUnits"), snake("CellType")
    ('growth_condition', 'concentration_units', 'cell_type')
    """
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def read_platemap(path: Path) -> pl.DataFrame:
    """The filled wells of an Incucyte ``.PlateMap`` (module docstring); stops naming the file
    when it is not one."""
    path = Path(path)
    try:
        root = ET.fromstring(path.read_bytes())
    except (OSError, ET.ParseError) as err:
        raise KillcurveInputError(
            f"{path}: not a readable Incucyte plate map ({err}). {_HINT}"
        ) from None
    if root.tag != "plateMap" or root.find("wellStore/wells") is None:
        raise KillcurveInputError(
            f"{path}: no <plateMap><wellStore><wells> found: not an Incucyte plate map. {_HINT}"
        )
    rows: list[dict[str, str | int]] = []
    for well in root.iterfind("wellStore/wells/well"):
        items = well.findall("items/wellItem")
        if not items:
            continue
        try:
            r, c = int(well.get("row", "")), int(well.get("col", ""))
        except ValueError:
            raise KillcurveInputError(
                f"{path}: a <well> has row={well.get('row')!r} col={well.get('col')!r}; "
                f"expected 0-based integers. {_HINT}"
            ) from None
        if not 0 <= r < 32 or not 0 <= c < 48:
            raise KillcurveInputError(
                f"{path}: well row {r} col {c} is outside a 1536-well plate. {_HINT}"
            )
        found: dict[str, list[str]] = {}
        for item in items:
            kind = snake(item.get("type", "item"))
            ref = item.find("referenceItem")
            description = ref.get("description", "") if ref is not None else ""
            found.setdefault(kind, []).append(description)
            for attribute, value in item.attrib.items():
                if attribute != "type":
                    found.setdefault(f"{kind}_{snake(attribute)}", []).append(value)
        letter = row_letter(r)
        rows.append(
            {"well": f"{letter}{c + 1}", "row": letter, "col": c + 1}
            | {k: "; ".join(v) for k, v in found.items()}
        )
    if not rows:
        raise KillcurveInputError(f"{path}: the plate map has no well with an item. {_HINT}")
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.col("col").cast(pl.Int32))
    numeric = [
        c
        for c in frame.columns[3:]
        if frame[c].drop_nulls().str.contains(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$").all()
    ]
    return frame.with_columns(pl.col(numeric).cast(pl.Float64))
