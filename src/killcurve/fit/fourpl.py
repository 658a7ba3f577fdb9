"""One 4-parameter log-logistic fit by least squares.

Model (x = E:T ratio > 0, y = % lysis)::

    y = bottom + (top − bottom) / (1 + (et50/x)^hill)

fitted as θ = (bottom, top, log et50, hill) with an analytic Jacobian.
Standard errors use the J′J convention, ``cov = s²(J′J)⁻¹`` with
``s² = RSS/(n − 4)``; the 95 % CI of et50 is ``exp(log et50 ± t(0.975, n − 4)·SE)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

N_PARAMS = 4


@dataclass(frozen=True)
class FourPLFit:
    """Result of :func:`fit_4pl`. ``cov`` is over (bottom, top, log et50, hill)."""

    bottom: float
    top: float
    et50: float
    hill: float
    cov: np.ndarray
    rss: float
    df_resid: int
    converged: bool

    @property
    def log_et50_se(self) -> float:
        """Standard error of the natural log of et50."""
        return float(np.sqrt(self.cov[2, 2])) if np.isfinite(self.cov[2, 2]) else float("nan")

    def et50_ci(self, level: float = 0.95) -> tuple[float, float]:
        """Wald CI of et50 on the log scale with the t-quantile at ``df_resid``."""
        if self.df_resid < 1 or not np.isfinite(self.log_et50_se):
            return float("nan"), float("nan")
        half = stats.t.ppf(0.5 + level / 2, self.df_resid) * self.log_et50_se
        return float(self.et50 * np.exp(-half)), float(self.et50 * np.exp(half))

    def x_at(self, y: float) -> float:
        """E:T at which the fitted curve reaches ``y`` % lysis; NaN if it never does.

        Solves ``(et50/x)^hill = (top − bottom)/(y − bottom) − 1``.
        """
        ratio = (self.top - self.bottom) / (y - self.bottom) if y != self.bottom else np.inf
        if not np.isfinite(ratio) or ratio <= 1.0 or self.hill == 0:
            return float("nan")
        return float(self.et50 * (ratio - 1.0) ** (-1.0 / self.hill))


def predict(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """4PL values at ``x`` for θ = (bottom, top, log et50, hill)."""
    bottom, top, log_et50, hill = theta
    return bottom + (top - bottom) / (1.0 + np.exp(hill * (log_et50 - np.log(x))))


def jacobian(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """∂y/∂θ, shape (n, 4), for θ = (bottom, top, log et50, hill)."""
    bottom, top, log_et50, hill = theta
    u = log_et50 - np.log(x)
    e = np.exp(hill * u)
    g = 1.0 / (1.0 + e)
    dg = -(g**2) * e  # dg/d(hill·u)
    return np.column_stack([1.0 - g, g, (top - bottom) * dg * hill, (top - bottom) * dg * u])


def start_values(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Data-driven start: bottom/top from the lowest/highest mean, et50 at mid-crossing."""
    levels = np.unique(x)
    means = np.array([y[x == v].mean() for v in levels])
    bottom, top = float(means.min()), float(means.max())
    mid = (bottom + top) / 2.0
    order = np.argsort(means) if means[-1] < means[0] else np.arange(len(levels))
    log_x = np.log(levels[order])
    log_et50 = (
        float(np.interp(mid, means[order], log_x))
        if np.all(np.diff(means[order]) >= 0)
        else float(np.median(log_x))
    )
    hill = 1.0 if means[-1] >= means[0] else -1.0
    return np.array([bottom, top, log_et50, hill])


def fit_4pl(x: np.ndarray, y: np.ndarray) -> FourPLFit:
    """Least-squares 4PL of ``y`` (% lysis) on ``x`` (E:T > 0); all replicate points used.

    Levenberg–Marquardt from data-driven starts (hill ±0.5, 1, 2); the
    lowest-RSS solution is kept. Needs ≥ 5 points at ≥ 4 distinct x.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(np.unique(x)) < N_PARAMS or len(x) <= N_PARAMS:
        raise ValueError("4PL needs at least 4 distinct E:T values and 5 points")
    base = start_values(x, y)
    best = None
    for hill in (1.0, 0.5, 2.0):
        start = base.copy()
        start[3] = np.sign(base[3]) * hill
        res = optimize.least_squares(
            lambda t: predict(t, x) - y,
            start,
            jac=lambda t: jacobian(t, x),
            method="lm",
            xtol=1e-12,
            ftol=1e-12,
            gtol=1e-12,
            max_nfev=2000,
        )
        if best is None or (np.isfinite(res.cost) and res.cost < best.cost):
            best = res
    theta = best.x
    resid = predict(theta, x) - y
    rss = float(resid @ resid)
    df = len(x) - N_PARAMS
    jac = jacobian(theta, x)
    try:
        cov = np.linalg.inv(jac.T @ jac) * rss / df
    except np.linalg.LinAlgError:
        cov = np.full((N_PARAMS, N_PARAMS), np.nan)
    converged = bool(
        best.status > 0 and np.all(np.isfinite(theta)) and np.all(np.isfinite(np.diag(cov)))
    )
    return FourPLFit(
        bottom=float(theta[0]),
        top=float(theta[1]),
        et50=float(np.exp(theta[2])),
        hill=float(theta[3]),
        cov=cov,
        rss=rss,
        df_resid=df,
        converged=converged,
    )
