"""``tidy_csv``: tables with one row per well or point instead of a plate grid.

Many labs hand over data already reduced elsewhere (% lysis, normalised
viability) or raw readings as a long table: one row per well or per point,
a column with the reading and columns with what the point is (condition, E:T,
cell line, time). A CSV (comma, semicolon or tab separated, first line the
header) is read in one of two ways, chosen by the samplesheet's ``layout``:

1. **With a wellmap layout** (the table names its wells): the file needs a
   column headed ``well`` (``A1``/``A01``); every other column is one *read*
   named by its header, and the samplesheet's ``read`` picks the signal
   column. :func:`read_tidy_csv` is the registry reader for this case.
2. **With a column mapping** (the table carries the layout fields itself): the
   samplesheet's ``layout`` names a TOML file with a ``[tidy]`` table
   (:func:`read_mapping`), and :func:`tidy_plate_wells` builds the plate's
   well table directly::

       [tidy]
       signal = "RLU"          # column with the reading (or the samplesheet's read)
       scale = 1               # signal = value × scale (100 turns fractions into %)
       [tidy.columns]          # killcurve field = column header
       role = "culture_condition"
       et_ratio = "culture_condition"
       time_h = "time"         # any other field: metadata, and a row filter
       [tidy.values.role]      # file value -> field value, per field
       tumor_only = "target_only"
       "E:T5" = "sample"
       [tidy.values.et_ratio]
       "E:T5" = 5
       [tidy.constants]        # one value for every row
       lot = "donor A"

   A samplesheet column named like a field taken from the file *selects* the
   plate's rows (``time_h = 96`` keeps the 96 h rows), so one file feeds
   several plates; other samplesheet columns are set on every well, as with
   layouts. Without a ``well`` column the points get running well names in
   file order (``A1``…``A12``, ``B1``…: 12 columns up to 96 points, 24 up to
   384, 48 up to 1536) marked ``synthetic_well = true``; ``source_row`` is the
   point's line in the file (the header is line 1).

Readings are classified like every reader's (:func:`~killcurve.io.readers.cells.classify`):
overflow markers are kept flagged, an unreadable reading in a used row stops
the run naming the line.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from killcurve.assay.readouts import READOUTS
from killcurve.errors import KillcurveInputError
from killcurve.io.layout import OPTIONAL_TEXT_FIELDS, check_layout
from killcurve.io.readers.cells import classify
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import Record, build_export
from killcurve.io.readers.text import csv_rows, guess_decimal, guess_delimiter, read_text
from killcurve.io.samplesheet import FILE_COLUMNS, as_plate_rows, resolve_in_study
from killcurve.plate import row_letter, split_well

FORMAT = "tidy_csv"
#: Samplesheet columns that neither select rows nor become well fields.
SHEET_ONLY = (*FILE_COLUMNS, "plate_id", "plate_index", "read", "normalise_read", "time")
#: Fields the mapping turns into numbers.
NUMERIC_FIELDS = ("et_ratio", "concentration")
#: Grid widths for running well names: (most points, columns per row).
_SYNTHETIC_GRIDS = ((96, 12), (384, 24), (1536, 48))


@dataclass(frozen=True)
class TidyMapping:
    """A column mapping: which column holds the reading and each well field.

    ``columns``: field → column header; ``values``: field → {file value: field
    value} (a value missing from a field's map gives an empty field, except
    for ``role``, where it is an error); ``constants``: field → value for
    every row; ``signal``: the reading's column header; ``scale``: factor
    applied to every reading (e.g. 100 for fractions → %).
    """

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, object]] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)
    signal: str | None = None
    scale: float = 1.0


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a delimited text table, every cell stripped.

    Tab-separated when the first line has a tab, else ``;`` or ``,`` (guessed
    as for plate-reader CSVs). Comment lines starting with ``#`` above the
    header and blank lines are skipped; short rows are padded.
    """
    lines = read_text(path, allow_latin1=True).splitlines(keepends=True)
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")):
        lines.pop(0)
    text = "".join(lines)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in first else guess_delimiter(text)
    rows = [[c.strip() for c in r] for r in csv_rows(text, delimiter) if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise KillcurveInputError(
            f"{path}: a tidy_csv file needs a header line and at least one data line."
        )
    header = rows[0]
    width = len(header)
    return header, [(r + [""] * width)[:width] for r in rows[1:]]


def read_tidy_csv(path: Path) -> PlateExport:
    """Read a tidy table with a ``well`` column: one read per other column (used with a layout).

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("Well,RLU\\nA1,100\\nA02,250\\n")
    >>> read_tidy_csv(p).data.select("well", "read", "signal").rows()
    [('A1', 'RLU', 100.0), ('A2', 'RLU', 250.0)]
    """
    header, rows = read_table(path)
    wells = [i for i, h in enumerate(header) if h.lower() == "well"]
    if not wells:
        raise KillcurveInputError(
            f"{path}: tidy_csv with a wellmap layout needs a column headed 'well' "
            f"(found {', '.join(header)}). Without well positions, set the samplesheet's "
            "layout to a column-mapping file with a [tidy] table (see config/README.md)."
        )
    at = wells[0]
    records: list[Record] = []
    for line, row in enumerate(rows, start=2):
        where = split_well(row[at])
        if where is None:
            raise KillcurveInputError(
                f"{path} line {line}: well {row[at]!r} is not a well name like A1 or A01."
            )
        records.extend(
            (1, name, where[0], where[1], raw)
            for i, (name, raw) in enumerate(zip(header, row, strict=True))
            if i != at and name
        )
    return build_export(
        path, FORMAT, records, {"columns": "; ".join(h for h in header if h)},
        "Add one data line per well.",
    )  # fmt: skip


def is_tidy_mapping(path: Path) -> bool:
    """True when ``path`` is a TOML file with a top-level ``[tidy]`` table (a column mapping)."""
    try:
        return "tidy" in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def read_mapping(path: Path) -> TidyMapping:
    """Load a column mapping (the ``[tidy]`` table of a TOML file; see the module docstring)."""
    try:
        table = tomllib.loads(Path(path).read_text(encoding="utf-8"))["tidy"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError) as err:
        raise KillcurveInputError(
            f"column mapping {path}: not a TOML file with a [tidy] table ({err}). "
            "See config/README.md, 'Tidy input'."
        ) from None
    known = {"signal", "scale", "columns", "values", "constants"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise KillcurveInputError(
            f"column mapping {path}: unknown key(s) {', '.join(unknown)} in [tidy]. "
            f"Keys: {', '.join(sorted(known))}."
        )
    scale = table.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale == 0:
        raise KillcurveInputError(
            f"column mapping {path}: [tidy] scale must be a non-zero number, got {scale!r}."
        )
    values = {k: {str(a): b for a, b in v.items()} for k, v in table.get("values", {}).items()}
    stray = sorted(set(values) - set(table.get("columns", {})))
    if stray:
        raise KillcurveInputError(
            f"column mapping {path}: [tidy.values.{stray[0]}] maps a field that "
            "[tidy.columns] does not take from the file. Add it to [tidy.columns]."
        )
    return TidyMapping(
        columns={k: str(v) for k, v in table.get("columns", {}).items()},
        values=values,
        constants=dict(table.get("constants", {})),
        signal=table.get("signal"),
        scale=float(scale),
    )


def _same(a: object, b: str) -> bool:
    """A field value equals a samplesheet cell: as text, or as numbers (``96`` = ``96.0``)."""
    if a is None:
        return False
    if str(a) == b:
        return True
    try:
        return float(str(a)) == float(b)
    except ValueError:
        return False


def _column(header: list[str], name: str, path: Path, mapping: Path, what: str) -> int:
    if name not in header:
        raise KillcurveInputError(
            f"{path}: no column {name!r} ({what} in {mapping}). "
            f"The file's columns are: {', '.join(header)}."
        )
    return header.index(name)


def tidy_points(
    path: Path, mapping: TidyMapping, mapping_path: Path, signal: str | None
) -> pl.DataFrame:
    """One row per data line of ``path``: ``source_row``, the mapped fields, ``raw``.

    ``signal`` (the samplesheet's ``read``) overrides the mapping's ``signal``
    column. Fields are text except ``et_ratio`` (Float64); ``raw`` is the
    reading's text.
    """
    header, rows = read_table(path)
    column = signal or mapping.signal
    if not column:
        raise KillcurveInputError(
            f"{path}: which column holds the reading? Set the samplesheet's read column "
            f"or signal in the [tidy] table of {mapping_path}."
        )
    at = _column(header, column, path, mapping_path, "the signal")
    data: dict[str, list[object]] = {
        "source_row": list(range(2, len(rows) + 2)),
        "raw": [r[at] for r in rows],
    }
    for name, head in mapping.columns.items():
        i = _column(header, head, path, mapping_path, f"field {name!r}")
        cells = [r[i] for r in rows]
        if name in mapping.values:
            table = mapping.values[name]
            if name == "role":
                missing = [(n, c) for n, c in enumerate(cells, start=2) if c not in table]
                if missing:
                    raise KillcurveInputError(
                        f"{path} line {missing[0][0]}: {head} value {missing[0][1]!r} has no "
                        f"role in [tidy.values.role] of {mapping_path}. Add it."
                    )
            data[name] = [table.get(c) for c in cells]
        else:
            data[name] = [c or None for c in cells]
    for name, value in mapping.constants.items():
        if name in data:
            raise KillcurveInputError(
                f"column mapping {mapping_path}: {name!r} is both a column and a constant. "
                "Keep one."
            )
        data[name] = [value] * len(rows)
    points = pl.DataFrame(
        {k: [None if v is None else str(v) for v in vals] if k != "source_row" else vals
         for k, vals in data.items()},
        schema_overrides={"source_row": pl.Int64},
    )  # fmt: skip
    for name in NUMERIC_FIELDS:
        if name in points.columns:
            number = pl.col(name).cast(pl.Float64, strict=False)
            bad = points.filter(pl.col(name).is_not_null() & number.is_null())
            if bad.height:
                raise KillcurveInputError(
                    f"{path} line {bad['source_row'][0]}: {name} {bad[name][0]!r} is not a "
                    f"number. Map it to one in [tidy.values.{name}] of {mapping_path}."
                )
            points = points.with_columns(number)
    return points


def _wells(points: pl.DataFrame, path: Path, where: str) -> pl.DataFrame:
    """Add ``well``, ``row``, ``col``, ``synthetic_well``: from a ``well`` field or running."""
    if "well" in points.columns:
        parsed = [split_well(w or "") for w in points["well"]]
        bad = [n for n, p in zip(points["source_row"], parsed, strict=True) if p is None]
        if bad:
            raise KillcurveInputError(f"{path} line {bad[0]}: the well is not like A1 or A01.")
        points = points.with_columns(
            pl.Series("row", [p[0] for p in parsed if p]),
            pl.Series("col", [p[1] for p in parsed if p], dtype=pl.Int32),
            pl.lit(False).alias("synthetic_well"),
        ).with_columns(pl.format("{}{}", "row", "col").alias("well"))
        twice = points.filter(pl.col("well").is_duplicated())
        if twice.height:
            first = twice["well"][0]
            lines = twice.filter(pl.col("well") == first)["source_row"].to_list()
            raise KillcurveInputError(
                f"{where}: well {first} appears on lines {', '.join(map(str, lines))} of the "
                "rows this plate selects. Select fewer rows (samplesheet columns) or fix the file."
            )
        return points
    n = points.height
    width = next((w for most, w in _SYNTHETIC_GRIDS if n <= most), None)
    if width is None:
        raise KillcurveInputError(
            f"{where}: {n} points are more than one plate (1536). Split them into several "
            "plates with samplesheet columns that select rows."
        )
    rows = [row_letter(i // width) for i in range(n)]
    cols = [i % width + 1 for i in range(n)]
    return points.with_columns(
        pl.Series("row", rows),
        pl.Series("col", cols, dtype=pl.Int32),
        pl.Series("well", [f"{r}{c}" for r, c in zip(rows, cols, strict=True)]),
        pl.lit(True).alias("synthetic_well"),
    )


def tidy_plate_wells(sheet_row: dict[str, str], study_dir: Path) -> pl.DataFrame:
    """The well table of one samplesheet row whose ``layout`` is a column mapping.

    Same columns as :func:`killcurve.study.wells.plate_wells` (layout fields,
    samplesheet metadata, ``signal``, ``flag``, ``plate_id``, ``file``,
    ``layout``, ``excluded``, ``exclusion_reason``) plus ``source_row`` and
    ``synthetic_well``. Stops naming the plate, file and line when the
    mapping or the rows cannot make a plate.
    """
    plate = sheet_row["plate_id"]
    path = resolve_in_study(study_dir, sheet_row["file"], f"plate {plate} file")
    mapping_path = resolve_in_study(study_dir, sheet_row["layout"], f"plate {plate} layout")
    where = f"plate {plate} (file {sheet_row['file']}, mapping {sheet_row['layout']})"
    for column in ("plate_index", "normalise_read", "time"):
        if sheet_row.get(column):
            raise KillcurveInputError(
                f"{where}: {column} does not apply to a mapped tidy table. Select the plate's "
                "rows with samplesheet columns named like mapped fields, and leave it empty."
            )
    try:
        mapping = read_mapping(mapping_path)
        points = tidy_points(path, mapping, mapping_path, sheet_row.get("read") or None)
    except KillcurveInputError as err:
        raise KillcurveInputError(f"plate {plate}: {err}") from None
    for column, value in sheet_row.items():
        if column in SHEET_ONLY or value in (None, ""):
            continue
        if column in mapping.columns:
            points = points.filter(
                pl.col(column).map_elements(lambda v, b=value: _same(v, b), return_dtype=pl.Boolean)
            )
        elif column in points.columns:
            if not _same(points[column][0], value):
                raise KillcurveInputError(
                    f"{where}: {column!r} is {value!r} in the samplesheet but "
                    f"{points[column][0]!r} in the mapping's constants. Set it in one place only."
                )
        else:
            points = points.with_columns(pl.lit(value).alias(column))
    if points.height == 0:
        picks = [c for c in sheet_row if c in mapping.columns and sheet_row[c]]
        raise KillcurveInputError(
            f"{where}: no line of the file matches the samplesheet's "
            f"{', '.join(f'{c} = {sheet_row[c]!r}' for c in picks)}. Check those values."
        )
    points = _wells(points, path, where)
    for column in OPTIONAL_TEXT_FIELDS:
        if column not in points.columns:
            points = points.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    if "et_ratio" not in points.columns:
        points = points.with_columns(pl.lit(None, dtype=pl.Float64).alias("et_ratio"))
    check_layout(points, where)
    readout = sheet_row["readout"]
    lacking = [r for r in READOUTS[readout].required if r not in points["role"].to_list()]
    if lacking:
        raise KillcurveInputError(
            f"{where}: no {' or '.join(lacking)} rows; readout {readout!r} needs "
            f"{', '.join(READOUTS[readout].required)} controls on every plate. "
            "Map them in [tidy.values.role] or select rows that include them."
        )
    decimal = guess_decimal(points["raw"].to_list())
    parsed = [classify(raw, decimal) for raw in points["raw"]]
    points = points.with_columns(
        (pl.Series("signal", [p[0] for p in parsed], dtype=pl.Float64) * mapping.scale),
        pl.Series("flag", [p[1] for p in parsed], dtype=pl.String),
    )
    unreadable = points.filter(pl.col("flag").is_in(["empty", "not_numeric"]))
    if unreadable.height:
        row = unreadable.row(0, named=True)
        raise KillcurveInputError(
            f"{where} line {row['source_row']} ({row['role']}): reading {row['raw']!r} is "
            f"{'empty' if row['flag'] == 'empty' else 'not a number'}. Fix the file."
        )
    return as_plate_rows(points, sheet_row)
