"""Quality flags of fitted curves. A flag describes an estimate; it never replaces it.

Flags (``FLAGS``), one boolean per curve; thresholds in :class:`Thresholds`:

* ``not_converged``: the optimiser did not reach a convergence criterion at an
  identified point (including fits whose least-squares optimum lies at infinity).
* ``et50_above_range`` / ``et50_below_range``: the fitted et50 lies above the
  highest / below the lowest positive tested E:T.
* ``flat``: no dose effect; the F test of the model against a constant
  (the mean lysis) has p > ``flat_p`` (0.05).
* ``hill_extreme``: |hill| outside ``hill_range`` ([0.2, 8]).
* ``ci_unbounded``: the 95 % profile-likelihood interval of et50 does not close
  within the tested E:T range widened ×/÷ ``ci_factor`` (100) on either side.
* ``top_not_reached``: fewer than ``min_plateau_levels`` (1) tested levels at
  which the fitted curve has covered ``top_fraction`` (80 %) of its span,
  (f(x) − f(0))/(f(∞) − f(0)) ≥ 0.8 (with bottom ≈ 0: "80 % of top"). With the
  default 1 this is "below 80 % at the highest tested x"; 2 asks that the upper
  plateau rest on two levels, for coarse (e.g. 10-fold) dilution series where
  one level at the top cannot show a plateau.
* ``few_points``: fewer than ``min_levels`` (5) distinct E:T, or residual df < 1.
* ``negative_lysis``: the mean % lysis at some E:T is below ``negative_lysis`` (−10 %).

Flags that need a parameter the model lacks (et50, hill) are False for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from killcurve.fit.comparison import dose_effect
from killcurve.fit.engine import FitResult
from killcurve.fit.inference import ProfileInterval, et_range, profile_interval

Array = np.ndarray

#: Flag names and what they mean, in report order.
FLAGS: dict[str, str] = {
    "not_converged": "the fit did not converge to an identified optimum",
    "et50_above_range": "et50 above the highest tested E:T",
    "et50_below_range": "et50 below the lowest tested E:T",
    "flat": "no dose effect (F test against a constant, p > 0.05)",
    "hill_extreme": "|hill| outside [0.2, 8]",
    "ci_unbounded": "the et50 profile interval does not close within the tested range ×/÷ 100",
    "top_not_reached": "80 % of the span reached at too few tested levels (no upper plateau)",
    "few_points": "fewer than 5 distinct E:T or no residual df",
    "negative_lysis": "mean lysis below −10 % at some E:T",
}


@dataclass(frozen=True)
class Thresholds:
    """Limits behind the flags (see the module docstring)."""

    flat_p: float = 0.05
    hill_range: tuple[float, float] = (0.2, 8.0)
    ci_factor: float = 100.0
    top_fraction: float = 0.8
    min_levels: int = 5
    negative_lysis: float = -10.0
    min_plateau_levels: int = 1


def flag_curves(
    result: FitResult, thresholds: Thresholds | None = None, profile: ProfileInterval | None = None
) -> dict[str, Array]:
    """Every flag of ``FLAGS`` as a boolean array (m,).

    ``profile`` is the et50 profile interval if already computed (with the
    same search limits); otherwise it is computed here for models with et50.
    """
    th = thresholds or Thresholds()
    model, data = result.model, result.data
    m = data.n_curves
    false = np.zeros(m, dtype=bool)
    lo, hi = et_range(result)
    out = dict.fromkeys(FLAGS, false)
    out["not_converged"] = ~result.converged
    out["few_points"] = (data.n_levels < th.min_levels) | (result.df_resid < 1)
    with np.errstate(invalid="ignore"):
        out["flat"] = dose_effect(result).p_value > th.flat_p
        out["negative_lysis"] = np.any((data.count > 0) & (data.y < th.negative_lysis), axis=0)
    params = result.params()
    if "et50" in params:
        et50 = params["et50"]
        with np.errstate(invalid="ignore"):
            out["et50_above_range"] = et50 > hi
            out["et50_below_range"] = et50 < lo
        fitted = result.converged & result.free[model.index("et50")]
        if profile is None and fitted.any() and data.x.ndim == 2:
            limits = (np.log(lo / th.ci_factor), np.log(hi * th.ci_factor))
            profile = profile_interval(result, "et50", limits=limits)
        if profile is not None:
            out["ci_unbounded"] = fitted & ~(profile.lower_closed & profile.upper_closed)
    if "hill" in params:
        ahill = np.abs(params["hill"])
        out["hill_extreme"] = (ahill < th.hill_range[0]) | (ahill > th.hill_range[1])
    if model.limits is not None and data.x.ndim == 2:
        at_zero, at_inf = model.limits(result.theta)
        with np.errstate(all="ignore"):
            covered = (model.value(result.theta, data.x) - at_zero) / (at_inf - at_zero)
        plateau = ((data.count > 0) & (covered >= th.top_fraction)).sum(axis=0)
        out["top_not_reached"] = plateau < th.min_plateau_levels
    return out


def flag_lists(flags: dict[str, Array], order: Sequence[str] = tuple(FLAGS)) -> list[list[str]]:
    """Per curve, the names of the flags that are set, in ``order`` (default ``FLAGS``)."""
    names = [name for name in order if name in flags]
    table = np.stack([np.asarray(flags[name], dtype=bool) for name in names])
    return [[names[i] for i in np.flatnonzero(col)] for col in table.T]
