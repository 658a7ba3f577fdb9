"""Global fits: one parameter vector spanning a set of curves, some parameters shared.

For relative potency the curves of a comparison are fitted together with a
common bottom, top and hill and a curve-specific et50 (parallel curves on the
log-E:T axis). :func:`shared_model` builds that as an ordinary
:class:`~killcurve.fit.models.Model` whose parameters are the shared ones
followed by one copy of each other parameter per curve, named
``log_et50[<label>]``; its x carries the curve index as an extra last
predictor, and its Jacobian is blocked (a curve's points depend only on the
shared parameters and on that curve's own ones). :func:`fit_global` fits it as
one problem through the engine, so every inference function (covariance,
Wald and profile intervals, delta method, F tests against the separate fits)
applies unchanged. The Jacobian is dense; fine for the tens of curves of an
assay.

A parameter may also be shared *within a block* of curves (e.g. the curves
read with one readout on one day share their bottom and top; USP <1034>
block-specific asymptotes): ``blocks`` maps each curve label to its block,
and each parameter named in ``block_shared`` gets one copy per block, named
``top{<block>}``. Parameters of the new model are then ordered: the globally
shared ones, the block copies (block by block, in sorted block order), the
curve copies (curve by curve).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from killcurve.fit.data import stack_curves
from killcurve.fit.engine import FitResult, Settings, fit_batch, fit_data
from killcurve.fit.models import Model, get_model, internal_value

Array = np.ndarray


def curve_param(name: str, label: object) -> str:
    """Name of a curve-specific parameter in a shared model: ``log_et50[A]``."""
    return f"{name}[{label}]"


def block_param(name: str, block: object) -> str:
    """Name of a block-specific parameter in a shared model: ``top{luciferase|B1}``."""
    return f"{name}{{{block}}}"


def shared_model(
    model: Model,
    labels: Sequence[object],
    shared: Sequence[str],
    blocks: Mapping[object, object] | None = None,
    block_shared: Sequence[str] = (),
) -> Model:
    """A model of len(labels) curves with the parameters ``shared`` (by any name) in common.

    ``block_shared`` parameters are common to the curves of one block
    (``blocks``: curve label -> block label; every label needs one). x of the
    new model is (k + 1, L, m): the base model's predictors, then the curve
    index (0-based, in ``labels`` order) as a float.
    """
    shared_idx = sorted(model.index(name) for name in shared)
    block_idx = sorted(model.index(name) for name in block_shared)
    if set(shared_idx) & set(block_idx):
        raise ValueError("a parameter cannot be shared both globally and within blocks")
    if block_idx and (blocks is None or any(label not in blocks for label in labels)):
        raise ValueError("block_shared parameters need a block for every curve label")
    own_idx = [j for j in range(len(model.params)) if j not in shared_idx + block_idx]
    block_of = [blocks[label] for label in labels] if block_idx and blocks else []
    block_labels = sorted(set(block_of), key=str)
    n_curves = len(labels)
    params = (
        tuple(model.params[j] for j in shared_idx)
        + tuple(block_param(model.params[j], b) for b in block_labels for j in block_idx)
        + tuple(curve_param(model.params[j], label) for label in labels for j in own_idx)
    )
    # row of the new θ that holds base parameter j for curve c: rows[j][c]
    rows = np.empty((len(model.params), n_curves), dtype=np.int64)
    for pos, j in enumerate(shared_idx):
        rows[j] = pos
    first_block = len(shared_idx)
    for c in range(len(block_of)):
        for pos, j in enumerate(block_idx):
            b = block_labels.index(block_of[c])
            rows[j, c] = first_block + b * len(block_idx) + pos
    first_own = first_block + len(block_labels) * len(block_idx)
    for c in range(n_curves):
        for pos, j in enumerate(own_idx):
            rows[j, c] = first_own + c * len(own_idx) + pos

    def split(theta: Array, x: Array) -> tuple[Array, Array, Array]:
        """Per-point base parameters (p, L·m), base x (…, 1, L·m), curve index (L, m)."""
        curve = x[-1].astype(np.int64)
        n_lev, m = curve.shape
        cols = np.broadcast_to(np.arange(m), curve.shape)
        per_point = np.stack([theta[rows[j][curve], cols] for j in range(len(model.params))])
        base_x = x[:-1].reshape(-1, 1, n_lev * m)
        return (
            per_point.reshape(len(model.params), -1),
            base_x[0] if len(base_x) == 1 else base_x,
            curve,
        )

    def value(theta: Array, x: Array) -> Array:
        per_point, base_x, curve = split(theta, x)
        return model.value(per_point, base_x).reshape(curve.shape)

    def both(theta: Array, x: Array) -> tuple[Array, list[Array]]:
        per_point, base_x, curve = split(theta, x)
        f, jac = model.value_and_jacobian(per_point, base_x)
        cols = [np.zeros(curve.shape) for _ in params]
        for j in range(len(model.params)):
            jj = jac[j].reshape(curve.shape)
            if j in shared_idx:
                cols[rows[j, 0]] = jj
            else:  # one column per distinct copy: the points of the curves that use it
                for r in np.unique(rows[j]):
                    cols[r] = np.where(rows[j][curve] == r, jj, 0.0)
        return f.reshape(curve.shape), cols

    def jacobian(theta: Array, x: Array) -> list[Array]:
        return both(theta, x)[1]

    return Model(
        name=f"{model.name} shared({', '.join(model.params[j] for j in shared_idx)})"
        + (f" per block({', '.join(model.params[j] for j in block_idx)})" if block_idx else ""),
        params=params,
        value=value,
        jacobian=jacobian,
        both=both,
        formula=model.formula,
    )


def fit_global(
    x: Array,
    y: Array,
    group: Array,
    model: Model | str = "4pl",
    shared: Sequence[str] = ("bottom", "top", "hill"),
    fixed: Mapping[str, float] | None = None,
    weights: Array | None = None,
    settings: Settings | None = None,
    blocks: Mapping[object, object] | None = None,
    block_shared: Sequence[str] = (),
) -> FitResult:
    """Fit all curves of ``group`` together with the parameters ``shared`` common to all.

    ``block_shared`` parameters are common within each block of ``blocks``
    (curve label -> block label), e.g. ``shared=("hill",)``,
    ``block_shared=("bottom", "top")``: block-specific asymptotes, a common
    slope. Starting values come from separate fits of each curve (shared
    parameters: the median over all curves, block parameters over the
    block's curves). ``fixed`` may name a shared parameter or a base
    parameter (then every curve's or block's copy is fixed) or one copy
    (``"log_et50[A]"``, ``"top{B1}"``). Returns a one-curve
    :class:`FitResult` whose parameters are those of :func:`shared_model`
    with the labels in sorted order.
    """
    base = get_model(model) if isinstance(model, str) else model
    base_fixed = {k: v for k, v in (fixed or {}).items() if not k.endswith("]")}
    separate = fit_batch(x, y, group, base, fixed=base_fixed, weights=weights, settings=settings)
    labels = separate.groups
    glob = shared_model(base, labels, shared, blocks, block_shared)
    codes = np.searchsorted(labels, np.asarray(group))
    x2 = np.column_stack([np.asarray(x, dtype=float).reshape(len(codes), -1), codes])
    data = stack_curves(x2, y, None, weights)
    start = np.empty(len(glob.params))
    for j, name in enumerate(base.params):
        if name in glob.params:
            start[glob.params.index(name)] = np.nanmedian(separate.theta[j])
        elif name in block_shared and blocks is not None:
            for block in {blocks[label] for label in labels}:
                of_block = [c for c, label in enumerate(labels) if blocks[label] == block]
                start[glob.params.index(block_param(name, block))] = np.nanmedian(
                    separate.theta[j, of_block]
                )
        else:
            for c, label in enumerate(labels):
                start[glob.params.index(curve_param(name, label))] = separate.theta[j, c]
    glob_fixed: dict[str, float] = {}
    for name, value in {**base.fixed, **(fixed or {})}.items():
        if name in glob.params:
            glob_fixed[name] = float(value)
            continue
        internal, val = internal_value(base, name, value)
        if internal in glob.params:
            glob_fixed[internal] = float(val)
        elif internal in block_shared and blocks is not None:
            copies = {block_param(internal, blocks[label]) for label in labels}
            glob_fixed.update(dict.fromkeys(copies, float(val)))
        else:
            glob_fixed.update({curve_param(internal, label): float(val) for label in labels})
    return fit_data(data, glob, fixed=glob_fixed, start=start, settings=settings)
