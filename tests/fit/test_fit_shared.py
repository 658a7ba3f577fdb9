"""Global fits with shared parameters against a direct scipy fit of the same model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares

from killcurve.fit.comparison import f_test
from killcurve.fit.engine import Settings, fit_batch
from killcurve.fit.inference import covariance, delta_method
from killcurve.fit.models import FOUR_PL
from killcurve.fit.shared import fit_global

X = np.repeat(40.0 * 2.0 ** -np.arange(8)[::-1], 3)
LABELS = np.array(["ref", "test", "three"])
ET50 = {"ref": 2.0, "test": 3.0, "three": 5.0}
TIGHT = Settings(ftol=1e-15, xtol=1e-14, gtol=1e-14)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    ys = [
        FOUR_PL.value(np.array([[2.0], [85.0], [np.log(ET50[lab])], [1.4]]), X[:, None])[:, 0]
        + rng.normal(0, 4, len(X))
        for lab in LABELS
    ]
    return np.tile(X, 3), np.concatenate(ys), np.repeat(LABELS, len(X))


def test_parallel_curves_match_a_direct_fit(data: tuple[np.ndarray, ...]) -> None:
    x, y, group = data
    fit = fit_global(x, y, group, settings=TIGHT)
    assert fit.model.params == (
        "bottom",
        "top",
        "hill",
        "log_et50[ref]",
        "log_et50[test]",
        "log_et50[three]",
    )
    assert fit.converged[0] and fit.df_resid[0] == len(y) - 6

    def resid(t: np.ndarray) -> np.ndarray:
        out = []
        for c, lab in enumerate(LABELS):
            theta = np.array([[t[0]], [t[1]], [t[3 + c]], [t[2]]])
            out.append(FOUR_PL.value(theta, x[group == lab][:, None])[:, 0] - y[group == lab])
        return np.concatenate(out)

    ref = least_squares(
        resid, np.array([0.0, 80.0, 1.0, 0.5, 1.0, 1.5]), method="lm", xtol=1e-15, ftol=1e-15
    )
    np.testing.assert_allclose(fit.theta[:, 0], ref.x, rtol=1e-6, atol=1e-5)  # bottom SE ≈ 2
    assert fit.rss[0] == pytest.approx(2 * ref.cost, rel=1e-10)


def test_nothing_shared_is_the_separate_fits(data: tuple[np.ndarray, ...]) -> None:
    x, y, group = data
    joint = fit_global(x, y, group, shared=(), settings=TIGHT)
    separate = fit_batch(x, y, group, settings=TIGHT)
    assert joint.rss[0] == pytest.approx(separate.rss.sum(), rel=1e-9)
    np.testing.assert_allclose(
        joint.params()["et50[test]"], separate.params()["et50"][1], rtol=1e-6
    )


def test_parallelism_f_test_and_a_potency_ratio(data: tuple[np.ndarray, ...]) -> None:
    x, y, group = data
    joint = fit_global(x, y, group)
    separate = fit_batch(x, y, group)
    test = f_test(joint.rss, joint.df_resid, separate.rss.sum(), separate.df_resid.sum())
    assert test.df_num[0] == 6 and test.p_value[0] > 0.05  # the curves were simulated parallel
    i, j = joint.model.index("et50[test]"), joint.model.index("et50[ref]")
    ratio = delta_method(joint, lambda th: th[i] - th[j], cov=covariance(joint))
    assert np.exp(ratio.lower[0]) < 1.5 < np.exp(ratio.upper[0])


def test_fixed_values_reach_every_copy(data: tuple[np.ndarray, ...]) -> None:
    x, y, group = data
    fit = fit_global(
        x, y, group, "3pl", shared=("top", "hill"), fixed={"log_et50[ref]": np.log(2.0)}
    )
    names = fit.model.params
    assert [names[j] for j in np.flatnonzero(~fit.free)] == [
        "bottom[ref]",
        "log_et50[ref]",
        "bottom[test]",
        "bottom[three]",
    ]
    assert fit.params()["et50[ref]"][0] == pytest.approx(2.0)


def test_asymptotes_shared_within_blocks_match_a_direct_fit() -> None:
    # Curves a, b in block P (bottom 2, top 85), c, d in block Q (bottom 8, top 50); hill 1.4.
    rng = np.random.default_rng(7)
    truth = {"a": ("P", 2.0), "b": ("P", 4.0), "c": ("Q", 2.5), "d": ("Q", 6.0)}
    asym = {"P": (2.0, 85.0), "Q": (8.0, 50.0)}
    ys = []
    for block, et50 in truth.values():
        theta = np.array([[asym[block][0]], [asym[block][1]], [np.log(et50)], [1.4]])
        ys.append(FOUR_PL.value(theta, X[:, None])[:, 0] + rng.normal(0, 2, len(X)))
    labels = list(truth)
    x, y, group = np.tile(X, 4), np.concatenate(ys), np.repeat(labels, len(X))
    blocks = {k: v[0] for k, v in truth.items()}
    fit = fit_global(
        x, y, group, shared=("hill",), block_shared=("bottom", "top"), blocks=blocks,
        settings=TIGHT,
    )  # fmt: skip
    assert fit.model.params == (
        "hill",
        "bottom{P}",
        "top{P}",
        "bottom{Q}",
        "top{Q}",
        "log_et50[a]",
        "log_et50[b]",
        "log_et50[c]",
        "log_et50[d]",
    )
    assert fit.converged[0] and fit.df_resid[0] == len(y) - 9

    def resid(t: np.ndarray) -> np.ndarray:
        out = []
        for c, lab in enumerate(labels):
            b = 1 if blocks[lab] == "P" else 3
            theta = np.array([[t[b]], [t[b + 1]], [t[5 + c]], [t[0]]])
            out.append(FOUR_PL.value(theta, x[group == lab][:, None])[:, 0] - y[group == lab])
        return np.concatenate(out)

    start = np.array([1.0, 0.0, 80.0, 5.0, 45.0, 0.5, 1.0, 1.0, 1.5])
    ref = least_squares(resid, start, method="lm", xtol=1e-15, ftol=1e-15)
    np.testing.assert_allclose(fit.theta[:, 0], ref.x, rtol=1e-6, atol=1e-5)
    assert fit.rss[0] == pytest.approx(2 * ref.cost, rel=1e-10)
    # the Jacobian's columns are the direct model's (finite differences at the optimum)
    se = np.sqrt(np.diag(covariance(fit)[0]))
    jac = np.column_stack(
        [(resid(ref.x + h) - resid(ref.x - h)) / 2e-6 for h in np.eye(len(ref.x)) * 1e-6]
    )
    s2 = 2 * ref.cost / (len(y) - 9)
    np.testing.assert_allclose(se, np.sqrt(np.diag(np.linalg.inv(jac.T @ jac)) * s2), rtol=1e-4)
