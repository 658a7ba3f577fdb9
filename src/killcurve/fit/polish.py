"""Extended-precision Gauss–Newton polish of a converged fit, for certifying reference values.

Why: in float64 a residual r_i = y_i − f(x_i; θ) carries an absolute error of
a few eps·|y_i| (eps = 2.2e-16) from rounding the decimal data x_i, y_i, the
parameters θ and the evaluation of f. When the residuals themselves are that
small, RSS and s² = RSS/(n − p) lose their digits however well the optimiser
converged, and so does every standard error SE_j = s·√((J′J)⁻¹)_jj. NIST StRD
Lanczos1 (24 points, y up to 2.5, residual SD 8.9e-14, certified RSS
1.4307867721e-25 computed in 128-bit arithmetic) keeps only ~3 digits of RSS
and SE in float64.

What :func:`polish_extended` does: it takes the data as decimal strings (or
``np.longdouble`` arrays) and parses them straight into ``np.longdouble``
(x87 80-bit on x86-64 Linux: 64-bit mantissa, eps 1.08e-19), holds θ in
``np.longdouble`` too, and from the given θ takes undamped Gauss–Newton steps
θ ← θ + δ, δ = argmin ‖r − Jδ‖ (r = y − f in long double; J the analytic
Jacobian rounded to float64 and solved by SVD with unit-norm columns, which
only sets the convergence rate, not the fixed point J′r = 0), keeping a step
only while it lowers the long-double RSS (at most ``max_steps``). It then
returns θ and RSS = Σ r_i² in long double and the standard errors
SE_j = s·√((J′J)⁻¹)_jj, s² = RSS/(n − p), (J′J)⁻¹ from the float64 SVD of the
column-scaled J (as :func:`killcurve.fit.inference.covariance`, ``"jtj"``). On Lanczos1 the
polished RSS keeps 6–9 correct digits and the SEs 6.5–9.5 (float64: 2.9 and
3.2); what remains is long-double evaluation noise, ≈ 3e-7 relative on RSS.

This is opt-in and fits one curve at a time (about 1 ms per NIST problem);
the fitting engine does not call it and production fits do not need it (their
residuals are many orders above float64 rounding). Only unweighted fits with
every parameter free. Needs a ``np.longdouble`` wider than float64: it raises
on platforms where it is plain double (Windows, macOS on Apple silicon).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from killcurve.fit.inference import _jtj_inverse

Array = np.ndarray
Func = Callable[..., Array]
Jac = Callable[..., Sequence[Array]]


@dataclass(frozen=True)
class Polished:
    """Result of :func:`polish_extended`.

    ``theta`` (p,) and ``rss`` in ``np.longdouble``; ``se`` (p,) float64 J′J
    standard errors; ``steps`` the Gauss–Newton steps kept.
    """

    theta: Array
    rss: np.longdouble
    se: Array
    steps: int


def _extended(values: ArrayLike, name: str) -> Array:
    """``values`` as ``np.longdouble``; refuses float64 input, whose digits are already lost."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuUS" and arr.dtype != np.longdouble:
        raise TypeError(
            f"{name} has dtype {arr.dtype}: pass the data as decimal strings or np.longdouble "
            "so that they are not rounded to float64 first"
        )
    return arr.astype(np.longdouble)


def polish_extended(
    func: Func, jac: Jac, x: ArrayLike, y: ArrayLike, theta: ArrayLike, max_steps: int = 5
) -> Polished:
    """Gauss–Newton polish of θ in long double and its RSS and J′J SEs (see the module docstring).

    ``func(x, *theta)`` and ``jac(x, *theta)`` are a model function and its
    analytic Jacobian (one array per parameter, broadcasting to y's shape), as
    given to :func:`killcurve.fit.models.generic_model`, called here with x (L,)
    (or (k, L) for k predictors) and scalar parameters. x and y are decimal
    strings (or ``np.longdouble``); theta (p,) is the converged optimum to polish.

    >>> line = lambda x, a, b: a + b * x
    >>> grad = lambda x, a, b: [np.ones_like(x), x]
    >>> res = polish_extended(line, grad, ["0", "1", "2"], ["0.1", "0.3", "0.5"], [0.09, 0.21])
    >>> [float(t) for t in res.theta], float(res.rss)
    ([0.1, 0.2], 0.0)
    """
    if np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps:
        raise RuntimeError(
            "np.longdouble is plain float64 on this platform: extended precision is not available"
        )
    x, y = _extended(x, "x"), _extended(y, "y")
    theta = np.asarray(theta, dtype=np.longdouble)

    def residuals(t: Array) -> Array:
        return y - func(x, *t)

    def jacobian(t: Array) -> Array:
        return np.stack([np.broadcast_to(c, y.shape) for c in jac(x, *t)], axis=1).astype(float)

    r = residuals(theta)
    rss = (r * r).sum()
    steps = 0
    for _ in range(max_steps):
        j = jacobian(theta)
        norms = np.sqrt((j**2).sum(axis=0))
        delta = np.linalg.lstsq(j / norms, r.astype(float), rcond=None)[0] / norms
        trial = theta + delta.astype(np.longdouble)
        r_trial = residuals(trial)
        rss_trial = (r_trial * r_trial).sum()
        if not rss_trial < rss:
            break
        theta, r, rss, steps = trial, r_trial, rss_trial, steps + 1
    sigma2 = rss / (len(y) - len(theta))
    unscaled = _jtj_inverse(jacobian(theta)[None])[0]
    se = np.sqrt(float(sigma2) * np.diagonal(unscaled))
    return Polished(theta=theta, rss=rss, se=se, steps=steps)
