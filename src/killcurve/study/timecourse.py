"""Time-resolved plates: readings of every time point + layout + samplesheet metadata.

A samplesheet row whose ``time`` is ``all`` is a *time-resolved plate*: its kinetic read
(reader rows with ``cycle`` and ``time_s``; or sweeps named ``"<h> h"``, as ``cell_index_csv``
writes them) keeps every time point. :func:`load_points` gives one row per plate, used well and
time point with the columns of the endpoint well table and ``cycle``, ``time_h``, then the
normalisation at effector addition and % lysis of :mod:`killcurve.assay.timecourse`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from killcurve.assay import timecourse as tc
from killcurve.errors import KillcurveInputError
from killcurve.io.exclusions import apply_exclusions
from killcurve.io.readers import read_export
from killcurve.io.readers.select import one_read, parse_time, sweeps_as_time_points
from killcurve.io.samplesheet import as_plate_rows, resolve_in_study
from killcurve.study.wells import (
    TRAILING_COLUMNS,
    WELL_COLUMNS,
    _choice,
    check_readings,
    plate_layout,
)

#: Columns after the well table's: the time point, then what is computed at it.
POINT_COLUMNS = (*tc.TIME_COLUMNS, "pct_lysis", "lysis_flag")


def point_order(columns: Sequence[str]) -> list[str]:
    """Column order of ``timecourse.parquet``: the well table's leading columns, the other
    metadata sorted, its trailing columns, then the :data:`POINT_COLUMNS` present.

    >>> point_order(["pct_lysis", "zeta", *TRAILING_COLUMNS, *WELL_COLUMNS, "cycle"])[-6:]
    ['file', 'layout', 'excluded', 'exclusion_reason', 'cycle', 'pct_lysis']
    """
    extra = sorted(set(columns) - {*WELL_COLUMNS, *TRAILING_COLUMNS, *POINT_COLUMNS})
    points = [c for c in POINT_COLUMNS if c in columns]
    return [*WELL_COLUMNS, *extra, *TRAILING_COLUMNS, *points]


def plate_points(
    sheet_row: dict[str, str], study_dir: Path, cache: Path | None = None
) -> pl.DataFrame:
    """Every time point of one time-resolved plate joined to its checked layout.

    Refuses: an export with one time point, layout wells the export lacks, a used well whose
    reading at some time point is empty or not a number (named with its time). Overflow
    readings are kept, excluded (reason ``overflow``) at that time point only.
    """
    plate = sheet_row["plate_id"]
    layout = plate_layout(sheet_row, study_dir, cache, titrated=False)
    path = resolve_in_study(study_dir, sheet_row["file"], f"plate {plate} file")
    try:
        export = sweeps_as_time_points(read_export(path, sheet_row.get("format") or "grid_csv"))
        index, read = _choice(sheet_row)
        readings = one_read(export, index, read)
    except KillcurveInputError as err:
        raise KillcurveInputError(f"plate {plate}: {err}") from None
    source = f"file {sheet_row['file']}"
    if readings["cycle"].is_null().all():
        raise KillcurveInputError(
            f"plate {plate}: time is 'all' (a time-resolved plate) but {source} holds one time "
            "point. Leave time empty for an endpoint read, or export every time point."
        )
    starts = readings.group_by("cycle").agg((pl.col("time_s").min() / 3600.0).alias("time_h"))
    if starts["time_h"].is_null().any():
        raise KillcurveInputError(
            f"plate {plate}: {source} gives no time for some time points; a time course needs "
            "the time of every read."
        )
    joined = layout.drop("row", "col").join(
        readings.select("well", "row", "col", "signal", "flag", "raw", "cycle").join(
            starts, on="cycle"
        ),
        on="well",
        how="left",
    )
    check_readings(joined, sheet_row, readings["well"].n_unique())
    return as_plate_rows(joined, sheet_row)


def addition_choice(sheet_row: dict[str, str | None]) -> float | str | None:
    """The samplesheet's ``addition``: None (empty: the first time point), ``pause``, or hours
    since the first reading (from seconds, ``min`` or ``h``).

    >>> addition_choice({"addition": "90 min"}), addition_choice({"addition": " pause "})
    (1.5, 'pause')
    """
    text = (sheet_row.get("addition") or "").strip()
    if not text:
        return None
    if text.lower() == tc.PAUSE:
        return tc.PAUSE
    seconds = parse_time(text)
    if not isinstance(seconds, float):
        raise KillcurveInputError(
            f"plate {sheet_row.get('plate_id')}: addition {text!r} is not a time. Write the time "
            "since the first reading (e.g. 24 h, 90 min, 3600), pause, or leave it empty."
        )
    return seconds / 3600.0


def load_points(
    sheet: pl.DataFrame,
    study_dir: Path,
    exclusions: pl.DataFrame | None = None,
    source: str = "",
    cache: Path | None = None,
) -> pl.DataFrame:
    """The time-resolved well table (``timecourse.parquet``) of the samplesheet rows ``sheet``
    (all time-resolved): readings, manual exclusions (``exclusions`` lines of these plates;
    ``source`` names the sheet), addition, normalised signal and % lysis per time point."""
    plates = [plate_points(row, study_dir, cache) for row in sheet.iter_rows(named=True)]
    points = pl.concat(plates, how="diagonal_relaxed")
    for column in WELL_COLUMNS:
        if column not in points.columns:
            points = points.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    points = points.select(point_order(points.columns)).sort("plate_id", "cycle", "row", "col")
    if exclusions is not None:
        mine = exclusions.filter(pl.col("plate_id").is_in(sheet["plate_id"].implode()))
        points = apply_exclusions(points, mine, source)
    choices = {row["plate_id"]: addition_choice(row) for row in sheet.iter_rows(named=True)}
    additions = tc.addition_times(points, choices)
    return tc.lysis_over_time(tc.normalise_at_addition(points, additions))
