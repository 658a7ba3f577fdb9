"""The 4PL fit against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from killcurve.fit.curves import auc_log2
from killcurve.fit.fourpl import fit_4pl, jacobian, predict

X = np.repeat(40.0 * 2.0 ** -np.arange(8), 3)


@pytest.mark.parametrize(
    ("bottom", "top", "et50", "hill"),
    [
        (2.0, 88.0, 3.0, 1.3),
        (0.0, 100.0, 0.8, 0.7),
        (-5.0, 60.0, 12.0, 2.5),
        (10.0, 95.0, 5.0, 1.0),
    ],
)
def test_noiseless_curve_recovered_to_1e_6(
    bottom: float, top: float, et50: float, hill: float
) -> None:
    y = predict(np.array([bottom, top, np.log(et50), hill]), X)
    fit = fit_4pl(X, y)
    assert fit.converged
    for got, want in ((fit.bottom, bottom), (fit.top, top), (fit.et50, et50), (fit.hill, hill)):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-6)


def test_analytic_jacobian_matches_finite_differences() -> None:
    theta = np.array([3.0, 85.0, np.log(2.5), 1.4])
    jac = jacobian(theta, X)
    step = 1e-6
    for k in range(4):
        d = np.zeros(4)
        d[k] = step
        numeric = (predict(theta + d, X) - predict(theta - d, X)) / (2 * step)
        assert jac[:, k] == pytest.approx(numeric, rel=1e-6, abs=1e-6)


def test_x_at_inverts_the_curve() -> None:
    y = predict(np.array([0.0, 80.0, np.log(4.0), 1.5]), X)
    fit = fit_4pl(X, y)
    # Half of top (40 %) is reached at et50 exactly;
    # 50 %: (4/x)^1.5 = 80/50 − 1 → x = 4 × 0.6^(−2/3).
    assert fit.x_at(40.0) == pytest.approx(4.0, rel=1e-6)
    assert fit.x_at(50.0) == pytest.approx(4.0 * 0.6 ** (-2 / 3), rel=1e-6)
    assert np.isnan(fit.x_at(85.0))


def test_noisy_ci_covers_truth_and_has_t_width() -> None:
    rng = np.random.default_rng(7)
    theta = np.array([1.0, 90.0, np.log(3.0), 1.3])
    fit = fit_4pl(X, predict(theta, X) + rng.normal(0, 3.0, X.size))
    lower, upper = fit.et50_ci()
    assert lower < 3.0 < upper
    # The interval is symmetric on the log scale: ln(upper/et50) = ln(et50/lower).
    assert np.log(upper / fit.et50) == pytest.approx(np.log(fit.et50 / lower))
    assert fit.df_resid == X.size - 4


def test_auc_log2_by_hand() -> None:
    # Means 0, 10, 30 at x = 1, 2, 4 → log2 x = 0, 1, 2; trapezoid = (0+10)/2 + (10+30)/2 = 25.
    assert auc_log2(np.array([1.0, 2.0, 4.0, 4.0]), np.array([0.0, 10.0, 20.0, 40.0])) == 25.0


def test_residuals_are_observed_minus_fitted() -> None:
    import polars as pl

    from killcurve.fit.curves import curve_residuals, fit_curves

    theta = np.array([2.0, 88.0, np.log(3.0), 1.3])
    y = predict(theta, X)
    bump = np.where(X == 40.0, 1.5, 0.0)  # a known deviation on the top E:T wells
    wells = pl.DataFrame(
        {
            "plate_id": "P1", "well": [f"W{i}" for i in range(X.size)], "role": "sample",
            "product": "A", "lot": "L1", "target": "T", "stage": None, "cryo": None,
            "batch": "B1", "readout": "release", "et_ratio": X, "pct_lysis": y + bump,
            "signal": 1.0, "excluded": False,
        }
    )  # fmt: skip
    curves = fit_curves(wells)
    res = curve_residuals(wells, curves).sort("well")
    assert res.height == X.size
    fitted = predict(
        np.array(
            [curves["bottom"][0], curves["top"][0], np.log(curves["et50"][0]), curves["hill"][0]]
        ),
        res["et_ratio"].to_numpy(),
    )
    assert res["fitted"].to_numpy() == pytest.approx(fitted, rel=1e-12)
    assert (res["residual"] + res["fitted"]).to_numpy() == pytest.approx(
        res["pct_lysis"].to_numpy()
    )
    # Least squares with an intercept-like bottom/top: residuals sum to ~0.
    assert abs(res["residual"].sum()) < 1e-6
