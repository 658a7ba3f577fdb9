"""Comparing products on time-resolved killing metrics: ``timecourse_comparisons.csv`` rows.

The et50 rows at each configured time come from :func:`killcurve.stats.compare.compare_products`
on the curves fitted at that time. This module adds, per comparison × ``by`` group × titration
level (E:T or concentration), from the well groups' metrics
(:func:`killcurve.assay.timecourse.metrics`; one observation per curve, i.e. per lot and batch):

* ``t50_ratio`` (test/reference; below 1 the test product kills half the targets sooner):

  * ``welch_t_log_t50`` (≥ 2 curves per product): exp(mean ln t50 test − mean ln t50
    reference), 95 % CI and two-sided p from Welch's t on ln t50 (statsmodels ``CompareMeans``);
  * ``mixedlm_log_t50`` (≥ 2 lots per product): ln t50 ~ product with a random lot intercept
    (:func:`killcurve.stats.mixed.fit_mixed`, as for et50), the row that carries lot-to-lot
    variation;
  * a curve whose mean never reached the level (t50 right-censored, ``t50_bound`` ``>t``) is
    left out and counted in the notes: the ratio describes the curves that got there.

* ``auc_time_difference`` (``welch_t_auc_time``): mean AUC of % lysis over time (%·h) test −
  reference, Welch's t over the curves; the notes say when their time spans differ.

``p_adjusted`` is set by the caller over the whole table (family: comparison × metric × method,
across times and groups).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from killcurve.errors import KillcurveInputError
from killcurve.stats.compare import welch_difference
from killcurve.stats.mixed import fit_mixed

#: Titration columns a metrics row may carry.
X_COLUMNS = ("et_ratio", "concentration")


def _counts(frame: pl.DataFrame, test: str, reference: str) -> dict[str, int]:
    plates = frame["plate_ids"].str.split(";").explode().drop_nulls()
    return {
        "n_test": frame.filter(pl.col("product") == test).height,
        "n_reference": frame.filter(pl.col("product") == reference).height,
        "n_lots": frame["lot"].n_unique() if frame.height else 0,
        "n_plates": plates.n_unique() if frame.height else 0,
    }


def t50_rows(
    group: pl.DataFrame, test: str, reference: str, level: float = 0.95
) -> list[dict[str, Any]]:
    """The ``t50_ratio`` rows of one group × level (module docstring)."""
    censored = group.filter(pl.col("t50_h").is_null())
    reached = group.filter(pl.col("t50_h").is_not_null() & (pl.col("t50_h") > 0))
    counts = _counts(reached, test, reference)
    notes = []
    if censored.height:
        per = ", ".join(
            f"{p} {censored.filter(pl.col('product') == p).height}" for p in (test, reference)
        )
        notes.append(f"left out, never reached the level (t50 censored): {per}")
    a = np.log(reached.filter(pl.col("product") == test)["t50_h"].to_numpy())
    b = np.log(reached.filter(pl.col("product") == reference)["t50_h"].to_numpy())
    row: dict[str, Any] = {"metric": "t50_ratio", "parallelism": "not_assessed", **counts}
    if len(a) == 0 or len(b) == 0:
        missing = "test" if len(a) == 0 else "reference"
        return [{**row, "method": "none", "notes": "; ".join([*notes, f"no {missing} t50"])}]
    diff = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        note = "fewer than 2 curves with a t50 in an arm: no interval"
        return [
            {
                **row,
                "method": "ratio_of_t50",
                "estimate": float(np.exp(diff)),
                "notes": "; ".join([*notes, note]),
            }
        ]
    cm = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    lo, hi = cm.tconfint_diff(alpha=1 - level, usevar="unequal")
    p = float(cm.ttest_ind(usevar="unequal")[1])
    rows = [
        {
            **row,
            "method": "welch_t_log_t50",
            "estimate": float(np.exp(diff)),
            "lower": float(np.exp(lo)),
            "upper": float(np.exp(hi)),
            "p_value": p,
            "notes": "; ".join([*notes, f"unit: curves, n = {len(a)} vs {len(b)}"]),
        }
    ]
    lots = reached.group_by("product").agg(pl.col("lot").n_unique())
    if lots.height == 2 and lots["lot"].min() >= 2:
        rows.append(_mixed_t50(reached, test, reference, level, row))
    return rows


def _mixed_t50(
    reached: pl.DataFrame, test: str, reference: str, level: float, row: dict[str, Any]
) -> dict[str, Any]:
    """ln t50 ~ product mixed model (random lot) of one group × level."""
    frame = reached.with_columns(pl.col("t50_h").alias("et50"), pl.lit(True).alias("converged"))
    out = {**row, "method": "mixedlm_log_t50"}
    try:
        fit = fit_mixed(frame, reference=reference, level=level)
    except KillcurveInputError as err:
        return {**out, "notes": f"not fitted: {err}"}
    ratio = fit.ratios.filter(pl.col("product") == test).row(0, named=True)
    sds = ", ".join(f"{c} {s:.3g}" for c, s in fit.variance.select("component", "sd").iter_rows())
    notes = [fit.formula.replace("et50", "t50"), f"SD (ln scale): {sds}", *fit.notes]
    if not fit.converged:
        notes.append("MixedLM did not converge")
    return {
        **out,
        **{k: ratio[k] for k in ("estimate", "lower", "upper", "p_value")},
        "notes": "; ".join(notes),
    }


def auc_rows(
    group: pl.DataFrame, test: str, reference: str, level: float = 0.95
) -> list[dict[str, Any]]:
    """The ``auc_time_difference`` row of one group × level (module docstring)."""
    row: dict[str, Any] = {
        "metric": "auc_time_difference",
        "method": "welch_t_auc_time",
        "parallelism": "not_assessed",
        **_counts(group, test, reference),
    }
    a = group.filter(pl.col("product") == test)["auc_pct_h"].drop_nulls().to_numpy()
    b = group.filter(pl.col("product") == reference)["auc_pct_h"].drop_nulls().to_numpy()
    notes = [f"unit: curves, n = {len(a)} vs {len(b)}; %·h"]
    if group["t_last_h"].n_unique() > 1:
        notes.append("the curves' time spans differ: their AUC spans differ")
    if len(a) == 0 or len(b) == 0:
        return [{**row, "notes": "; ".join([*notes, "an arm has no curve: not tested"])}]
    if len(a) < 2 or len(b) < 2:
        diff = float(a.mean() - b.mean())
        return [
            {**row, "estimate": diff, "notes": "; ".join([*notes, "fewer than 2 curves in an arm"])}
        ]
    values, note = welch_difference(a, b, level)
    return [{**row, **values, "notes": "; ".join([*notes, note])}]


def metric_rows(
    metrics: pl.DataFrame,
    comparisons: Sequence[dict[str, Any]],
    by_all: Sequence[str],
    level: float = 0.95,
) -> list[dict[str, Any]]:
    """``t50_ratio`` and ``auc_time_difference`` rows of every comparison × ``by`` group ×
    titration level whose two products both have metrics; keys ``comparison``, the
    ``by_all`` columns, the titration columns, then the result columns."""
    x = [c for c in X_COLUMNS if c in metrics.columns]
    rows = []
    for comp in comparisons:
        test, reference = comp["test"], comp["reference"]
        pair = metrics.filter(pl.col("product").is_in([test, reference]))
        if pair["product"].n_unique() < 2:
            continue
        keys = [*comp.get("by", []), *x]
        for key, group in pair.group_by(keys, maintain_order=True):
            base = {"comparison": comp["name"], **dict.fromkeys(by_all)}
            base |= dict(zip(keys, key, strict=True))
            base |= {"test": test, "reference": reference}
            for found in (t50_rows, auc_rows):
                rows += [{**base, **r} for r in found(group, test, reference, level)]
    return rows
