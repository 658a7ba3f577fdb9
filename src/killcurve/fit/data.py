"""Curves stacked into padded arrays: one column per curve, one row per distinct x (a level).

Replicate points of a curve at the same x are collapsed to their weighted mean.
For any model f this is exact for least squares:
``Σ_ij w_ij (y_ij − f(x_i))² = Σ_i W_i (ȳ_i − f(x_i))² + PE``, with
``W_i = Σ_j w_ij``, ``ȳ_i = Σ_j w_ij y_ij / W_i`` and the pure-error sum of
squares ``PE = Σ_ij w_ij (y_ij − ȳ_i)²`` (which no model can reduce). So a fit
on the levels reaches the same estimates, RSS and Jacobian cross-products as a
fit on every point, with a third of the work for triplicates, and PE gives the
lack-of-fit test for free. Curves with fewer levels than the longest are padded
with weight-0 levels that repeat a real x (so models never see an invalid x).

The layout is curves-last (see :mod:`killcurve.fit.models`): level arrays are
(L, m), x is (L, m) or (k, L, m) with k predictors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class CurveData:
    """Stacked curves: m curves, at most L levels, N points in all.

    Level arrays ``x``, ``y`` (weighted mean response), ``w`` (summed weight)
    and ``count`` (points of positive weight) are (L, m); ``pe_ss`` (m,) is the
    pure-error sum of squares. Point arrays are (N,) in the caller's order;
    ``point_curve`` and ``point_level`` locate each point's level.
    """

    groups: Array
    x: Array
    y: Array
    w: Array
    count: Array
    pe_ss: Array
    point_curve: Array
    point_level: Array
    point_y: Array
    point_w: Array

    @property
    def n_curves(self) -> int:
        """Number of curves m."""
        return len(self.groups)

    @property
    def n_obs(self) -> Array:
        """Points with positive weight per curve."""
        return self.count.sum(axis=0)

    @property
    def n_levels(self) -> Array:
        """Distinct x with positive weight per curve."""
        return (self.count > 0).sum(axis=0)

    @property
    def pe_df(self) -> Array:
        """Pure-error degrees of freedom per curve: Σ (points at a level − 1)."""
        return np.maximum(self.count - 1, 0).sum(axis=0)

    def x_range(self) -> tuple[Array, Array]:
        """(lowest positive x, highest x) per curve over its used levels (first predictor)."""
        x = self.x if self.x.ndim == 2 else self.x[0]
        used = self.count > 0
        lo = np.where(used & (x > 0), x, np.inf).min(axis=0)
        hi = np.where(used, x, -np.inf).max(axis=0)
        return np.where(np.isfinite(lo), lo, np.nan), np.where(np.isfinite(hi), hi, np.nan)

    def columns(self, cols: Array) -> CurveData:
        """The curves ``cols`` (indices or mask) as a :class:`CurveData` of level arrays only."""
        empty = np.empty(0, dtype=np.int64)
        return replace(
            self,
            groups=self.groups[cols],
            x=self.x[..., cols],
            y=self.y[:, cols],
            w=self.w[:, cols],
            count=self.count[:, cols],
            pe_ss=self.pe_ss[cols],
            point_curve=empty,
            point_level=empty,
            point_y=np.empty(0),
            point_w=np.empty(0),
        )

    def point_values(self, level_values: Array) -> Array:
        """Per-point values (N,) from per-level values (L, m), e.g. fitted values."""
        return level_values[self.point_level, self.point_curve]

    def with_point_y(self, y_new: Array) -> CurveData:
        """B copies of the curves with new point responses ``y_new`` (B, N): B·m curves.

        Copy b of curve c is curve ``b·m + c``; the design (x, weights) is
        unchanged. Used by the bootstrap.
        """
        y_new = np.atleast_2d(y_new)
        n_rep, m, n_lev = len(y_new), self.n_curves, self.y.shape[0]
        curve = (self.point_curve[None, :] + m * np.arange(n_rep)[:, None]).ravel()
        cell = np.tile(self.point_level, n_rep) * (n_rep * m) + curve
        pw = np.tile(self.point_w, n_rep)
        wy = np.bincount(cell, weights=pw * y_new.ravel(), minlength=n_lev * n_rep * m)
        w_all = np.tile(self.w, (1, n_rep)).ravel()
        ybar = np.divide(wy, w_all, out=np.zeros_like(wy), where=w_all > 0)
        pe = np.bincount(curve, weights=pw * (y_new.ravel() - ybar[cell]) ** 2, minlength=n_rep * m)
        return replace(
            self,
            groups=np.tile(self.groups, n_rep),
            x=np.tile(self.x, (1,) * (self.x.ndim - 1) + (n_rep,)),
            y=ybar.reshape(n_lev, n_rep * m),
            w=np.tile(self.w, (1, n_rep)),
            count=np.tile(self.count, (1, n_rep)),
            pe_ss=pe,
        )


def _codes(group: Array | None, n: int) -> tuple[Array, Array]:
    """(sorted labels, code of each point); a fast path when the labels come sorted."""
    if group is None:
        return np.array([0]), np.zeros(n, dtype=np.int64)
    group = np.asarray(group)
    if n and group.dtype.kind in "iufUSb":
        change = group[1:] != group[:-1]
        if np.all(group[1:][change] > group[:-1][change]):
            starts = np.concatenate([[0], np.flatnonzero(change) + 1])
            return group[starts], np.cumsum(np.concatenate([[0], change])).astype(np.int64)
    labels, codes = np.unique(group, return_inverse=True)
    return labels, codes.ravel().astype(np.int64)


def stack_curves(
    x: Array, y: Array, group: Array | None = None, weights: Array | None = None
) -> CurveData:
    """Stack points into padded per-curve level arrays.

    ``x`` (N,) or (N, k), ``y`` (N,), ``group`` (N,) curve labels (one curve if
    None), ``weights`` (N,) ≥ 0 (1 if None; a point of weight 0 takes no part,
    nor does one with a non-finite x or y). Curves come out in sorted label
    order, levels in increasing x.

    >>> d = stack_curves(np.array([1.0, 1.0, 2.0, 4.0]), np.array([1.0, 3.0, 5.0, 7.0]))
    >>> d.x.ravel(), d.y.ravel(), d.count.ravel(), d.pe_ss
    (array([1., 2., 4.]), array([2., 5., 7.]), array([2, 1, 1]), array([2.]))
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(y)
    xs = x.reshape(n, -1)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).copy()
    w[~(np.isfinite(y) & np.isfinite(xs).all(axis=1))] = 0.0
    labels, codes = _codes(group, n)
    m, k = len(labels), xs.shape[1]
    d_code = np.diff(codes)
    if k == 1 and np.all((d_code > 0) | ((d_code == 0) & (np.diff(xs[:, 0]) >= 0))):
        order = None  # already grouped by curve and sorted by x
        c_s, x_s, w_s, y_s = codes, xs, w, y
    else:
        order = np.lexsort([*(xs[:, j] for j in range(k - 1, -1, -1)), codes])
        c_s, x_s, w_s, y_s = codes[order], xs[order], w[order], y[order]
    positive = w_s > 0
    all_positive = bool(positive.all())
    if not all_positive:
        y_s = np.where(positive, y_s, 0.0)
    new_level = np.ones(n, dtype=bool)
    new_level[1:] = (c_s[1:] != c_s[:-1]) | np.any(x_s[1:] != x_s[:-1], axis=1)
    level_id = np.cumsum(new_level) - 1
    first = np.flatnonzero(new_level)
    level_curve = c_s[first]
    curve_first = np.searchsorted(level_curve, np.arange(m))
    level_in_curve = np.arange(len(first)) - curve_first[level_curve]
    n_lev = int(level_in_curve.max()) + 1
    wsum = np.bincount(level_id, weights=w_s)
    ybar = np.divide(
        np.bincount(level_id, weights=w_s * y_s), wsum, out=np.zeros_like(wsum), where=wsum > 0
    )
    cnt = np.bincount(level_id) if all_positive else np.bincount(level_id, weights=positive)
    cnt = cnt.astype(np.int64)
    pe = np.bincount(c_s, weights=w_s * (y_s - ybar[level_id]) ** 2, minlength=m)
    x_first = x_s[first]
    fill = np.where(np.isfinite(x_first[curve_first]), x_first[curve_first], 1.0)
    x_pad = np.broadcast_to(fill.T[:, None, :], (k, n_lev, m)).copy()
    x_pad[:, level_in_curve, level_curve] = np.where(
        np.isfinite(x_first), x_first, fill[level_curve]
    ).T
    y_pad, w_pad = np.zeros((n_lev, m)), np.zeros((n_lev, m))
    c_pad = np.zeros((n_lev, m), dtype=np.int64)
    y_pad[level_in_curve, level_curve] = ybar
    w_pad[level_in_curve, level_curve] = wsum
    c_pad[level_in_curve, level_curve] = cnt
    point_level = level_in_curve[level_id]
    if order is not None:
        point_level[order] = point_level.copy()
    return CurveData(
        groups=labels,
        x=x_pad[0] if k == 1 else x_pad,
        y=y_pad,
        w=w_pad,
        count=c_pad,
        pe_ss=pe,
        point_curve=codes,
        point_level=point_level,
        point_y=y,
        point_w=w,
    )
