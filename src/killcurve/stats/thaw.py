"""Killing retained after cryopreservation and thaw, paired by lot.

For each product × target × stage, a lot tested both before freezing
(``cryo`` = ``pre``, default ``fresh``) and after thaw (``post``, default
``post_thaw``) gives one ratio post/pre per metric:

* ``et50_fold_change`` = et50_post / et50_pre (> 1: more effector cells
  needed after thaw, i.e. potency lost);
* ``auc_retention`` = AUC_post / AUC_pre (AUC of mean % lysis over log2 E:T);
* ``lysis_retention_at_<e>`` = L_post(e) / L_pre(e), L the fitted % lysis
  at the reference E:T ``e`` (only where ``e`` lies within both curves'
  tested ranges and both fits converged).

A lot tested on several assay days (batches) in one state contributes the
geometric mean of its curves in that state. Per lot the ratio is reported
(``level`` = ``lot``); across lots (``level`` = ``product``) the geometric
mean ratio exp(mean ln r) with the two-sided t interval
exp(mean ln r ± t(1 − α/2, n − 1)·SD(ln r)/√n) and the p-value of the
one-sample t test of mean ln r = 0 (no change), n = lots with both states.
Lots with a ratio that cannot be formed (missing state, non-positive
value) are left out and named in ``notes``.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from killcurve.fit.curve_table import model_values

#: Columns of ``thaw_retention.csv``.
RETENTION_COLUMNS = (
    "product",
    "target",
    "stage",
    "metric",
    "level",
    "lot",
    "n_lots",
    "pre",
    "post",
    "estimate",
    "lower",
    "upper",
    "p_value",
    "notes",
)


def _metric_values(curves: pl.DataFrame, reference_et: float | None) -> pl.DataFrame:
    """Long table of the retention metrics per curve: metric, value (null where not defined)."""
    usable = pl.col("converged") & pl.col("et50").is_not_null()
    frame = curves.with_columns(
        pl.when(usable).then(pl.col("et50")).alias("et50_fold_change"),
        pl.col("auc").alias("auc_retention"),
    )
    metrics = ["et50_fold_change", "auc_retention"]
    if reference_et is not None:
        name = f"lysis_retention_at_{reference_et:g}"
        x = np.full(frame.height, float(reference_et))
        values = model_values(frame, x)
        inside = (
            pl.col("converged")
            & (pl.col("et_min") <= reference_et)
            & (pl.col("et_max") >= reference_et)
        )
        frame = frame.with_columns(pl.when(inside).then(pl.Series(values)).alias(name))
        metrics.append(name)
    return frame.unpivot(
        index=["product", "lot", "target", "stage", "cryo"],
        on=metrics,
        variable_name="metric",
        value_name="value",
    )


def thaw_retention(
    curves: pl.DataFrame,
    pre: str = "fresh",
    post: str = "post_thaw",
    reference_et: float | None = 10.0,
    level: float = 0.95,
) -> pl.DataFrame:
    """Per-lot and per-product ratios post/pre (see the module docstring); ``RETENTION_COLUMNS``."""
    keys = ["product", "target", "stage", "metric"]
    long = _metric_values(curves.filter(pl.col("cryo").is_in([pre, post])), reference_et)
    per_lot = (
        long.group_by(*keys, "lot", "cryo", maintain_order=True)
        .agg(
            # values sorted so that the sum, and the last bit of the mean, never depend on the
            # order in which a parallel group-by hands them over (byte-identical reruns)
            pl.when((pl.col("value") > 0).all() & (pl.col("value").count() > 0))
            .then(pl.col("value").sort().log().mean().exp())
            .alias("value")
        )
        .pivot(on="cryo", index=[*keys, "lot"], values="value")
    )
    for state in (pre, post):
        if state not in per_lot.columns:
            per_lot = per_lot.with_columns(pl.lit(None, pl.Float64).alias(state))
    per_lot = (
        per_lot.rename({pre: "pre", post: "post"})
        .with_columns(
            (pl.col("post") / pl.col("pre")).alias("estimate"),
            pl.lit("lot").alias("level"),
            pl.lit(1, pl.Int64).alias("n_lots"),
        )
        .sort([*keys, "lot"], nulls_last=True)
    )  # lot order fixes the sums of the means below
    rows = []
    alpha = 1.0 - level
    for key, group in per_lot.group_by(keys, maintain_order=True):
        ok = group.filter(pl.col("estimate").is_not_null() & (pl.col("estimate") > 0))
        missing = sorted(set(group["lot"].to_list()) - set(ok["lot"].to_list()))
        logs = np.log(ok["estimate"].to_numpy())
        n = len(logs)
        est = lower = upper = p = float("nan")
        notes = []
        if missing:
            notes.append(f"lots without both states or a usable value: {', '.join(missing)}")
        if n >= 1:
            est = float(np.exp(logs.mean()))
        if n >= 2:
            se = logs.std(ddof=1) / np.sqrt(n)
            half = stats.t.ppf(1 - alpha / 2, n - 1) * se
            lower, upper = float(np.exp(logs.mean() - half)), float(np.exp(logs.mean() + half))
            p = float(2 * stats.t.sf(abs(logs.mean() / se), n - 1)) if se > 0 else float("nan")
        elif n == 1:
            notes.append("one lot: no interval")
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "level": "product",
                "lot": None,
                "n_lots": n,
                "pre": float(np.exp(np.log(ok["pre"].to_numpy()).mean())) if n else None,
                "post": float(np.exp(np.log(ok["post"].to_numpy()).mean())) if n else None,
                "estimate": est,
                "lower": lower,
                "upper": upper,
                "p_value": p,
                "notes": "; ".join(notes),
            }
        )
    schema = {
        "product": pl.String,
        "target": pl.String,
        "stage": pl.String,
        "metric": pl.String,
        "level": pl.String,
        "lot": pl.String,
        "n_lots": pl.Int64,
        "pre": pl.Float64,
        "post": pl.Float64,
        "estimate": pl.Float64,
        "lower": pl.Float64,
        "upper": pl.Float64,
        "p_value": pl.Float64,
        "notes": pl.String,
    }
    summary = pl.DataFrame(rows, schema=schema)
    lots = per_lot.with_columns(
        *(pl.lit(None, schema[c]).alias(c) for c in ("lower", "upper", "p_value")),
        pl.lit("").alias("notes"),
    ).select(RETENTION_COLUMNS)
    return (
        pl.concat([summary.select(RETENTION_COLUMNS), lots.cast(schema)])
        .with_columns(pl.col(pl.Float64).fill_nan(None))
        .sort(
            ["product", "target", "stage", "metric", pl.col("level") == "lot", "lot"],
            nulls_last=True,
        )
    )
