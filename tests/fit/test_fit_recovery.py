"""Simulated recovery of 1,000 noisy kill curves (et50 bias, coverage); flags on built curves.

Design: 8 E:T ratios 0.3125–40 (2-fold) in triplicate; et50 log-uniform on
1.5–8, hill 1–2, top 70–95 %, bottom 0–5 %; noise Gaussian with SD 3–5 % lysis
units per curve plus 3 % multiplicative noise (seeded).
"""

from __future__ import annotations

import numpy as np
import pytest

from killcurve.fit.engine import FitResult, fit_batch
from killcurve.fit.flags import FLAGS, flag_curves, flag_lists
from killcurve.fit.inference import profile_interval, wald_intervals
from killcurve.fit.models import FOUR_PL

ET = 40.0 * 2.0 ** -np.arange(8)[::-1]
X = np.repeat(ET, 3)


def _simulate(
    theta: np.ndarray, rng: np.random.Generator, sd: np.ndarray | float = 4.0
) -> np.ndarray:
    truth = FOUR_PL.value(theta, np.broadcast_to(X[:, None], (len(X), theta.shape[1])))
    return truth + rng.normal(size=truth.shape) * sd + truth * rng.normal(0.0, 0.03, truth.shape)


def _fit(y: np.ndarray, x: np.ndarray = X) -> FitResult:
    m = y.shape[1]
    return fit_batch(np.tile(x, m), y.T.ravel(), np.repeat(np.arange(m), len(x)))


@pytest.fixture(scope="module")
def recovery() -> tuple[FitResult, np.ndarray]:
    rng = np.random.default_rng(20261124)
    m = 1000
    et50 = np.exp(rng.uniform(np.log(1.5), np.log(8.0), m))
    theta = np.stack(
        [rng.uniform(0, 5, m), rng.uniform(70, 95, m), np.log(et50), rng.uniform(1.0, 2.0, m)]
    )
    return _fit(_simulate(theta, rng, rng.uniform(3.0, 5.0, m))), et50


def test_et50_is_recovered_without_bias(recovery: tuple[FitResult, np.ndarray]) -> None:
    fit, et50 = recovery
    assert fit.converged.mean() >= 0.99
    bias = np.median(fit.params()["et50"] / et50 - 1.0)
    assert abs(bias) < 0.02


@pytest.mark.parametrize("kind", ["jtj", "hessian"])
def test_wald_intervals_cover_at_the_nominal_rate(
    recovery: tuple[FitResult, np.ndarray], kind: str
) -> None:
    fit, et50 = recovery
    wald = wald_intervals(fit, kind)["et50"]  # type: ignore[arg-type]
    covered = (wald.lower <= et50) & (et50 <= wald.upper)
    assert 0.92 <= covered[fit.converged].mean() <= 0.98


def test_profile_intervals_cover_at_the_nominal_rate(
    recovery: tuple[FitResult, np.ndarray],
) -> None:
    fit, et50 = recovery
    prof = profile_interval(fit, "et50")
    lower = np.where(prof.lower_closed, prof.lower, 0.0)  # an open side is unbounded
    upper = np.where(prof.upper_closed, prof.upper, np.inf)
    covered = (lower <= et50) & (et50 <= upper)
    assert 0.92 <= covered[fit.converged].mean() <= 0.98


# Curves built to be flagged: (bottom, top, et50, hill), the flag of their own, and how often
# at least that flag must fire. A transition outside the tested E:T cannot always be told from
# an in-range curve with a low plateau or a step (the fit then carries another flag:
# top_not_reached, ci_unbounded, hill_extreme, not_converged), so for those the test asks that
# some flag fires on ≥ 90 % and their own on a good share.
BUILT = {
    "clean": ((2.0, 90.0, 3.0, 1.5), None, 0.0),
    "above_range": ((2.0, 90.0, 60.0, 2.0), "et50_above_range", 0.3),
    "below_range": ((20.0, 90.0, 0.15, 1.5), "et50_below_range", 0.3),
    "incomplete": ((2.0, 90.0, 25.0, 1.5), "top_not_reached", 0.85),
    "negative": ((-25.0, 80.0, 3.0, 1.5), "negative_lysis", 0.95),
    "steep": ((2.0, 90.0, 3.5, 20.0), "hill_extreme", 0.95),
}
N_BUILT = 40


@pytest.fixture(scope="module")
def built() -> tuple[FitResult, dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(7)
    cases = [case for case in BUILT for _ in range(N_BUILT)]
    cols = [(b, t, np.log(e), h) for case in cases for (b, t, e, h) in [BUILT[case][0]]]
    y = _simulate(np.array(cols).T, rng, 2.0)
    flat = 5.0 + rng.normal(0, 4.0, (len(X), N_BUILT))  # no dose effect
    fit = _fit(np.column_stack([y, flat]))
    return fit, flag_curves(fit), np.array([*cases, *["flat"] * N_BUILT])


def test_every_flag_is_documented(
    built: tuple[FitResult, dict[str, np.ndarray], np.ndarray],
) -> None:
    _, flags, _ = built
    assert set(flags) == set(FLAGS)


@pytest.mark.parametrize("case", [c for c in BUILT if c != "clean"])
def test_flags_fire_on_curves_built_for_them(
    built: tuple[FitResult, dict[str, np.ndarray], np.ndarray], case: str
) -> None:
    _, flags, cases = built
    _, own, rate = BUILT[case]
    mine = cases == case
    any_flag = np.any([flags[name][mine] for name in FLAGS], axis=0)
    assert any_flag.mean() >= 0.9
    assert flags[own][mine].mean() >= rate


def test_flat_curves_are_flagged_flat(
    built: tuple[FitResult, dict[str, np.ndarray], np.ndarray],
) -> None:
    _, flags, cases = built
    assert flags["flat"][cases == "flat"].mean() >= 0.85  # p > 0.05 under no effect: 95 % expected


def test_clean_curves_carry_no_flags(
    built: tuple[FitResult, dict[str, np.ndarray], np.ndarray],
) -> None:
    _, flags, cases = built
    lists = flag_lists(flags)
    assert all(not lists[i] for i in np.flatnonzero(cases == "clean"))


def test_flagged_estimates_are_reported(
    built: tuple[FitResult, dict[str, np.ndarray], np.ndarray],
) -> None:
    fit, flags, cases = built
    assert np.all(np.isfinite(fit.params()["et50"][cases != "flat"]))
    above = flags["et50_above_range"]
    assert np.all(fit.params()["et50"][above] > ET[-1])


def test_unbounded_intervals_and_few_points() -> None:
    # barely started at the highest E:T: the profile of et50 stays open upwards
    theta = np.array([[0.0], [100.0], [np.log(200.0)], [1.5]])
    y = FOUR_PL.value(theta, X[:, None])[:, 0] + np.random.default_rng(2).normal(0, 2, len(X))
    flags = flag_curves(fit_batch(X, y))
    assert flags["ci_unbounded"][0]
    short = ET[:4]
    y4 = FOUR_PL.value(theta, short[:, None])[:, 0] + np.random.default_rng(3).normal(0, 2, 4)
    assert flag_curves(fit_batch(short, y4))["few_points"][0]
