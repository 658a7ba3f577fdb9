"""The well table: readings + layout + samplesheet metadata, one row per used well.

This is the first stage of the pipeline (:func:`load_wells`). Every well the
layout defines becomes a row; wells of the export the layout does not use are
dropped. Nothing is dropped silently after that: wells that cannot be used are
kept with ``excluded = true`` and an ``exclusion_reason``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from killcurve.assay.lysis import REQUIRED_CONTROLS
from killcurve.errors import KillcurveInputError
from killcurve.io.layout import NUMERIC_FIELDS, OPTIONAL_TEXT_FIELDS, check_layout, read_layout
from killcurve.io.readers import read_export, select_plate, tidy_csv
from killcurve.io.readers.tidy_csv import is_tidy_mapping, tidy_plate_wells
from killcurve.io.samplesheet import (
    FILE_COLUMNS,
    as_plate_rows,
    is_time_resolved,
    resolve_in_study,
)

#: Leading columns of ``wells.parquet``, in order; other metadata follows.
WELL_COLUMNS = (
    "plate_id",
    "well",
    "row",
    "col",
    "signal",
    "flag",
    "role",
    "product",
    "lot",
    "target",
    "stage",
    "cryo",
    "et_ratio",
    "readout",
    "batch",
    "assay_date",
)
#: Trailing columns of ``wells.parquet``.
TRAILING_COLUMNS = ("file", "layout", "excluded", "exclusion_reason")
#: Samplesheet columns that select one plate/read (and time point) inside an export.
SELECT_COLUMNS = ("plate_index", "read", "normalise_read", "time", "addition")


def plate_layout(
    sheet_row: dict[str, str], study_dir: Path, cache: Path | None = None, titrated: bool = True
) -> pl.DataFrame:
    """The layout of one plate with the samplesheet's plate-wide fields merged in, checked.

    A field set both in the samplesheet and the layout must agree on every
    well where the layout sets it; otherwise the plate is refused. ``cache``: see
    :func:`killcurve.io.layout.read_layout`; ``titrated``: see
    :func:`killcurve.io.layout.check_layout`.
    """
    plate = sheet_row["plate_id"]
    path = resolve_in_study(study_dir, sheet_row["layout"], f"plate {plate} layout")
    where = f"plate {plate} (layout {sheet_row['layout']})"
    try:
        layout = read_layout(path, cache)
    except KillcurveInputError as err:
        raise KillcurveInputError(f"plate {plate}: {err}") from None
    for column, value in sheet_row.items():
        if column in (*FILE_COLUMNS, *SELECT_COLUMNS, "plate_id") or value in (None, ""):
            continue
        if column in layout.columns:
            clash = layout.filter(
                pl.col(column).is_not_null() & (pl.col(column).cast(pl.String) != value)
            )
            if clash.height:
                raise KillcurveInputError(
                    f"{where}: {column!r} is {value!r} in the samplesheet but "
                    f"{clash[column][0]!r} in the layout (well {clash['well'][0]}). "
                    "Set it in one place only."
                )
            layout = layout.with_columns(pl.col(column).cast(pl.String).fill_null(value))
        else:
            layout = layout.with_columns(pl.lit(value).alias(column))
    for column in OPTIONAL_TEXT_FIELDS:
        if column not in layout.columns:
            layout = layout.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    for column in NUMERIC_FIELDS:
        if column in layout.columns and layout.schema[column] != pl.Float64:
            number = pl.col(column).cast(pl.Float64, strict=False)
            bad = layout.filter(pl.col(column).is_not_null() & number.is_null())
            if bad.height:
                raise KillcurveInputError(
                    f"{where}: {column} {bad[column][0]!r} (samplesheet) is not a number."
                )
            layout = layout.with_columns(number)
    check_layout(layout, where, titrated)
    present = set(layout["role"].unique().to_list())
    readout = sheet_row["readout"]
    lacking = [r for r in REQUIRED_CONTROLS[readout] if r not in present]
    if lacking:
        raise KillcurveInputError(
            f"{where}: no {' or '.join(lacking)} wells; readout {readout!r} needs "
            f"{', '.join(REQUIRED_CONTROLS[readout])} controls on every plate. "
            "Add them to the layout."
        )
    return layout


def _choice(sheet_row: dict[str, str]) -> tuple[int | None, str | None]:
    """The samplesheet's ``plate_index`` (a whole number ≥ 1) and ``read``, None when unset."""
    index, read = sheet_row.get("plate_index") or None, sheet_row.get("read") or None
    if index is not None:
        if not index.isdigit() or int(index) < 1:
            raise KillcurveInputError(
                f"plate {sheet_row['plate_id']}: plate_index {index!r} is not a whole number "
                "≥ 1 (1 = the first plate in the file)."
            )
        return int(index), read
    return None, read


def normalise(readings: pl.DataFrame, baseline: pl.DataFrame) -> pl.DataFrame:
    """Divide each well's reading by its reading in ``baseline`` (e.g. the sweep at effector
    addition, giving the normalised cell index); a zero or missing baseline gives null."""
    base = baseline.select("well", pl.col("signal").alias("baseline"))
    bad = pl.col("baseline").is_null() | (pl.col("baseline") <= 0)
    return (
        readings.join(base, on="well", how="left")
        .with_columns(
            pl.when(pl.col("baseline") > 0)
            .then(pl.col("signal") / pl.col("baseline"))
            .alias("signal"),
            pl.when(bad).then(pl.lit("not_numeric")).otherwise(pl.col("flag")).alias("flag"),
            pl.when(bad)
            .then(
                pl.format("{} over a baseline of {}", "raw", pl.col("baseline").fill_null("none"))
            )
            .otherwise(pl.col("raw"))
            .alias("raw"),
        )
        .drop("baseline")
    )


def plate_wells(
    sheet_row: dict[str, str], study_dir: Path, cache: Path | None = None
) -> pl.DataFrame:
    """Read one plate's export and join it to its checked layout.

    Refuses: layout wells outside the export's plate, layout wells whose
    reading is empty or not a number. Overflow/saturated wells are kept,
    excluded, with reason ``overflow``. ``cache``: where parsed layouts are reused from
    (:func:`killcurve.io.layout.read_layout`).
    """
    plate = sheet_row["plate_id"]
    if sheet_row.get("format") == tidy_csv.FORMAT and is_tidy_mapping(
        resolve_in_study(study_dir, sheet_row["layout"], f"plate {plate} layout")
    ):
        return tidy_plate_wells(sheet_row, study_dir)
    layout = plate_layout(sheet_row, study_dir, cache)
    path = resolve_in_study(study_dir, sheet_row["file"], f"plate {plate} file")
    try:
        export = read_export(path, sheet_row.get("format") or "grid_csv")
    except KillcurveInputError as err:
        raise KillcurveInputError(f"plate {plate}: {err}") from None
    index, read = _choice(sheet_row)
    try:
        readings = select_plate(export, index, read, sheet_row.get("time"))
        if sheet_row.get("normalise_read"):
            readings = normalise(readings, select_plate(export, index, sheet_row["normalise_read"]))
    except KillcurveInputError as err:
        raise KillcurveInputError(f"plate {plate}: {err}") from None
    joined = layout.drop("row", "col").join(
        readings.select("well", "row", "col", "signal", "flag", "raw"), on="well", how="left"
    )
    check_readings(joined, sheet_row, readings["well"].n_unique())
    return as_plate_rows(joined, sheet_row)


def check_readings(joined: pl.DataFrame, sheet_row: dict[str, str], n_read: int) -> None:
    """Refuse a plate whose layout uses wells its export lacks (null ``row`` after the join;
    ``n_read`` wells were read) or whose used wells hold an empty or non-numeric reading,
    naming the plate, the well and, on a time-resolved plate (``time_h``), the time."""
    plate, source = sheet_row["plate_id"], f"file {sheet_row['file']}"
    outside = joined.filter(pl.col("row").is_null())
    if outside.height:
        raise KillcurveInputError(
            f"plate {plate}: layout {sheet_row['layout']} uses wells {outside['well'][0]}… "
            f"that {source} does not have ({n_read} wells read). "
            "Is the layout for another plate size?"
        )
    unreadable = joined.filter(pl.col("flag").is_in(["empty", "not_numeric"]))
    if unreadable.height:
        row = unreadable.row(0, named=True)
        at = f" at {row['time_h']:.4g} h" if "time_h" in row else ""
        raise KillcurveInputError(
            f"plate {plate} well {row['well']} ({row['role']}){at}: reading {row['raw']!r} in "
            f"{source} is {'empty' if row['flag'] == 'empty' else 'not a number'}. "
            "Fix the export (decimal point, not comma), or drop the well from the layout."
        )


def load_wells(sheet: pl.DataFrame, study_dir: Path, cache: Path | None = None) -> pl.DataFrame:
    """The well table of a whole study: :func:`plate_wells` for every samplesheet row of an
    endpoint plate (time-resolved plates, ``time`` = ``all``, have their own table:
    :func:`killcurve.study.timecourse.load_points`)."""
    endpoint = sheet.filter(~is_time_resolved(sheet))
    plates = [plate_wells(row, study_dir, cache) for row in endpoint.iter_rows(named=True)]
    wells = pl.concat(plates, how="diagonal_relaxed")
    extra = [c for c in wells.columns if c not in (*WELL_COLUMNS, *TRAILING_COLUMNS)]
    for column in WELL_COLUMNS:
        if column not in wells.columns:
            wells = wells.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    return wells.select(*WELL_COLUMNS, *sorted(extra), *TRAILING_COLUMNS).sort(
        "plate_id", "row", "col"
    )
