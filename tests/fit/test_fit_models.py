"""Curve models: analytic Jacobians, inverses, limits, 5PL landmarks and starting values."""

from __future__ import annotations

import numpy as np
import pytest

from killcurve.fit.models import (
    EXPONENTIAL,
    FIVE_PL,
    FOUR_PL,
    MODELS,
    THREE_PL,
    Model,
    five_pl_points,
    get_model,
    internal_value,
    natural_names,
    to_natural,
)

X = np.repeat(40.0 * 2.0 ** -np.arange(8)[::-1], 3)
# two curves per model, columns are curves; 4PL/5PL: one rising (hill > 0), one falling
# (hill < 0), both in the canonical form top > bottom
THETAS = {
    "4pl": np.array([[2.0, 5.0], [85.0, 90.0], [np.log(3.0), np.log(0.7)], [1.4, -2.2]]),
    "3pl": np.array([[0.0, 0.0], [85.0, 60.0], [np.log(3.0), np.log(12.0)], [1.4, 0.8]]),
    "5pl": np.array(
        [[2.0, 5.0], [85.0, 90.0], [np.log(3.0), np.log(0.7)], [1.4, -2.2], [0.4, -0.7]]
    ),
    "exponential": np.array([[80.0, 40.0], [np.log(0.2), np.log(1.5)]]),
}


def _grid(theta: np.ndarray, with_zero: bool = False) -> np.ndarray:
    x = np.concatenate([[0.0], X]) if with_zero else X
    return np.broadcast_to(x[:, None], (len(x), theta.shape[1]))


def _numeric_jacobian(
    model: Model, theta: np.ndarray, x: np.ndarray, step: float = 1e-6
) -> np.ndarray:
    out = []
    for j in range(len(model.params)):
        d = np.zeros_like(theta)
        d[j] = step
        out.append((model.value(theta + d, x) - model.value(theta - d, x)) / (2 * step))
    return np.stack(out)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("with_zero", [False, True])
def test_analytic_jacobian_matches_central_differences(name: str, with_zero: bool) -> None:
    model, theta = MODELS[name], THETAS[name]
    x = _grid(theta, with_zero)
    analytic = np.stack(model.jacobian(theta, x))
    assert analytic.shape == (len(model.params), *x.shape)
    np.testing.assert_allclose(analytic, _numeric_jacobian(model, theta, x), rtol=1e-6, atol=1e-6)
    value, both = model.value_and_jacobian(theta, x)
    np.testing.assert_array_equal(value, model.value(theta, x))
    np.testing.assert_array_equal(np.stack(both), analytic)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_inverse_returns_the_x_of_a_response(name: str) -> None:
    model, theta = MODELS[name], THETAS[name]
    x = np.array([[1.7, 5.0]])
    y = model.value(theta, x)[0]
    np.testing.assert_allclose(model.inverse(theta, y), x[0], rtol=1e-10)
    at_zero, at_inf = model.limits(theta)
    assert np.all(np.isnan(model.inverse(theta, at_inf + np.sign(at_inf - at_zero))))


def test_four_pl_limits_follow_the_sign_of_hill() -> None:
    at_zero, at_inf = FOUR_PL.limits(THETAS["4pl"])
    np.testing.assert_array_equal(at_zero, [2.0, 90.0])  # rising: bottom; falling: top
    np.testing.assert_array_equal(at_inf, [85.0, 5.0])
    x0 = FOUR_PL.value(THETAS["4pl"], np.zeros((1, 2)))[0]
    np.testing.assert_array_equal(x0, at_zero)


def test_five_pl_half_maximum_and_inflection() -> None:
    theta = THETAS["5pl"][:, :1]
    half, inflection = five_pl_points(theta)
    bottom, top = theta[0, 0], theta[1, 0]
    assert FIVE_PL.value(theta, half[None, :])[0, 0] == pytest.approx((bottom + top) / 2, rel=1e-12)
    # the inflection on the ln-x scale: the second derivative in t = ln x changes sign there
    t = np.log(inflection[0]) + np.array([-1e-3, 0.0, 1e-3])
    y = FIVE_PL.value(theta, np.exp(t)[:, None])[:, 0]
    h = 1e-4
    second = [
        (
            FIVE_PL.value(theta, np.exp([[ti + h]]))[0, 0]
            - 2 * yi
            + FIVE_PL.value(theta, np.exp([[ti - h]]))[0, 0]
        )
        / h**2
        for ti, yi in zip(t, y, strict=True)
    ]
    assert second[0] * second[2] < 0
    assert abs(second[1]) < 1e-3 * max(abs(second[0]), abs(second[2]))


def test_five_pl_with_s_one_is_the_four_pl() -> None:
    theta5 = THETAS["5pl"].copy()
    theta5[4] = 0.0
    x = _grid(theta5)
    np.testing.assert_allclose(FIVE_PL.value(theta5, x), FOUR_PL.value(theta5[:4], x), rtol=1e-14)


def test_three_pl_fixes_bottom_at_zero() -> None:
    assert THREE_PL.fixed == {"bottom": 0.0}
    assert get_model("3pl") is THREE_PL
    with pytest.raises(KeyError, match="unknown model"):
        get_model("7pl")


def test_names_and_log_parameters() -> None:
    assert natural_names(FOUR_PL) == ("bottom", "top", "et50", "hill")
    assert natural_names(EXPONENTIAL) == ("A", "k")
    assert internal_value(FIVE_PL, "s", np.e) == ("log_s", 1.0)
    np.testing.assert_allclose(to_natural(EXPONENTIAL, np.array([50.0, 0.0])), [50.0, 1.0])
    assert FOUR_PL.index("et50") == FOUR_PL.index("log_et50") == 2
    with pytest.raises(KeyError, match="no parameter"):
        internal_value(FOUR_PL, "slope", 1.0)


@pytest.mark.parametrize("name", ["4pl", "5pl", "exponential"])
def test_starting_values_are_close_on_clean_curves(name: str) -> None:
    model, theta = MODELS[name], THETAS[name]
    x = _grid(theta)
    y = model.value(theta, x)
    start = model.start(x, y, np.ones_like(y))
    assert start.shape == theta.shape
    # within a factor of 2 on every natural parameter except those near zero
    nat_s, nat_t = to_natural(model, start), to_natural(model, theta)
    big = np.abs(nat_t) > 5
    np.testing.assert_array_less(np.abs(nat_s[big] / nat_t[big] - 1), 0.5)
    if "hill" in natural_names(model):
        np.testing.assert_array_equal(np.sign(start[3]), np.sign(theta[3]))
