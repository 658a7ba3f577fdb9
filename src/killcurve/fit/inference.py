"""Uncertainty and derived quantities of fitted curves (array level, one value per curve).

Covariance conventions (``kind``), both over the internal parameters, with
s² = RSS/(n − p) and n − p the residual degrees of freedom:

* ``"jtj"`` (Gauss–Newton, what R ``nls()`` and NIST report):
  ``cov = s²·(J′WJ)⁻¹``, J the Jacobian at the optimum. Computed from the SVD
  of the column-scaled √W·J, so that ill-conditioned problems keep their digits.
* ``"hessian"`` (observed information, what drc ``summary()`` reports):
  ``cov = s²·H⁻¹`` with H the Hessian of RSS/2,
  ``H = J′WJ + Σ_i w_i r_i ∇²f_i`` (r = f − y), taken by central differences
  of the analytic gradient J′Wr with steps of 10⁻⁴ standard errors.

Natural-scale standard errors of ``log_`` parameters use the delta method,
SE(et50) = et50·SE(ln et50). Wald intervals use the t quantile with the
residual df: for ``log_`` parameters the interval is formed on the log scale
and exponentiated (asymmetric, always positive); otherwise estimate ± t·SE.
Derived quantities (ED_p, lytic units) get delta-method standard errors from
central-difference gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy import integrate, stats

from killcurve.fit.comparison import aicc
from killcurve.fit.engine import FitResult, Settings, solve
from killcurve.fit.models import is_log, natural_names

Array = np.ndarray
Kind = Literal["jtj", "hessian"]

#: Default percentages of lysis for lytic units.
LU_PERCENTS = (20.0, 30.0)
#: Default number of target cells per well for lytic units.
TARGETS_PER_WELL = 1.0e4


def _weighted_jacobian(result: FitResult) -> Array:
    """√W·J over the free parameters at the optimum, (m, L, q)."""
    jac = result.model.jacobian(result.theta, result.data.x)
    cols = np.stack([jac[j] for j in np.flatnonzero(result.free)])  # (q, L, m)
    return (cols * np.sqrt(result.data.w)).transpose(2, 1, 0)


def _expand(result: FitResult, cov_free: Array) -> Array:
    """Free-parameter covariances (m, q, q) into (m, p, p) with zeros for fixed parameters."""
    m, p = result.data.n_curves, len(result.model.params)
    fidx = np.flatnonzero(result.free)
    out = np.zeros((m, p, p))
    out[:, fidx[:, None], fidx[None, :]] = cov_free
    return out


def _jtj_inverse(jw: Array) -> Array:
    """(J′WJ)⁻¹ per curve (m, q, q) from the SVD of column-scaled √W·J.

    NaN for a curve whose Jacobian is not finite or is rank-deficient
    (smallest singular value below 10⁻¹³·max(L, q) of the largest).
    """
    m, _, q = jw.shape
    out = np.full((m, q, q), np.nan)
    rows = np.flatnonzero(np.isfinite(jw).all(axis=(1, 2)))
    if not len(rows):
        return out
    norms = np.sqrt((jw[rows] ** 2).sum(axis=1))  # (r, q)
    safe = np.where(norms > 0, norms, 1.0)
    _, sig, vt = np.linalg.svd(jw[rows] / safe[:, None, :], full_matrices=False)
    full_rank = (sig[:, -1] > sig[:, 0] * 1e-13 * max(jw.shape[1:])) & (norms > 0).all(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = (vt.transpose(0, 2, 1) / sig[:, None, :] ** 2) @ vt
    inv = inv / (safe[:, :, None] * safe[:, None, :])
    out[rows[full_rank]] = inv[full_rank]
    return out


def covariance(result: FitResult, kind: Kind = "jtj") -> Array:
    """Covariance matrices (m, p, p) of the internal parameters (see the module docstring).

    Rows and columns of fixed parameters are 0; curves with residual df < 1, a
    rank-deficient Jacobian or a non-positive-definite Hessian get NaN.
    """
    if kind not in ("jtj", "hessian"):
        raise ValueError(f"kind must be 'jtj' or 'hessian', not {kind!r}")
    cov = _jtj_inverse(_weighted_jacobian(result)) * result.sigma2[:, None, None]
    if kind == "hessian":
        cov = _hessian_inverse(result, _steps(result, cov)) * result.sigma2[:, None, None]
    return _expand(result, cov)


def _gradient(result: FitResult, theta: Array) -> Array:
    """J′W(f − y) over the free parameters, (q, m): the gradient of RSS/2."""
    f, jac = result.model.value_and_jacobian(theta, result.data.x)
    wr = result.data.w * (f - result.data.y)
    return np.stack([np.einsum("la,la->a", jac[j], wr) for j in np.flatnonzero(result.free)])


def _steps(result: FitResult, cov_free: Array) -> Array:
    """Difference steps (q, m): 10⁻⁴ of each free parameter's SE, else 10⁻⁶·max(1, |θ|)."""
    fidx = np.flatnonzero(result.free)
    se = np.sqrt(np.abs(np.diagonal(cov_free, axis1=1, axis2=2))).T
    fallback = 1e-6 * np.maximum(1.0, np.abs(result.theta[fidx]))
    return np.where(np.isfinite(se) & (se > 0), 1e-4 * se, fallback)


def _hessian_inverse(result: FitResult, steps: Array) -> Array:
    """H⁻¹ (m, q, q), H the Hessian of RSS/2 by central differences of the analytic gradient."""
    fidx = np.flatnonzero(result.free)
    q, m = steps.shape
    hess = np.empty((m, q, q))
    with np.errstate(all="ignore"):
        for k, j in enumerate(fidx):
            up, down = result.theta.copy(), result.theta.copy()
            up[j] += steps[k]
            down[j] -= steps[k]
            hess[:, :, k] = ((_gradient(result, up) - _gradient(result, down)) / (2 * steps[k])).T
    hess = (hess + hess.transpose(0, 2, 1)) / 2
    out = np.full_like(hess, np.nan)
    good = np.flatnonzero(np.all(np.isfinite(hess), axis=(1, 2)))
    if len(good):
        positive = np.linalg.eigvalsh(hess[good])[:, 0] > 0
        out[good[positive]] = np.linalg.inv(hess[good[positive]])
    return out


def standard_errors(
    result: FitResult, kind: Kind = "jtj", cov: Array | None = None
) -> dict[str, Array]:
    """Natural-scale standard errors by parameter name (delta method for ``log_`` parameters)."""
    cov = covariance(result, kind) if cov is None else cov
    se_int = np.sqrt(np.diagonal(cov, axis1=1, axis2=2)).T  # (p, m)
    params = result.params()
    return {
        nat: se_int[j] * params[nat] if is_log(name) else se_int[j]
        for j, (name, nat) in enumerate(
            zip(result.model.params, natural_names(result.model), strict=True)
        )
    }


def t_quantile(df: Array, level: float = 0.95) -> Array:
    """Two-sided t quantile t(0.5 + level/2, df); NaN where df < 1."""
    df = np.asarray(df, dtype=float)
    return np.where(df >= 1, stats.t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)


@dataclass(frozen=True)
class Interval:
    """An estimate with its standard error and confidence limits, each (m,)."""

    estimate: Array
    se: Array
    lower: Array
    upper: Array


def wald_intervals(
    result: FitResult, kind: Kind = "jtj", level: float = 0.95, cov: Array | None = None
) -> dict[str, Interval]:
    """Wald intervals of every parameter by natural name (t quantile, residual df).

    ``log_`` parameters: exp(ln θ ± t·SE(ln θ)); others θ ± t·SE.
    """
    cov = covariance(result, kind) if cov is None else cov
    se_int = np.sqrt(np.diagonal(cov, axis1=1, axis2=2)).T
    t = t_quantile(result.df_resid, level)
    out = {}
    for j, (name, nat) in enumerate(
        zip(result.model.params, natural_names(result.model), strict=True)
    ):
        est, half = result.theta[j], t * se_int[j]
        if is_log(name):
            with np.errstate(over="ignore"):
                lower, upper = np.exp(est - half), np.exp(est + half)
            out[nat] = Interval(np.exp(est), np.exp(est) * se_int[j], lower, upper)
        else:
            out[nat] = Interval(est.copy(), se_int[j], est - half, est + half)
    return out


def delta_method(
    result: FitResult,
    func: Callable[[Array], Array],
    kind: Kind = "jtj",
    level: float = 0.95,
    cov: Array | None = None,
) -> Interval:
    """``func(θ)`` (θ (p, m) → (m,)) with a delta-method SE and a natural-scale Wald interval.

    Var = ∇f′·cov·∇f, ∇f by central differences over the free parameters
    (steps 10⁻⁴ SE); interval f ± t(0.5 + level/2, df)·SE.
    """
    cov = covariance(result, kind) if cov is None else cov
    fidx = np.flatnonzero(result.free)
    est = np.asarray(func(result.theta), dtype=float)
    steps = _steps(result, cov[:, fidx[:, None], fidx[None, :]])
    grad = np.zeros((len(result.model.params), len(est)))
    with np.errstate(all="ignore"):
        for k, j in enumerate(fidx):
            up, down = result.theta.copy(), result.theta.copy()
            up[j] += steps[k]
            down[j] -= steps[k]
            grad[j] = (func(up) - func(down)) / (2 * steps[k])
    se = np.sqrt(np.einsum("pm,mpq,qm->m", grad, cov, grad))
    half = t_quantile(result.df_resid, level) * se
    return Interval(est, se, est - half, est + half)


def et_range(result: FitResult) -> tuple[Array, Array]:
    """(lowest positive x, highest x) used by each curve."""
    return result.data.x_range()


def effective_dose(
    result: FitResult,
    percent: float,
    kind: Kind = "jtj",
    level: float = 0.95,
    cov: Array | None = None,
) -> Interval:
    """ED_p: the x at which the fitted curve has covered ``percent`` % of the way from its
    x → 0 response to its x → ∞ response, with a delta-method Wald interval (natural scale).

    For the 4PL this is ``et50·(p/(100 − p))^(1/|hill|)`` (ED50 = et50), the
    convention of drc's relative ED for LL.4; for the exponential model
    ``−ln(1 − p/100)/k``.
    """
    model = result.model
    if model.inverse is None or model.limits is None:
        raise ValueError(f"model {model.name} has no inverse; ED_p is not available")

    def ed(theta: Array) -> Array:
        at_zero, at_inf = model.limits(theta)
        return model.inverse(theta, at_zero + percent / 100.0 * (at_inf - at_zero))

    return delta_method(result, ed, kind, level, cov)


def x_at_response(result: FitResult, response: float = 50.0, within_range: bool = True) -> Array:
    """Absolute x (E:T) at which each fitted curve reaches ``response`` (% lysis).

    NaN when the curve never reaches it, or (``within_range``) reaches it
    outside the curve's tested range. ``x_at_response(fit, 50)`` is ``et_at_50``.
    """
    if result.model.inverse is None:
        raise ValueError(f"model {result.model.name} has no inverse")
    x = result.model.inverse(result.theta, np.full(result.data.n_curves, float(response)))
    if within_range:
        lo, hi = et_range(result)
        x = np.where((x >= lo) & (x <= hi), x, np.nan)
    return x


def emax(result: FitResult) -> Array:
    """The fitted response as x → ∞ (4PL: top when hill > 0; exponential: A), % lysis."""
    if result.model.limits is None:
        raise ValueError(f"model {result.model.name} has no limits")
    return result.model.limits(result.theta)[1]


def auc(result: FitResult, n_grid: int = 129) -> Array:
    """Area under the fitted curve over log2(x) across each curve's tested range (%·log2 E:T).

    Simpson's rule on ``n_grid`` log-spaced points from the lowest positive to
    the highest tested x.
    """
    if result.data.x.ndim == 3:
        raise ValueError("auc needs a single predictor")
    lo, hi = et_range(result)
    u = np.linspace(0.0, 1.0, n_grid)[:, None]
    log2x = np.log2(lo) + u * (np.log2(hi) - np.log2(lo))
    x = 2.0**log2x
    return integrate.simpson(result.model.value(result.theta, x), x=log2x, axis=0)


def lytic_units(
    result: FitResult,
    percents: tuple[float, ...] = LU_PERCENTS,
    targets_per_well: float = TARGETS_PER_WELL,
    kind: Kind = "jtj",
    level: float = 0.95,
) -> dict[str, Interval]:
    """Lytic units per 10⁶ effector cells from exponential fits, ``{"lu20": …, "lu30": …}``.

    With y = A·(1 − exp(−k·x)) and x the E:T ratio, the E:T giving p % lysis is
    x_p = −ln(1 − p/A)/k, i.e. x_p·T effector cells for T target cells per well;
    one lytic unit (LU_p) is that number of effectors, so
    ``LU_p per 10⁶ effectors = 10⁶/(x_p·T)``. NaN when p ≥ A (the curve never
    reaches p %). Delta-method interval on the natural scale.

    >>> import numpy as np
    >>> from killcurve.fit.engine import fit_batch
    >>> x = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    >>> y = 60.0 * (1.0 - np.exp(-0.1 * x))
    >>> fit = fit_batch(x, y, model="exponential")
    >>> lu = lytic_units(fit, percents=(30.0,), targets_per_well=1e4)
    >>> round(float(lu["lu30"].estimate[0]), 4)  # x_30 = ln 2/0.1 = 6.93; 10⁶/(6.93·10⁴)
    14.427
    """
    if result.model.name != "exponential":
        raise ValueError(f"lytic units need the exponential model, not {result.model.name}")
    cov = covariance(result, kind)
    out = {}
    for p in percents:

        def lu(theta: Array, p: float = p) -> Array:
            with np.errstate(divide="ignore", invalid="ignore"):
                q = p / theta[0]
                x_p = np.where((q > 0) & (q < 1), -np.log1p(-q) / np.exp(theta[1]), np.nan)
                return 1.0e6 / (x_p * targets_per_well)

        out[f"lu{p:g}"] = delta_method(result, lu, kind, level, cov)
    return out


# --------------------------------------------------------------------------- profile likelihood


@dataclass(frozen=True)
class ProfileInterval:
    """Profile-likelihood limits (natural scale) and whether each closed within the search range."""

    lower: Array
    upper: Array
    lower_closed: Array
    upper_closed: Array


def profile_interval(
    result: FitResult,
    param: str = "et50",
    level: float = 0.95,
    limits: tuple[Array, Array] | None = None,
    max_steps: int = 40,
) -> ProfileInterval:
    """F-based profile-likelihood interval of one parameter for every curve.

    The interval is {θ_j : RSS_min(θ_j) ≤ RSS·(1 + F(level; 1, df)/df)},
    RSS_min(θ_j) the residual sum of squares re-minimised over the other free
    parameters with θ_j held. Each side is bracketed by stepping out in
    multiples of the Wald SE, then located by regula falsi (Illinois) on the
    signed root √((RSS(θ_j) − RSS)/s²) − √F. Searches run on the internal scale
    (ln et50 for et50) within ``limits`` (internal scale; default for ``log_``
    parameters of x: the tested range ×/÷ 100; otherwise ± 50 Wald SE); a side
    that does not close there is NaN with ``*_closed`` False.
    """
    model = result.model
    j = model.index(param)
    name = model.params[j]
    if not result.free[j]:
        raise ValueError(f"{param} is fixed in this fit")
    df = result.df_resid.astype(float)
    with np.errstate(all="ignore"):
        f_crit = np.where(df >= 1, stats.f.ppf(level, 1, np.maximum(df, 1)), np.nan)
    se = np.sqrt(np.diagonal(covariance(result, "jtj"), axis1=1, axis2=2))[:, j]
    est = result.theta[j]
    if limits is None:
        lo_x, hi_x = et_range(result)
        if name == "log_et50":
            limits = (np.log(lo_x / 100.0), np.log(hi_x * 100.0))
        else:
            span = np.where(np.isfinite(se), 50.0 * se, 1e3 * (1.0 + np.abs(est)))
            limits = (est - span, est + span)
    free = result.free.copy()
    free[j] = False
    settings = replace(result.settings, fallback=False)
    ok = result.converged & np.isfinite(f_crit) & np.isfinite(est)
    sides = []
    for sign, bound in ((-1.0, limits[0]), (1.0, limits[1])):
        sides.append(
            _profile_side(
                result, j, free, settings, sign, np.asarray(bound, float), se, f_crit, ok, max_steps
            )
        )
    (lower, lower_closed), (upper, upper_closed) = sides
    if is_log(name):
        lower, upper = np.exp(lower), np.exp(upper)
    lower = np.where(lower_closed, lower, np.nan)
    upper = np.where(upper_closed, upper, np.nan)
    return ProfileInterval(lower, upper, lower_closed, upper_closed)


def _profile_side(
    result: FitResult,
    j: int,
    free: Array,
    settings: Settings,
    sign: float,
    bound: Array,
    se: Array,
    f_crit: Array,
    ok: Array,
    max_steps: int,
) -> tuple[Array, Array]:
    """One side of :func:`profile_interval`: (limit on the internal scale, closed)."""
    data, model = result.data, result.model
    est, s2 = result.theta[j], result.sigma2
    root_f = np.sqrt(f_crit)

    def zeta(cols: Array, t: Array, start: Array) -> tuple[Array, Array]:
        theta0 = start.copy()
        theta0[j] = t
        theta, rss, *_ = solve(model, data.columns(cols), theta0, free, settings)
        excess = np.maximum(rss - result.rss[cols], 0.0)
        return np.sqrt(excess / s2[cols]) - root_f[cols], theta

    m = data.n_curves
    step = np.where(np.isfinite(se) & (se > 0), se * root_f, 0.5)
    inside_t, inside_z = est.copy(), -root_f.copy()
    inside_theta = result.theta.copy()
    out_t, out_z = np.full(m, np.nan), np.full(m, np.nan)
    pending = ok.copy()
    reach = np.ones(m)
    for _ in range(max_steps):
        cols = np.flatnonzero(pending)
        if not len(cols):
            break
        t = est[cols] + sign * step[cols] * reach[cols]
        past = sign * (t - bound[cols]) >= 0
        t = np.where(past, bound[cols], t)
        z, theta = zeta(cols, t, inside_theta[:, cols])
        crossed = z >= 0
        out_t[cols[crossed]], out_z[cols[crossed]] = t[crossed], z[crossed]
        stay = ~crossed & np.isfinite(z)
        keep = cols[stay]
        inside_t[keep], inside_z[keep] = t[stay], z[stay]
        inside_theta[:, keep] = theta[:, stay]
        pending[cols[crossed | past | ~np.isfinite(z)]] = False
        reach[cols] *= 2.0
    closed = np.isfinite(out_t)
    # regula falsi (Illinois) between the last inside point and the first outside point
    a_t, a_z, b_t, b_z = inside_t.copy(), inside_z.copy(), out_t.copy(), out_z.copy()
    a_theta = inside_theta.copy()
    side_last = np.zeros(m)
    active = closed.copy()
    for _ in range(max_steps):
        cols = np.flatnonzero(active)
        if not len(cols):
            break
        denom = b_z[cols] - a_z[cols]
        t = np.where(denom != 0, a_t[cols] - a_z[cols] * (b_t[cols] - a_t[cols]) / denom, a_t[cols])
        z, theta = zeta(cols, t, a_theta[:, cols])
        high = z >= 0
        hi_cols, lo_cols = cols[high], cols[~high]
        b_t[hi_cols], b_z[hi_cols] = t[high], z[high]
        a_t[lo_cols], a_z[lo_cols] = t[~high], z[~high]
        a_theta[:, lo_cols] = theta[:, ~high]
        # Illinois: halve the stale end's value when the same end moves twice
        a_z[hi_cols] = np.where(side_last[hi_cols] > 0, a_z[hi_cols] / 2, a_z[hi_cols])
        b_z[lo_cols] = np.where(side_last[lo_cols] < 0, b_z[lo_cols] / 2, b_z[lo_cols])
        side_last[hi_cols], side_last[lo_cols] = 1.0, -1.0
        width = np.abs(b_t[cols] - a_t[cols])
        done = (width <= 1e-9 * (1.0 + np.abs(t))) | (np.abs(z) <= 1e-9)
        active[cols[done]] = False
    limit = np.where(np.abs(a_z) < np.abs(b_z), a_t, b_t)
    return np.where(closed, limit, np.nan), closed


# --------------------------------------------------------------------------- bootstrap


def bootstrap_intervals(
    result: FitResult,
    n_boot: int = 200,
    method: Literal["residual", "parametric"] = "residual",
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[Array, Array]]:
    """Percentile bootstrap intervals of every natural parameter: {name: (lower, upper)}.

    ``residual``: each curve's standardised point residuals e = r·√w, centred and
    inflated by √(n/(n − p)), are resampled with replacement onto its fitted
    values as e*/√w (w the point's weight; 1 in an unweighted fit, where this is
    the plain residual bootstrap); ``parametric``: y* = fitted + N(0, s²/w). All
    n_boot × m refits run as one
    batch, started at the original estimates; replicates that do not converge
    are left out. Seeded: the same ``seed`` gives the same intervals.
    """
    rng = np.random.default_rng(seed)
    data = result.data
    m, n = data.n_curves, len(data.point_y)
    fitted = result.fitted()
    used = data.point_w > 0
    if method == "residual":
        root_w = np.sqrt(np.where(used, data.point_w, 1.0))
        resid = np.where(used, (data.point_y - fitted) * root_w, 0.0)
        n_c = np.bincount(data.point_curve, weights=used.astype(float), minlength=m)
        centre = np.bincount(data.point_curve, weights=resid, minlength=m) / np.maximum(n_c, 1)
        infl = np.sqrt(n_c / np.maximum(result.df_resid, 1))
        resid = np.where(used, (resid - centre[data.point_curve]) * infl[data.point_curve], 0.0)
        order = np.lexsort((~used, data.point_curve))  # used points first within each curve
        first = np.searchsorted(data.point_curve[order], np.arange(m))
        pick = first[data.point_curve] + np.floor(
            rng.random((n_boot, n)) * n_c[data.point_curve]
        ).astype(np.int64)
        noise = resid[order][np.minimum(pick, n - 1)] / root_w
    elif method == "parametric":
        sd = np.sqrt(result.sigma2[data.point_curve] / np.where(used, data.point_w, 1.0))
        noise = rng.normal(size=(n_boot, n)) * sd
    else:
        raise ValueError(f"method must be 'residual' or 'parametric', not {method!r}")
    boot = data.with_point_y(np.where(used, fitted + noise, data.point_y))
    start = np.tile(result.theta, (1, n_boot))
    theta, _, conv, *_ = solve(result.model, boot, start, result.free, result.settings)
    theta = np.where(conv, theta, np.nan).reshape(len(result.model.params), n_boot, m)
    alpha = (1.0 - level) / 2.0
    out = {}
    for j, (name, nat) in enumerate(
        zip(result.model.params, natural_names(result.model), strict=True)
    ):
        values = np.exp(theta[j]) if is_log(name) else theta[j]
        with np.errstate(all="ignore"):
            lo, hi = np.nanquantile(values, [alpha, 1.0 - alpha], axis=0)
        out[nat] = (lo, hi)
    return out


# --------------------------------------------------------------------------- summary


def summarise(
    result: FitResult,
    kind: Kind = "jtj",
    level: float = 0.95,
    response: float = 50.0,
    profile: bool = False,
) -> dict[str, Array]:
    """One value per curve, ready for a frame: parameters with SE and Wald limits, derived values.

    Keys: ``group``; per natural parameter ``<name>``, ``<name>_se``,
    ``<name>_lower``, ``<name>_upper``; ``et_at_50`` (``et_at_<response>``:
    the x at ``response`` % within the tested range, else NaN); ``emax``; ``auc``; ``rss``;
    ``df_resid``; ``aicc``; ``n_obs``; ``n_levels``; ``converged``; ``method``;
    with ``profile=True`` also ``et50_profile_lower``/``_upper`` (NaN when
    the side does not close) for models with et50.
    """
    cov = covariance(result, kind)
    out: dict[str, Array] = {"group": result.groups}
    for name, iv in wald_intervals(result, kind, level, cov).items():
        out[name], out[f"{name}_se"], out[f"{name}_lower"], out[f"{name}_upper"] = (
            iv.estimate,
            iv.se,
            iv.lower,
            iv.upper,
        )
    if result.model.inverse is not None:
        out[f"et_at_{response:g}"] = x_at_response(result, response)
    if result.model.limits is not None:
        out["emax"] = emax(result)
    if result.data.x.ndim == 2:
        out["auc"] = auc(result)
    out.update(
        rss=result.rss,
        df_resid=result.df_resid,
        aicc=aicc(result.rss, result.data.n_obs, result.n_free),
        n_obs=result.data.n_obs,
        n_levels=result.data.n_levels,
        converged=result.converged,
        method=result.method,
    )
    if profile and "log_et50" in result.model.params:
        prof = profile_interval(result, "et50", level)
        out["et50_profile_lower"], out["et50_profile_upper"] = prof.lower, prof.upper
    return out
