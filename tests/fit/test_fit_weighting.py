"""Weighted curve fits (config fit.weighting: signal): weight 1/scale², scale = |∂lysis/∂S|·S."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import optimize

from killcurve.fit.curves import FitOptions, fit_curves
from killcurve.fit.verdict import VERDICTS, VerdictRules
from tests.test_curves import X, four_pl

TRUTH = {"bottom": 4.0, "top": 88.0, "et50": 3.0, "hill": 1.3}
T_LEVEL, M_LEVEL = 1_000.0, 11_000.0  # release: spontaneous and maximum counts


def _release_wells(n_curves: int, cv: float, seed: int) -> pl.DataFrame:
    """One release plate per curve: 8 E:T × 3 wells, 8 target_only and 8 max_lysis wells;
    every reading S = level · exp(N(0, cv)), S = T + (M − T)·L/100 for a sample well."""
    from killcurve.assay.lysis import compute_lysis

    rng = np.random.default_rng(seed)
    frames = []
    n = X.size
    for c in range(n_curves):
        lysis = four_pl(X, **TRUTH)
        signal = (T_LEVEL + (M_LEVEL - T_LEVEL) * lysis / 100.0) * np.exp(rng.normal(0, cv, n))
        controls = np.r_[T_LEVEL * np.exp(rng.normal(0, cv, 8)),
                         M_LEVEL * np.exp(rng.normal(0, cv, 8))]  # fmt: skip
        frames.append(
            pl.DataFrame(
                {"plate_id": f"P{c:03d}", "well": [f"W{i}" for i in range(n + 16)],
                 "role": ["sample"] * n + ["target_only"] * 8 + ["max_lysis"] * 8,
                 "product": "A", "lot": f"L{c:03d}", "target": "T", "stage": None,
                 "cryo": None, "batch": "B1", "readout": "release",
                 "et_ratio": [*X, *[None] * 16], "signal": [*signal, *controls],
                 "excluded": False, "exclusion_reason": None},
                schema_overrides={"stage": pl.String, "cryo": pl.String, "et_ratio": pl.Float64,
                                  "exclusion_reason": pl.String},
            )
        )  # fmt: skip
    return compute_lysis(pl.concat(frames))


def test_weighted_fit_equals_scipy_curve_fit_with_the_delta_method_sigma() -> None:
    """Independent reference: scipy's curve_fit with sigma = 100·S/(M̄ − T̄) (relative
    sigma, so the covariance is scaled by the weighted residual variance, as ours)."""
    wells = _release_wells(1, cv=0.08, seed=4)
    curve = fit_curves(wells, FitOptions(weighting="signal")).row(0, named=True)
    assert curve["weighting"] == "signal"
    sample = wells.filter(pl.col("role") == "sample").sort("et_ratio")
    t_mean = wells.filter(pl.col("role") == "target_only")["signal"].mean()
    m_mean = wells.filter(pl.col("role") == "max_lysis")["signal"].mean()
    sigma = 100.0 * sample["signal"].to_numpy() / (m_mean - t_mean)

    def model(x: np.ndarray, bottom: float, top: float, log_et50: float, hill: float):
        return bottom + (top - bottom) / (1.0 + np.exp(hill * (log_et50 - np.log(x))))

    popt, pcov = optimize.curve_fit(
        model, sample["et_ratio"].to_numpy(), sample["pct_lysis"].to_numpy(),
        p0=[5.0, 85.0, 1.0, 1.2], sigma=sigma, absolute_sigma=False,
        ftol=1e-15, xtol=1e-15, gtol=1e-15,
    )  # fmt: skip
    assert curve["et50"] == pytest.approx(np.exp(popt[2]), rel=1e-6)
    assert curve["log_et50_se"] == pytest.approx(np.sqrt(pcov[2, 2]), rel=1e-4)
    assert curve["hill"] == pytest.approx(popt[3], rel=1e-6)
    # rss = Σ (r/scale)²: s = √(rss/df) estimates the reading's CV (8 % here)
    assert np.sqrt(curve["rss"] / curve["df_resid"]) == pytest.approx(0.08, rel=0.35)
    unweighted = fit_curves(wells).row(0, named=True)
    assert unweighted["weighting"] == "none" and unweighted["et50"] != curve["et50"]


def test_weighted_fits_recover_et50_more_precisely_with_calibrated_intervals() -> None:
    """300 simulated release curves, reading CV 10 % (recovered truth: et50 = 3). Measured on
    seeds 8–10: RMSE of ln et50 0.180–0.185 unweighted, 0.162–0.169 weighted; 90th
    percentile of |ln error| 0.26–0.28 and 0.24–0.25; Wald 95 % coverage 0.96–0.97 and
    0.95–0.97."""
    wells = _release_wells(300, cv=0.10, seed=8)
    every = VerdictRules(use=VERDICTS)  # the estimator on every curve, whatever its verdict
    errors, coverage = {}, {}
    for weighting in ("none", "signal"):
        curves = fit_curves(wells, FitOptions(weighting=weighting, profile=False, verdict=every))
        ok = curves.filter(pl.col("converged"))
        assert ok.height >= 295
        errors[weighting] = np.abs(np.log(ok["et50"].to_numpy() / 3.0))
        coverage[weighting] = ((ok["et50_lower"] <= 3.0) & (ok["et50_upper"] >= 3.0)).mean()
    rmse = {k: float(np.sqrt(np.mean(e**2))) for k, e in errors.items()}
    p90 = {k: float(np.percentile(e, 90)) for k, e in errors.items()}
    assert rmse["signal"] < 0.95 * rmse["none"] and p90["signal"] < 0.95 * p90["none"]
    assert 0.93 <= coverage["signal"] <= 0.98


def test_weighted_residual_bootstrap_covers_like_the_wald_interval() -> None:
    """The residual bootstrap resamples standardised residuals r·√w and puts them back as
    e*/√w: on 60 weighted release curves its 95 % percentile interval of et50 covers the
    truth about as often as nominal."""
    wells = _release_wells(60, cv=0.10, seed=9)
    options = FitOptions(
        weighting="signal", profile=False, bootstrap=200, seed=3, verdict=VerdictRules(use=VERDICTS)
    )
    curves = fit_curves(wells, options).filter(pl.col("converged"))
    covered = ((curves["et50_boot_lower"] <= 3.0) & (curves["et50_boot_upper"] >= 3.0)).mean()
    assert 0.88 <= covered <= 1.0
    # the bootstrap interval's width follows the weighted Wald interval's
    ratio = (np.log(curves["et50_boot_upper"] / curves["et50_boot_lower"]) /
             np.log(curves["et50_upper"] / curves["et50_lower"])).median()  # fmt: skip
    assert 0.75 <= ratio <= 1.25


def test_curves_of_flow_or_precomputed_readouts_stay_unweighted() -> None:
    wells = _release_wells(1, cv=0.05, seed=1)
    precomputed = wells.filter(pl.col("role") == "sample").with_columns(
        pl.lit("pct_lysis").alias("readout"), pl.col("pct_lysis").alias("signal")
    )
    weighted = fit_curves(precomputed, FitOptions(weighting="signal"))
    plain = fit_curves(precomputed, FitOptions())
    assert weighted["et50"].item() == plain["et50"].item()
    assert weighted["rss"].item() == plain["rss"].item()


def test_weighted_potency_ratio_equals_a_direct_weighted_constrained_fit() -> None:
    """Relative potency with lysis_scale on the points: the constrained 4PL (common bottom,
    top, hill; ln et50 per curve) weighs each well 1/scale². Reference: scipy's
    least_squares on (y − f)/scale; ratio = exp(mean ln et50_T − mean ln et50_R)."""
    from killcurve.fit.weighting import with_fit_weights
    from killcurve.stats.potency import ParallelismMargins, relative_potency

    wells = with_fit_weights(_release_wells(4, cv=0.08, seed=12), "signal")
    points = wells.filter(pl.col("role") == "sample").with_columns(
        pl.when(pl.col("lot") < "L002").then(pl.lit("T")).otherwise(pl.lit("R")).alias("product"),
        pl.col("lot").alias("curve_id"),
    )
    wide = ParallelismMargins(hill_ratio=(0.2, 5.0), top_difference=50, bottom_difference=50)
    result = relative_potency(points, "T", "R", margins=wide)
    delta = result.table.filter(pl.col("method") == "parallel_line_delta").row(0, named=True)
    x, y = points["et_ratio"].to_numpy(), points["pct_lysis"].to_numpy()
    scale = points["lysis_scale"].to_numpy()
    code = np.searchsorted(sorted(set(points["curve_id"])), points["curve_id"].to_numpy())

    def resid(p: np.ndarray) -> np.ndarray:
        bottom, top, hill, log_et50 = p[0], p[1], p[2], p[3:][code]
        return (
            y - (bottom + (top - bottom) / (1.0 + np.exp(hill * (log_et50 - np.log(x)))))
        ) / scale

    fit = optimize.least_squares(resid, [5.0, 85.0, 1.2, 1.0, 1.0, 1.0, 1.0], xtol=1e-15,
                                 ftol=1e-15, gtol=1e-15)  # fmt: skip
    le = fit.x[3:]  # curves L000, L001 (T) and L002, L003 (R)
    assert delta["estimate"] == pytest.approx(np.exp(le[:2].mean() - le[2:].mean()), rel=1e-6)
    unweighted = relative_potency(points.drop("lysis_scale"), "T", "R", margins=wide)
    first = unweighted.table.filter(pl.col("method") == "parallel_line_delta")["estimate"][0]
    assert first != delta["estimate"]


def test_the_workflow_steps_weigh_the_potency_fits_as_the_curves(tmp_path: Path) -> None:
    """steps.fit with fit.weighting: signal writes weighting = signal into the curves, and
    steps.compare then fits the potency models with the same weights."""
    from killcurve.fit.weighting import with_fit_weights
    from killcurve.pipeline import steps
    from killcurve.stats.potency import ParallelismMargins, relative_potency

    wells = _release_wells(4, cv=0.08, seed=12).with_columns(
        pl.when(pl.col("lot") < "L002").then(pl.lit("T")).otherwise(pl.lit("R")).alias("product")
    )
    wells.write_parquet(tmp_path / "wells.parquet")
    margins = {"hill_ratio": [0.2, 5.0], "top_difference": 50, "bottom_difference": 50}
    comparison = {"name": "t_vs_r", "test": "T", "reference": "R", "by": ["target"],
                  "parallelism_margins": margins}  # fmt: skip
    rows = {}
    for weighting in ("none", "signal"):
        steps.fit(tmp_path / "wells.parquet", {"model": "4pl", "weighting": weighting},
                  tmp_path / "curves.csv", tmp_path / "curves.parquet")  # fmt: skip
        assert pl.read_parquet(tmp_path / "curves.parquet")["weighting"].unique().to_list() == [
            weighting
        ]
        steps.compare(tmp_path / "curves.parquet", [comparison], tmp_path / "c.csv",
                      wells=tmp_path / "wells.parquet")  # fmt: skip
        table = pl.read_csv(tmp_path / "c.csv")
        rows[weighting] = table.filter(pl.col("method") == "parallel_line_delta")["estimate"][0]
    points = (
        with_fit_weights(wells, "signal")
        .filter(pl.col("role") == "sample")
        .with_columns(pl.col("lot").alias("curve_id"))
    )
    wide = ParallelismMargins(hill_ratio=(0.2, 5.0), top_difference=50, bottom_difference=50)
    expected = relative_potency(points, "T", "R", margins=wide).table
    assert rows["signal"] == pytest.approx(
        expected.filter(pl.col("method") == "parallel_line_delta")["estimate"][0], rel=1e-9
    )
    assert rows["none"] != pytest.approx(rows["signal"], rel=1e-6)


def test_the_methods_say_how_the_curves_were_weighted() -> None:
    from killcurve.report.methods import curve_methods

    wells = _release_wells(1, cv=0.05, seed=2)
    weighted = curve_methods(fit_curves(wells, FitOptions(weighting="signal")))
    plain = curve_methods(fit_curves(wells))
    assert "fitted by weighted least squares (weight 1/scale²" in weighted
    assert "s² = weighted RSS/(n − 4)" in weighted
    assert "fitted by least squares (batched" in plain and "weighted" not in plain
