"""ROUT-style outlier detection: injected outliers are found, clean curves keep their points."""

from __future__ import annotations

import numpy as np
import pytest

from killcurve.fit.engine import fit_batch
from killcurve.fit.models import FOUR_PL
from killcurve.fit.robust import robust_fit, rout_outliers

X = np.repeat(40.0 * 2.0 ** -np.arange(8)[::-1], 3)
M = 100


@pytest.fixture(scope="module")
def curves() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(clean y (24, M), truth θ, outlier rows per curve, y with one outlier per curve)."""
    rng = np.random.default_rng(0)
    theta = np.stack(
        [
            rng.uniform(0, 5, M),
            rng.uniform(70, 95, M),
            np.log(rng.uniform(1.5, 8, M)),
            rng.uniform(1, 2, M),
        ]
    )
    clean = FOUR_PL.value(theta, np.broadcast_to(X[:, None], (len(X), M))) + rng.normal(
        0, 3, (len(X), M)
    )
    rows = rng.integers(0, len(X), M)
    dirty = clean.copy()
    dirty[rows, np.arange(M)] += rng.choice([-1.0, 1.0], M) * 40.0
    return clean, theta, rows, dirty


def _flat(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.tile(X, M), y.T.ravel(), np.repeat(np.arange(M), len(X))


def test_injected_outliers_are_found(curves: tuple[np.ndarray, ...]) -> None:
    _, _, rows, dirty = curves
    mask = rout_outliers(*_flat(dirty)).reshape(M, len(X))
    truth = np.zeros_like(mask)
    truth[np.arange(M), rows] = True
    assert (mask & truth).sum() >= 0.95 * M
    assert (mask & ~truth).sum() <= 0.01 * truth.size


def test_clean_curves_lose_almost_no_points(curves: tuple[np.ndarray, ...]) -> None:
    clean = curves[0]
    mask = rout_outliers(*_flat(clean))
    assert mask.mean() < 0.005


def test_robust_fit_resists_outliers(curves: tuple[np.ndarray, ...]) -> None:
    _, theta, _, dirty = curves
    x, y, group = _flat(dirty)
    robust = robust_fit(x, y, group)
    plain = fit_batch(x, y, group)
    err_robust = np.abs(robust.theta[2] - theta[2])
    err_plain = np.abs(plain.theta[2] - theta[2])
    assert np.median(err_robust) < np.median(err_plain)


def test_missing_values_are_never_outliers() -> None:
    y = FOUR_PL.value(np.array([[0.0], [90.0], [np.log(3.0)], [1.5]]), X[:, None])[:, 0]
    y = y + np.random.default_rng(1).normal(0, 2, len(X))
    y[4] = np.nan
    y[10] += 50.0
    mask = rout_outliers(X, y)
    assert mask.shape == y.shape
    assert not mask[4] and mask[10]
