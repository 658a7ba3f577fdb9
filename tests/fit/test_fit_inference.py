"""Standard errors, intervals and derived quantities against direct computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from killcurve.fit.engine import FitResult, Settings, fit_batch
from killcurve.fit.inference import (
    auc,
    bootstrap_intervals,
    covariance,
    delta_method,
    effective_dose,
    emax,
    lytic_units,
    profile_interval,
    standard_errors,
    summarise,
    wald_intervals,
    x_at_response,
)
from killcurve.fit.models import EXPONENTIAL, FOUR_PL

X = np.repeat(40.0 * 2.0 ** -np.arange(8)[::-1], 3)
TIGHT = Settings(ftol=1e-15, xtol=1e-14, gtol=1e-14)


def _noisy_fit(seed: int = 5, m: int = 3, model: str = "4pl") -> FitResult:
    rng = np.random.default_rng(seed)
    theta = np.array(
        [[2.0, 5.0, 0.0], [85.0, 70.0, 95.0], np.log([3.0, 6.0, 1.5]), [1.4, 1.0, 2.0]]
    )[:, :m]
    y = FOUR_PL.value(theta, np.broadcast_to(X[:, None], (len(X), m)))
    y = y + rng.normal(0, 4, y.shape)
    return fit_batch(
        np.tile(X, m), y.T.ravel(), np.repeat(np.arange(m), len(X)), model, settings=TIGHT
    )


def _rss(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum((FOUR_PL.value(theta[:, None], x[:, None])[:, 0] - y) ** 2))


def test_jtj_covariance_is_s2_times_the_inverse_normal_matrix() -> None:
    fit = _noisy_fit()
    cov = covariance(fit, "jtj")
    for c in range(3):
        jac = np.stack(FOUR_PL.jacobian(fit.theta[:, c : c + 1], X[:, None]))[:, :, 0].T
        direct = np.linalg.inv(jac.T @ jac) * fit.rss[c] / (len(X) - 4)
        np.testing.assert_allclose(cov[c], direct, rtol=1e-8)


def test_hessian_covariance_uses_second_derivatives_of_rss() -> None:
    fit = _noisy_fit(m=1)
    cov = covariance(fit, "hessian")[0]
    x = X
    y = fit.data.point_y
    theta = fit.theta[:, 0]
    se = np.sqrt(np.diag(covariance(fit, "jtj")[0]))
    h = 1e-3 * se
    hess = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            hess[i, j] = (
                _rss(theta + ei + ej, x, y)
                - _rss(theta + ei - ej, x, y)
                - _rss(theta - ei + ej, x, y)
                + _rss(theta - ei - ej, x, y)
            ) / (4 * h[i] * h[j])
    direct = np.linalg.inv(hess / 2) * fit.rss[0] / (len(x) - 4)
    np.testing.assert_allclose(cov, direct, rtol=1e-4)
    assert not np.allclose(cov, covariance(fit, "jtj")[0], rtol=1e-3)  # the conventions differ


def test_et50_interval_is_formed_on_the_log_scale() -> None:
    fit = _noisy_fit()
    cov = covariance(fit)
    se_log = np.sqrt(cov[:, 2, 2])
    wald = wald_intervals(fit, cov=cov)["et50"]
    t = stats.t.ppf(0.975, 20)
    et50 = fit.params()["et50"]
    np.testing.assert_allclose(wald.lower, et50 * np.exp(-t * se_log))
    np.testing.assert_allclose(wald.upper, et50 * np.exp(t * se_log))
    np.testing.assert_allclose(standard_errors(fit, cov=cov)["et50"], et50 * se_log)
    top = wald_intervals(fit, cov=cov)["top"]
    np.testing.assert_allclose(top.upper - top.estimate, t * np.sqrt(cov[:, 1, 1]))


def test_profile_interval_matches_a_direct_search() -> None:
    fit = _noisy_fit()
    prof = profile_interval(fit, "et50")
    assert prof.lower_closed.all() and prof.upper_closed.all()
    f_crit = stats.f.ppf(0.95, 1, 20)
    y = fit.data.point_y
    for c in range(3):
        xc, yc = X, y[fit.data.point_curve == c]
        target = fit.rss[c] * (1 + f_crit / 20)
        for limit in (prof.lower[c], prof.upper[c]):
            held = fit_batch(xc, yc, fixed={"et50": limit}, settings=TIGHT)
            assert held.rss[0] == pytest.approx(target, rel=1e-6)
        assert prof.lower[c] < fit.params()["et50"][c] < prof.upper[c]


def test_profile_interval_reports_an_open_side() -> None:
    # the curve has barely started at the highest E:T: et50 is not bounded above
    y = FOUR_PL.value(np.array([[0.0], [100.0], [np.log(200.0)], [1.5]]), X[:, None])[:, 0]
    y = y + np.random.default_rng(2).normal(0, 2, len(y))
    fit = fit_batch(X, y)
    prof = profile_interval(fit, "et50")
    assert not prof.upper_closed[0] and np.isnan(prof.upper[0])


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    fit = _noisy_fit(m=2)
    a = bootstrap_intervals(fit, n_boot=100, seed=1)
    b = bootstrap_intervals(fit, n_boot=100, seed=1)
    c = bootstrap_intervals(fit, n_boot=100, seed=2)
    np.testing.assert_array_equal(a["et50"][0], b["et50"][0])
    assert not np.array_equal(a["et50"][0], c["et50"][0])
    wald = wald_intervals(fit)["et50"]
    for method in ("residual", "parametric"):
        lo, hi = bootstrap_intervals(fit, n_boot=200, method=method, seed=3)["et50"]
        assert np.all(lo < fit.params()["et50"]) and np.all(fit.params()["et50"] < hi)
        ratio = (np.log(hi) - np.log(lo)) / (np.log(wald.upper) - np.log(wald.lower))
        assert np.all((ratio > 0.6) & (ratio < 1.6))


def test_effective_dose_of_the_four_pl() -> None:
    fit = _noisy_fit()
    et50, hill = fit.params()["et50"], fit.params()["hill"]
    for p in (10.0, 50.0, 90.0):
        ed = effective_dose(fit, p)
        np.testing.assert_allclose(
            ed.estimate, et50 * (p / (100 - p)) ** (1 / np.abs(hill)), rtol=1e-12
        )
    ed50 = effective_dose(fit, 50.0)
    np.testing.assert_allclose(ed50.se, standard_errors(fit)["et50"], rtol=1e-6)


def test_delta_method_is_exact_for_a_linear_function() -> None:
    fit = _noisy_fit()
    cov = covariance(fit)
    a = np.array([1.0, -2.0, 0.5, 3.0])
    iv = delta_method(fit, lambda th: a @ th, cov=cov)
    np.testing.assert_allclose(iv.se, np.sqrt(np.einsum("p,mpq,q->m", a, cov, a)), rtol=1e-8)


def test_response_crossing_emax_and_auc() -> None:
    theta = np.array([[0.0, 0.0], [80.0, 40.0], np.log([4.0, 4.0]), [1.5, 1.5]])
    y = FOUR_PL.value(theta, np.broadcast_to(X[:, None], (len(X), 2)))
    fit = fit_batch(np.tile(X, 2), y.T.ravel(), np.repeat([0, 1], len(X)))
    # 50 %: (4/x)^1.5 = 80/50 − 1 → x = 4·0.6^(−2/3); the second curve never reaches 50 %
    at50 = x_at_response(fit, 50.0)
    assert at50[0] == pytest.approx(4.0 * 0.6 ** (-2 / 3), rel=1e-6)
    assert np.isnan(at50[1])
    assert np.isnan(x_at_response(fit, 79.9)[0])  # reached only beyond E:T 40
    np.testing.assert_allclose(emax(fit), [80.0, 40.0], rtol=1e-6)
    expected = integrate.quad(
        lambda t: FOUR_PL.value(theta[:, :1], np.array([[2.0**t]]))[0, 0],
        np.log2(X[0]),
        np.log2(X[-1]),
    )[0]
    assert auc(fit)[0] == pytest.approx(expected, rel=1e-6)


def test_lytic_units_from_the_exponential_model() -> None:
    theta = np.array([[60.0, 25.0], np.log([0.1, 0.3])])
    y = EXPONENTIAL.value(theta, np.broadcast_to(X[:, None], (len(X), 2)))
    fit = fit_batch(np.tile(X, 2), y.T.ravel(), np.repeat([0, 1], len(X)), "exponential")
    lu = lytic_units(fit, percents=(20.0, 30.0), targets_per_well=5000.0)
    x20 = -np.log(1 - 20 / 60) / 0.1
    assert lu["lu20"].estimate[0] == pytest.approx(1e6 / (x20 * 5000.0), rel=1e-6)
    assert np.isnan(lu["lu30"].estimate[1])  # A = 25 % never reaches 30 %
    with pytest.raises(ValueError, match="exponential"):
        lytic_units(_noisy_fit(m=1))


def test_summary_has_one_value_per_curve() -> None:
    fit = _noisy_fit()
    table = summarise(fit, profile=True)
    assert {
        "et50",
        "et50_se",
        "et50_lower",
        "et50_upper",
        "et_at_50",
        "emax",
        "auc",
        "aicc",
    } <= set(table)
    assert {"et50_profile_lower", "et50_profile_upper", "converged", "method"} <= set(table)
    assert all(len(v) == 3 for v in table.values())
