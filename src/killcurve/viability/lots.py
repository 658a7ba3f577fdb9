"""Viability and recovery of cryopreserved cells after thaw, per lot and per product.

Input is a tidy table: one row per counted replicate, the counter's values
(:func:`killcurve.io.counters.read_counter`) joined to the samplesheet. Columns:

=========================  =========================================================
``product``, ``lot``       the product and its lot
``timepoint_h``            hours after thaw (0, 4, 24 …)
``replicate``              replicate id within product × lot × time point
``total_cells_per_ml``     total cells per mL of the counted suspension (cells/mL)
``viable_cells_per_ml``    viable cells per mL (cells/mL)  } at least one; the other
``viability_pct``          viable / total in % (0–100)     } is derived per row
``volume_ml``              volume of the thawed suspension the count stands for (mL)
``prefreeze_viable_cells`` viable cells frozen in this lot's vial(s) (cells; one value
                           per product × lot)
=========================  =========================================================

Per replicate (:func:`replicate_recovery`):

* viability_pct = 100 · viable_cells_per_ml / total_cells_per_ml (when not given;
  at most 100, as viable may exceed total by rounding, up to 2 %)
* viable_cells_per_ml = total_cells_per_ml · viability_pct / 100 (when not given)
* viable_cells_recovered = viable_cells_per_ml · volume_ml (cells)
* recovery_pct = 100 · viable_cells_recovered / prefreeze_viable_cells

Per product × lot × time point (:func:`lot_viability`): n replicates, the
mean and sample SD (n − 1 denominator; null for n = 1) of viability_pct,
viable_cells_recovered and recovery_pct, and acceptance: ``passed`` when the
mean viability ≥ ``min_viability_pct`` and the mean recovery ≥
``min_recovery_pct`` (unrounded means); ``reasons`` says which limit failed.

Per product × time point across lots (:func:`product_viability`): each lot's
mean is one observation; mean, SD and the two-sided t confidence interval
mean ± t((1 + level)/2, n_lots − 1) · SD / √n_lots of viability and recovery
(level 0.95 by default; null for one lot; not clipped to 0–100 %).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from killcurve.errors import KillcurveInputError

#: The columns that name one group of replicates.
GROUP = ("product", "lot", "timepoint_h")
#: Columns every row needs (besides viable_cells_per_ml and/or viability_pct).
REQUIRED = (*GROUP, "replicate", "total_cells_per_ml", "volume_ml", "prefreeze_viable_cells")
NUMERIC = ("timepoint_h", "total_cells_per_ml", "volume_ml", "prefreeze_viable_cells")
#: Viable may exceed total by this fraction (rounding in counter exports) before it is an error.
ROUNDING = 0.02


def replicate_recovery(counts: pl.DataFrame, source: str = "counts table") -> pl.DataFrame:
    """Check ``counts`` and add viability, viable cells recovered and recovery per replicate.

    Returns ``counts`` with ``viability_pct``, ``viable_cells_per_ml`` (filled
    where derived), ``viable_cells_recovered`` (cells) and ``recovery_pct`` (%);
    formulas in the module docstring. ``source`` names the table in messages.
    Bad input (a missing column, a non-number, viable above total, viability
    outside 0–100 %, a replicate given twice, pre-freeze cells differing
    within a lot) stops with a :class:`KillcurveInputError` naming the row.

    >>> counts = pl.DataFrame({"product": ["A"], "lot": ["L1"], "timepoint_h": [0],
    ...     "replicate": [1], "total_cells_per_ml": [2.0e6], "viable_cells_per_ml": [1.6e6],
    ...     "volume_ml": [1.5], "prefreeze_viable_cells": [4.0e6]})
    >>> replicate_recovery(counts).select("viability_pct", "viable_cells_recovered",
    ...     "recovery_pct").row(0)
    (80.0, 2400000.0, 60.0)
    """
    counts, problems = _checked(counts, source)
    problems = problems or _value_problems(counts, source)
    if problems:
        raise KillcurveInputError(problems[0])
    derived_viability = 100 * pl.col("viable_cells_per_ml") / pl.col("total_cells_per_ml")
    counts = counts.drop("_row").with_columns(
        viable_cells_per_ml=pl.col("viable_cells_per_ml").fill_null(
            pl.col("total_cells_per_ml") * pl.col("viability_pct") / 100
        ),
        viability_pct=pl.col("viability_pct").fill_null(derived_viability.clip(upper_bound=100)),
    )
    recovered = pl.col("viable_cells_per_ml") * pl.col("volume_ml")
    return counts.with_columns(
        viable_cells_recovered=recovered,
        recovery_pct=100 * recovered / pl.col("prefreeze_viable_cells"),
    )


def lot_viability(
    counts: pl.DataFrame,
    *,
    min_viability_pct: float | None = 70.0,
    min_recovery_pct: float | None = 50.0,
    source: str = "counts table",
) -> pl.DataFrame:
    """Viability and recovery per product × lot × time point, with acceptance.

    Columns: ``product``, ``lot``, ``timepoint_h``, ``n`` (replicates),
    ``viability_pct_mean``, ``viability_pct_sd`` (%), ``viable_cells_recovered_mean``,
    ``viable_cells_recovered_sd`` (cells), ``prefreeze_viable_cells`` (cells),
    ``recovery_pct_mean``, ``recovery_pct_sd`` (%), ``passed`` (Boolean) and
    ``reasons`` (null when passed, else e.g. ``"viability 65.0 % < 70 %"``).
    A limit of None is not checked. recovery_pct_mean equals
    100 · viable_cells_recovered_mean / prefreeze_viable_cells, since the
    pre-freeze number is one per lot.
    """
    reps = replicate_recovery(counts, source)
    lots = (
        reps.group_by(GROUP, maintain_order=True)
        .agg(
            n=pl.len().cast(pl.Int64),
            viability_pct_mean=pl.col("viability_pct").mean(),
            viability_pct_sd=pl.col("viability_pct").std(),
            viable_cells_recovered_mean=pl.col("viable_cells_recovered").mean(),
            viable_cells_recovered_sd=pl.col("viable_cells_recovered").std(),
            prefreeze_viable_cells=pl.col("prefreeze_viable_cells").first(),
            recovery_pct_mean=pl.col("recovery_pct").mean(),
            recovery_pct_sd=pl.col("recovery_pct").std(),
        )
        .sort(GROUP)
    )
    limits = (
        ("viability", "viability_pct_mean", min_viability_pct),
        ("recovery", "recovery_pct_mean", min_recovery_pct),
    )
    failures = [
        pl.when(pl.col(column) < limit).then(
            pl.format(f"{label} {{}} % < {limit:g} %", pl.col(column).round(1))
        )
        for label, column, limit in limits
        if limit is not None
    ]
    reasons = (
        pl.concat_str(failures, separator="; ", ignore_nulls=True)
        if failures
        else pl.lit(None, pl.String)
    )
    reasons = pl.when(reasons != "").then(reasons)
    return lots.with_columns(passed=reasons.is_null(), reasons=reasons)


def product_viability(lots: pl.DataFrame, level: float = 0.95) -> pl.DataFrame:
    """Viability and recovery per product × time point across lots (lot means as observations).

    Columns: ``product``, ``timepoint_h``, ``n_lots``, ``n_lots_passed``, and for
    ``viability_pct`` and ``recovery_pct`` each: ``_mean``, ``_sd``,
    ``_ci_low``, ``_ci_high`` (%), the ``level`` two-sided t interval
    mean ± t((1 + level)/2, n_lots − 1) · SD / √n_lots (null for one lot).
    ``lots`` is the output of :func:`lot_viability`.

    >>> lots = pl.DataFrame({"product": ["A", "A"], "timepoint_h": [0.0, 0.0],
    ...     "viability_pct_mean": [80.0, 90.0], "recovery_pct_mean": [60.0, 70.0],
    ...     "passed": [True, True]})
    >>> row = product_viability(lots).row(0, named=True)
    >>> row["viability_pct_mean"], round(row["viability_pct_ci_high"], 2)
    (85.0, 148.53)
    """
    summary = (
        lots.group_by("product", "timepoint_h", maintain_order=True)
        .agg(
            n_lots=pl.len().cast(pl.Int64),
            n_lots_passed=pl.col("passed").sum().cast(pl.Int64),
            viability_pct_mean=pl.col("viability_pct_mean").mean(),
            viability_pct_sd=pl.col("viability_pct_mean").std(),
            recovery_pct_mean=pl.col("recovery_pct_mean").mean(),
            recovery_pct_sd=pl.col("recovery_pct_mean").std(),
        )
        .sort("product", "timepoint_h")
    )
    # t quantile per row; one lot has no SD, so its interval stays null whatever t is.
    quantile = stats.t.ppf(0.5 + level / 2, np.maximum(summary["n_lots"].to_numpy() - 1, 1))
    half = pl.lit(pl.Series(quantile)) / pl.col("n_lots").sqrt()
    return summary.with_columns(
        **{
            f"{name}_ci_{side}": pl.col(f"{name}_mean") + sign * half * pl.col(f"{name}_sd")
            for name in ("viability_pct", "recovery_pct")
            for side, sign in (("low", -1), ("high", 1))
        }
    ).select(
        "product",
        "timepoint_h",
        "n_lots",
        "n_lots_passed",
        *(
            f"{name}_{stat}"
            for name in ("viability_pct", "recovery_pct")
            for stat in ("mean", "sd", "ci_low", "ci_high")
        ),
    )


def replicate_problems(counts: pl.DataFrame, source: str = "counts table") -> list[str]:
    """Every problem :func:`replicate_recovery` stops at (it stops at the first), one message
    per check and column, naming the first row it concerns. Values are checked only when
    every cell is a number and every required cell is filled."""
    counts, problems = _checked(counts, source)
    return problems or _value_problems(counts, source)


def _checked(counts: pl.DataFrame, source: str) -> tuple[pl.DataFrame, list[str]]:
    """``counts`` checked: numbers as Float64, a row number ``_row``, both value columns; and
    a message per column holding a non-number or an empty required cell.

    A missing ``viable_cells_per_ml`` or ``viability_pct`` column is added as nulls. A
    missing required column stops with a :class:`KillcurveInputError`.
    """
    missing = [c for c in REQUIRED if c not in counts.columns]
    values = [c for c in ("viable_cells_per_ml", "viability_pct") if c in counts.columns]
    if missing or not values:
        need = [*missing, *([] if values else ["viable_cells_per_ml or viability_pct"])]
        raise KillcurveInputError(
            f"{source}: missing column(s) {', '.join(need)}. It has: "
            f"{', '.join(counts.columns)}. Join the counts to a samplesheet that gives "
            "product, lot, timepoint_h, replicate, volume_ml and prefreeze_viable_cells."
        )
    counts = counts.with_row_index("_row", offset=1).with_columns(
        pl.lit(None, pl.Float64).alias(c)
        for c in ("viable_cells_per_ml", "viability_pct")
        if c not in counts.columns
    )
    problems = []
    for column in (*NUMERIC, *values):
        parsed = counts[column].cast(pl.Float64, strict=False)
        bad = counts.filter(parsed.is_null() & counts[column].is_not_null())
        if bad.height:
            problems.append(
                f"{_place(bad.row(0, named=True), source)}: {column} "
                f"{bad[column][0]!r} is not a number. Correct it."
            )
            continue
        counts = counts.with_columns(parsed.alias(column))
    if problems:
        return counts, problems
    for column in REQUIRED:
        empty = counts.filter(pl.col(column).is_null())
        if empty.height:
            problems.append(
                f"{_place(empty.row(0, named=True), source)}: {column} is empty. Fill it in."
            )
    return counts, problems


def _value_problems(reps: pl.DataFrame, source: str) -> list[str]:
    """A message per check that some replicate's given values fail, naming its first row."""
    checks = (
        (
            pl.col("viability_pct").is_null() & pl.col("viable_cells_per_ml").is_null(),
            "needs viable_cells_per_ml or viability_pct",
        ),
        (pl.col("volume_ml") <= 0, "volume_ml must be above 0 mL"),
        (pl.col("prefreeze_viable_cells") <= 0, "prefreeze_viable_cells must be above 0 cells"),
        (pl.col("total_cells_per_ml") <= 0, "total_cells_per_ml must be above 0 cells/mL"),
        (~pl.col("viability_pct").is_between(0, 100), "viability_pct is outside 0–100 %"),
        (
            pl.col("viable_cells_per_ml") > pl.col("total_cells_per_ml") * (1 + ROUNDING),
            "viable_cells_per_ml is more than total_cells_per_ml",
        ),
    )
    problems = []
    for condition, problem in checks:
        bad = reps.filter(condition)
        if bad.height:
            problems.append(
                f"{_place(bad.row(0, named=True), source)}: {problem}. Correct the count or "
                "the samplesheet."
            )
    key = [*GROUP, "replicate"]
    twice = reps.filter(pl.struct(key).is_duplicated())
    if twice.height:
        problems.append(
            f"{_place(twice.row(0, named=True), source)}: this replicate appears more than "
            "once. Give each count its own replicate id, or remove the repeated row."
        )
    per_lot = reps.group_by("product", "lot", maintain_order=True).agg(
        pl.col("prefreeze_viable_cells").n_unique()
    )
    differing = per_lot.filter(pl.col("prefreeze_viable_cells") > 1)
    if differing.height:
        product, lot = differing.row(0)[:2]
        problems.append(
            f"{source}: product {product} lot {lot} has more than one prefreeze_viable_cells "
            "value. Give the lot's pre-freeze viable cell number once (the same on every row)."
        )
    return problems


def _place(row: dict, source: str) -> str:
    """``counts table row 3 (product A, lot L1, 4 h, replicate 2)`` for messages.

    A table with a ``line`` column (the row's line in a samplesheet) is named by that line.
    """
    where = f"line {row['line']}" if row.get("line") is not None else f"row {row['_row']}"
    return (
        f"{source} {where} (product {row['product']}, lot {row['lot']}, "
        f"{row['timepoint_h']} h, replicate {row['replicate']})"
    )
