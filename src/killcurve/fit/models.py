"""Curve models: value, analytic Jacobian and data-driven starting values, batched over curves.

Models work on many curves at once in a curves-last layout, so that every
parameter is a plain (m,) array that broadcasts over the data: ``theta`` is
(p, m), one row per parameter and one column per curve; ``x`` is (L, m) (or
(k, L, m) for a model with k predictors); ``value`` returns (L, m) and
``jacobian`` a list of p arrays (L, m), ∂y/∂θ_j (a list, not a stacked
array, so the engine forms J′WJ without copying J). y is % lysis and x the E:T
ratio (effector cells per target cell, > 0; x = 0 is allowed as the limit
x → 0, e.g. an untreated control).

Internal parameters whose name starts with ``log_`` are natural logarithms:
``log_et50`` is ln(et50). Their natural value is ``exp`` of the internal one
and is named without the prefix (``et50``); :func:`internal_value` maps a
natural name and value to the internal ones, so callers may fix or start a
parameter by either name.

Models (``MODELS``):

* ``4pl``: ``y = bottom + (top − bottom)/(1 + (et50/x)^hill)``, parameters
  (bottom, top, log_et50, hill). With hill > 0 the curve rises from bottom
  (x → 0) to top (x → ∞); with hill < 0 it falls from top to bottom. et50 is
  both the half-maximal point and the inflection point on the log-x scale.
  The formula is unchanged by (bottom, top, hill) → (top, bottom, −hill); the
  data-driven start picks the form with top > bottom and the sign of hill
  giving the direction (drc's convention), and fits normally stay in it.
* ``3pl``: the 4PL with bottom fixed (default 0; fix another value with ``fixed``).
* ``5pl``: ``y = bottom + (top − bottom)/(1 + (et50/x)^hill)^s``, parameters
  (bottom, top, log_et50, hill, log_s), s > 0. Here et50 is the E:T where the
  curve has covered the fraction 2^(−s) of its span, so it is neither the
  half-maximal nor the inflection point unless s = 1. Half-maximal point
  (y = (bottom + top)/2): ``et50·(2^(1/s) − 1)^(−1/hill)``; inflection point on
  the log-x scale: ``et50·s^(1/hill)`` (see :func:`five_pl_points`).
* ``exponential``: the lytic-unit model ``y = A·(1 − exp(−k·x))``, parameters
  (A, log_k); A is the plateau (% lysis) and k the rate per unit E:T.

:func:`generic_model` wraps any user function and Jacobian (used for the NIST
StRD validation problems).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray
ValueFn = Callable[[Array, Array], Array]
JacobianFn = Callable[[Array, Array], list[Array]]
BothFn = Callable[[Array, Array], tuple[Array, list[Array]]]
StartFn = Callable[[Array, Array, Array], Array]
InverseFn = Callable[[Array, Array], Array]
LimitsFn = Callable[[Array], tuple[Array, Array]]
RunawayFn = Callable[[Array, Array, Array], Array]


@dataclass(frozen=True)
class Model:
    """A curve model on stacked curves (curves-last layout, see the module docstring).

    ``value(theta, x)`` → (L, m); ``jacobian(theta, x)`` → list of p arrays (L, m);
    ``both(theta, x)`` → (value, jacobian) in one pass when the model can share
    work; ``start(x, y, w)`` → (p, m) from the level means ``y`` and their
    weights ``w`` (0 marks padding); ``inverse(theta, y)`` → the x (m,) at which
    each curve reaches ``y`` (m,), NaN if it never does; ``limits(theta)`` →
    the responses as x → 0 and as x → ∞; ``runaway(theta, x_lo, x_hi)`` → True
    where the parameters have left the region that can hold a finite
    least-squares optimum for data on [x_lo, x_hi] (the fit is drifting to
    infinity, e.g. a curve still rising at the highest E:T); ``fixed`` holds
    parameters at a value unless the caller says otherwise (3PL: bottom = 0).
    """

    name: str
    params: tuple[str, ...]
    value: ValueFn
    jacobian: JacobianFn
    both: BothFn | None = None
    start: StartFn | None = None
    inverse: InverseFn | None = None
    limits: LimitsFn | None = None
    runaway: RunawayFn | None = None
    fixed: Mapping[str, float] = field(default_factory=dict)
    formula: str = ""

    def value_and_jacobian(self, theta: Array, x: Array) -> tuple[Array, list[Array]]:
        """(value, jacobian) at θ, shared work when the model offers it."""
        if self.both is not None:
            return self.both(theta, x)
        return self.value(theta, x), self.jacobian(theta, x)

    def index(self, name: str) -> int:
        """Row of the parameter ``name`` (internal or natural name) in θ."""
        internal, _ = internal_value(self, name, 1.0)
        return self.params.index(internal)


def natural_names(model: Model) -> tuple[str, ...]:
    """Parameter names on the natural scale: ``log_et50`` → ``et50``.

    >>> natural_names(FOUR_PL)
    ('bottom', 'top', 'et50', 'hill')
    """
    return tuple(p.removeprefix("log_") for p in model.params)


def is_log(name: str) -> bool:
    """True for an internal parameter stored as a natural logarithm (``log_`` prefix)."""
    return name.startswith("log_")


def to_natural(model: Model, theta: Array) -> Array:
    """Internal parameters (p, …) to natural ones: exp of every ``log_`` row.

    >>> to_natural(FOUR_PL, np.array([0.0, 90.0, np.log(2.5), 1.3]))
    array([ 0. , 90. ,  2.5,  1.3])
    """
    out = np.array(theta, dtype=float, copy=True)
    for j, name in enumerate(model.params):
        if is_log(name):
            out[j] = np.exp(out[j])
    return out


def internal_value(model: Model, name: str, value: float | Array) -> tuple[str, float | Array]:
    """Map a parameter given by internal or natural name to (internal name, internal value).

    >>> internal_value(FOUR_PL, "et50", 1.0)
    ('log_et50', 0.0)
    >>> internal_value(FOUR_PL, "log_et50", 1.0)
    ('log_et50', 1.0)
    """
    if name in model.params:
        return name, value
    log_name = f"log_{name}"
    if log_name in model.params:
        with np.errstate(divide="ignore"):
            logged = np.log(value)
        return log_name, float(logged) if np.ndim(logged) == 0 else logged
    raise KeyError(f"model {model.name} has no parameter {name!r}; parameters: {model.params}")


# --------------------------------------------------------------------------- helpers


def _valid(x: Array, w: Array) -> Array:
    return (w > 0) & np.isfinite(x)


def _log_x(x: Array) -> tuple[Array, Array | None]:
    """ln x and, when some x = 0, the mask of those points (ln 0 = −∞)."""
    zero = x <= 0
    if zero.any():
        with np.errstate(divide="ignore"):
            return np.log(x), zero
    return np.log(x), None


def _start_log_x(x: Array, valid: Array) -> Array:
    """ln x for starting values, with x = 0 placed one ln-unit below the lowest positive x."""
    lowest = np.where(valid & (x > 0), x, np.inf).min(axis=0)
    lowest = np.where(np.isfinite(lowest), lowest, 1.0)
    return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.log(lowest) - 1.0)


def _weighted_line(t: Array, z: Array, w: Array) -> tuple[Array, Array]:
    """Per-curve weighted least-squares line z ≈ a + b·t over axis 0; b = 0 when degenerate."""
    sw = w.sum(axis=0)
    safe = np.where(sw > 0, sw, 1.0)
    tm = (w * t).sum(axis=0) / safe
    zm = (w * z).sum(axis=0) / safe
    stt = (w * (t - tm) ** 2).sum(axis=0)
    stz = (w * (t - tm) * (z - zm)).sum(axis=0)
    b = np.where(stt > 0, stz / np.where(stt > 0, stt, 1.0), 0.0)
    return zm - b * tm, b


def _log_range(x_lo: Array, x_hi: Array) -> tuple[Array, Array]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x_lo), np.log(x_hi)


# --------------------------------------------------------------------------- 4PL / 3PL


def _logistic(theta: Array, x: Array) -> tuple[Array, Array, Array | None]:
    """g = 1/(1 + (et50/x)^hill) = 1/(1 + exp(hill·u)) with u = ln et50 − ln x.

    Returns (g, u, mask of x = 0 or None).
    """
    lx, zero = _log_x(x)
    u = theta[2] - lx
    z = theta[3] * u
    if zero is not None:
        z = np.where(np.isnan(z), 0.0, z)  # hill = 0 at x = 0: a flat curve
    with np.errstate(over="ignore"):
        g = 1.0 / (1.0 + np.exp(z))
    return g, u, zero


def four_pl_value(theta: Array, x: Array) -> Array:
    """4PL values, θ = (bottom, top, log_et50, hill).

    >>> four_pl_value(np.array([0.0, 80.0, np.log(4.0), 1.5]), np.array([4.0, 0.0]))
    array([40.,  0.])
    """
    g, _, _ = _logistic(theta, x)
    return theta[0] + (theta[1] - theta[0]) * g


def four_pl_both(theta: Array, x: Array) -> tuple[Array, list[Array]]:
    """4PL values and ∂y/∂(bottom, top, log_et50, hill).

    With Δ = top − bottom: (1 − g, g, −Δ·g(1−g)·hill, −Δ·g(1−g)·u).
    """
    g, u, zero = _logistic(theta, x)
    span = theta[1] - theta[0]
    slope = -span * g * (1.0 - g)
    if zero is not None:
        u = np.where(zero, 0.0, u)  # the x → 0 limit: g is flat in hill there
    return theta[0] + span * g, [1.0 - g, g, slope * theta[3], slope * u]


def four_pl_jacobian(theta: Array, x: Array) -> list[Array]:
    """∂y/∂(bottom, top, log_et50, hill); see :func:`four_pl_both`."""
    return four_pl_both(theta, x)[1]


def four_pl_start(x: Array, y: Array, w: Array) -> Array:
    """Data-driven 4PL starts (4, m) from level means ``y`` (weights ``w``, 0 = padding).

    Direction (sign of hill) from the weighted slope of y on ln x; bottom and top
    from the lowest and highest mean; hill and et50 from a weighted straight line
    of logit((y − bottom)/(top − bottom)) on ln x (logit g = hill·(ln x − ln et50));
    then bottom and top re-estimated by linear least squares given that g.
    """
    valid = _valid(x, w)
    wv = np.where(valid, w, 0.0)
    t = _start_log_x(x, valid)
    lo = np.where(valid, y, np.inf).min(axis=0)
    hi = np.where(valid, y, -np.inf).max(axis=0)
    lo, hi = np.where(np.isfinite(lo), lo, 0.0), np.where(np.isfinite(hi), hi, 1.0)
    span = np.where(hi > lo, hi - lo, 1.0)
    _, direction = _weighted_line(t, y, wv)
    sign = np.where(direction < 0, -1.0, 1.0)
    q = np.clip((y - lo) / span, 0.05, 0.95)
    a, b = _weighted_line(t, np.log(q / (1.0 - q)), wv * q * (1.0 - q))
    usable = (b * sign > 0) & np.isfinite(b)
    hill = np.where(usable, np.clip(np.abs(b), 0.3, 5.0) * sign, sign)
    t_lo = np.where(valid, t, np.inf).min(axis=0)
    t_hi = np.where(valid, t, -np.inf).max(axis=0)
    t_mid = np.where(np.isfinite(t_lo + t_hi), (t_lo + t_hi) / 2.0, 0.0)
    log_et50 = np.where(usable, -a / np.where(usable, b, 1.0), t_mid)
    log_et50 = np.clip(log_et50, t_lo - 2.0, t_hi + 2.0)
    log_et50 = np.where(np.isfinite(log_et50), log_et50, t_mid)
    with np.errstate(over="ignore"):
        g = 1.0 / (1.0 + np.exp(hill * (log_et50 - t)))
    bottom, top = _linear_ends(g, y, wv, lo, hi)
    return np.stack([bottom, top, log_et50, hill])


def _linear_ends(g: Array, y: Array, w: Array, lo: Array, hi: Array) -> tuple[Array, Array]:
    """Weighted least squares of y = bottom·(1 − g) + top·g per curve; (lo, hi) when singular."""
    a11 = (w * (1 - g) ** 2).sum(axis=0)
    a12 = (w * (1 - g) * g).sum(axis=0)
    a22 = (w * g**2).sum(axis=0)
    b1 = (w * (1 - g) * y).sum(axis=0)
    b2 = (w * g * y).sum(axis=0)
    det = a11 * a22 - a12**2
    ok = det > 1e-8 * np.maximum(a11 * a22, 1e-300)
    safe = np.where(ok, det, 1.0)
    return np.where(ok, (a22 * b1 - a12 * b2) / safe, lo), np.where(
        ok, (a11 * b2 - a12 * b1) / safe, hi
    )


def _logistic_inverse(theta: Array, y: Array) -> Array:
    """x at which a 4PL reaches y: ln x = ln et50 − ln(Δ/(y − bottom) − 1)/hill; NaN if never."""
    bottom, top, log_et50, hill = theta[:4]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (y - bottom) / (top - bottom)
        ok = (q > 0) & (q < 1) & (hill != 0)
        log_x = log_et50 - np.log(1.0 / q - 1.0) / hill
    return np.where(ok, np.exp(log_x), np.nan)


def _logistic_limits(theta: Array) -> tuple[Array, Array]:
    """(y as x → 0, y as x → ∞): (bottom, top) for hill > 0, (top, bottom) for hill < 0."""
    rising = theta[3] >= 0
    return np.where(rising, theta[0], theta[1]), np.where(rising, theta[1], theta[0])


def _logistic_runaway(theta: Array, x_lo: Array, x_hi: Array) -> Array:
    """Where a 4PL least-squares fit is drifting to infinity.

    et50 beyond the tested range ×/÷ e^5 (≈ 150); a curve so shallow that its
    logit moves by less than 0.5 across the tested range (|hill|·ln(x_hi/x_lo)
    < 0.5: a straight line in ln x with top and bottom running off); or a step
    (|hill| > 50).
    """
    l_lo, l_hi = _log_range(x_lo, x_hi)
    ahill = np.abs(theta[3])
    shallow = ahill * np.maximum(l_hi - l_lo, 1.0) < 0.5
    return (theta[2] < l_lo - 5.0) | (theta[2] > l_hi + 5.0) | shallow | (ahill > 50.0)


# --------------------------------------------------------------------------- 5PL


def five_pl_both(theta: Array, x: Array) -> tuple[Array, list[Array]]:
    """5PL values and ∂y/∂(bottom, top, log_et50, hill, log_s).

    G = g^s = exp(−s·softplus(z)), z = hill·u; dG/dz = −s·G·(1 − g),
    dG/d(log s) = −s·softplus(z)·G.
    """
    g, u, zero = _logistic(theta, x)
    s = np.exp(theta[4])
    z = theta[3] * u
    if zero is not None:
        z = np.where(np.isnan(z), 0.0, z)
        u = np.where(zero, 0.0, u)
    softplus = np.logaddexp(0.0, z)
    big_g = np.exp(-s * softplus)
    span = theta[1] - theta[0]
    slope = -span * s * big_g * (1.0 - g)
    shape = -span * s * np.multiply(softplus, big_g, out=np.zeros_like(big_g), where=big_g > 0)
    return theta[0] + span * big_g, [1.0 - big_g, big_g, slope * theta[3], slope * u, shape]


def five_pl_value(theta: Array, x: Array) -> Array:
    """5PL values, θ = (bottom, top, log_et50, hill, log_s): bottom + Δ·g^s.

    >>> th = np.array([0.0, 100.0, 0.0, 1.0, np.log(2.0)])
    >>> five_pl_value(th, np.array([1.0]))  # g = 1/2 at x = et50, so y = 100/2²
    array([25.])
    """
    return five_pl_both(theta, x)[0]


def five_pl_jacobian(theta: Array, x: Array) -> list[Array]:
    """∂y/∂(bottom, top, log_et50, hill, log_s); see :func:`five_pl_both`."""
    return five_pl_both(theta, x)[1]


def five_pl_start(x: Array, y: Array, w: Array) -> Array:
    """The 4PL starting values with s = 1 (log_s = 0)."""
    return np.concatenate([four_pl_start(x, y, w), np.zeros((1, y.shape[1]))])


def _five_pl_inverse(theta: Array, y: Array) -> Array:
    """x at which a 5PL reaches y: g = q^(1/s), ln x = ln et50 − ln(1/g − 1)/hill."""
    bottom, top, log_et50, hill, log_s = theta
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = (y - bottom) / (top - bottom)
        ok = (q > 0) & (q < 1) & (hill != 0)
        g = q ** np.exp(-log_s)
        log_x = log_et50 - np.log(1.0 / g - 1.0) / hill
    return np.where(ok, np.exp(log_x), np.nan)


def _five_pl_runaway(theta: Array, x_lo: Array, x_hi: Array) -> Array:
    """The 4PL region, or s outside e^(±5)."""
    return _logistic_runaway(theta, x_lo, x_hi) | (np.abs(theta[4]) > 5.0)


def five_pl_points(theta: Array) -> tuple[Array, Array]:
    """(half-maximal E:T, log-scale inflection E:T) of 5PL fits, θ (5, m).

    Half-maximal: ``et50·(2^(1/s) − 1)^(−1/hill)``; inflection of y against
    ln x: ``et50·s^(1/hill)``. Both equal et50 when s = 1.

    >>> half, infl = five_pl_points(np.array([[0.0], [100.0], [np.log(3.0)], [2.0], [0.0]]))
    >>> round(float(half[0]), 12), round(float(infl[0]), 12)
    (3.0, 3.0)
    """
    et50, hill, s = np.exp(theta[2]), theta[3], np.exp(theta[4])
    return et50 * (2.0 ** (1.0 / s) - 1.0) ** (-1.0 / hill), et50 * s ** (1.0 / hill)


# --------------------------------------------------------------------------- exponential


def exponential_both(theta: Array, x: Array) -> tuple[Array, list[Array]]:
    """Values and ∂y/∂(A, log_k) = (1 − e^(−kx), A·k·x·e^(−kx))."""
    k = np.exp(theta[1])
    rise = -np.expm1(-k * x)
    return theta[0] * rise, [rise, theta[0] * k * x * (1.0 - rise)]


def exponential_value(theta: Array, x: Array) -> Array:
    """Lytic-unit model ``A·(1 − exp(−k·x))``, θ = (A, log_k).

    >>> exponential_value(np.array([80.0, np.log(0.5)]), np.array([0.0, 2.0 * np.log(2.0)]))
    array([ 0., 40.])
    """
    return -theta[0] * np.expm1(-np.exp(theta[1]) * x)


def exponential_jacobian(theta: Array, x: Array) -> list[Array]:
    """∂y/∂(A, log_k); see :func:`exponential_both`."""
    return exponential_both(theta, x)[1]


def exponential_start(x: Array, y: Array, w: Array) -> Array:
    """A = 1.1 × the highest mean; k by a line through the origin of −ln(1 − y/A) on x."""
    valid = _valid(x, w)
    hi = np.where(valid, y, -np.inf).max(axis=0)
    a = np.where(np.isfinite(hi) & (hi > 0), 1.1 * hi, 1.0)
    frac = y / a
    use = valid & (frac > 0) & (frac < 1) & (x > 0)
    z = -np.log1p(-np.where(use, frac, 0.0))
    wz = np.where(use, w, 0.0)
    sxx = (wz * x * x).sum(axis=0)
    k = np.where(sxx > 0, (wz * x * z).sum(axis=0) / np.where(sxx > 0, sxx, 1.0), 0.0)
    x_mid = np.nanmedian(np.where(valid & (x > 0), x, np.nan), axis=0)
    k = np.where(k > 0, k, 1.0 / np.where(np.isfinite(x_mid), x_mid, 1.0))
    return np.stack([a, np.log(k)])


def _exponential_inverse(theta: Array, y: Array) -> Array:
    """x at which A·(1 − e^(−kx)) = y: x = −ln(1 − y/A)/k; NaN unless 0 < y/A < 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = y / theta[0]
        return np.where((q > 0) & (q < 1), -np.log1p(-q) / np.exp(theta[1]), np.nan)


def _exponential_limits(theta: Array) -> tuple[Array, Array]:
    return np.zeros_like(theta[0]), theta[0].copy()


def _exponential_runaway(theta: Array, x_lo: Array, x_hi: Array) -> Array:
    """1/k beyond the tested range ×/÷ e^5: the plateau or the rise lies outside the data."""
    l_lo, l_hi = _log_range(x_lo, x_hi)
    return (-theta[1] < l_lo - 5.0) | (-theta[1] > l_hi + 5.0)


# --------------------------------------------------------------------------- generic


def generic_model(
    name: str,
    params: Sequence[str],
    func: Callable[..., Array],
    jac: Callable[..., Sequence[Array]] | None = None,
    start: StartFn | None = None,
    formula: str = "",
) -> Model:
    """A model from a user function ``func(x, *params)`` and Jacobian ``jac(x, *params)``.

    Each parameter reaches the function as an (m,) array and x as (L, m), so a
    formula written for one curve (``b1 * (1 - np.exp(-b2 * x))``) broadcasts
    over stacked curves; with several predictors x is (k, L, m) and the
    function reads ``x[0]``, ``x[1]``. ``jac`` returns one array per parameter
    (anything that broadcasts to (L, m)). Without ``jac`` the Jacobian is taken
    by complex step (exact to rounding; ``func`` must then be complex-analytic:
    no ``abs``, ``min``/``max`` or comparisons on parameters).

    >>> m = generic_model("line", ["a", "b"], lambda x, a, b: a + b * x)
    >>> np.stack(m.jacobian(np.array([[1.0], [2.0]]), np.array([[0.0], [3.0]])))[:, :, 0]
    array([[1., 1.],
           [0., 3.]])
    """
    names = tuple(params)

    def shape_of(x: Array) -> tuple[int, ...]:
        return x.shape[-2:]

    def value(theta: Array, x: Array) -> Array:
        return np.broadcast_to(func(x, *theta), shape_of(x)).astype(float)

    def jacobian(theta: Array, x: Array) -> list[Array]:
        shape = shape_of(x)
        if jac is not None:
            return [np.broadcast_to(np.asarray(c, dtype=float), shape) for c in jac(x, *theta)]
        out = []
        for j in range(len(names)):
            step = 1e-20 * np.maximum(1.0, np.abs(theta[j]))
            bumped = theta.astype(complex)
            bumped[j] = bumped[j] + 1j * step
            out.append(np.broadcast_to(func(x, *bumped).imag / step, shape))
        return out

    return Model(
        name=name, params=names, value=value, jacobian=jacobian, start=start, formula=formula
    )


_LOGISTIC = {
    "value": four_pl_value,
    "jacobian": four_pl_jacobian,
    "both": four_pl_both,
    "start": four_pl_start,
    "inverse": _logistic_inverse,
    "limits": _logistic_limits,
    "runaway": _logistic_runaway,
}
FOUR_PL = Model(
    name="4pl",
    params=("bottom", "top", "log_et50", "hill"),
    formula="y = bottom + (top − bottom)/(1 + (et50/x)^hill)",
    **_LOGISTIC,
)
THREE_PL = Model(
    name="3pl",
    params=FOUR_PL.params,
    fixed={"bottom": 0.0},
    formula="y = bottom + (top − bottom)/(1 + (et50/x)^hill), bottom fixed (default 0)",
    **_LOGISTIC,
)
FIVE_PL = Model(
    name="5pl",
    params=("bottom", "top", "log_et50", "hill", "log_s"),
    value=five_pl_value,
    jacobian=five_pl_jacobian,
    both=five_pl_both,
    start=five_pl_start,
    inverse=_five_pl_inverse,
    limits=_logistic_limits,
    runaway=_five_pl_runaway,
    formula="y = bottom + (top − bottom)/(1 + (et50/x)^hill)^s",
)
EXPONENTIAL = Model(
    name="exponential",
    params=("A", "log_k"),
    value=exponential_value,
    jacobian=exponential_jacobian,
    both=exponential_both,
    start=exponential_start,
    inverse=_exponential_inverse,
    limits=_exponential_limits,
    runaway=_exponential_runaway,
    formula="y = A·(1 − exp(−k·x))",
)

#: The curve models by name.
MODELS: dict[str, Model] = {m.name: m for m in (FOUR_PL, THREE_PL, FIVE_PL, EXPONENTIAL)}


def get_model(name: str) -> Model:
    """The model called ``name`` (``4pl``, ``3pl``, ``5pl``, ``exponential``)."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; available: {', '.join(MODELS)}") from None
