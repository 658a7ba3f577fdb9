"""Time-resolved impedance killing: normalised cell index, % cytolysis over time, metrics.

Input: one row per plate, well and sweep with ``time_h`` (hours since the first sweep),
``cell_index`` (CI, dimensionless) and the well's study columns (``target``, ``effector``,
``et_ratio``, ``treatment``, ``treatment_conc``, ``role``), as :mod:`killcurve.io.rtca` gives.

* Effector addition: the last sweep at or before the configured time, or — when none is
  configured — the last sweep before the longest pause between consecutive sweeps (the plate
  is taken out of the instrument to add effectors). ``t = time_h − time_h[addition sweep]``
  (hours after effector addition; the addition sweep is t = 0).
* Normalised cell index: ``nCI(t) = CI(t) / CI(0)`` per well (the RTCA software's
  "normalised cell index"); 1 at t = 0 in every well.
* % cytolysis: ``100 × (1 − nCI_sample(t) / mean nCI_target_alone(t))``, the mean over the
  ``target_only`` wells of the same plate, target, treatment and concentration at the same
  sweep; computed for t ≥ 0 only. Values below 0 or above 100 are kept as computed.

Metrics per well group (plate × target × effector × E:T × treatment × concentration) come from
the group-mean curve (mean of the wells' % cytolysis at each sweep):

* ``pct_cytolysis_at_<T>h`` — % cytolysis T hours after addition, linearly interpolated between
  the two sweeps around T: ``y = y_i + (y_{i+1} − y_i)(T − t_i)/(t_{i+1} − t_i)`` (null when T
  is beyond the last sweep); ``sd_at_<T>h`` is the SD over wells of their interpolated values.
* ``t50_h`` — hours from addition to the first sweep interval where the mean curve reaches
  50 %: ``t_i + (50 − y_i)(t_{i+1} − t_i)/(y_{i+1} − y_i)`` for the first ``y_i < 50 ≤
  y_{i+1}``; censored (null, ``t50_text`` = ``>t_last``) when never reached.
* ``auc_pct_h`` — area under the mean % cytolysis curve from t = 0 to the last sweep
  (trapezoid rule, %·h); ``t_last_h`` says where that is.

Comparisons (:func:`compare_at`): at a configured time, each well's % cytolysis (interpolated as
above) is compared between a level of one factor (E:T or treatment concentration) and a
reference level within groups of other columns, by Welch's unequal-variance t test:
``t = (m₁ − m₀)/√(s₁²/n₁ + s₀²/n₀)``, Welch–Satterthwaite df, two-sided p, Holm-adjusted
within the comparison. With duplicate wells (n = 2 per arm) the test has about 1–2 df.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import stats

from killcurve.assay.qc import holm
from killcurve.errors import KillcurveInputError

#: Columns that identify a well group (one killing curve).
GROUP = ("plate", "target", "effector", "et_ratio", "treatment", "treatment_conc")
#: Columns that match a sample well to its target-alone wells.
MATCH = ("plate", "target", "treatment", "treatment_conc")
#: A pause counts as effector addition when longer than this many median sweep intervals.
MIN_PAUSE_RATIO = 2.0
#: % cytolysis whose crossing time is reported.
LEVEL_PCT = 50.0


def sweep_times(data: pl.DataFrame) -> pl.DataFrame:
    """One row per plate and sweep: ``plate``, ``sweep``, ``time_h``, sorted by time."""
    return data.group_by("plate", "sweep").agg(pl.col("time_h").first()).sort("plate", "sweep")


def detect_addition(times_h: Sequence[float], where: str) -> int:
    """Index of the last sweep before the longest pause between sweeps (effector addition).

    Stops, naming ``where``, when that pause is under :data:`MIN_PAUSE_RATIO` × the median
    interval (no clear pause: set ``effector_addition_h`` in the config).

    >>> detect_addition([0.0, 0.25, 0.5, 0.75, 2.0, 2.25, 2.5], "P1")
    3
    """
    times = np.asarray(times_h, dtype=float)
    gaps = np.diff(times)
    if gaps.size < 2:
        raise KillcurveInputError(f"{where}: fewer than three sweeps; no time course to analyse.")
    longest = int(np.argmax(gaps))
    if gaps[longest] < MIN_PAUSE_RATIO * float(np.median(gaps)):
        raise KillcurveInputError(
            f"{where}: no pause between sweeps marks the effector addition (longest "
            f"{gaps[longest]:.3g} h, median {np.median(gaps):.3g} h). Set config key "
            "timecourse.effector_addition_h (hours since the first sweep)."
        )
    return longest


def addition_sweeps(data: pl.DataFrame, addition_h: dict[str, float | None]) -> pl.DataFrame:
    """Effector-addition sweep per plate: ``plate``, ``addition_sweep``, ``addition_h``.

    ``addition_h`` maps plate → configured time (hours since the first sweep) or None (detect
    with :func:`detect_addition`). With a time, the sweep is the last one at or before it.
    """
    rows = []
    for (plate,), sweeps in sweep_times(data).group_by("plate", maintain_order=True):
        times = sweeps["time_h"].to_list()
        given = addition_h.get(str(plate))
        if given is None:
            index = detect_addition(times, f"plate {plate}")
        else:
            before = [i for i, t in enumerate(times) if t <= given + 1e-9]
            if not before or len(before) == len(times):
                raise KillcurveInputError(
                    f"plate {plate}: config key timecourse.effector_addition_h = {given:g} h is "
                    f"outside the sweeps ({times[0]:.3g}–{times[-1]:.3g} h)."
                )
            index = before[-1]
        rows.append(
            {"plate": plate, "addition_sweep": sweeps["sweep"][index], "addition_h": times[index]}
        )
    return pl.DataFrame(
        rows, schema={"plate": pl.String, "addition_sweep": pl.Int32, "addition_h": pl.Float64}
    )


def normalise(data: pl.DataFrame, additions: pl.DataFrame) -> pl.DataFrame:
    """Add ``t_h`` (hours after addition) and ``nci`` = CI / CI at the addition sweep.

    Stops naming the plate and well when a well's CI at addition is missing or ≤ 0 (no
    attached cells to normalise to).
    """
    base = (
        data.join(additions, on="plate")
        .filter(pl.col("sweep") == pl.col("addition_sweep"))
        .select("plate", "well", pl.col("cell_index").alias("ci_at_addition"))
    )
    bad = base.filter(pl.col("ci_at_addition").is_null() | (pl.col("ci_at_addition") <= 0))
    if bad.height:
        row = bad.row(0, named=True)
        raise KillcurveInputError(
            f"plate {row['plate']} well {row['well']}: cell index at effector addition is "
            f"{row['ci_at_addition']} (must be > 0 to normalise). Leave the well out of the "
            "layout mapping or check the addition time."
        )
    return (
        data.join(additions, on="plate")
        .join(base, on=["plate", "well"])
        .with_columns(
            (pl.col("time_h") - pl.col("addition_h")).alias("t_h"),
            (pl.col("cell_index") / pl.col("ci_at_addition")).alias("nci"),
        )
        .drop("addition_sweep", "addition_h")
    )


def pct_cytolysis(normalised: pl.DataFrame) -> pl.DataFrame:
    """Add ``nci_target_alone`` and ``pct_cytolysis`` (t ≥ 0) from matched target-alone wells.

    ``pct_cytolysis = 100 × (1 − nci / nci_target_alone)``, ``nci_target_alone`` the mean nCI
    of the ``target_only`` wells with the same :data:`MATCH` columns at the same sweep.

    >>> wells = pl.DataFrame({"plate": "P", "target": "T", "treatment": "none",
    ...     "treatment_conc": 0.0, "sweep": 5, "t_h": 1.0, "well": ["A1", "A2", "B1"],
    ...     "role": ["target_only", "target_only", "sample"], "nci": [1.2, 1.0, 0.44]})
    >>> pct_cytolysis(wells)["pct_cytolysis"].round(6).to_list()
    [-9.090909, 9.090909, 60.0]
    """
    alone = (
        normalised.filter(pl.col("role") == "target_only")
        .group_by(*MATCH, "sweep")
        .agg(pl.col("nci").mean().alias("nci_target_alone"))
    )
    out = normalised.join(alone, on=[*MATCH, "sweep"], how="left")
    unmatched = out.filter((pl.col("role") == "sample") & pl.col("nci_target_alone").is_null())
    if unmatched.height:
        row = unmatched.row(0, named=True)
        raise KillcurveInputError(
            f"plate {row['plate']} well {row['well']}: no target-alone well of target "
            f"{row['target']!r} with treatment {row['treatment']!r} at "
            f"{row['treatment_conc']:g}. % cytolysis needs matched target-alone wells; add them "
            "to the layout."
        )
    return out.with_columns(
        pl.when(pl.col("t_h") >= 0)
        .then(100.0 * (1.0 - pl.col("nci") / pl.col("nci_target_alone")))
        .alias("pct_cytolysis")
    )


def group_curves(timecourse: pl.DataFrame) -> pl.DataFrame:
    """Mean, SD and number of sample wells' % cytolysis per well group and sweep (t ≥ 0)."""
    return (
        timecourse.filter((pl.col("role") == "sample") & (pl.col("t_h") >= 0))
        .group_by(*GROUP, "sweep")
        .agg(
            pl.col("t_h").first(),
            pl.col("pct_cytolysis").mean().alias("mean"),
            pl.col("pct_cytolysis").std().alias("sd"),
            pl.col("pct_cytolysis").count().alias("n"),
        )
        .sort(*GROUP, "sweep", nulls_last=True)
    )


def value_at(t: np.ndarray, y: np.ndarray, at: float) -> float | None:
    """Linear interpolation of ``y(t)`` at ``at``; None outside ``[t[0], t[-1]]``.

    >>> value_at(np.array([0.0, 2.0, 4.0]), np.array([0.0, 40.0, 80.0]), 3.0)
    60.0
    """
    if at < t[0] or at > t[-1]:
        return None
    return float(np.interp(at, t, y))


def crossing_time(t: np.ndarray, y: np.ndarray, level: float = LEVEL_PCT) -> float | None:
    """First time ``y`` reaches ``level``, linear between sweeps; None if it never does.

    >>> crossing_time(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 20.0, 60.0, 40.0]))
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


def _label(at: float) -> str:
    return f"{at:g}h"


def well_values_at(timecourse: pl.DataFrame, at: float) -> pl.DataFrame:
    """Each sample well's % cytolysis at ``at`` h after addition (linear between sweeps).

    Columns: the :data:`GROUP` columns, ``well`` and ``pct_cytolysis`` (null beyond the last
    sweep).
    """
    rows = []
    samples = timecourse.filter(
        (pl.col("role") == "sample") & (pl.col("t_h") >= 0) & pl.col("pct_cytolysis").is_not_null()
    ).sort("sweep")
    for keys, well in samples.group_by(*GROUP, "well", maintain_order=True):
        value = value_at(well["t_h"].to_numpy(), well["pct_cytolysis"].to_numpy(), at)
        rows.append({**dict(zip((*GROUP, "well"), keys, strict=True)), "pct_cytolysis": value})
    schema = {c: timecourse.schema[c] for c in (*GROUP, "well")} | {"pct_cytolysis": pl.Float64}
    return pl.DataFrame(rows, schema=schema).sort(*GROUP, "well", nulls_last=True)


def metrics(timecourse: pl.DataFrame, times_h: Sequence[float]) -> pl.DataFrame:
    """Killing metrics per well group; formulas and units in the module docstring.

    One row per group: the :data:`GROUP` columns, ``n_wells``, ``t_last_h``,
    ``pct_cytolysis_at_<T>h`` and ``sd_at_<T>h`` per configured T, ``t50_h``,
    ``t50_censored``, ``t50_text`` and ``auc_pct_h``.
    """
    curves = group_curves(timecourse)
    rows = []
    for keys, curve in curves.group_by(*GROUP, maintain_order=True):
        t, y = curve["t_h"].to_numpy(), curve["mean"].to_numpy()
        t50 = crossing_time(t, y)
        row = dict(zip(GROUP, keys, strict=True))
        row |= {"n_wells": int(curve["n"].max()), "t_last_h": float(t[-1])}
        for at in times_h:
            row[f"pct_cytolysis_at_{_label(at)}"] = value_at(t, y, at)
        row |= {
            "t50_h": t50,
            "t50_censored": t50 is None,
            "t50_text": f">{t[-1]:.3g}" if t50 is None else f"{t50:.3g}",
            "auc_pct_h": auc(t, y),
        }
        rows.append(row)
    out = pl.DataFrame(rows).sort(*GROUP, nulls_last=True)
    for at in times_h:
        spread = (
            well_values_at(timecourse, at)
            .group_by(*GROUP)
            .agg(pl.col("pct_cytolysis").std().alias(f"sd_at_{_label(at)}"))
        )
        out = out.join(spread, on=list(GROUP), how="left", nulls_equal=True)
    return out.select(
        *GROUP,
        "n_wells",
        "t_last_h",
        *(c for at in times_h for c in (f"pct_cytolysis_at_{_label(at)}", f"sd_at_{_label(at)}")),
        "t50_h",
        "t50_censored",
        "t50_text",
        "auc_pct_h",
    )


def compare_at(
    timecourse: pl.DataFrame,
    name: str,
    at_h: float,
    factor: str,
    reference: float | str,
    by: Sequence[str],
) -> pl.DataFrame:
    """Welch t of % cytolysis at ``at_h`` h: each ``factor`` level vs ``reference``, per ``by``.

    Wells are those of :func:`well_values_at` (sample wells); within each ``by`` group every
    level of ``factor`` other than ``reference`` is tested against it. Columns: ``comparison``,
    the ``by`` columns, ``factor``, ``level``, ``reference``, ``at_h``, ``n_test``, ``n_ref``,
    ``mean_test``, ``mean_ref``, ``difference`` (test − reference, percentage points), ``t``,
    ``df``, ``p`` and ``p_holm`` (Holm over the rows of this comparison). Groups where either
    arm has fewer than two wells get null statistics.
    """
    unknown = [c for c in (factor, *by) if c not in GROUP]
    if unknown:
        raise KillcurveInputError(
            f"config key timecourse.comparisons ({name}): {', '.join(unknown)} not among "
            f"{', '.join(GROUP)}."
        )
    values = well_values_at(timecourse, at_h).filter(pl.col("pct_cytolysis").is_not_null())
    ref_value = pl.lit(reference, dtype=values.schema[factor])
    rows = []
    for keys, part in values.group_by(*by, maintain_order=True):
        ref = part.filter(pl.col(factor) == ref_value)["pct_cytolysis"].to_numpy()
        levels = part.filter(pl.col(factor) != ref_value)[factor].unique().sort()
        for level in levels:
            test = part.filter(pl.col(factor) == level)["pct_cytolysis"].to_numpy()
            row: dict[str, object] = {"comparison": name, **dict(zip(by, keys, strict=True))}
            row |= {"factor": factor, "level": str(level), "reference": str(reference)}
            row |= {"at_h": float(at_h), "n_test": test.size, "n_ref": ref.size}
            row |= {
                "mean_test": float(test.mean()) if test.size else None,
                "mean_ref": float(ref.mean()) if ref.size else None,
            }
            t = df = p = None
            if test.size >= 2 and ref.size >= 2:
                res = stats.ttest_ind(test, ref, equal_var=False)
                t, p, df = float(res.statistic), float(res.pvalue), float(res.df)
            diff = None if not (test.size and ref.size) else row["mean_test"] - row["mean_ref"]
            rows.append(row | {"difference": diff, "t": t, "df": df, "p": p})
    if not rows:
        raise KillcurveInputError(
            f"config key timecourse.comparisons ({name}): no wells at {at_h:g} h with "
            f"{factor} levels to compare against {reference!r}."
        )
    out = pl.DataFrame(rows, infer_schema_length=None)
    tested = out["p"].is_not_null().to_numpy()
    adjusted = np.full(out.height, np.nan)
    adjusted[tested] = holm(out["p"].to_numpy()[tested].astype(float))
    return out.with_columns(pl.Series("p_holm", adjusted).fill_nan(None))
