"""Killing over time per well group: the mean curve, t50 and AUC (``timecourse_metrics``).

Input: the time-resolved well table with % lysis per time point
(:func:`killcurve.assay.timecourse.lysis_over_time`). A *well group* is one curve key
(product, lot, target, stage, cryo, batch), readout and titration level (E:T or concentration).
Its mean curve is the mean over its sample wells of % lysis at each time point of the group's
first plate (each well linearly interpolated there, so wells of plates read at other times
join; a well contributes only inside its own time span):

* ``pct_lysis_at_<T>h`` — the mean curve at T h after addition, linear between the two points
  around T (empty beyond the last point); ``sd_at_<T>h`` the SD over wells of their values at
  T (:func:`killcurve.assay.timecourse.well_values_at`).
* ``t50_h`` — the first time the mean curve reaches ``level`` % (default 50):
  ``t_i + (L − y_i)(t_{i+1} − t_i)/(y_{i+1} − y_i)`` for the first ``y_i < L ≤ y_{i+1}``; 0 when
  y(0) ≥ L; empty and ``t50_bound`` = ``>t_last`` when never reached (right-censored).
* ``auc_pct_h`` — trapezoid area under the mean curve from t = 0 to its last point (%·h);
  ``t_last_h`` says where that is.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from killcurve.assay.timecourse import interpolate, well_values_at
from killcurve.fit.curve_table import CURVE_KEYS, curve_id_expr


def _well_series(
    points: pl.DataFrame, keys: Sequence[str]
) -> list[tuple[tuple, np.ndarray, np.ndarray]]:
    """Per well of ``points`` (usable sample wells at t ≥ 0): its ``keys`` values, t_h and
    % lysis (sorted by time, points without % lysis left out)."""
    usable = points.filter(
        (pl.col("role") == "sample")
        & ~pl.col("excluded")
        & (pl.col("t_h") >= -1e-9)
        & pl.col("pct_lysis").is_not_null()
    ).sort("plate_id", "well", "t_h")
    out = []
    for key, well in usable.group_by(*keys, "plate_id", "well", maintain_order=True):
        out.append((key, well["t_h"].to_numpy(), well["pct_lysis"].to_numpy()))
    return out


def crossing_time(t: np.ndarray, y: np.ndarray, level: float) -> float | None:
    """First time ``y`` reaches ``level``, linear between points; None if it never does.

    >>> crossing_time(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 20.0, 60.0, 40.0]), 50.0)
    1.75
    """
    if y[0] >= level:
        return float(t[0])
    above = np.flatnonzero(y >= level)
    if above.size == 0:
        return None
    i = int(above[0]) - 1
    return float(t[i] + (level - y[i]) * (t[i + 1] - t[i]) / (y[i + 1] - y[i]))


def auc(t: np.ndarray, y: np.ndarray) -> float:
    """Trapezoid area under ``y(t)`` (%·h when y is % and t hours).

    >>> auc(np.array([0.0, 1.0, 3.0]), np.array([0.0, 10.0, 30.0]))
    45.0
    """
    return float(np.sum((y[1:] + y[:-1]) / 2.0 * np.diff(t)))


def time_label(at: float) -> str:
    """Column suffix of a time: ``24h``, ``1.5h``.

    >>> time_label(24.0), time_label(1.5)
    ('24h', '1.5h')
    """
    return f"{at:g}h"


def group_columns(points: pl.DataFrame) -> list[str]:
    """Columns naming a well group: the curve keys, readout and the titration columns."""
    return [*CURVE_KEYS, "readout", *(c for c in ("et_ratio", "concentration") if c in points)]


def mean_curves(points: pl.DataFrame) -> pl.DataFrame:
    """Per well group and time point of its first plate: ``t_h``, ``mean``, ``sd`` (over wells,
    ddof 1) and ``n`` (wells) of % lysis (module docstring)."""
    keys = group_columns(points)
    plate_grids = {
        plate: np.sort(part["t_h"].unique().to_numpy())
        for (plate,), part in points.filter(pl.col("t_h") >= -1e-9).group_by("plate_id")
    }
    grids: dict[tuple, np.ndarray] = {}
    wells: dict[tuple, list[np.ndarray]] = {}
    for key, t, y in _well_series(points, keys):
        group, plate = key[: len(keys)], key[len(keys)]
        grid = grids.setdefault(group, plate_grids[plate])
        wells.setdefault(group, []).append(interpolate(t, y, grid))
    rows = []
    for group, grid in grids.items():
        stack = np.vstack(wells[group])
        n = np.sum(~np.isnan(stack), axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a time point no well reaches
            mean = np.nanmean(stack, axis=0)
            sd = np.nanstd(stack, axis=0, ddof=1)
        for i in np.flatnonzero(n > 0):
            rows.append(
                {
                    **dict(zip(keys, group, strict=True)),
                    "t_h": float(grid[i]),
                    "mean": float(mean[i]),
                    "sd": float(sd[i]) if n[i] > 1 else None,
                    "n": int(n[i]),
                }
            )
    schema = {k: points.schema[k] for k in keys} | {
        "t_h": pl.Float64,
        "mean": pl.Float64,
        "sd": pl.Float64,
        "n": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema).sort(*keys, "t_h", nulls_last=True)


def metrics(
    points: pl.DataFrame,
    times_h: Sequence[float],
    level: float = 50.0,
    at_times: Mapping[float, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Killing metrics per well group (module docstring), one row per group: ``curve_id``, the
    :func:`group_columns`, ``n_wells``, ``t_last_h``, ``pct_lysis_at_<T>h`` and ``sd_at_<T>h``
    per T of ``times_h``, ``t50_h``, ``t50_bound``, ``auc_pct_h``, ``plate_ids``. ``at_times``:
    the wells' values at each T when the caller has them
    (:func:`killcurve.assay.timecourse.well_values_at`), else computed here."""
    keys = group_columns(points)
    curves = mean_curves(points)
    per_well = at_times or {at: well_values_at(points, at) for at in times_h}
    wells = (
        points.filter((pl.col("role") == "sample") & ~pl.col("excluded"))
        .group_by(keys)
        .agg(
            pl.struct("plate_id", "well").n_unique().alias("n_wells"),
            pl.col("plate_id").unique().sort().str.join(";").alias("plate_ids"),
        )
    )
    rows = []
    for group, curve in curves.group_by(*keys, maintain_order=True):
        t, y = curve["t_h"].to_numpy(), curve["mean"].to_numpy()
        t50 = crossing_time(t, y, level)
        row = dict(zip(keys, group, strict=True)) | {"t_last_h": float(t[-1])}
        for at in times_h:
            value = interpolate(t, y, np.array([at]))[0]
            row[f"pct_lysis_at_{time_label(at)}"] = None if np.isnan(value) else float(value)
        row |= {
            "t50_h": t50,
            "t50_bound": f">{t[-1]:.1f}" if t50 is None else None,
            "auc_pct_h": auc(t, y),
        }
        rows.append(row)
    at_columns = [f"pct_lysis_at_{time_label(at)}" for at in times_h]
    schema = {k: points.schema[k] for k in keys} | {"t_last_h": pl.Float64}
    schema |= dict.fromkeys(at_columns, pl.Float64)
    schema |= {"t50_h": pl.Float64, "t50_bound": pl.String, "auc_pct_h": pl.Float64}
    out = pl.DataFrame(rows, schema=schema).join(wells, on=keys, how="left", nulls_equal=True)
    for at in times_h:
        spread = (
            per_well[at]
            .filter((pl.col("role") == "sample") & ~pl.col("excluded"))
            .group_by(keys)
            .agg(pl.col("pct_lysis").std().alias(f"sd_at_{time_label(at)}"))
        )
        out = out.join(spread, on=keys, how="left", nulls_equal=True)
    return (
        out.with_columns(curve_id_expr().alias("curve_id"))
        .select(
            "curve_id",
            *keys,
            "n_wells",
            "t_last_h",
            *(
                c
                for at in times_h
                for c in (f"pct_lysis_at_{time_label(at)}", f"sd_at_{time_label(at)}")
            ),
            "t50_h",
            "t50_bound",
            "auc_pct_h",
            "plate_ids",
        )
        .with_columns(pl.col(pl.Float64).fill_nan(None))
        .sort(*keys, nulls_last=True)
    )
