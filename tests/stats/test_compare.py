"""comparisons.csv: et50 ratios, relative potency, mixed model and multiplicity per group."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from killcurve.errors import KillcurveInputError
from killcurve.fit.curves import fit_curves
from killcurve.stats.compare import check_comparisons, compare_products
from killcurve.stats.mixed import fit_mixed
from killcurve.stats.multiplicity import adjust

ET = np.repeat(40.0 * 2.0 ** -np.arange(8), 3)
#: True et50 per target and product, and the test product's hill (reference: 1.3).
DESIGN = {
    "K562": {"T": 2.0, "R": 5.0, "hill_T": 1.3},  # parallel: potency ratio 0.4
    "SHP-77": {"T": 1.0, "R": 4.0, "hill_T": 2.8},  # test curve much steeper: not parallel
}


def _wells(seed: int = 1, lot_sd: float = 0.15, day_sd: float = 0.1) -> pl.DataFrame:
    """Sample wells: 2 products x 3 lots x 2 days (B1, B2) x 2 targets, one plate per curve."""
    rng = np.random.default_rng(seed)
    day = {"B1": rng.normal(0, day_sd), "B2": rng.normal(0, day_sd)}
    frames = []
    for target, truth in DESIGN.items():
        for product in ("T", "R"):
            hill = truth["hill_T"] if product == "T" else 1.3
            for i in range(3):
                u = rng.normal(0, lot_sd)
                for batch, v in day.items():
                    et50 = truth[product] * math.exp(u + v)
                    y = 1 + 89 / (1 + (et50 / ET) ** hill) + rng.normal(0, 2.0, ET.size)
                    frames.append(
                        pl.DataFrame(
                            {
                                "plate_id": f"{batch}-{target}-{product}{i}",
                                "role": "sample",
                                "product": product,
                                "lot": f"{product}{i}",
                                "target": target,
                                "stage": "bulk",
                                "cryo": "fresh",
                                "batch": batch,
                                "readout": "luciferase",
                                "et_ratio": ET,
                                "signal": y,
                                "excluded": False,
                                "pct_lysis": y,
                            }
                        )
                    )
    return pl.concat(frames)


@pytest.fixture(scope="module")
def study() -> tuple[pl.DataFrame, pl.DataFrame]:
    wells = _wells()
    return fit_curves(wells), wells


@pytest.fixture(scope="module")
def by_target(study) -> pl.DataFrame:
    curves, wells = study
    comps = [{"name": "t_vs_r", "test": "T", "reference": "R", "by": ["target"]}]
    return compare_products(curves, comps, wells)


def test_columns_in_contract_order(by_target) -> None:
    assert by_target.columns == [
        "comparison",
        "target",
        "test",
        "reference",
        "metric",
        "estimate",
        "lower",
        "upper",
        "p_value",
        "p_adjusted",
        "method",
        "parallelism",
        "n_test",
        "n_reference",
        "n_lots",
        "n_plates",
        "notes",
    ]


def test_parallel_target_gets_potency_and_mixed_rows(by_target, study) -> None:
    k562 = by_target.filter(pl.col("target") == "K562")
    assert k562["method"].to_list() == [
        "welch_t_log_et50",
        "parallel_line_delta",
        "parallel_line_fieller",
        "mixedlm_log_et50",
    ]
    assert k562["parallelism"].to_list() == [
        "not_assessed",
        "equivalent",
        "equivalent",
        "not_assessed",
    ]
    # 6 curves (3 lots x 2 days) per product, 6 lots, 12 plates in every row.
    assert k562.select("n_test", "n_reference", "n_lots", "n_plates").unique().rows() == [
        (6, 6, 6, 12)
    ]
    # Every interval holds the true ratio of typical et50 (2/5) here, and the estimates agree.
    for row in k562.iter_rows(named=True):
        assert row["lower"] < row["estimate"] < row["upper"]
        assert row["estimate"] == pytest.approx(0.4, rel=0.2)
    # The mixed-model row is fit_mixed on the group's curves, formula and SDs in the notes.
    curves, _ = study
    fit = fit_mixed(curves.filter(pl.col("target") == "K562"), reference="R")
    mixed = k562.filter(pl.col("method") == "mixedlm_log_et50").row(0, named=True)
    assert mixed["estimate"] == pytest.approx(fit.ratios["estimate"][0], rel=1e-9)
    assert mixed["lower"] == pytest.approx(fit.ratios["lower"][0], rel=1e-9)
    assert mixed["notes"].startswith(
        "log_et50 ~ product; random: lot intercept + batch variance component (crossed)"
    )
    assert "t interval on 4 df" in mixed["notes"]


def test_non_parallel_target_gets_labelled_fallbacks_and_no_potency(by_target) -> None:
    shp = by_target.filter(pl.col("target") == "SHP-77")
    potency = shp.filter(pl.col("metric") == "potency_ratio")
    assert potency["parallelism"].to_list() == ["not_equivalent"] * 2
    assert potency["estimate"].null_count() == 2
    assert all("hill_ratio" in n for n in potency["notes"])
    separate = shp.filter(pl.col("method") == "separate_fits_delta").row(0, named=True)
    assert separate["metric"] == "et50_ratio_separate"
    lysis = shp.filter(pl.col("method") == "welch_t")
    assert lysis["metric"].to_list() == [f"lysis_difference_at_{e:g}" for e in sorted(set(ET))]
    assert (lysis["parallelism"] == "not_equivalent").all()
    # The curve-level rows are still there.
    assert {"welch_t_log_et50", "mixedlm_log_et50"} <= set(shp["method"])


def test_holm_across_targets_within_metric_and_method(by_target) -> None:
    # Two groups per family: Holm gives min(1, 2·p_min) to the smaller p and
    # max(that, p_max) to the larger.
    welch = by_target.filter(pl.col("method") == "welch_t_log_et50").sort("p_value")
    p1, p2 = welch["p_value"].to_list()
    assert welch["p_adjusted"].to_list() == pytest.approx([min(1, 2 * p1), max(min(1, 2 * p1), p2)])
    # A family of one (the K562 potency rows) keeps its p-value.
    delta = by_target.filter(pl.col("method") == "parallel_line_delta")
    k = delta.filter(pl.col("target") == "K562").row(0, named=True)
    assert k["p_adjusted"] == pytest.approx(k["p_value"])
    # Rows without a p-value have no adjusted one.
    assert delta.filter(pl.col("target") == "SHP-77")["p_adjusted"].null_count() == 1


@pytest.mark.parametrize("method", ["bonferroni", "fdr_bh", "none"])
def test_configured_multiplicity(study, method) -> None:
    curves, _ = study
    comps = [{"name": "c", "test": "T", "reference": "R", "by": ["target"], "multiplicity": method}]
    out = compare_products(curves, comps).filter(pl.col("method") == "welch_t_log_et50")
    p = out["p_value"].to_list()
    expected = {
        "bonferroni": [min(1, 2 * v) for v in p],
        # BH with m = 2: the larger p stays, the smaller becomes min(2·p_min, p_max).
        "fdr_bh": [min(2 * min(p), max(p)) if v == min(p) else max(p) for v in p],
        "none": p,
    }[method]
    assert out["p_adjusted"].to_list() == pytest.approx(expected)


def test_adjust_matches_holm_by_hand() -> None:
    # p = 0.01, 0.04, 0.03, 0.005 (m = 4): sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06,
    # 0.04·1 -> max(0.06, 0.04) = 0.06.
    assert adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust([None, None]) == [None, None]


def test_welch_row_by_hand(by_target, study) -> None:
    curves, _ = study
    k = curves.filter(pl.col("target") == "K562")
    a = np.log(k.filter(pl.col("product") == "T")["et50"].to_numpy())
    b = np.log(k.filter(pl.col("product") == "R")["et50"].to_numpy())
    want = stats.ttest_ind(a, b, equal_var=False)
    row = by_target.filter(
        (pl.col("target") == "K562") & (pl.col("method") == "welch_t_log_et50")
    ).row(0, named=True)
    assert row["estimate"] == pytest.approx(math.exp(a.mean() - b.mean()), rel=1e-12)
    assert row["p_value"] == pytest.approx(want.pvalue, rel=1e-9)
    ci = want.confidence_interval(0.95)
    assert (row["lower"], row["upper"]) == pytest.approx((math.exp(ci.low), math.exp(ci.high)))


def test_pooled_group_over_targets_does_not_pool_potency(study) -> None:
    curves, wells = study
    out = compare_products(curves, [{"name": "all", "test": "T", "reference": "R"}], wells)
    assert out.columns[:2] == ["comparison", "test"]
    potency = out.filter(pl.col("metric") == "potency_ratio")
    assert potency["estimate"].null_count() == 2
    assert "spans several target K562, SHP-77" in potency["notes"][0]
    # The mixed model adjusts for the target instead.
    mixed = out.filter(pl.col("method") == "mixedlm_log_et50").row(0, named=True)
    assert mixed["notes"].startswith("log_et50 ~ product + target;")
    assert (mixed["n_test"], mixed["n_lots"], mixed["n_plates"]) == (12, 6, 24)


def test_without_wells_only_curve_rows(study) -> None:
    curves, _ = study
    out = compare_products(curves, [{"name": "c", "test": "T", "reference": "R", "by": ["target"]}])
    assert out["method"].to_list() == ["welch_t_log_et50", "mixedlm_log_et50"] * 2


def test_one_lot_per_product_gets_no_mixed_row(study) -> None:
    curves, _ = study
    one = curves.filter(pl.col("lot").is_in(["T0", "R0"]))
    out = compare_products(one, [{"name": "c", "test": "T", "reference": "R", "by": ["target"]}])
    assert "mixedlm_log_et50" not in out["method"].to_list()


def test_bad_multiplicity_and_margins_name_the_config_key() -> None:
    base = {"name": "c", "test": "T", "reference": "R"}
    with pytest.raises(KillcurveInputError, match=r"comparisons\[0\].multiplicity"):
        check_comparisons([{**base, "multiplicity": "sidak"}], ["T", "R"])
    with pytest.raises(KillcurveInputError, match=r"comparisons\[0\].parallelism_margins"):
        check_comparisons([{**base, "parallelism_margins": {"top_difference": -1}}], ["T", "R"])
