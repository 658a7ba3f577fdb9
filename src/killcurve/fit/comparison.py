"""Model comparison per curve: extra-sum-of-squares F tests, AICc, lack of fit, no dose effect.

All tests are array level (one value per curve) and assume least-squares fits
with the same data and weights in both models.

* Nested models (e.g. 3PL inside 4PL):
  ``F = ((RSS_r − RSS_f)/(df_r − df_f)) / (RSS_f/df_f)`` on (df_r − df_f, df_f)
  degrees of freedom, df the residual degrees of freedom.
* AICc with K = fitted parameters + 1 (the residual variance):
  ``AICc = n·ln(RSS/n) + 2K + 2K(K + 1)/(n − K − 1)``; lower is better; NaN when n − K − 1 ≤ 0.
* Lack of fit (needs replicates): pure error PE from the replicate groups
  (points at the same x), df_pe = n − (distinct x);
  ``F = ((RSS − PE)/(df − df_pe)) / (PE/df_pe)`` on (df − df_pe, df_pe).
  This is the nested test of the model against one mean per x (one-way ANOVA).
* No dose effect: the model against a constant (the weighted mean),
  ``F = ((RSS_0 − RSS)/(p − 1)) / (RSS/df)`` on (p − 1, df).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from killcurve.fit.engine import FitResult

Array = np.ndarray


@dataclass(frozen=True)
class FTest:
    """An F test per curve: statistic, numerator and denominator df, p-value (each (m,))."""

    f: Array
    df_num: Array
    df_den: Array
    p_value: Array


def f_test(rss_reduced: Array, df_reduced: Array, rss_full: Array, df_full: Array) -> FTest:
    """Extra-sum-of-squares F test of a reduced model nested in a full one.

    >>> t = f_test(np.array([6.622820]), np.array([21]), np.array([5.400215]), np.array([20]))
    >>> round(float(t.f[0]), 3), round(float(t.p_value[0]), 4)
    (4.528, 0.046)
    """
    rss_r, rss_f = np.asarray(rss_reduced, float), np.asarray(rss_full, float)
    df_num = np.asarray(df_reduced, float) - np.asarray(df_full, float)
    df_den = np.asarray(df_full, float)
    valid = (df_num > 0) & (df_den > 0) & (rss_f > 0)
    with np.errstate(all="ignore"):
        f = np.where(valid, ((rss_r - rss_f) / df_num) / (rss_f / df_den), np.nan)
        p = np.where(valid, stats.f.sf(f, np.maximum(df_num, 1), np.maximum(df_den, 1)), np.nan)
    return FTest(f, df_num, df_den, p)


def compare_nested(reduced: FitResult, full: FitResult) -> FTest:
    """F test of ``reduced`` (fewer free parameters) against ``full``, curve by curve."""
    if reduced.n_free >= full.n_free:
        raise ValueError("the reduced model must have fewer free parameters than the full one")
    return f_test(reduced.rss, reduced.df_resid, full.rss, full.df_resid)


def aicc(rss: Array, n_obs: Array, n_params: Array | int) -> Array:
    """Small-sample AIC (see the module docstring); ``n_params`` excludes the variance.

    >>> round(float(aicc(np.array([5.4002146]), np.array([24]), 4)[0]), 3)
    -22.465
    """
    rss, n = np.asarray(rss, float), np.asarray(n_obs, float)
    k = np.asarray(n_params, float) + 1.0
    with np.errstate(all="ignore"):
        value = n * np.log(rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
    return np.where((n - k - 1 > 0) & (rss > 0), value, np.nan)


def lack_of_fit(result: FitResult) -> FTest:
    """Lack-of-fit F test from the replicate groups; NaN without replicates or spare df."""
    pe, df_pe = result.data.pe_ss, result.data.pe_df
    return f_test(result.rss, result.df_resid, pe, df_pe)


def constant_rss(result: FitResult) -> Array:
    """RSS of the constant model (weighted mean of all points) per curve."""
    d = result.data
    total_w = d.w.sum(axis=0)
    mean = (d.w * d.y).sum(axis=0) / np.where(total_w > 0, total_w, 1.0)
    return (d.w * (d.y - mean) ** 2).sum(axis=0) + d.pe_ss


def dose_effect(result: FitResult) -> FTest:
    """F test of the fitted model against no dose effect (a constant); large p = flat curve."""
    return f_test(constant_rss(result), result.data.n_obs - 1, result.rss, result.df_resid)
