"""Outlier detection in the spirit of ROUT (Motulsky & Brown 2006, BMC Bioinformatics 7:123).

Per curve:

1. Robust fit: minimise Σ ln(1 + (r_i/σ)²) (a Lorentzian/Cauchy loss) by
   iteratively reweighted least squares through the batched engine, with
   weights w_i = 1/(1 + (r_i/σ)²) and σ the robust standard deviation of the
   residuals (RSDR) of the current fit.
2. RSDR = the 68.27th percentile of |r_i| × N/(N − K) (N points, K fitted
   parameters), from the robust fit's residuals.
3. Each point's t = |r_i|/RSDR gets a two-sided p-value from Student's t with
   N − K df; the points rejected by the Benjamini–Hochberg procedure at false
   discovery rate Q (default 1 %) are outliers.

With a per-point ``scale`` s_i (the SD of point i up to a common factor, e.g.
:func:`killcurve.assay.lysis.lysis_scale_expr`), every residual is read as
r_i/s_i: the fit's weights carry 1/s_i², and RSDR and t are computed on the
scaled residuals: the same rule for weighted regression. Where the spread
grows along the curve, the ordinary spread of the noisy end is not mistaken
for outliers, and a gross error at the quiet end is not hidden by it.

The result is a boolean mask over the input points: the caller marks those
points excluded (never deletes them) and refits.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import stats

from killcurve.fit.data import stack_curves
from killcurve.fit.engine import FitResult, Settings, fit_batch, fit_data
from killcurve.fit.models import Model

Array = np.ndarray

#: Quantile of |residual| that estimates one SD for Gaussian residuals.
RSDR_QUANTILE = 0.6827


def robust_sd(residuals: Array, curve: Array, n_curves: int, n_params: int) -> Array:
    """RSDR per curve: P68.27(|r|) · N/(N − K); NaN when N ≤ K.

    >>> r = np.array([-1.0, 1.0, 2.0, -2.0])
    >>> round(float(robust_sd(r, np.zeros(4, dtype=int), 1, 1)[0]), 4)  # 2 × 4/3
    2.6667
    """
    out = np.full(n_curves, np.nan)
    order = np.lexsort((np.abs(residuals), curve))
    bounds = np.searchsorted(curve[order], np.arange(n_curves + 1))
    for c in range(n_curves):
        a = np.abs(residuals[order[bounds[c] : bounds[c + 1]]])
        a = a[np.isfinite(a)]
        n = len(a)
        if n > n_params:
            out[c] = np.quantile(a, RSDR_QUANTILE) * n / (n - n_params)
    return out


def robust_fit(
    x: Array,
    y: Array,
    group: Array | None = None,
    model: Model | str = "4pl",
    fixed: Mapping[str, float] | None = None,
    settings: Settings | None = None,
    max_rounds: int = 30,
    scale: Array | None = None,
) -> FitResult:
    """Lorentzian (Cauchy-loss) fit of every curve by IRLS; the fit carries the last weights.

    ``scale`` (N,): each point's residual is read as r_i/s_i (module docstring); None: 1.
    """
    scale = _scale(scale, len(y))
    base = 1.0 / scale**2
    fit = fit_batch(x, y, group, model, fixed=fixed, weights=base, settings=settings)
    for _ in range(max_rounds):
        resid = fit.residuals() / scale
        curve = fit.data.point_curve
        sigma = robust_sd(resid, curve, fit.data.n_curves, fit.n_free)[curve]
        weights = base / (1.0 + (resid / np.where(sigma > 0, sigma, np.inf)) ** 2)
        weights = np.where(np.isfinite(weights) & (fit.data.point_w > 0), weights, 0.0)
        data = stack_curves(x, y, group, weights)
        new = fit_data(
            data, fit.model, start=fit.theta, fixed=_fixed_values(fit), settings=fit.settings
        )
        change = np.nanmax(np.abs(new.theta - fit.theta) / (np.abs(fit.theta) + 1e-8), initial=0.0)
        fit = new
        if change < 1e-6:
            break
    return fit


def _scale(scale: Array | None, n: int) -> Array:
    """``scale`` as floats, checked: every value finite and > 0 (ones when None)."""
    if scale is None:
        return np.ones(n)
    scale = np.asarray(scale, dtype=float)
    if scale.shape != (n,) or not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError("scale must hold one finite positive value per point")
    return scale


def _fixed_values(fit: FitResult) -> dict[str, Array]:
    """The fixed parameters of a fit with their per-curve values."""
    return {name: fit.theta[j] for j, name in enumerate(fit.model.params) if not fit.free[j]}


def rout_outliers(
    x: Array,
    y: Array,
    group: Array | None = None,
    model: Model | str = "4pl",
    q: float = 0.01,
    fixed: Mapping[str, float] | None = None,
    settings: Settings | None = None,
    scale: Array | None = None,
) -> Array:
    """Boolean mask (N,) of the points ROUT calls outliers at FDR ``q`` (see the module docstring).

    Points with a non-finite x or y are never outliers. ``scale``: as for :func:`robust_fit`.
    """
    fit = robust_fit(x, y, group, model, fixed, settings, scale=scale)
    data = fit.data
    resid = (data.point_y - fit.fitted()) / _scale(scale, len(data.point_y))
    usable = np.isfinite(resid) & np.isfinite(np.asarray(y, dtype=float))
    curve = data.point_curve
    k = fit.n_free
    rsdr = robust_sd(np.where(usable, resid, np.nan), curve, data.n_curves, k)
    n_pts = np.bincount(curve, weights=usable.astype(float), minlength=data.n_curves)
    df = np.maximum(n_pts - k, 1)
    with np.errstate(all="ignore"):
        t = np.abs(resid) / rsdr[curve]
        p = np.where(usable & np.isfinite(t), 2.0 * stats.t.sf(t, df[curve]), 1.0)
    outliers = np.zeros(len(p), dtype=bool)
    for c in range(data.n_curves):
        idx = np.flatnonzero((curve == c) & usable)
        if len(idx) <= k:
            continue
        order = idx[np.argsort(p[idx])]
        ranks = np.arange(1, len(order) + 1)
        passed = np.flatnonzero(p[order] <= q * ranks / len(order))
        if len(passed):
            outliers[order[: passed[-1] + 1]] = True
    return outliers
