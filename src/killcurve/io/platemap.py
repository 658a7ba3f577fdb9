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
from collections.abc import Sequence
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


#: Keys of a wellmap layout's ``[platemap]`` table (see :func:`platemap_wells`).
LAYOUT_KEYS = ("file", "fields", "roles", "set")
#: Columns a ``[platemap]`` table may not set: the well's place, and ``role`` (from rules).
_RESERVED = ("well", "row", "col", "role")

Scalar = str | int | float | bool


def platemap_wells(
    spec: object, layout: Path, roles: Sequence[str]
) -> tuple[pl.DataFrame, dict[str, object], Path]:
    """What a wellmap layout's ``[platemap]`` table takes from an Incucyte ``.PlateMap``.

    ``spec`` is that table of the TOML file ``layout``:

    * ``file`` — the PlateMap, relative to the layout's folder (or absolute);
    * ``fields`` — layout field = PlateMap column of :func:`read_platemap`
      (``concentration = "compound_concentration"``);
    * ``roles`` — role = rule, a table of PlateMap column = value (or a list of values, any
      of which matches), or a list of such tables (any of which matches). A well takes the
      first role, in the file's order, whose rule matches every pair. Values are compared as
      numbers in a numeric column (``0.1``), as text otherwise.
    * ``set`` — field = one value for every well (``target = "MDA-MB-468"``).

    Returns one row per filled PlateMap well, ``well``, ``row``, ``col``, ``role`` (null
    where no rule matches) and the ``fields``; the ``set`` constants; the PlateMap's path.
    ``roles`` are the roles a layout may give. A wrong key, an unknown column or role, or
    a PlateMap that cannot be read stops with a :class:`KillcurveInputError` naming the
    layout and key.
    """
    where = f"layout {layout} [platemap]"
    if not isinstance(spec, dict):
        raise KillcurveInputError(
            f'{where}: must be a table ([platemap] with file = "…"), not {spec!r}.'
        )
    unknown = [k for k in spec if k not in LAYOUT_KEYS]
    if unknown:
        raise KillcurveInputError(
            f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(LAYOUT_KEYS)}."
        )
    file = spec.get("file")
    if not isinstance(file, str) or not file.strip():
        raise KillcurveInputError(
            f'{where}: key file is missing; write file = "<name>.PlateMap" (the Incucyte '
            "plate map, relative to the layout file)."
        )
    path = (layout.parent / file).resolve()
    if not path.is_file():
        raise KillcurveInputError(
            f"{where} key file: {file!r} not found (looked for {path}). Paths are relative "
            "to the layout file's folder."
        )
    try:
        platemap = read_platemap(path)
    except KillcurveInputError as err:
        raise KillcurveInputError(f"{where} key file: {err}") from None
    columns = platemap.columns[3:]
    fields = _table(spec.get("fields", {}), f"{where} key fields")
    constants = _table(spec.get("set", {}), f"{where} key set")
    for key, value in [*fields.items(), *constants.items()]:
        part = "fields" if key in fields else "set"
        if key in _RESERVED:
            raise KillcurveInputError(
                f"{where} key {part}.{key}: {key!r} cannot be set here"
                + (" (roles come from [platemap.roles])." if key == "role" else ".")
            )
        if part == "fields" and value not in columns:
            raise KillcurveInputError(
                f"{where} key fields.{key}: {value!r} is not a column of {path.name}; its "
                f"columns: {', '.join(columns)}."
            )
        if part == "set" and (key in fields or not isinstance(value, Scalar)):
            raise KillcurveInputError(
                f"{where} key set.{key}: "
                + (
                    "also taken from the PlateMap by fields; set it in one place."
                    if key in fields
                    else f"{value!r} is not one value (text or number)."
                )
            )
    role = pl.lit(None, pl.String)
    for name, rule in reversed(list(_table(spec.get("roles", {}), f"{where} key roles").items())):
        if name not in roles:
            raise KillcurveInputError(
                f"{where} key roles.{name}: unknown role; roles are {', '.join(roles)}."
            )
        role = (
            pl.when(_matches(rule, platemap, f"{where} key roles.{name}", path))
            .then(pl.lit(name))
            .otherwise(role)
        )
    wells = platemap.select(
        "well",
        "row",
        "col",
        role.alias("role"),
        *(pl.col(column).alias(field) for field, column in fields.items()),
    )
    return wells, constants, path


def _table(value: object, where: str) -> dict[str, object]:
    """``value`` when it is a TOML table, else stop naming ``where``."""
    if not isinstance(value, dict):
        raise KillcurveInputError(f"{where}: must be a table ({{ name = … }}), not {value!r}.")
    return value


def _matches(rule: object, platemap: pl.DataFrame, where: str, path: Path) -> pl.Expr:
    """Whether a well matches ``rule`` (a table of column = value(s), or a list of tables)."""
    tables = rule if isinstance(rule, list) else [rule]
    if not tables:
        raise KillcurveInputError(f"{where}: an empty list matches no well; give a table.")
    anyone = pl.lit(False)
    for table in tables:
        every = pl.lit(True)
        for column, wanted in _table(table, where).items():
            if column not in platemap.columns[3:]:
                raise KillcurveInputError(
                    f"{where}: {column!r} is not a column of {path.name}; its columns: "
                    f"{', '.join(platemap.columns[3:])}."
                )
            values = wanted if isinstance(wanted, list) else [wanted]
            numeric = platemap.schema[column] == pl.Float64
            bad = [
                v
                for v in values
                if isinstance(v, bool) or not isinstance(v, (int, float) if numeric else Scalar)
            ]
            if bad:
                kind = "a number (the column holds numbers)" if numeric else "text or a number"
                raise KillcurveInputError(f"{where}: {column} = {bad[0]!r} must be {kind}.")
            targets = [float(v) for v in values] if numeric else [str(v) for v in values]
            every = every & pl.col(column).is_in(targets)
        anyone = anyone | every
    return anyone.fill_null(False)
