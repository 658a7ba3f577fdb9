"""The methods text of the report: one sentence per stage with its formulas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from killcurve.assay.readouts import READOUTS
from killcurve.fit.curve_table import model_label
from killcurve.fit.models import get_model
from killcurve.fit.verdict import VerdictRules

#: The standard-error conventions, as the methods state them.
SE_TEXT = {
    "jtj": "s²(J′J)⁻¹ (Gauss–Newton, as R nls, NIST StRD and GraphPad Prism)",
    "hessian": "s²H⁻¹, H the Hessian of RSS/2 (observed information, as R drc)",
}

#: One sentence per stage, stating formulas and conventions (the curve sentence aside).
METHODS = (
    *(
        f"Readout {r.name} ({r.signal}): % lysis = {r.formula}, per plate."
        for r in READOUTS.values()
    ),
    "Plate QC: Z′ = 1 − 3(σ_T + σ_C)/|μ_T − μ_C| between target_only and max_lysis "
    "(background when a plate has no max_lysis); control CV = 100 × SD/mean; signal ratio; "
    "spontaneous release as % of maximum; Spearman/Mann–Whitney tests of control position "
    "effects (Holm). Failed plates' sample wells are excluded from fits when "
    "qc.exclude_failed_plates is true. Manual and overflow exclusions are listed per well "
    "in wells.parquet.",
    "et_at_50: the E:T at which the fitted curve reaches 50 % lysis, blank when not within the "
    "tested range; AUC: trapezoid of mean % lysis over log2(E:T).",
    "Comparisons: ratio of et50 test/reference; with ≥ 2 curves per product, Welch's t-test on "
    "ln et50 (CI and p-value); otherwise a Wald interval from the fits' standard errors. "
    "Relative potency: constrained global 4PL of the group's wells (common bottom, top, hill; "
    "one et50 per curve; ratio of the products' geometric mean et50), reported only when "
    "parallelism is shown by equivalence (90 % CIs of hill ratio and top/bottom differences "
    "within the configured margins), with delta and Fieller 95 % CIs; otherwise labelled "
    "fallbacks (separately fitted et50 ratio, % lysis difference at each E:T). With ≥ 2 lots "
    "per product: MixedLM (REML) of ln et50 ~ product, random lot intercept and crossed "
    "assay-day variance component, t interval on lots − 2 df. "
    "p-values adjusted across groups (Holm unless configured).",
)


#: Sentences on the stage trend, thaw retention, viability and the report's answers.
DOSSIER_METHODS = (
    "Stage trend: ln et50 of every converged curve regressed on the position of its stage in "
    "the config's stages list (MixedLM with a random lot intercept, REML, when two or more "
    "lots span two or more stages; otherwise OLS); exp(slope) = fold change of et50 per stage "
    "step with its 95 % Wald interval.",
    "Thaw retention: per lot tested before freezing and after thaw, ratios post/pre of et50, "
    "AUC and fitted % lysis at the reference E:T; per product the geometric mean ratio over "
    "lots with its 95 % t interval and one-sample t-test of ln ratio = 0.",
    "Viability after thaw: viability = 100 × viable/total cells; recovery = 100 × viable "
    "cells recovered/viable cells frozen; per lot the mean of replicate counts, per product "
    "the mean over lots with its t interval; a lot passes when both means reach the limits.",
    "Answers and forest plot: per comparison group the parallel-line potency ratio where "
    "parallelism is shown by equivalence, otherwise the et50 ratio (mixed model with a random "
    "lot intercept when available, else Welch's t or Wald); p-values adjusted within each "
    "comparison (Holm unless configured otherwise).",
)


def curve_methods(curves: pl.DataFrame) -> str:
    """The curve-fitting sentence for the model, SE convention and CI level of ``curves``."""
    if curves.is_empty():
        return "Curves: none fitted."
    row = curves.row(0, named=True)
    model = get_model(row["model"])
    level = 100 * row["ci_level"]
    p = len(model.params) - len(model.fixed)
    weighted = row.get("weighting") == "signal"
    how = (
        "weighted least squares (weight 1/scale², scale = |∂ % lysis/∂S|·S: the SD of a "
        "well's % lysis per unit CV of its reading; flow and precomputed readouts unweighted)"
        if weighted
        else "least squares"
    )
    return (
        f"Curves: {model_label(model.name)} model {model.formula}, x = E:T, fitted by {how} "
        "(batched Levenberg–Marquardt with analytic Jacobians, scipy trust-region "
        "fallback) to every non-excluded replicate well; SEs from "
        f"{SE_TEXT[row['se_convention']]}, s² = {'weighted ' if weighted else ''}RSS/(n − {p}); "
        f"{level:g} % Wald CI of et50 = "
        f"exp(ln et50 ± t(df)·SE(ln et50)) and {level:g} % profile-likelihood CI "
        "(F-based, et50_profile_lower/upper)."
    )


def outlier_methods(outliers: Mapping[str, Any] | None, n_marked: int) -> str:
    """The outlier sentence for the config's ``fit.outliers`` and the wells it marked."""
    outliers = outliers or {}
    if outliers.get("method", "none") != "rout":
        return "Outliers: no outlier rule (config fit.outliers.method: none); no well removed."
    weighting = (
        "each residual divided by the SD of % lysis under constant-CV noise of the reading, "
        "|∂ % lysis/∂S|·S from the plate's control means (flow and precomputed readouts "
        "unweighted)"
        if outliers.get("weighting", "signal") == "signal"
        else "residuals unweighted"
    )
    return (
        "Outliers: ROUT (Motulsky & Brown 2006) on each curve's sample wells before the fits: "
        f"robust Lorentzian fit by IRLS, {weighting}; robust SD (RSDR) = 68.27th percentile of "
        "|residual| × N/(N − K); two-sided t p-values (N − K df) rejected by Benjamini–Hochberg "
        f"at Q = {100 * float(outliers.get('q', 0.01)):g} %. {n_marked} wells marked excluded "
        "(reason outlier, listed in wells.parquet), none deleted."
    )


def verdict_methods(verdict: Mapping[str, Any] | None) -> str:
    """The verdict sentence for the config's ``fit.verdict`` (defaults where a key is absent;
    the fit stage has validated the names)."""
    rules = VerdictRules.from_config(verdict, flags=None)
    listed = lambda names: ", ".join(names) or "none"  # noqa: E731
    return (
        f"Curve verdicts: invalid with any of {listed(rules.invalid)}; otherwise limited with "
        f"any of {listed(rules.limited)}; otherwise valid (below_min_efficacy: highest mean "
        f"% lysis over the tested E:T levels below {rules.min_efficacy:g} %; too_few_levels: "
        "fewer tested E:T levels or wells than free parameters, not fitted). Only curves "
        f"whose verdict is {' or '.join(rules.use) or 'none'} keep an et50 and its intervals "
        "(and lytic units), and so enter ratios, trends, thaw retention and answers; the "
        "verdict_reasons say why. A curve "
        "without an upper plateau (top_not_reached) has top and emax left empty "
        "(top_not_estimable); max_mean_lysis is what the data show of its top."
    )


def methods(
    curves: pl.DataFrame,
    outliers: Mapping[str, Any] | None = None,
    n_outliers: int = 0,
    verdict: Mapping[str, Any] | None = None,
) -> tuple[str, ...]:
    """Every methods sentence of a run, the curve sentence from its own curve table, the
    outlier sentence from the config's ``fit.outliers`` (:func:`outlier_methods`) and the
    verdict sentence from its ``fit.verdict`` (:func:`verdict_methods`)."""
    return (
        *METHODS[: len(READOUTS) + 1],
        outlier_methods(outliers, n_outliers),
        curve_methods(curves),
        verdict_methods(verdict),
        *METHODS[len(READOUTS) + 1 :],
        *DOSSIER_METHODS,
    )
