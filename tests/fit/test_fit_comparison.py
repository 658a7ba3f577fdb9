"""F tests, AICc, lack of fit and the no-dose-effect test against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from killcurve.fit.comparison import aicc, constant_rss, dose_effect, f_test, lack_of_fit
from killcurve.fit.engine import fit_batch
from killcurve.fit.models import FOUR_PL

X = np.repeat(40.0 * 2.0 ** -np.arange(8)[::-1], 3)


def test_f_test_by_hand() -> None:
    t = f_test(np.array([30.0]), np.array([22]), np.array([20.0]), np.array([20]))
    assert t.f[0] == pytest.approx((10.0 / 2) / (20.0 / 20))
    assert t.p_value[0] == pytest.approx(stats.f.sf(5.0, 2, 20))
    assert np.isnan(f_test(np.array([1.0]), np.array([5]), np.array([1.0]), np.array([5])).f[0])


def test_aicc_by_hand() -> None:
    n, rss, k = 24, 100.0, 4
    kk = k + 1
    expected = n * np.log(rss / n) + 2 * kk + 2 * kk * (kk + 1) / (n - kk - 1)
    assert aicc(np.array([rss]), np.array([n]), k)[0] == pytest.approx(expected)
    assert np.isnan(aicc(np.array([rss]), np.array([5]), 4)[0])


def test_dose_effect_and_lack_of_fit() -> None:
    rng = np.random.default_rng(4)
    strong = FOUR_PL.value(np.array([[2.0], [90.0], [np.log(3.0)], [1.5]]), X[:, None])[:, 0]
    flat = np.full(len(X), 10.0)
    y = np.concatenate([strong, flat]) + rng.normal(0, 3, 2 * len(X))
    fit = fit_batch(np.tile(X, 2), y, np.repeat([0, 1], len(X)))
    mean1 = y[len(X) :].mean()
    assert constant_rss(fit)[1] == pytest.approx(np.sum((y[len(X) :] - mean1) ** 2))
    p = dose_effect(fit).p_value
    assert p[0] < 1e-6 and p[1] > 0.001
    lof = lack_of_fit(fit)
    np.testing.assert_array_equal(lof.df_num, [4, 4])  # 20 residual df − 16 pure-error df
    np.testing.assert_array_equal(lof.df_den, [16, 16])
    assert lof.p_value[0] > 0.01  # the 4PL is the true model
