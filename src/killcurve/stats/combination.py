"""Combining independent potency estimates of one sample (Ph. Eur. 5.3 §6.2, USP <1034>).

Each of n independent assays (runs, days, plates) gives a log potency M_i (ln of a
relative potency or of an et50 ratio) with its confidence interval (L_i, U_i) on the log
scale, formed as M_i ± t_i·s_i with t_i on the assay's own df_i. Then:

* weight W_i = 4·t_i² / (U_i − L_i)², i.e. 1/s_i² (Ph. Eur. 5.3 eq. 6.2.1-1);
* homogeneity: χ² = Σ W_i (M_i − M̄_w)², M̄_w = Σ W_i M_i / Σ W_i, on n − 1 df;
* homogeneous estimates (χ² p ≥ ``alpha``, default 0.05): the **weighted** mean M̄_w,
  SE = √(1/Σ W_i), interval M̄_w ± t·SE with t on Σ df_i (the pooled error df);
* heterogeneous estimates (p < ``alpha``): the **semi-weighted** mean, which adds the
  between-assay variance s²_M = Σ (M_i − M̄)²/(n − 1) − Σ (1/W_i)/n (M̄ the unweighted
  mean; 0 when negative) to each assay's own: W′_i = 1/(1/W_i + s²_M),
  M̄′ = Σ W′_i M_i / Σ W′_i, SE = √(1/Σ W′_i), interval M̄′ ± t·SE with t on n − 1 df;
* a single estimate is returned as it is (its own interval; no homogeneity test).

Intervals and estimates on the ratio scale are exp of the log-scale values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from killcurve.errors import KillcurveInputError
from killcurve.stats.logscale import exp_ratio


@dataclass(frozen=True)
class CombinedEstimate:
    """The combination of n log potencies (module docstring); ratio-scale properties."""

    method: str  # "weighted", "semi_weighted" or "single"
    n: int
    log_estimate: float
    se: float
    df: float
    log_lower: float
    log_upper: float
    chi2: float | None  # homogeneity statistic (None for one estimate)
    chi2_p: float | None
    between_variance: float  # s²_M on the log scale (0 unless semi-weighted)

    @property
    def estimate(self) -> float:
        """Combined ratio, exp(M̄)."""
        return exp_ratio(self.log_estimate)

    @property
    def lower(self) -> float:
        """Lower confidence limit of the ratio."""
        return exp_ratio(self.log_lower)

    @property
    def upper(self) -> float:
        """Upper confidence limit of the ratio."""
        return exp_ratio(self.log_upper)


def weights_from_intervals(
    log_lower: Sequence[float], log_upper: Sequence[float], df: Sequence[float], level: float = 0.95
) -> np.ndarray:
    """W_i = 4·t_i²/(U_i − L_i)², t_i the two-sided ``level`` quantile of Student's t on df_i."""
    lo, hi, dof = (np.asarray(v, dtype=float) for v in (log_lower, log_upper, df))
    t = stats.t.ppf(0.5 + level / 2, dof)
    width = hi - lo
    if np.any(~np.isfinite(width)) or np.any(width <= 0):
        raise KillcurveInputError(
            "potency combination: every estimate needs a finite interval with upper > lower."
        )
    return 4.0 * t**2 / width**2


def combine_log_potencies(
    log_estimate: Sequence[float],
    weight: Sequence[float],
    df: Sequence[float],
    level: float = 0.95,
    alpha: float = 0.05,
) -> CombinedEstimate:
    """Combine log potencies M_i with weights W_i = 1/s_i² and error df_i (module docstring)."""
    m, w, dof = (np.asarray(v, dtype=float) for v in (log_estimate, weight, df))
    n = m.size
    if n == 0 or w.size != n or dof.size != n:
        raise KillcurveInputError("potency combination: give one weight and df per estimate.")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(w)) and np.all(w > 0)):
        raise KillcurveInputError(
            "potency combination: estimates and weights must be finite, weights positive."
        )
    q = 0.5 + level / 2
    if n == 1:
        se = 1.0 / math.sqrt(w[0])
        half = float(stats.t.ppf(q, dof[0])) * se
        return CombinedEstimate(
            "single", 1, float(m[0]), se, float(dof[0]), m[0] - half, m[0] + half, None, None, 0.0
        )
    mean_w = float(np.sum(w * m) / np.sum(w))
    chi2 = float(np.sum(w * (m - mean_w) ** 2))
    chi2_p = float(stats.chi2.sf(chi2, n - 1))
    if chi2_p >= alpha:
        se = math.sqrt(1.0 / np.sum(w))
        total_df = float(np.sum(dof))
        half = float(stats.t.ppf(q, total_df)) * se
        return CombinedEstimate(
            "weighted", n, mean_w, se, total_df, mean_w - half, mean_w + half, chi2, chi2_p, 0.0
        )
    s2_between = max(0.0, float(np.sum((m - m.mean()) ** 2) / (n - 1) - np.sum(1.0 / w) / n))
    w_semi = 1.0 / (1.0 / w + s2_between)
    mean_s = float(np.sum(w_semi * m) / np.sum(w_semi))
    se = math.sqrt(1.0 / np.sum(w_semi))
    half = float(stats.t.ppf(q, n - 1)) * se
    return CombinedEstimate(
        "semi_weighted",
        n,
        mean_s,
        se,
        float(n - 1),
        mean_s - half,
        mean_s + half,
        chi2,
        chi2_p,
        s2_between,
    )
