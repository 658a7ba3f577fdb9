"""Time-resolved killing: normalisation at effector addition, % lysis over time, metrics.

Input (*points*): one row per plate, well and time point of the time-resolved plates, with the
well-table columns (``plate_id``, ``well``, ``role``, ``readout``, ``signal``, ``excluded``,
``exclusion_reason``, the curve keys and the titration columns) and ``cycle`` (1-based time
point) and ``time_h`` (hours since the plate's first reading), as
:func:`killcurve.study.timecourse.load_points` gives.

* **Effector addition** per plate (samplesheet ``addition``): the first time point (empty), the
  last time point at or before a given time, or (``pause``) the last time point before the
  longest pause between consecutive reads (the plate is taken out of the instrument to add
  effectors, as on an xCELLigence). ``addition_h`` is its ``time_h``; ``t_h = time_h −
  addition_h`` (hours after addition; the addition point is t = 0).
* **Normalised signal**: for target-cell readouts (:data:`TARGET_CELL_READOUTS`: impedance,
  imaging counts and confluence) ``norm_signal(t) = signal(t) / signal(t = 0)`` per well (the
  xCELLigence "normalised cell index"; it removes the well-to-well spread of seeding);
  other readouts (release, luciferase, …) keep ``norm_signal = signal``.
* **% lysis** at every time point t ≥ 0: the readout's endpoint formula
  (:func:`killcurve.assay.lysis.compute_lysis`) on ``norm_signal`` with the controls of the same
  plate *at the same time point*, e.g. impedance ``100 × (1 − S/T)``, release
  ``100 × (S − T)/(M − T)``. Before addition there is none.

The metrics of each well group over time (t50, AUC, % lysis at configured times) are in
:mod:`killcurve.fit.kinetics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from killcurve.assay.lysis import compute_lysis, lysis_flag_expr
from killcurve.assay.readouts import TARGET_CELL_READOUTS
from killcurve.errors import KillcurveInputError

#: A pause counts as effector addition when longer than this many median read intervals
#: (RTCA Pro: a 0.37 h gap in a 0.25 h schedule; plate-reader cycle jitter stays under 1.1).
MIN_PAUSE_RATIO = 1.4
#: The samplesheet's ``addition`` value that detects the addition from the longest pause.
PAUSE = "pause"
#: Columns of the time dimension, dropped when a time point's wells become an endpoint table.
TIME_COLUMNS = ("cycle", "time_h", "addition_h", "t_h", "norm_signal")
#: Reason a well's rows are excluded when it has no usable reading at addition.
NO_BASELINE = "no reading at effector addition"


def detect_addition(times_h: Sequence[float], where: str) -> int:
    """Index of the last time point before the longest pause between reads.

    Stops, naming ``where``, when that pause is under :data:`MIN_PAUSE_RATIO` × the median
    interval (no clear pause: give the samplesheet's ``addition`` a time).

    >>> detect_addition([0.0, 0.25, 0.5, 0.75, 2.0, 2.25, 2.5], "P1")
    3
    """
    times = np.asarray(times_h, dtype=float)
    gaps = np.diff(times)
    if gaps.size < 2:
        raise KillcurveInputError(f"{where}: fewer than three time points; no time course.")
    longest = int(np.argmax(gaps))
    if gaps[longest] < MIN_PAUSE_RATIO * float(np.median(gaps)):
        raise KillcurveInputError(
            f"{where}: addition is 'pause' but no pause between reads marks the effector "
            f"addition (longest {gaps[longest]:.3g} h, median {np.median(gaps):.3g} h). Give the "
            "samplesheet's addition the time since the first reading (e.g. 24 h)."
        )
    return longest


def addition_times(points: pl.DataFrame, choices: Mapping[str, float | str | None]) -> pl.DataFrame:
    """Effector addition per plate: ``plate_id``, ``addition_h`` (hours since the first read).

    ``choices`` maps plate → None (the first time point), :data:`PAUSE`
    (:func:`detect_addition`) or hours since the first read (the last time point at or
    before it).
    """
    times = points.group_by("plate_id", "cycle").agg(pl.col("time_h").min()).sort("time_h")
    rows = []
    for (plate,), part in times.group_by("plate_id", maintain_order=True):
        hours = part["time_h"].to_list()
        choice = choices.get(str(plate))
        where = f"plate {plate}"
        if choice is None:
            at = hours[0]
        elif choice == PAUSE:
            at = hours[detect_addition(hours, where)]
        else:
            before = [h for h in hours if h <= float(choice) + 1e-9]
            if not before or len(before) == len(hours):
                raise KillcurveInputError(
                    f"{where}: addition {float(choice):g} h is outside the reads "
                    f"({hours[0]:.4g}–{hours[-1]:.4g} h since the first reading)."
                )
            at = before[-1]
        rows.append({"plate_id": str(plate), "addition_h": float(at)})
    return pl.DataFrame(rows, schema={"plate_id": pl.String, "addition_h": pl.Float64})


def _exclude(mask: pl.Expr, reason: str) -> list[pl.Expr]:
    """``excluded`` and ``exclusion_reason`` (reasons ``; ``-joined) updated where ``mask``."""
    joined = pl.concat_str(
        [pl.col("exclusion_reason"), pl.lit(reason)], separator="; ", ignore_nulls=True
    )
    return [
        (pl.col("excluded") | mask).alias("excluded"),
        pl.when(mask).then(joined).otherwise(pl.col("exclusion_reason")).alias("exclusion_reason"),
    ]


def normalise_at_addition(points: pl.DataFrame, additions: pl.DataFrame) -> pl.DataFrame:
    """Add ``addition_h``, ``t_h`` and ``norm_signal`` (module docstring).

    A target-cell well whose reading at addition is missing, flagged or ≤ 0 cannot be
    normalised: all its rows are excluded with reason :data:`NO_BASELINE`.
    """
    timed = points.join(additions, on="plate_id", how="left").with_columns(
        (pl.col("time_h") - pl.col("addition_h")).alias("t_h")
    )
    at_zero = pl.col("t_h").abs() < 1e-9
    base = timed.filter(at_zero).select(
        "plate_id",
        "well",
        pl.when(pl.col("flag").is_null() & (pl.col("signal") > 0))
        .then(pl.col("signal"))
        .alias("baseline"),
    )
    cells = pl.col("readout").is_in(TARGET_CELL_READOUTS)
    out = timed.join(base, on=["plate_id", "well"], how="left")
    no_base = cells & pl.col("baseline").is_null() & pl.col("role").is_not_null()
    return (
        out.with_columns(
            pl.when(cells)
            .then(pl.col("signal") / pl.col("baseline"))
            .otherwise(pl.col("signal"))
            .alias("norm_signal")
        )
        .with_columns(_exclude(no_base & ~pl.col("excluded"), NO_BASELINE))
        .drop("baseline")
    )


def _time_point_plate() -> pl.Expr:
    """A plate name for one time point, as messages show it: ``P1 at 24.5 h after addition``."""
    return pl.format("{} at {} h after addition", "plate_id", pl.col("t_h").round(4)).alias(
        "plate_id"
    )


def as_time_point_plates(points: pl.DataFrame) -> pl.DataFrame:
    """The rows at t ≥ 0 with each plate × time point as one plate of the endpoint table
    (``plate_id`` = :func:`_time_point_plate`, ``signal`` = ``norm_signal``); the original
    plate is kept in ``course_plate``, the raw reading in ``raw_signal``."""
    return points.filter(pl.col("t_h") >= -1e-9).with_columns(
        pl.col("plate_id").alias("course_plate"),
        pl.col("signal").alias("raw_signal"),
        pl.col("norm_signal").alias("signal"),
        _time_point_plate(),
    )


def lysis_over_time(points: pl.DataFrame) -> pl.DataFrame:
    """Add ``pct_lysis`` and ``lysis_flag`` at every time point t ≥ 0 (module docstring).

    Rows before addition get none. Stops, naming the plate and time point, where that time
    point's controls cannot normalise it (as for an endpoint plate).
    """
    after = compute_lysis(as_time_point_plates(points))
    after = after.with_columns(
        pl.col("course_plate").alias("plate_id"), pl.col("raw_signal").alias("signal")
    ).drop("course_plate", "raw_signal")
    before = points.filter(pl.col("t_h") < -1e-9).with_columns(
        pl.lit(None, dtype=pl.Float64).alias("pct_lysis"),
        pl.lit(None, dtype=pl.String).alias("lysis_flag"),
    )
    return pl.concat([before, after.select(before.columns)]).sort("plate_id", "cycle", "row", "col")


def nearest_points(points: pl.DataFrame, times_h: Sequence[float]) -> pl.DataFrame:
    """Per plate and T of ``times_h``: the time point after addition nearest T h (none when T
    is beyond the plate's last time point by more than half its median interval). Columns
    ``plate_id``, ``cycle``, ``at_h`` (T) and ``read_t_h`` (the time point's t)."""
    grid = (
        points.filter(pl.col("t_h") >= -1e-9)
        .group_by("plate_id", "cycle")
        .agg(pl.col("t_h").first())
        .sort("plate_id", "t_h")
    )
    rows = []
    for (plate,), part in grid.group_by("plate_id", maintain_order=True):
        t = part["t_h"].to_numpy()
        half = float(np.median(np.diff(t))) / 2 if t.size > 1 else 0.0
        for at in times_h:
            i = int(np.argmin(np.abs(t - at)))
            if at <= t[-1] + half + 1e-9:
                rows.append(
                    {"plate_id": plate, "cycle": part["cycle"][i], "at_h": float(at),
                     "read_t_h": float(t[i])}
                )  # fmt: skip
    schema = {"plate_id": pl.String, "cycle": points.schema["cycle"], "at_h": pl.Float64}
    return pl.DataFrame(rows, schema=schema | {"read_t_h": pl.Float64})


def interpolate(t: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``y(t)`` linearly interpolated at ``at``; NaN outside ``[t[0], t[-1]]``.

    >>> interpolate(np.array([0.0, 2.0]), np.array([0.0, 40.0]), np.array([1.0, 3.0])).tolist()
    [20.0, nan]
    """
    values = np.interp(at, t, y)
    return np.where((at < t[0] - 1e-9) | (at > t[-1] + 1e-9), np.nan, values)


def well_values_at(points: pl.DataFrame, at_h: float) -> pl.DataFrame:
    """Each well of ``points`` once, its % lysis at ``at_h`` h after addition, linear between
    its two time points around it; a well without a value there (beyond its last point, or
    before addition) has none. Time columns are dropped: the result has the columns of the
    endpoint well table (``wells.parquet``), ready for :func:`killcurve.fit.curves.fit_curves`.
    ``signal`` is the well's normalised signal at the time point nearest ``at_h``.
    """
    rows = points.filter((pl.col("t_h") >= -1e-9) & pl.col("pct_lysis").is_not_null()).sort(
        "plate_id", "well", "t_h"
    )
    values = []
    for (plate, well), part in rows.group_by("plate_id", "well", maintain_order=True):
        t = part["t_h"].to_numpy()
        value = interpolate(t, part["pct_lysis"].to_numpy(), np.array([at_h]))[0]
        nearest = part["norm_signal"][int(np.argmin(np.abs(t - at_h)))]
        values.append(
            {
                "plate_id": plate,
                "well": well,
                "at_value": None if np.isnan(value) else float(value),
                "at_signal": nearest,
            }
        )
    found = pl.DataFrame(
        values,
        schema={
            "plate_id": pl.String,
            "well": pl.String,
            "at_value": pl.Float64,
            "at_signal": pl.Float64,
        },
    )
    # a well is excluded at at_h when all its rows are (manual, no baseline); one excluded
    # time point (an overflow read) only leaves that point out of its interpolation
    status = points.group_by("plate_id", "well").agg(
        pl.col("excluded").all().alias("all_excluded"),
        pl.col("exclusion_reason").drop_nulls().unique().sort().str.join("; ").alias("reasons"),
    )
    first = (
        points.sort("plate_id", "well", "cycle")
        .unique(["plate_id", "well"], keep="first")
        .join(status, on=["plate_id", "well"])
    )
    out = first.join(found, on=["plate_id", "well"], how="left")
    lysis_roles = pl.col("role").is_in(["sample", "target_only", "max_lysis"])
    missing = lysis_roles & ~pl.col("excluded") & pl.col("pct_lysis").is_null()
    return (
        out.with_columns(
            pl.col("at_value").alias("pct_lysis"),
            pl.col("at_signal").alias("signal"),
            pl.col("all_excluded").alias("excluded"),
            pl.when(pl.col("all_excluded"))
            .then(pl.col("reasons"))
            .otherwise(None)
            .alias("exclusion_reason"),
        )
        .with_columns(_exclude(missing, f"no reading at {at_h:g} h after addition"))
        .with_columns(lysis_flag_expr())
        .drop(
            "at_value",
            "at_signal",
            "all_excluded",
            "reasons",
            *(c for c in TIME_COLUMNS if c in out.columns),
        )
        .sort("plate_id", "row", "col")
    )
