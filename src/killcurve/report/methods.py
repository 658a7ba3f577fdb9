"""The methods text of the report: one sentence per stage with its formulas."""

from __future__ import annotations

import polars as pl

from killcurve.assay.readouts import READOUTS
from killcurve.fit.curves import model_label
from killcurve.fit.models import get_model

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
    "ln et50 (CI and p-value); otherwise a Wald interval from the fits' standard errors.",
)


def curve_methods(curves: pl.DataFrame) -> str:
    """The curve-fitting sentence for the model, SE convention and CI level of ``curves``."""
    if curves.is_empty():
        return "Curves: none fitted."
    row = curves.row(0, named=True)
    model = get_model(row["model"])
    level = 100 * row["ci_level"]
    p = len(model.params) - len(model.fixed)
    return (
        f"Curves: {model_label(model.name)} model {model.formula}, x = E:T, fitted by least "
        "squares (batched Levenberg–Marquardt with analytic Jacobians, scipy trust-region "
        "fallback) to every non-excluded replicate well; SEs from "
        f"{SE_TEXT[row['se_convention']]}, s² = RSS/(n − {p}); {level:g} % Wald CI of et50 = "
        f"exp(ln et50 ± t(df)·SE(ln et50)) and {level:g} % profile-likelihood CI "
        "(F-based, et50_profile_lower/upper)."
    )


def methods(curves: pl.DataFrame) -> tuple[str, ...]:
    """Every methods sentence of a run, the curve sentence from its own curve table."""
    return (*METHODS[: len(READOUTS) + 1], curve_methods(curves), *METHODS[len(READOUTS) + 1 :])
