"""The methods text of the report: one sentence per stage with its formulas."""

from __future__ import annotations

from killcurve.assay.readouts import READOUTS

#: One sentence per stage, stating formulas and conventions.
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
    "Curves: 4-parameter log-logistic y = bottom + (top − bottom)/(1 + (et50/x)^hill), "
    "x = E:T, fitted by least squares (Levenberg–Marquardt) to every non-excluded replicate "
    "well; 95 % CI of et50 = exp(ln et50 ± t(0.975, n − 4)·SE), SE from s²(J′J)⁻¹.",
    "et_at_50: the E:T at which the fitted curve reaches 50 % lysis, blank when not within the "
    "tested range; AUC: trapezoid of mean % lysis over log2(E:T).",
    "Comparisons: ratio of et50 test/reference; with ≥ 2 curves per product, Welch's t-test on "
    "ln et50 (CI and p-value); otherwise a Wald interval from the fits' standard errors.",
)
