"""Relative potency from a constrained global 4PL: known ratios, parallelism, Fieller, fallbacks."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from killcurve.errors import KillcurveInputError
from killcurve.fit.inference import covariance
from killcurve.stats.potency import ParallelismMargins, relative_potency

ET = 40.0 * 2.0 ** -np.arange(8)  # 40:1 … 0.3125:1


def _lysis(x: np.ndarray, et50: float, hill: float = 1.3, top: float = 90.0) -> np.ndarray:
    """4PL % lysis, bottom 1 %."""
    return 1.0 + (top - 1.0) / (1.0 + (et50 / x) ** hill)


def _points(
    reps: int = 3,
    noise: float = 0.0,
    seed: int = 0,
    test: dict | None = None,
    ref: dict | None = None,
) -> pl.DataFrame:
    """Wells of T (et50 2) and R (et50 5), ``reps`` per E:T, Gaussian noise of SD ``noise``."""
    rng = np.random.default_rng(seed)
    x = np.repeat(ET, reps)
    y_t = _lysis(x, **{"et50": 2.0, **(test or {})}) + rng.normal(0, noise, x.size)
    y_r = _lysis(x, **{"et50": 5.0, **(ref or {})}) + rng.normal(0, noise, x.size)
    return pl.DataFrame(
        {
            "product": ["T"] * x.size + ["R"] * x.size,
            "et_ratio": np.tile(x, 2),
            "pct_lysis": np.r_[y_t, y_r],
        }
    )


def _row(result, method: str) -> dict:
    return result.table.filter(pl.col("method") == method).row(0, named=True)


def test_noise_free_parallel_curves_give_the_exact_ratio() -> None:
    # et50 2 vs 5 with common bottom/top/hill: the potency ratio is 2/5 = 0.4 exactly.
    res = relative_potency(_points(), "T", "R")
    assert res.status == "equivalent"
    assert res.table["metric"].to_list() == ["potency_ratio", "potency_ratio"]
    for method in ("parallel_line_delta", "parallel_line_fieller"):
        row = _row(res, method)
        assert row["estimate"] == pytest.approx(0.4, abs=1e-6)
        assert row["lower"] <= 0.4 <= row["upper"]
        assert row["upper"] / row["lower"] < 1 + 1e-6
        assert row["parallelism"] == "equivalent"
    # The parallelism intervals collapse onto ratio 1 and differences 0.
    par = dict(res.parallelism.select("parameter", "estimate").iter_rows())
    assert par["hill_ratio"] == pytest.approx(1.0, abs=1e-6)
    assert par["top_difference"] == pytest.approx(0.0, abs=1e-6)
    assert par["bottom_difference"] == pytest.approx(0.0, abs=1e-6)


def _lots(noise: float = 0.0, seed: int = 0, hill_t: float = 1.3) -> pl.DataFrame:
    """Three lots per product, each its own et50: T 1.5, 2, 3; R 4, 5, 7 (hill of T: hill_t)."""
    rng = np.random.default_rng(seed)
    x = np.repeat(ET, 3)
    frames = []
    for product, et50s, hill in (("T", (1.5, 2.0, 3.0), hill_t), ("R", (4.0, 5.0, 7.0), 1.3)):
        for i, et50 in enumerate(et50s):
            y = _lysis(x, et50, hill) + rng.normal(0, noise, x.size)
            frames.append(
                pl.DataFrame({"product": product, "lot": f"L{i}", "et_ratio": x, "pct_lysis": y})
            )
    return pl.concat(frames)


def test_one_et50_per_lot_gives_the_ratio_of_geometric_means() -> None:
    # Lots shift the curves: the potency ratio is the ratio of the geometric mean et50s,
    # (1.5·2·3)^(1/3) / (4·5·7)^(1/3) = (9/140)^(1/3) = 0.400742..., exact without noise.
    res = relative_potency(_lots(), "T", "R")
    assert res.status == "equivalent"
    want = (9 / 140) ** (1 / 3)
    for method in ("parallel_line_delta", "parallel_line_fieller"):
        assert _row(res, method)["estimate"] == pytest.approx(want, abs=1e-6)
    assert "3 + 3 curves" in _row(res, "parallel_line_delta")["notes"]
    # 6 curves: 3 shape parameters + 6 et50 constrained, 2 x (3 + 3) unconstrained.
    assert res.constrained.df_resid[0] == 144 - 9
    assert res.f_parallel.df_num[0] == 3 and res.f_parallel.df_den[0] == 144 - 12


def test_lots_with_noise_parallel_and_not() -> None:
    res = relative_potency(_lots(noise=3.0, seed=1), "T", "R")
    assert res.status == "equivalent"
    row = _row(res, "parallel_line_delta")
    assert row["lower"] < (9 / 140) ** (1 / 3) < row["upper"]
    steep = relative_potency(_lots(noise=3.0, seed=1, hill_t=2.0), "T", "R")
    assert steep.status == "not_equivalent"
    hill = steep.parallelism.filter(pl.col("parameter") == "hill_ratio").row(0, named=True)
    assert hill["lower"] < 2.0 / 1.3 < hill["upper"] and not hill["within"]
    sep = _row(steep, "separate_fits_delta")
    assert sep["lower"] < (9 / 140) ** (1 / 3) < sep["upper"]


def test_noisy_intervals_cover_the_true_ratio_at_about_95_percent() -> None:
    # 60 seeded assays (12 wells per E:T, noise SD 2 % lysis): all pass parallelism and the
    # delta interval covers 0.4 in at least 52 of 60 (Binomial(60, 0.95) 0.1 % quantile is 51).
    covered = {"parallel_line_delta": 0, "parallel_line_fieller": 0}
    equivalent = 0
    for seed in range(60):
        res = relative_potency(_points(reps=12, noise=2.0, seed=seed), "T", "R")
        equivalent += res.status == "equivalent"
        for method in covered:
            row = _row(res, method)
            if row["lower"] is not None:
                covered[method] += row["lower"] <= 0.4 <= row["upper"]
    assert equivalent == 60
    assert covered["parallel_line_delta"] >= 52, covered
    assert covered["parallel_line_fieller"] >= 52, covered
    # ...and not trivially wide: at most all 60 (a wrong SE of 10x would also give 60, so
    # check one interval's width against the delta method's own SE: ±t·SE on the log scale).
    res = relative_potency(_points(reps=12, noise=2.0, seed=0), "T", "R")
    row = _row(res, "parallel_line_delta")
    assert math.log(row["upper"] / row["lower"]) < 0.1  # 95 % CI narrower than ±5 %


@pytest.mark.parametrize(
    ("test_shape", "outside"),
    [({"hill": 2.6}, "hill_ratio"), ({"top": 60.0}, "top_difference")],
)
def test_non_parallel_curves_are_not_equivalent_and_give_no_potency(test_shape, outside) -> None:
    res = relative_potency(_points(noise=1.0, seed=3, test=test_shape), "T", "R")
    assert res.status == "not_equivalent"
    assert outside in res.parallelism.filter(~pl.col("within"))["parameter"].to_list()
    potency = res.table.filter(pl.col("metric") == "potency_ratio")
    assert potency.height == 2
    assert potency["estimate"].null_count() == 2 and potency["lower"].null_count() == 2
    assert all("parallelism not_equivalent" in n for n in potency["notes"])
    assert set(res.table["parallelism"]) == {"not_equivalent"}
    # Fallbacks: the separate-fit et50 ratio (near 2/5) and a lysis difference at each E:T.
    sep = _row(res, "separate_fits_delta")
    assert sep["metric"] == "et50_ratio_separate"
    assert sep["estimate"] == pytest.approx(0.4, rel=0.1)
    lysis = res.table.filter(pl.col("metric") == "lysis_difference_at_et")
    assert sorted(lysis["et_ratio"].to_list()) == sorted(ET.tolist())
    assert lysis["estimate"].null_count() == 0


def test_welch_fallback_matches_scipy() -> None:
    data = _points(noise=2.0, seed=4, test={"hill": 2.6})
    res = relative_potency(data, "T", "R")
    at = data.filter(pl.col("et_ratio") == 10.0)
    a = at.filter(pl.col("product") == "T")["pct_lysis"].to_numpy()
    b = at.filter(pl.col("product") == "R")["pct_lysis"].to_numpy()
    want = stats.ttest_ind(a, b, equal_var=False)
    ci = want.confidence_interval(0.95)
    row = res.table.filter(pl.col("et_ratio") == 10.0).row(0, named=True)
    assert row["estimate"] == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert row["p_value"] == pytest.approx(want.pvalue, rel=1e-9)
    assert (row["lower"], row["upper"]) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_fieller_limits_are_the_roots_of_the_quadratic() -> None:
    # (a − ρb)² = t²(Var a − 2ρ Cov(a, b) + ρ² Var b) with a = et50_T, b = et50_R and their
    # covariance D·V·D (D = diag(a, b), V the covariance of ln et50): solved with numpy.roots.
    res = relative_potency(_points(reps=6, noise=3.0, seed=7), "T", "R")
    assert res.status == "equivalent"
    fit = res.constrained
    cov = covariance(fit)[0]
    i, j = fit.model.params.index("log_et50[T]"), fit.model.params.index("log_et50[R]")
    a, b = math.exp(fit.theta[i, 0]), math.exp(fit.theta[j, 0])
    var_a, var_b, cov_ab = a * a * cov[i, i], b * b * cov[j, j], a * b * cov[i, j]
    t = stats.t.ppf(0.975, fit.df_resid[0])
    roots = np.roots(
        [b * b - t * t * var_b, -2 * a * b + 2 * t * t * cov_ab, a * a - t * t * var_a]
    )
    row = _row(res, "parallel_line_fieller")
    assert (row["lower"], row["upper"]) == pytest.approx(sorted(roots.real), rel=1e-10)
    assert fit.df_resid[0] == 96 - 5
    # p-value of ρ = 1 on the natural scale: t = (a − b)/SE(a − b).
    se = math.sqrt(var_a + var_b - 2 * cov_ab)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(a - b) / se, 91), rel=1e-9)


def test_fieller_and_delta_agree_when_the_se_is_small() -> None:
    # Noise SD 0.2 % lysis: SE(ln et50) ~ 0.3 %, g ~ 1e-5; the two intervals agree to
    # second order in the relative SE, here to better than 1e-4.
    res = relative_potency(_points(reps=3, noise=0.2, seed=1), "T", "R")
    delta, fieller = _row(res, "parallel_line_delta"), _row(res, "parallel_line_fieller")
    assert fieller["estimate"] == pytest.approx(delta["estimate"], rel=1e-12)
    assert fieller["lower"] == pytest.approx(delta["lower"], rel=1e-4)
    assert fieller["upper"] == pytest.approx(delta["upper"], rel=1e-4)
    assert delta["upper"] / delta["lower"] < 1.05


def test_f_test_of_parallelism_by_hand() -> None:
    # F = ((RSS_c − RSS_u)/3)/(RSS_u/(n − 8)), n = 48 wells, RSS_u = RSS_T + RSS_R.
    res = relative_potency(_points(noise=2.0, seed=5), "T", "R")
    rss_c = res.constrained.rss[0]
    rss_u = res.unconstrained["T"].rss[0] + res.unconstrained["R"].rss[0]
    f = ((rss_c - rss_u) / 3) / (rss_u / (48 - 8))
    assert res.table["f_parallel_p"][0] == pytest.approx(stats.f.sf(f, 3, 40), rel=1e-9)


def test_margins_decide_equivalence() -> None:
    # Hill 1.45 vs 1.3 (ratio 1.115): inside 0.8–1.25, outside a narrow 0.95–1.05.
    data = _points(reps=6, noise=1.0, seed=2, test={"hill": 1.45})
    assert relative_potency(data, "T", "R").status == "equivalent"
    narrow = ParallelismMargins(hill_ratio=(0.95, 1.05))
    assert relative_potency(data, "T", "R", margins=narrow).status == "not_equivalent"


def test_too_few_points_for_separate_fits_is_not_assessed() -> None:
    # 4 wells per product: the unconstrained fit (8 parameters) has no residual df.
    x = np.array([40.0, 10.0, 2.5, 0.625])
    data = pl.DataFrame(
        {
            "product": ["T"] * 4 + ["R"] * 4,
            "et_ratio": np.tile(x, 2),
            "pct_lysis": np.r_[_lysis(x, 2.0), _lysis(x, 5.0)] + [0.5, -0.3, 0.2, -0.1] * 2,
        }
    )
    res = relative_potency(data, "T", "R")
    assert res.status == "not_assessed"
    assert res.table.filter(pl.col("metric") == "potency_ratio")["estimate"].null_count() == 2
    assert "separate_fits_delta" not in res.table["method"].to_list()


def test_margins_from_config_and_their_errors() -> None:
    m = ParallelismMargins.from_config({"hill_ratio": [0.7, 1.4], "top_difference": 10})
    assert (m.hill_ratio, m.top_difference, m.bottom_difference, m.alpha) == (
        (0.7, 1.4),
        10.0,
        15.0,
        0.05,
    )
    with pytest.raises(KillcurveInputError, match=r"comparisons\[0\].parallelism_margins"):
        ParallelismMargins.from_config(
            {"hill_ratio": [1.2, 1.4]}, "comparisons[0].parallelism_margins"
        )


def test_missing_product_is_an_input_error() -> None:
    with pytest.raises(KillcurveInputError, match="reference product 'X' has no points"):
        relative_potency(_points(), "T", "X")


def test_curves_with_too_few_et_levels_are_left_out_and_said() -> None:
    # Lot L0 of T keeps only E:T 40 and 20: its et50 is not fitted; the ratio is then of the
    # geometric means over the remaining curves, (2·3)^(1/2) / (4·5·7)^(1/3), noise-free.
    data = _lots().filter(
        ~((pl.col("product") == "T") & (pl.col("lot") == "L0") & (pl.col("et_ratio") < 20))
    )
    res = relative_potency(data, "T", "R")
    row = _row(res, "parallel_line_delta")
    assert row["estimate"] == pytest.approx(6**0.5 / 140 ** (1 / 3), abs=1e-6)
    assert "2 + 3 curves" in row["notes"] and "(< 3 E:T levels): T|L0" in row["notes"]
    only_short = data.filter((pl.col("product") == "R") | (pl.col("lot") == "L0"))
    with pytest.raises(KillcurveInputError, match="no curve of 'T' in this group has ≥ 3 E:T"):
        relative_potency(only_short, "T", "R")
