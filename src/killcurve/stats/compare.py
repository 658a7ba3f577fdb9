"""Comparing a test product with a reference product, per group of curves.

For each configured comparison and each combination of its ``by`` columns,
the metric is the ratio of et50, test/reference (below 1: the test product
reaches half-maximal lysis at a lower E:T, i.e. it is more potent). Each
converged curve with an et50 is one observation of log et50:

* ``welch_t_log_et50`` (≥ 2 curves per product): ratio = exp(mean log et50
  test − mean log et50 reference); 95 % CI and two-sided p from Welch's
  t-test on log et50 (statsmodels ``CompareMeans``, unequal variances).
* ``wald_log_et50`` (1 curve in an arm): the difference of log et50 with
  SE = √(SE_test² + SE_ref²) from the fits' J′J standard errors; normal
  quantile and p-value. Curve-level SEs ignore lot-to-lot variation: read
  it as a within-assay comparison.

Groups lacking a usable curve for either product get a row with a null
estimate and a ``notes`` entry saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from killcurve.errors import KillcurveInputError
from killcurve.fit.curves import CURVE_KEYS

#: Columns a comparison may group by.
BY_COLUMNS = ("target", "stage", "cryo", "batch")
#: Columns of ``comparisons.csv`` after the ``by`` columns.
RESULT_COLUMNS = (
    "test",
    "reference",
    "metric",
    "estimate",
    "lower",
    "upper",
    "p_value",
    "method",
    "n_test",
    "n_reference",
    "notes",
)


def check_comparisons(comparisons: Sequence[dict[str, Any]], products: Sequence[str]) -> None:
    """Stop when a comparison names a product no curve has or an unknown ``by`` column."""
    known = sorted(set(products))
    for i, comp in enumerate(comparisons):
        for role in ("test", "reference"):
            if comp[role] not in known:
                raise KillcurveInputError(
                    f"config key comparisons[{i}].{role} ({comp['name']}): product "
                    f"{comp[role]!r} is not in any layout. Products found: {', '.join(known)}."
                )
        for column in comp.get("by", []):
            if column not in BY_COLUMNS:
                raise KillcurveInputError(
                    f"config key comparisons[{i}].by ({comp['name']}): unknown column "
                    f"{column!r}. Group by any of: {', '.join(BY_COLUMNS)}."
                )


def _compare_group(test: pl.DataFrame, ref: pl.DataFrame, level: float) -> dict[str, Any]:
    """Ratio of et50 test/reference with CI and p-value for one group."""
    a = np.log(test["et50"].to_numpy())
    b = np.log(ref["et50"].to_numpy())
    out: dict[str, Any] = {"n_test": len(a), "n_reference": len(b), "notes": ""}
    if len(a) == 0 or len(b) == 0:
        missing = "test" if len(a) == 0 else "reference"
        out.update(estimate=None, lower=None, upper=None, p_value=None, method="none")
        out["notes"] = f"no converged {missing} curve with an et50"
        return out
    diff = float(a.mean() - b.mean())
    if len(a) >= 2 and len(b) >= 2:
        cm = CompareMeans(DescrStatsW(a), DescrStatsW(b))
        lo, hi = cm.tconfint_diff(alpha=1 - level, usevar="unequal")
        p = cm.ttest_ind(usevar="unequal")[1]
        method = "welch_t_log_et50"
    else:
        se = float(
            np.sqrt(
                np.sum(test["log_et50_se"].to_numpy() ** 2) / len(a) ** 2
                + np.sum(ref["log_et50_se"].to_numpy() ** 2) / len(b) ** 2
            )
        )
        z = stats.norm.ppf(0.5 + level / 2)
        lo, hi = diff - z * se, diff + z * se
        p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else float("nan")
        method = "wald_log_et50"
    out.update(
        estimate=np.exp(diff), lower=np.exp(lo), upper=np.exp(hi), p_value=float(p), method=method
    )
    return out


def compare_products(
    curves: pl.DataFrame, comparisons: Sequence[dict[str, Any]], level: float = 0.95
) -> pl.DataFrame:
    """One row per comparison × ``by`` group: et50 ratio test/reference with CI and p-value.

    The ``by`` columns of all comparisons appear as columns (null where a
    comparison does not group by them).
    """
    check_comparisons(comparisons, curves["product"].unique().to_list())
    usable = curves.filter(pl.col("converged") & pl.col("et50").is_not_null())
    by_all = [c for c in BY_COLUMNS if any(c in comp.get("by", []) for comp in comparisons)]
    rows = []
    for comp in comparisons:
        by = list(comp.get("by", []))
        pair = curves.filter(pl.col("product").is_in([comp["test"], comp["reference"]]))
        groups = pair.select(by).unique().sort(by, nulls_last=True) if by else pl.DataFrame([{}])
        for key in groups.iter_rows(named=True):
            mask = (
                pl.all_horizontal([pl.col(k).eq_missing(v) for k, v in key.items()])
                if key
                else pl.lit(True)
            )
            group = usable.filter(mask)
            test = group.filter(pl.col("product") == comp["test"])
            ref = group.filter(pl.col("product") == comp["reference"])
            rows.append(
                {
                    "comparison": comp["name"],
                    **dict.fromkeys(by_all),
                    **key,
                    "test": comp["test"],
                    "reference": comp["reference"],
                    "metric": "et50_ratio",
                    **_compare_group(test, ref, level),
                }
            )
    schema = {"comparison": pl.String, **dict.fromkeys(by_all, pl.String)}
    schema.update(
        test=pl.String,
        reference=pl.String,
        metric=pl.String,
        estimate=pl.Float64,
        lower=pl.Float64,
        upper=pl.Float64,
        p_value=pl.Float64,
        method=pl.String,
        n_test=pl.Int64,
        n_reference=pl.Int64,
        notes=pl.String,
    )
    return pl.DataFrame(rows, schema=schema).select("comparison", *by_all, *RESULT_COLUMNS)


__all__ = ["BY_COLUMNS", "CURVE_KEYS", "check_comparisons", "compare_products"]
