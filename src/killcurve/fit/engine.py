"""Least-squares fits of many curves at once: batched Levenberg–Marquardt with a scipy fallback.

:func:`fit_batch` stacks the points into padded per-curve level arrays
(:mod:`killcurve.fit.data`) and minimises, for every curve at once,

    RSS(θ) = Σ_i w_i (y_i − f(x_i; θ))²   (unweighted: w_i = 1)

over the free internal parameters θ (:mod:`killcurve.fit.models`). Each
iteration solves the small q×q damped normal equations of all active curves
at once (a Cholesky factorisation written over the curve axis),

    (J′WJ + λ·D) δ = −J′W r,   r = f − y,

with analytic Jacobians J, Marquardt scaling D = running max of diag(J′WJ)
and a per-curve damping λ updated from the gain ratio
ρ = actual / predicted reduction (Nielsen's rule: accepted steps scale λ by
max(1/3, 1 − (2ρ − 1)³), rejected steps by 2, 4, 8, …). ``solver="svd"``
takes the step from an SVD of the column-scaled √W·J instead of the normal
equations (slower, accurate on ill-conditioned problems such as the NIST
StRD set).

Convergence is judged per curve, as MINPACK does: the gradient test
max_j |(J′Wr)_j| / √((J′WJ)_jj · RSS) ≤ gtol; the relative-reduction test
(actual and predicted reductions ≤ ftol·RSS); or the step test
‖√D·δ‖ ≤ xtol·‖√D·θ‖. Converged curves leave the batch. Curves that stop
without converging (``max_iter`` reached, damping beyond 10¹⁶) or converge
where a parameter has lost all influence (see :func:`_levenberg_marquardt`)
are refitted one by one with ``scipy.optimize.least_squares``
(``method="trf"``, ``x_scale="jac"``, from the last iterate and from the
start, then an ``lm`` polish); their ``method`` is ``"trf"``. Curves whose
iterates run off towards infinity (the model's ``runaway`` region, e.g. a
curve still rising at the highest E:T) are reported as not converged without
a fallback, which could not do better.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize

from killcurve.fit.data import CurveData, stack_curves
from killcurve.fit.models import Model, get_model, internal_value, natural_names, to_natural

Array = np.ndarray
Solver = Literal["normal", "svd"]
#: Smallest tolerance scipy's least_squares accepts.
_EPS = float(np.finfo(float).eps)
#: Fit outcomes per curve.
_CONVERGED, _STUCK, _RUNAWAY, _DEGENERATE = 0, 1, 2, 3
#: A parameter has lost its influence when its Jacobian column's squared norm falls below
#: this fraction of its value at the start.
_DEGENERACY = 1e-16


@dataclass(frozen=True)
class Settings:
    """Convergence settings (relative tolerances, see the module docstring)."""

    ftol: float = 1e-10
    xtol: float = 1e-8
    gtol: float = 1e-8
    max_iter: int = 100
    #: Iterations in a row inside the model's runaway region before a curve is given up.
    runaway_iter: int = 5
    #: Function evaluations allowed to each scipy fallback run.
    fallback_nfev: int = 200
    solver: Solver = "normal"
    fallback: bool = True
    #: Initial damping, relative to the scaled diagonal (1 after scaling).
    lambda0: float = 1e-3


@dataclass(frozen=True)
class FitResult:
    """Fits of m curves with one model.

    ``theta`` (p, m) internal parameters at the optimum, one column per curve
    (fixed ones at their value); ``free`` (p,) which parameters were
    estimated; ``start`` (p, m) the starting values; ``rss`` (m,) residual
    sum of squares over all points (weighted if weights were given);
    ``converged`` (m,) bool; ``n_iter`` (m,) batch iterations; ``method``
    (m,) ``"lm"`` (batch), ``"trf"`` (scipy fallback) or ``"none"`` (no usable
    point or no finite start: not fitted).
    """

    model: Model
    data: CurveData
    theta: Array
    free: Array
    start: Array
    rss: Array
    converged: Array
    n_iter: Array
    method: Array
    settings: Settings

    @property
    def groups(self) -> Array:
        """Curve labels (m,), in sorted order."""
        return self.data.groups

    @property
    def n_free(self) -> int:
        """Number of estimated parameters per curve."""
        return int(self.free.sum())

    @property
    def df_resid(self) -> Array:
        """Residual degrees of freedom per curve: points − estimated parameters."""
        return self.data.n_obs - self.n_free

    @property
    def sigma2(self) -> Array:
        """Residual variance s² = RSS/(n − p); NaN when df < 1."""
        df = self.df_resid
        return np.where(df > 0, self.rss / np.maximum(df, 1), np.nan)

    def params(self) -> dict[str, Array]:
        """Natural-scale parameters by name (``et50`` rather than ``log_et50``)."""
        nat = to_natural(self.model, self.theta)
        return dict(zip(natural_names(self.model), nat, strict=True))

    def predict(self, x: Array) -> Array:
        """Fitted values at ``x``: (L,) shared by all curves, or (L, m); returns (L, m)."""
        x = np.asarray(x, dtype=float)
        if x.ndim == self.data.x.ndim - 1:
            x = np.broadcast_to(x[..., None], (*x.shape, self.data.n_curves))
        return self.model.value(self.theta, x)

    def fitted(self) -> Array:
        """Fitted value of every input point (N,), in the caller's order."""
        return self.data.point_values(self.model.value(self.theta, self.data.x))

    def residuals(self) -> Array:
        """Observed − fitted for every input point (N,), in the caller's order."""
        return self.data.point_y - self.fitted()


def fit_batch(
    x: Array,
    y: Array,
    group: Array | None = None,
    model: Model | str = "4pl",
    fixed: Mapping[str, float | Array] | None = None,
    start: Mapping[str, float | Array] | Array | None = None,
    weights: Array | None = None,
    settings: Settings | None = None,
) -> FitResult:
    """Fit ``model`` to every curve in ``group`` by (weighted) least squares.

    x (N,) E:T ratios (or (N, k) predictors), y (N,) responses, group (N,)
    curve labels (None: one curve), weights (N,) ≥ 0. ``fixed`` holds
    parameters at a value, by internal or natural name (``{"bottom": 0}``,
    ``{"et50": 3.0}``), one value for all curves or one per curve (m,) in
    sorted label order; a model's own fixed values (3PL bottom = 0) apply unless
    overridden. ``start`` replaces the data-driven starting values: internal
    values (p,) or (p, m), or a mapping by name.

    >>> xs = np.repeat([0.5, 1.0, 2.0, 4.0, 8.0, 16.0], 2)
    >>> ys = 5.0 + 80.0 / (1.0 + (3.0 / xs) ** 1.5)
    >>> res = fit_batch(xs, ys, model="4pl")
    >>> bool(res.converged[0]), round(float(res.params()["et50"][0]), 6)
    (True, 3.0)
    """
    data = stack_curves(x, y, group, weights)
    return fit_data(data, model, fixed=fixed, start=start, settings=settings)


def fit_data(
    data: CurveData,
    model: Model | str,
    fixed: Mapping[str, float | Array] | None = None,
    start: Mapping[str, float | Array] | Array | None = None,
    settings: Settings | None = None,
) -> FitResult:
    """:func:`fit_batch` on curves already stacked with :func:`~killcurve.fit.data.stack_curves`."""
    model = get_model(model) if isinstance(model, str) else model
    settings = settings or Settings()
    theta0, free = initial_theta(model, data, fixed, start)
    theta, rss, converged, n_iter, method = solve(model, data, theta0, free, settings)
    return FitResult(
        model=model,
        data=data,
        theta=theta,
        free=free,
        start=theta0,
        rss=rss,
        converged=converged,
        n_iter=n_iter,
        method=method,
        settings=settings,
    )


def initial_theta(
    model: Model,
    data: CurveData,
    fixed: Mapping[str, float | Array] | None,
    start: Mapping[str, float | Array] | Array | None,
) -> tuple[Array, Array]:
    """Starting values (p, m) and the free-parameter mask (p,) after ``start`` and ``fixed``."""
    m, p = data.n_curves, len(model.params)
    if start is not None and not isinstance(start, Mapping):
        given = np.asarray(start, dtype=float)
        theta = np.broadcast_to(given.reshape(p, -1), (p, m)).copy()
    elif model.start is not None:
        with np.errstate(all="ignore"):
            theta = np.asarray(model.start(data.x, data.y, data.w), dtype=float).copy()
    else:
        raise ValueError(f"model {model.name} has no data-driven start: give start=")
    if isinstance(start, Mapping):
        for name, value in start.items():
            internal, val = internal_value(model, name, value)
            theta[model.params.index(internal)] = val
    free = np.ones(p, dtype=bool)
    for name, value in {**model.fixed, **(fixed or {})}.items():
        internal, val = internal_value(model, name, value)
        j = model.params.index(internal)
        theta[j] = val
        free[j] = False
    return theta, free


def solve(
    model: Model, data: CurveData, theta0: Array, free: Array, settings: Settings
) -> tuple[Array, Array, Array, Array, Array]:
    """Minimise RSS for every curve from ``theta0`` (p, m) over the ``free`` parameters.

    Returns (θ (p, m), RSS (m,), converged (m,), batch iterations (m,), method (m,)).
    """
    m = data.n_curves
    fidx = np.flatnonzero(free)
    usable = (data.n_obs > 0) & np.all(np.isfinite(theta0), axis=0)
    theta = theta0.copy()
    cost = np.full(m, np.nan)
    status = np.full(m, _STUCK)
    n_iter = np.zeros(m, dtype=np.int64)
    method = np.where(usable, "lm", "none").astype(object)
    cols = np.flatnonzero(usable)
    sub = data.columns(cols)
    if len(cols) and len(fidx):
        th, c, stat, it = _levenberg_marquardt(model, sub, theta0[:, cols], fidx, settings)
        theta[:, cols], cost[cols], status[cols], n_iter[cols] = th, c, stat, it
    elif len(cols):
        with np.errstate(all="ignore"):
            r = model.value(theta0[:, cols], sub.x) - sub.y
        cost[cols] = (sub.w * r * r).sum(axis=0)
        status[cols] = np.where(np.isfinite(cost[cols]), _CONVERGED, _STUCK)
    if settings.fallback and len(fidx):
        for i in np.flatnonzero(usable & ((status == _STUCK) | (status == _DEGENERATE))):
            candidates = [theta[:, i], theta0[:, i]]
            if status[i] == _DEGENERATE:
                candidates.reverse()
            th, c, stat = _fallback(model, data.columns(np.array([i])), candidates, fidx, settings)
            if stat == _CONVERGED or not np.isfinite(cost[i]) or c < cost[i]:
                theta[:, i], cost[i], status[i], method[i] = th, c, stat, "trf"
    converged = status == _CONVERGED
    return theta, cost + data.pe_ss, converged, n_iter, method.astype(str)


def _normal(jac: list[Array], w: Array, r: Array) -> tuple[Array, Array]:
    """J′WJ (q, q, a) and J′Wr (q, a) of stacked curves from the q Jacobian columns (L, a).

    Few parameters (one curve's q ≤ 6): q(q + 1)/2 + q element-wise sums over the
    curve axis. Many (a global fit of hundreds of curves): one batched matrix
    product per curve stack (BLAS), since q² separate sums would cost seconds
    per iteration in call overhead alone.
    """
    q, a = len(jac), r.shape[1]
    if q > 6:
        stacked = np.stack(jac).transpose(2, 0, 1)  # (a, q, L)
        weighted = stacked * w.T[:, None, :]
        big_a = (weighted @ stacked.transpose(0, 2, 1)).transpose(1, 2, 0)
        return big_a, (weighted @ r.T[..., None])[..., 0].T
    big_a, g = np.empty((q, q, a)), np.empty((q, a))
    for i in range(q):
        g[i] = np.einsum("la,la,la->a", jac[i], w, r)
        for j in range(i + 1):
            big_a[i, j] = big_a[j, i] = np.einsum("la,la,la->a", jac[i], w, jac[j])
    return big_a, g


def _diagonal(a: Array) -> Array:
    """Diagonals (q, a) of stacked matrices (q, q, a)."""
    return np.einsum("iia->ia", a)


def _spd_solve(mat: Array, rhs: Array) -> Array:
    """Solve stacked symmetric positive-definite systems mat (q, q, a) · x = rhs (q, a).

    For many curves and small q, a Cholesky factorisation written out over the
    curve axis (a few dozen vector operations); otherwise numpy's batched solver.
    """
    q, a = rhs.shape
    if q > 6 or a < 256:
        return np.linalg.solve(mat.transpose(2, 0, 1), rhs.T[..., None])[..., 0].T
    low: list[list[Array]] = [[] for _ in range(q)]  # low[i][k], k ≤ i
    for j in range(q):
        d = mat[j, j].copy()
        for k in range(j):
            d -= low[j][k] ** 2
        d = np.sqrt(d)
        for i in range(j + 1, q):
            t = mat[i, j].copy()
            for k in range(j):
                t -= low[i][k] * low[j][k]
            low[i].append(t / d)
        low[j].append(d)
    z: list[Array] = []
    for i in range(q):
        t = rhs[i].copy()
        for k in range(i):
            t -= low[i][k] * z[k]
        z.append(t / low[i][i])
    out: list[Array] = [z[0]] * q
    for i in range(q - 1, -1, -1):
        t = z[i].copy()
        for k in range(i + 1, q):
            t -= low[k][i] * out[k]
        out[i] = t / low[i][i]
    return np.stack(out)


def _svd_parts(jac: list[Array], w: Array, r: Array, scale: Array) -> tuple[Array, Array, Array]:
    """SVD pieces of the scaled system √W·J·S⁻¹ per curve: V (a, q, k), σ (a, k), U′√W r (a, k)."""
    sw = np.sqrt(w)
    scaled = np.nan_to_num((np.stack(jac) * sw / scale[:, None, :]).transpose(2, 1, 0))
    u, sig, vt = np.linalg.svd(scaled, full_matrices=False)
    b = (u.transpose(0, 2, 1) @ (sw * r).T[..., None])[..., 0]
    return vt.transpose(0, 2, 1), sig, b


def _gradient_small(big_a: Array, g: Array, total: Array, gtol: float) -> Array:
    """MINPACK's gradient test: max_j |g_j| / √(A_jj · RSS) ≤ gtol (or RSS = 0)."""
    denom = np.sqrt(np.maximum(_diagonal(big_a), 0.0) * total)
    cosine = (np.abs(g) / np.where(denom > 0, denom, np.inf)).max(axis=0)
    return (cosine <= gtol) | (total <= np.finfo(float).tiny)


@dataclass
class _Batch:
    """The curves still iterating (curves last); ``idx`` are their columns in the input."""

    idx: Array
    x: Array
    y: Array
    w: Array
    pe: Array
    lo: Array
    hi: Array
    theta: Array
    cost: Array
    big_a: Array
    g: Array
    scale2: Array
    initial: Array
    lam: Array
    nu: Array
    its: Array
    runs: Array
    svd: tuple[Array, ...] | None

    def keep(self, keep: Array) -> None:
        """Drop the curves not in ``keep`` (a mask) from every array."""
        cols = np.flatnonzero(keep)
        for name in ("idx", "pe", "lo", "hi", "cost", "lam", "nu", "its", "runs"):
            setattr(self, name, getattr(self, name)[cols])
        for name in ("x", "y", "w", "theta", "big_a", "g", "scale2", "initial"):
            setattr(self, name, np.take(getattr(self, name), cols, axis=-1))
        if self.svd is not None:
            self.svd = tuple(part[cols] for part in self.svd)


def _levenberg_marquardt(
    model: Model, data: CurveData, theta: Array, fidx: Array, st: Settings
) -> tuple[Array, Array, Array, Array, Array]:
    """Batched LM over the columns of ``theta`` (p, m).

    Returns (θ, level cost Σ w r², status, iterations). Status: converged;
    stuck (no convergence within ``max_iter``, or damping beyond 10¹⁶); runaway
    (the iterate stayed ``runaway_iter`` iterations in the model's ``runaway``
    region: the least-squares optimum lies at infinity); degenerate (converged
    where a parameter has lost its influence: its Jacobian column's norm fell
    below 10⁻⁸ of its norm at the start, so the point is not an identified
    minimum, e.g. BoxBOD from NIST start 1).
    """
    m = theta.shape[1]
    out_theta, out_cost = theta.copy(), np.full(m, np.nan)
    out_status, out_iter = np.full(m, _STUCK), np.zeros(m, dtype=np.int64)
    with np.errstate(all="ignore"):
        f, jac = model.value_and_jacobian(theta, data.x)
        r = f - data.y
        cost = np.einsum("la,la->a", data.w * r, r)
        out_cost[:] = cost
        big_a, g = _normal([jac[j] for j in fidx], data.w, r)
    diag = _diagonal(big_a)
    scale2 = np.maximum(diag, np.maximum(diag.max(axis=0) * 1e-30, np.finfo(float).tiny))
    x_lo, x_hi = data.x_range()
    b = _Batch(
        idx=np.arange(m),
        x=data.x,
        y=data.y,
        w=data.w,
        pe=data.pe_ss,
        lo=x_lo,
        hi=x_hi,
        theta=theta.copy(),
        cost=cost,
        big_a=big_a,
        g=g,
        scale2=scale2,
        initial=diag.copy(),
        lam=np.full(m, st.lambda0),
        nu=np.full(m, 2.0),
        its=np.zeros(m, dtype=np.int64),
        runs=np.zeros(m, dtype=np.int64),
        svd=None,
    )
    b.keep(np.isfinite(cost))
    if st.solver == "svd":
        b.svd = _svd_parts([jac[j][..., b.idx] for j in fidx], b.w, r[:, b.idx], np.sqrt(b.scale2))
    diag_q = np.arange(len(fidx))
    done = _gradient_small(b.big_a, b.g, b.cost + b.pe, st.gtol)
    alive = np.ones(len(b.idx), dtype=bool)
    for _ in range(st.max_iter + 1):
        gone = ~done & (b.runs >= st.runaway_iter)
        leave = alive & (done | gone | (b.lam > 1e16) | (b.its >= st.max_iter))
        if leave.any():
            at = b.idx[leave]
            out_theta[:, at], out_cost[at], out_iter[at] = (
                b.theta[:, leave],
                b.cost[leave],
                b.its[leave],
            )
            lost = np.any(_diagonal(b.big_a) <= _DEGENERACY * b.initial, axis=0)
            status = np.select(
                [gone, done & lost, done], [_RUNAWAY, _DEGENERATE, _CONVERGED], _STUCK
            )
            out_status[at] = status[leave]
            alive &= ~leave
            n_alive = int(alive.sum())
            if not n_alive:
                break
            if n_alive <= 0.9 * len(alive):  # compact once a tenth of the batch has left
                b.keep(alive)
                alive = np.ones(n_alive, dtype=bool)
        with np.errstate(all="ignore"):
            total = b.cost + b.pe
            if b.svd is None:
                mat = b.big_a.copy()
                mat[diag_q, diag_q] += b.lam * b.scale2
                step = _spd_solve(mat, -b.g)
            else:
                v, sig, u_r = b.svd
                step_s = -(v @ (sig / (sig**2 + b.lam[:, None]) * u_r)[..., None])[..., 0].T
                step = step_s / np.sqrt(b.scale2)
            trial = b.theta.copy()
            trial[fidx] += step
            f_new, jac_new = model.value_and_jacobian(trial, b.x)
            r_new = f_new - b.y
            c_new = np.einsum("la,la->a", b.w * r_new, r_new)
            pred = b.lam * np.einsum("ia,ia->a", b.scale2 * step, step) - np.einsum(
                "ia,ia->a", step, b.g
            )
            actual = b.cost - c_new
            rho = actual / pred
            ok = alive & np.isfinite(c_new) & (pred > 0) & (rho > 1e-4)
            small_f = (np.abs(actual) <= st.ftol * total) & (pred <= st.ftol * total) & (rho <= 2.0)
            x_norm = np.sqrt(np.einsum("ia,ia->a", b.scale2 * b.theta[fidx], b.theta[fidx]))
            small_x = np.sqrt(np.einsum("ia,ia->a", b.scale2 * step, step)) <= st.xtol * (
                x_norm + st.xtol
            )
            factor = np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
            b.lam = np.where(ok, b.lam * np.where(np.isfinite(factor), factor, 1.0), b.lam * b.nu)
            b.nu = np.where(ok, 2.0, 2.0 * b.nu)
            jac_f = [jac_new[j] for j in fidx]
            a_new, g_new = _normal(jac_f, b.w, r_new)
            scale2 = np.maximum(b.scale2, _diagonal(a_new))
            if ok.all():
                b.theta, b.cost, b.big_a, b.g, b.scale2 = trial, c_new, a_new, g_new, scale2
            else:
                b.theta = np.where(ok, trial, b.theta)
                b.cost = np.where(ok, c_new, b.cost)
                b.big_a = np.where(ok, a_new, b.big_a)
                b.g = np.where(ok, g_new, b.g)
                b.scale2 = np.where(ok, scale2, b.scale2)
            if b.svd is not None and ok.any():
                fresh = _svd_parts(
                    [c[..., ok] for c in jac_f], b.w[:, ok], r_new[:, ok], np.sqrt(b.scale2[:, ok])
                )
                for old, new in zip(b.svd, fresh, strict=True):
                    old[ok] = new
            done = (
                small_f
                | (np.isfinite(c_new) & small_x)
                | (ok & _gradient_small(b.big_a, b.g, b.cost + b.pe, st.gtol))
            )
        b.its += 1
        if model.runaway is not None:
            b.runs = np.where(model.runaway(b.theta, b.lo, b.hi), b.runs + 1, 0)
    return out_theta, out_cost, out_status, out_iter


def _fallback(
    model: Model, one: CurveData, candidates: list[Array], fidx: Array, st: Settings
) -> tuple[Array, float, int]:
    """One curve with scipy: trf (x_scale='jac') then an lm polish, from each candidate in turn.

    Stops at the first candidate that converges to a non-degenerate point;
    otherwise returns the lowest-cost run. Returns (θ (p,), level cost, status).
    """
    keep = one.w[:, 0] > 0
    xc, yc, sw = one.x[..., keep, :], one.y[keep, 0], np.sqrt(one.w[keep, 0])
    base = candidates[0].copy()

    def full(free_values: Array) -> Array:
        th = base.copy()
        th[fidx] = free_values
        return th[:, None]

    def resid(free_values: Array) -> Array:
        return sw * (model.value(full(free_values), xc)[:, 0] - yc)

    def jac(free_values: Array) -> Array:
        cols = model.jacobian(full(free_values), xc)
        return sw[:, None] * np.stack([cols[j][:, 0] for j in fidx], axis=1)

    tol = {k: max(getattr(st, k), _EPS) for k in ("ftol", "xtol", "gtol")}
    best: tuple[Array, float, int] = (base, np.inf, _STUCK)
    for cand in candidates:
        if not np.all(np.isfinite(cand)):
            continue
        runs = []
        with np.errstate(all="ignore"):
            try:
                first = optimize.least_squares(
                    resid,
                    cand[fidx],
                    jac=jac,
                    method="trf",
                    x_scale="jac",
                    max_nfev=st.fallback_nfev,
                    **tol,
                )
                runs.append(first)
                if len(yc) >= len(fidx):
                    runs.append(
                        optimize.least_squares(
                            resid,
                            first.x,
                            jac=jac,
                            method="lm",
                            x_scale="jac",
                            max_nfev=st.fallback_nfev,
                            **tol,
                        )
                    )
            except (ValueError, np.linalg.LinAlgError):
                pass
            norm0 = (jac(cand[fidx]) ** 2).sum(axis=0)
        for res in runs:
            cost = 2.0 * float(res.cost)
            if not (np.isfinite(cost) and cost <= best[1]):
                continue
            with np.errstate(all="ignore"):
                lost = np.any((res.jac**2).sum(axis=0) <= _DEGENERACY * norm0)
            status = _STUCK if res.status <= 0 else _DEGENERATE if lost else _CONVERGED
            best = (full(res.x)[:, 0], cost, status)
        if best[2] == _CONVERGED:
            break
    return best
