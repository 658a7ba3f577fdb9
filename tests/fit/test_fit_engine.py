"""The batched engine: known answers, equivalence with a point-by-point scipy fit, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares

from killcurve.fit.data import stack_curves
from killcurve.fit.engine import Settings, fit_batch
from killcurve.fit.models import FOUR_PL, MODELS, to_natural

ET = 40.0 * 2.0 ** -np.arange(8)[::-1]
X = np.repeat(ET, 3)


def _curves(model_name: str, theta: np.ndarray, x: np.ndarray = X) -> tuple[np.ndarray, ...]:
    """Noiseless points of every column of θ, stacked with their curve label."""
    model = MODELS[model_name]
    m = theta.shape[1]
    y = model.value(theta, np.broadcast_to(x[:, None], (len(x), m)))
    return np.tile(x, m), y.T.ravel(), np.repeat(np.arange(m), len(x))


@pytest.mark.parametrize(
    ("name", "theta"),
    [
        (
            "4pl",
            np.array(
                [[2.0, 0.0, -5.0], [88.0, 100.0, 60.0], np.log([3.0, 0.8, 12.0]), [1.3, 0.7, 2.5]]
            ),
        ),
        ("3pl", np.array([[0.0, 0.0], [88.0, 70.0], np.log([3.0, 9.0]), [1.3, 2.0]])),
        ("5pl", np.array([[2.0, 1.0], [88.0, 95.0], np.log([3.0, 5.0]), [1.3, 2.0], [0.5, -0.4]])),
        ("exponential", np.array([[80.0, 55.0], np.log([0.2, 1.1])])),
    ],
)
def test_noiseless_curves_are_recovered(name: str, theta: np.ndarray) -> None:
    x, y, group = _curves(name, theta)
    fit = fit_batch(x, y, group, name)
    assert fit.converged.all()
    assert (fit.method == "lm").all()
    np.testing.assert_allclose(
        to_natural(fit.model, fit.theta), to_natural(fit.model, theta), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(fit.rss, 0.0, atol=1e-12)


def _scipy_fit(
    x: np.ndarray, y: np.ndarray, start: np.ndarray, w: np.ndarray | None = None
) -> np.ndarray:
    sw = np.ones_like(y) if w is None else np.sqrt(w)

    def resid(t: np.ndarray) -> np.ndarray:
        return sw * (FOUR_PL.value(t[:, None], x[:, None])[:, 0] - y)

    return least_squares(resid, start, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15).x


def test_collapsed_replicates_give_the_point_by_point_optimum() -> None:
    rng = np.random.default_rng(7)
    theta = np.array([[3.0], [80.0], [np.log(4.0)], [1.5]])
    x, y, _ = _curves("4pl", theta)
    y = y + rng.normal(0, 4, len(y))
    w = rng.uniform(0.5, 2.0, len(y))
    order = rng.permutation(len(y))  # unsorted input
    fit = fit_batch(x[order], y[order], weights=w[order], settings=Settings(ftol=1e-14, xtol=1e-12))
    reference = _scipy_fit(x, y, fit.start[:, 0], w)
    np.testing.assert_allclose(fit.theta[:, 0], reference, rtol=1e-7, atol=1e-6)
    rss = np.sum(w * (FOUR_PL.value(reference[:, None], x[:, None])[:, 0] - y) ** 2)
    assert fit.rss[0] == pytest.approx(rss, rel=1e-10)
    assert fit.data.n_levels[0] == 8 and fit.data.n_obs[0] == 24
    np.testing.assert_allclose(fit.residuals(), y[order] - fit.fitted())
    np.testing.assert_allclose(
        fit.fitted(), FOUR_PL.value(fit.theta, x[order][:, None])[:, 0], rtol=1e-12
    )


def test_curves_of_different_lengths_share_a_batch() -> None:
    theta = np.array([[2.0], [90.0], [np.log(3.0)], [1.2]])
    x1, y1, _ = _curves("4pl", theta)
    x2, y2, _ = _curves("4pl", theta, x=ET[2:])  # six levels, no replicates
    x = np.concatenate([x1, x2])
    y = np.concatenate([y1, y2])
    group = np.array(["long"] * len(x1) + ["short"] * len(x2))
    fit = fit_batch(x, y, group)
    assert list(fit.groups) == ["long", "short"]
    np.testing.assert_array_equal(fit.data.n_levels, [8, 6])
    np.testing.assert_array_equal(fit.df_resid, [20, 2])
    np.testing.assert_allclose(fit.params()["et50"], 3.0, rtol=1e-6)


def test_fixed_parameters_by_name_and_per_curve() -> None:
    theta = np.array([[0.0, 0.0], [80.0, 60.0], np.log([2.0, 6.0]), [1.0, 2.0]])
    x, y, group = _curves("4pl", theta)
    fit = fit_batch(x, y, group, fixed={"hill": np.array([1.0, 2.0]), "et50": np.array([2.0, 6.0])})
    assert list(fit.free) == [True, True, False, False]
    np.testing.assert_allclose(fit.params()["hill"], [1.0, 2.0])
    np.testing.assert_allclose(fit.params()["top"], [80.0, 60.0], rtol=1e-8)
    three = fit_batch(x, y, group, "3pl", fixed={"bottom": 5.0})  # overrides the 3PL's 0
    np.testing.assert_allclose(three.params()["bottom"], 5.0)
    assert three.n_free == 3


def test_start_can_be_given_by_name_or_as_an_array() -> None:
    theta = np.array([[1.0], [70.0], [np.log(5.0)], [1.5]])
    x, y, group = _curves("4pl", theta)
    by_name = fit_batch(x, y, group, start={"et50": 1.0, "hill": 3.0})
    assert by_name.start[2, 0] == 0.0 and by_name.start[3, 0] == 3.0
    as_array = fit_batch(x, y, group, start=np.array([0.0, 50.0, 0.0, 1.0]))
    for fit in (by_name, as_array):
        np.testing.assert_allclose(fit.theta, theta, rtol=1e-6, atol=1e-8)


def test_missing_values_are_ignored_and_empty_curves_reported() -> None:
    theta = np.array([[2.0], [90.0], [np.log(3.0)], [1.2]])
    x, y, _ = _curves("4pl", theta)
    y = y.copy()
    y[[0, 5]] = np.nan
    x_all = np.concatenate([x, [1.0, 2.0]])
    y_all = np.concatenate([y, [np.nan, np.nan]])
    group = np.array(["a"] * len(x) + ["b", "b"])
    fit = fit_batch(x_all, y_all, group)
    assert fit.data.n_obs.tolist() == [22, 0]
    assert fit.converged.tolist() == [True, False]
    assert fit.method.tolist() == ["lm", "none"]
    np.testing.assert_allclose(fit.params()["et50"][0], 3.0, rtol=1e-6)


def test_a_curve_still_rising_at_the_top_is_given_up_without_the_fallback() -> None:
    # a straight line in ln x: the 4PL optimum lies at infinity (hill → 0, top → ∞)
    y = 10.0 + 12.0 * np.log(X)
    fit = fit_batch(X, y)
    assert not fit.converged[0]
    assert fit.method[0] == "lm"
    assert fit.n_iter[0] < 60


def test_fallback_reaches_the_batch_optimum() -> None:
    rng = np.random.default_rng(3)
    theta = np.array([[2.0, 4.0], [85.0, 70.0], np.log([3.0, 6.0]), [1.4, 1.1]])
    x, y, group = _curves("4pl", theta)
    y = y + rng.normal(0, 3, len(y))
    batch = fit_batch(x, y, group)
    forced = fit_batch(x, y, group, settings=Settings(max_iter=1))
    assert (forced.method == "trf").all() and forced.converged.all()
    np.testing.assert_allclose(forced.rss, batch.rss, rtol=1e-8)
    np.testing.assert_allclose(forced.theta, batch.theta, rtol=1e-4)


def test_svd_and_normal_steps_agree() -> None:
    rng = np.random.default_rng(11)
    theta = np.array(
        [[2.0, 4.0, 0.0], [85.0, 70.0, 95.0], np.log([3.0, 6.0, 1.0]), [1.4, 1.1, 2.0]]
    )
    x, y, group = _curves("4pl", theta)
    y = y + rng.normal(0, 3, len(y))
    normal = fit_batch(x, y, group)
    svd = fit_batch(x, y, group, settings=Settings(solver="svd"))
    np.testing.assert_allclose(svd.rss, normal.rss, rtol=1e-9)


def test_predict_on_a_shared_grid() -> None:
    theta = np.array([[0.0, 10.0], [100.0, 80.0], np.log([2.0, 4.0]), [1.0, 1.0]])
    x, y, group = _curves("4pl", theta)
    fit = fit_batch(x, y, group)
    grid = np.array([2.0, 4.0])
    np.testing.assert_allclose(
        fit.predict(grid), [[50.0, 10 + 70 / 3], [100 * 2 / 3, 45.0]], rtol=1e-6
    )


def test_stack_curves_collapses_and_pads() -> None:
    data = stack_curves(
        np.array([4.0, 1.0, 1.0, 2.0, 1.0]),
        np.array([7.0, 1.0, 3.0, 5.0, 9.0]),
        np.array(["b", "a", "a", "a", "b"]),
    )
    np.testing.assert_array_equal(data.groups, ["a", "b"])
    np.testing.assert_array_equal(data.x, [[1.0, 1.0], [2.0, 4.0]])
    np.testing.assert_array_equal(data.y, [[2.0, 9.0], [5.0, 7.0]])
    np.testing.assert_array_equal(data.count, [[2, 1], [1, 1]])
    np.testing.assert_array_equal(data.pe_ss, [2.0, 0.0])
    np.testing.assert_array_equal(data.point_values(data.y), [7.0, 2.0, 2.0, 5.0, 9.0])


def test_new_responses_keep_the_design() -> None:
    rng = np.random.default_rng(5)
    x = np.repeat([1.0, 2.0, 4.0], 3)
    group = np.repeat(["a", "b", "c"], 3)[rng.permutation(9)]
    y = rng.normal(size=9)
    data = stack_curves(x, y, group)
    same = data.with_point_y(np.stack([y, 2 * y]))
    np.testing.assert_allclose(same.y[:, :3], data.y)
    np.testing.assert_allclose(same.pe_ss[:3], data.pe_ss)
    np.testing.assert_allclose(same.y[:, 3:], 2 * data.y)
    np.testing.assert_allclose(same.pe_ss[3:], 4 * data.pe_ss)
    np.testing.assert_array_equal(same.groups, np.tile(data.groups, 2))
