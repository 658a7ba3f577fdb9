"""Potency across ordered manufacturing process stages, per product.

Stages are ordered as the config's ``stages`` list says; stage i (0-based
in that list) gets the score i, so consecutive stages are one step apart.
For each product × target × cryo with curves at ≥ 2 of the listed stages,
ln et50 of every converged curve is regressed on the score:

* ``mixedlm_lot`` (≥ 2 lots, some lot at ≥ 2 stages): statsmodels
  ``MixedLM`` ``log_et50 ~ stage_score`` with a random intercept per lot
  (REML), so a lot's general potency does not pass for a stage effect;
* ``ols`` otherwise (statsmodels OLS).

The estimate is exp(slope), the fold change of et50 per stage step
(< 1: potency rises along the process), with its 95 % Wald interval
exp(slope ± q·SE) (q: normal quantile for the mixed model, t with the
residual df for OLS) and the two-sided p-value of slope = 0. The model
formula is written into each row. Curves at stages not in the list are left
out and counted in ``notes``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import polars as pl
import statsmodels.formula.api as smf
from scipy import stats

from killcurve.stats.diagnostics import fit_notes

#: Columns of ``stage_trend.csv``.
TREND_COLUMNS = (
    "product",
    "target",
    "cryo",
    "metric",
    "estimate",
    "lower",
    "upper",
    "p_value",
    "method",
    "formula",
    "n_lots",
    "n_stages",
    "n_curves",
    "notes",
)


def _fit(frame: pl.DataFrame, level: float) -> dict[str, object]:
    """exp(slope) of ln et50 on the stage score with its interval, p-value and method."""
    data = frame.select("log_et50", "stage_score", "lot").to_pandas()
    per_lot = frame.group_by("lot").agg(pl.col("stage_score").n_unique().alias("k"))
    notes: list[str] = []
    fit = None
    if frame["lot"].n_unique() >= 2 and per_lot["k"].max() >= 2:
        formula = "log_et50 ~ stage_score, random intercept per lot (MixedLM, REML)"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = smf.mixedlm("log_et50 ~ stage_score", data, groups=data["lot"])
                fit = model.fit(reml=True)
            except np.linalg.LinAlgError:
                # a singular information matrix (e.g. a lot variance at zero with few curves)
                notes.append(
                    "the lot mixed model could not be fitted (singular information matrix): "
                    "OLS instead, lots not modelled"
                )
        notes += fit_notes(caught, formula)
    if fit is not None:
        q = stats.norm.ppf(0.5 + level / 2)
        method = "mixedlm_lot"
    else:
        formula = "log_et50 ~ stage_score (OLS)"
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = smf.ols("log_et50 ~ stage_score", data).fit()
        q = stats.t.ppf(0.5 + level / 2, fit.df_resid) if fit.df_resid > 0 else np.nan
        if fit.df_resid < 1:
            notes.append("one curve per stage and one lot: no residual df, no interval")
        method = "ols"
    slope = float(fit.params["stage_score"])
    se = float(fit.bse["stage_score"]) if np.isfinite(q) else np.nan
    p = float(fit.pvalues["stage_score"]) if np.isfinite(q) else np.nan
    return {
        "estimate": float(np.exp(slope)),
        "lower": float(np.exp(slope - q * se)),
        "upper": float(np.exp(slope + q * se)),
        "p_value": p,
        "method": method,
        "formula": formula,
        "notes": "; ".join(notes),
    }


def stage_trend(curves: pl.DataFrame, stages: Sequence[str], level: float = 0.95) -> pl.DataFrame:
    """One row per product × target × cryo with ≥ 2 listed stages (``TREND_COLUMNS``)."""
    score = {name: i for i, name in enumerate(stages)}
    # a fixed row order: the fits' last bits do not depend on how the table was ordered
    order = ["curve_id"] if "curve_id" in curves.columns else ["product", "lot", "stage", "et50"]
    usable = (
        curves.sort(order, nulls_last=True)
        .filter(pl.col("converged") & pl.col("et50").is_not_null() & pl.col("stage").is_not_null())
        .with_columns(
            pl.col("et50").log().alias("log_et50"),
            pl.col("stage")
            .replace_strict(score, default=None, return_dtype=pl.Int64)
            .alias("stage_score"),
        )
    )
    rows = []
    keys = ["product", "target", "cryo"]
    for key, group in usable.group_by(keys, maintain_order=True):
        listed = group.filter(pl.col("stage_score").is_not_null())
        if listed["stage_score"].n_unique() < 2:
            continue
        result = _fit(listed, level)
        left_out = group.height - listed.height
        if left_out:
            extra = f"{left_out} curves at stages not in the config's stages list left out"
            result["notes"] = "; ".join(filter(None, [str(result["notes"]), extra]))
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "metric": "et50_fold_change_per_stage",
                **result,
                "n_lots": listed["lot"].n_unique(),
                "n_stages": listed["stage_score"].n_unique(),
                "n_curves": listed.height,
            }
        )
    schema = dict.fromkeys(TREND_COLUMNS, pl.String)
    schema.update(
        dict.fromkeys(("estimate", "lower", "upper", "p_value"), pl.Float64),
        n_lots=pl.Int64,
        n_stages=pl.Int64,
        n_curves=pl.Int64,
    )
    return (
        pl.DataFrame(rows, schema=schema)
        .select(TREND_COLUMNS)
        .with_columns(pl.col(pl.Float64).fill_nan(None))
        .sort(keys, nulls_last=True)
    )
