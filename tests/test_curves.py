"""The pipeline's curve table (``fit_curves``) against known answers, for every model."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import optimize, stats

from killcurve.errors import KillcurveInputError
from killcurve.fit.curve_table import curve_grid, curve_residuals
from killcurve.fit.curves import FitOptions, auc_log2, curve_columns, fit_curves

ET = 40.0 * 2.0 ** -np.arange(8)
X = np.repeat(ET, 3)


def four_pl(x: np.ndarray, bottom: float, top: float, et50: float, hill: float) -> np.ndarray:
    return bottom + (top - bottom) / (1.0 + (et50 / x) ** hill)


def wells_for(curves: dict[str, np.ndarray], x: np.ndarray = X) -> pl.DataFrame:
    """A well table with one curve per entry (lot = key), all on one plate."""
    frames = []
    for lot, y in curves.items():
        frames.append(
            pl.DataFrame(
                {
                    "plate_id": "P1", "well": [f"{lot}{i}" for i in range(len(x))],
                    "role": "sample", "product": "A", "lot": lot, "target": "T",
                    "stage": None, "cryo": None, "batch": "B1", "readout": "release",
                    "et_ratio": x, "pct_lysis": y, "signal": 1.0, "excluded": False,
                },
                schema_overrides={"stage": pl.String, "cryo": pl.String},
            )
        )  # fmt: skip
    return pl.concat(frames)


@pytest.mark.parametrize(
    ("bottom", "top", "et50", "hill"),
    [
        (2.0, 88.0, 3.0, 1.3),
        (0.0, 100.0, 0.8, 0.7),
        (-5.0, 60.0, 12.0, 2.5),
        (10.0, 95.0, 5.0, 1.0),
    ],
)
def test_noiseless_4pl_recovered_to_1e_6(
    bottom: float, top: float, et50: float, hill: float
) -> None:
    curves = fit_curves(wells_for({"L1": four_pl(X, bottom, top, et50, hill)}))
    row = curves.row(0, named=True)
    assert row["converged"]
    for name, want in (("bottom", bottom), ("top", top), ("et50", et50), ("hill", hill)):
        assert row[name] == pytest.approx(want, rel=1e-6, abs=1e-6)
    assert list(curves.columns) == list(curve_columns())


def test_noisy_fit_matches_scipy_curve_fit_and_t_interval() -> None:
    """Estimates, J′J SEs and the Wald CI of et50 agree with an independent curve_fit."""
    rng = np.random.default_rng(7)
    y = four_pl(X, 1.0, 90.0, 3.0, 1.3) + rng.normal(0, 3.0, X.size)
    row = fit_curves(wells_for({"L1": y})).row(0, named=True)

    def f(x: np.ndarray, b: float, t: float, log_e: float, h: float) -> np.ndarray:
        return four_pl(x, b, t, np.exp(log_e), h)

    popt, pcov = optimize.curve_fit(f, X, y, p0=[0, 90, 1, 1], maxfev=20000)
    se = np.sqrt(np.diag(pcov))
    assert row["et50"] == pytest.approx(np.exp(popt[2]), rel=1e-6)
    assert row["hill"] == pytest.approx(popt[3], rel=1e-6)
    assert row["log_et50_se"] == pytest.approx(se[2], rel=1e-4)
    assert row["hill_se"] == pytest.approx(se[3], rel=1e-4)
    t = stats.t.ppf(0.975, X.size - 4)
    assert row["et50_lower"] == pytest.approx(np.exp(popt[2] - t * se[2]), rel=1e-4)
    assert row["et50_upper"] == pytest.approx(np.exp(popt[2] + t * se[2]), rel=1e-4)
    assert row["df_resid"] == X.size - 4
    assert row["et50_profile_lower"] < 3.0 < row["et50_profile_upper"]
    # AICc = n ln(RSS/n) + 2k + 2k(k+1)/(n−k−1), k = 4 parameters + σ².
    n, k = X.size, 5
    want = n * np.log(row["rss"] / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
    assert row["aicc"] == pytest.approx(want, rel=1e-9)


def test_hessian_convention_differs_from_jtj_only_by_curvature() -> None:
    rng = np.random.default_rng(3)
    y = four_pl(X, 1.0, 90.0, 3.0, 1.3) + rng.normal(0, 4.0, X.size)
    jtj = fit_curves(wells_for({"L1": y})).row(0, named=True)
    hess = fit_curves(wells_for({"L1": y}), FitOptions(se="hessian")).row(0, named=True)
    assert hess["se_convention"] == "hessian"
    assert hess["et50"] == jtj["et50"]
    # Same estimate, SEs within a few % (the residual-curvature term is small here) but not equal.
    assert hess["log_et50_se"] == pytest.approx(jtj["log_et50_se"], rel=0.1)
    assert hess["log_et50_se"] != jtj["log_et50_se"]


def test_three_pl_holds_bottom_and_exponential_gives_lytic_units() -> None:
    three = fit_curves(wells_for({"L1": four_pl(X, 0.0, 85.0, 2.0, 1.1)}), FitOptions(model="3pl"))
    row = three.row(0, named=True)
    assert row["bottom"] == 0.0 and row["bottom_se"] is None
    assert row["et50"] == pytest.approx(2.0, rel=1e-6)
    assert row["df_resid"] == X.size - 3
    y = 60.0 * (1.0 - np.exp(-0.1 * X))
    expo = fit_curves(wells_for({"L1": y}), FitOptions(model="exponential")).row(0, named=True)
    assert expo["top"] == pytest.approx(60.0, rel=1e-6)
    assert expo["rate_k"] == pytest.approx(0.1, rel=1e-6)
    assert expo["et50"] is None
    # x_30 = ln 2 / 0.1 E:T; LU30 per 10⁶ effectors = 10⁶ / (x_30 × 10⁴ targets).
    assert expo["lu30"] == pytest.approx(1e6 / (np.log(2) / 0.1 * 1e4), rel=1e-6)
    # x_20 = −ln(1 − 20/60)/0.1.
    assert expo["lu20"] == pytest.approx(1e6 / (-np.log(1 - 20 / 60) / 0.1 * 1e4), rel=1e-6)


def test_flags_fire_on_curves_built_to_fail() -> None:
    rng = np.random.default_rng(11)
    curves = fit_curves(
        wells_for(
            {
                "flat": 20.0 + rng.normal(0, 2.0, X.size),
                "out_of_range": four_pl(X, 0.0, 90.0, 400.0, 1.2) + rng.normal(0, 1.0, X.size),
                "low": four_pl(X, 0.0, 35.0, 2.0, 1.2) + rng.normal(0, 1.0, X.size),
                "good": four_pl(X, 0.0, 90.0, 3.0, 1.2) + rng.normal(0, 1.0, X.size),
            }
        )
    )
    flags = dict(zip(curves["lot"], curves["flags"].to_list(), strict=True))
    assert "flat" in flags["flat"]
    assert "et50_above_range" in flags["out_of_range"]
    assert "never_reaches_50" in flags["low"]
    assert flags["good"] == []


def test_too_few_levels_and_all_excluded_are_not_fitted() -> None:
    x = np.repeat([10.0, 5.0, 2.5], 3)
    few = wells_for({"L1": four_pl(x, 0, 90, 3, 1)}, x)
    row = fit_curves(few).row(0, named=True)
    assert row["flags"] == ["few_points"] and row["et50"] is None and not row["converged"]
    assert row["n_points"] == 9 and row["n_et"] == 3
    assert row["auc"] == pytest.approx(auc_log2(x, four_pl(x, 0, 90, 3, 1)))
    gone = wells_for({"L1": four_pl(X, 0, 90, 3, 1)}).with_columns(excluded=pl.lit(True))
    row = fit_curves(gone).row(0, named=True)
    assert row["flags"] == ["no_usable_points"] and row["n_points"] == 0


def test_auc_log2_by_hand() -> None:
    # Means 0, 10, 30 at x = 1, 2, 4 → log2 x = 0, 1, 2; trapezoid = (0+10)/2 + (10+30)/2 = 25.
    assert auc_log2(np.array([1.0, 2.0, 4.0, 4.0]), np.array([0.0, 10.0, 20.0, 40.0])) == 25.0
    x = np.array([1.0, 2.0, 4.0, 4.0, 8.0])
    y = np.array([0.0, 10.0, 20.0, 40.0, 50.0])
    row = fit_curves(wells_for({"L1": y}, x), FitOptions(model="3pl")).row(0, named=True)
    assert row["auc"] == pytest.approx(25.0 + (30.0 + 50.0) / 2)


def test_residuals_and_grid_use_the_fitted_model() -> None:
    y = four_pl(X, 2.0, 88.0, 3.0, 1.3)
    bump = np.where(X == 40.0, 1.5, 0.0)  # a known deviation on the top E:T wells
    wells = wells_for({"L1": y + bump})
    curves = fit_curves(wells)
    row = curves.row(0, named=True)
    res = curve_residuals(wells, curves)
    assert res.height == X.size
    want = four_pl(res["et_ratio"].to_numpy(), row["bottom"], row["top"], row["et50"], row["hill"])
    assert res["fitted"].to_numpy() == pytest.approx(want, rel=1e-12)
    assert (res["residual"] + res["fitted"]).to_numpy() == pytest.approx(
        res["pct_lysis"].to_numpy()
    )
    assert abs(res["residual"].sum()) < 1e-6
    grid = curve_grid(curves, n=5)
    assert grid["et_ratio"].to_list() == pytest.approx(np.geomspace(ET.min(), ET.max(), 5))
    assert grid["pct_lysis"].to_numpy() == pytest.approx(
        four_pl(grid["et_ratio"].to_numpy(), row["bottom"], row["top"], row["et50"], row["hill"])
    )


def test_unknown_model_and_parameter_are_config_errors() -> None:
    with pytest.raises(KillcurveInputError, match=r"fit\.model"):
        FitOptions.from_config({"model": "6pl"})
    with pytest.raises(KillcurveInputError, match=r"fit\.fixed\.slope.*bottom, top, et50, hill"):
        FitOptions.from_config({"model": "4pl", "fixed": {"slope": 1}})
