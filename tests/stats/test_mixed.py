"""The mixed model of ln et50: variance components, fixed-effect ratios, formula."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from killcurve.errors import KillcurveInputError
from killcurve.stats.mixed import fit_mixed


def _crossed(seed: int, n_lots: int, n_days: int, per_lot: int, sds: tuple[float, float, float]):
    """ln et50 of curves: products A (ln 2) and R (ln 6), lots nested, days crossed.

    Each lot is assayed on ``per_lot`` distinct days drawn at random.
    """
    rng = np.random.default_rng(seed)
    lot_sd, day_sd, res_sd = sds
    day = rng.normal(0.0, day_sd, n_days)
    rows = []
    for product, mu in (("A", np.log(2.0)), ("R", np.log(6.0))):
        for i in range(n_lots):
            u = rng.normal(0.0, lot_sd)
            for d in rng.choice(n_days, per_lot, replace=False):
                y = mu + u + day[d] + rng.normal(0.0, res_sd)
                rows.append(
                    {
                        "product": product,
                        "lot": f"{product}{i}",
                        "batch": f"D{d}",
                        "et50": np.exp(y),
                    }
                )
    return pl.DataFrame(rows)


def test_recovers_lot_day_and_residual_sd_within_25_percent() -> None:
    # 2 x 40 lots, 50 days, 3 days per lot (240 curves): the SE of an SD estimate is about
    # SD/sqrt(2 * levels), i.e. ~8 % for lots and ~10 % for days, so 25 % is ~2.5 SE.
    truth = {"lot": 0.30, "batch": 0.20, "residual": 0.10}
    curves = _crossed(11, 40, 50, 3, (truth["lot"], truth["batch"], truth["residual"]))
    fit = fit_mixed(curves, reference="R")
    assert fit.converged
    sd = dict(fit.variance.select("component", "sd").iter_rows())
    for name, want in truth.items():
        assert sd[name] == pytest.approx(want, rel=0.25), (name, sd)
    assert (fit.n_curves, fit.n_lots, fit.n_batches) == (240, 80, 50)
    # True ratio of typical et50: 2/6.
    row = fit.ratios.row(0, named=True)
    assert row["product"] == "A" and row["lower"] < 1 / 3 < row["upper"]
    assert row["estimate"] == pytest.approx(1 / 3, rel=0.15)
    assert row["df"] == 78  # 80 lots - 2 products
    assert fit.formula == (
        "log_et50 ~ product; random: lot intercept + batch variance component (crossed); "
        "MixedLM, REML"
    )


def test_balanced_lots_one_day_equal_the_t_test_on_lot_means() -> None:
    # One day, 4 lots per product, 3 curves per lot, lot variance well above 0: REML's product
    # effect is the difference of the product means and its SE that of the pooled two-sample
    # t-test on lot means, on 4 + 4 - 2 = 6 df (the between-lot df of fit_mixed).
    rng = np.random.default_rng(5)
    rows, means = [], {"A": [], "R": []}
    for product, mu in (("A", 1.0), ("R", 1.8)):
        for i in range(4):
            y = mu + rng.normal(0, 0.4) + rng.normal(0, 0.05, 3)
            means[product].append(y.mean())
            rows += [
                {"product": product, "lot": f"{product}{i}", "batch": "B1", "et50": v}
                for v in np.exp(y)
            ]
    fit = fit_mixed(pl.DataFrame(rows), reference="R")
    a, r = np.array(means["A"]), np.array(means["R"])
    diff = a.mean() - r.mean()
    se = np.sqrt(((a.var(ddof=1) + r.var(ddof=1)) / 2) * (1 / 4 + 1 / 4))
    t = stats.t.ppf(0.975, 6)
    row = fit.ratios.row(0, named=True)
    assert row["estimate"] == pytest.approx(np.exp(diff), rel=1e-6)
    assert row["lower"] == pytest.approx(np.exp(diff - t * se), rel=1e-4)
    assert row["upper"] == pytest.approx(np.exp(diff + t * se), rel=1e-4)
    assert row["p_value"] == pytest.approx(stats.ttest_ind(a, r).pvalue, rel=1e-3)
    assert fit.variance["component"].to_list() == ["lot", "residual"]
    assert "batch" not in fit.formula


def test_product_by_stage_gives_one_ratio_per_stage() -> None:
    # ln et50 = product effect that differs by stage: ratio A/R = 0.5 at s1, 0.25 at s2.
    rng = np.random.default_rng(2)
    rows = []
    for product in ("A", "R"):
        for i in range(5):
            u = rng.normal(0, 0.1)
            for stage, ratio in (("s1", 0.5), ("s2", 0.25)):
                for day in ("D1", "D2"):
                    y = np.log(4.0) + (np.log(ratio) if product == "A" else 0.0) + u
                    rows.append(
                        {
                            "product": product,
                            "lot": f"{product}{i}",
                            "stage": stage,
                            "batch": day,
                            "auc": np.exp(y + rng.normal(0, 0.02)),
                        }
                    )
    fit = fit_mixed(pl.DataFrame(rows), reference="R", response="auc", by_stage=True)
    assert fit.ratios["stage"].to_list() == ["s1", "s2"]
    assert fit.ratios["estimate"].to_list() == pytest.approx([0.5, 0.25], rel=0.05)
    assert fit.formula.startswith("log_auc ~ product * stage;")


def test_too_few_lots_is_an_input_error() -> None:
    curves = pl.DataFrame(
        {"product": ["A", "R"], "lot": ["a", "r"], "batch": ["B1", "B1"], "et50": [1.0, 2.0]}
    )
    with pytest.raises(KillcurveInputError, match="needs ≥ 3 lots"):
        fit_mixed(curves, reference="R")


def test_a_factor_confounded_with_another_is_left_out_with_a_note() -> None:
    """Found by the whole-study generator: every curve of target T1 fresh, of T2 post-thaw,
    so cryo adds nothing once target is in the model; with both as fixed effects the design
    was singular and MixedLM stopped the comparisons step with LinAlgError."""
    base = _crossed(5, 4, 3, 2, (0.2, 0.1, 0.1))
    curves = pl.concat(
        [
            base.with_columns(pl.lit("T1").alias("target"), pl.lit("fresh").alias("cryo")),
            base.with_columns(
                pl.lit("T2").alias("target"),
                pl.lit("post_thaw").alias("cryo"),
                pl.col("et50") * 3.0,
            ),
        ]
    )
    fit = fit_mixed(curves, reference="R", adjust=["target", "cryo"])
    assert fit.formula.startswith("log_et50 ~ product + target;")
    assert "not adjusted for cryo: confounded with product + target" in fit.notes
    # the product effect is the same as with target alone
    alone = fit_mixed(curves, reference="R", adjust=["target"])
    assert fit.ratios["estimate"][0] == pytest.approx(alone.ratios["estimate"][0], rel=1e-9)


def test_fit_warnings_become_short_sentences_and_their_text_goes_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No lot or day variance at all: statsmodels warns (boundary, retries, Hessian); the
    notes carry fixed sentences, never the library's text; the log keeps that text."""
    curves = _crossed(2, 4, 3, 2, (0.0, 0.0, 0.1))
    with caplog.at_level("WARNING", logger="killcurve"):
        fit = fit_mixed(curves, reference="R")
    assert fit.notes == [
        "the optimiser needed retries to converge",
        "a variance component is estimated at zero (boundary fit)",
        "the Hessian is not positive definite: standard errors are approximate",
    ]
    logged = caplog.text
    assert (
        "Retrying MixedLM optimization with" in logged and "Gradient optimization failed" in logged
    )
    assert not any("|grad|" in n or "Retrying" in n for n in fit.notes)


def test_a_negative_variance_of_the_contrast_leaves_the_interval_empty() -> None:
    """Found by the whole-study generator (seed 1, studies 92-95): after a boundary fit the
    fixed-effect covariance was not positive definite, L'CL < 0, and math.sqrt stopped the
    comparisons step. The ratio is still exp(L'β); its interval and p are not estimable."""
    import pandas as pd
    import patsy

    from killcurve.stats.mixed import _ratios

    data = pd.DataFrame({"product": pd.Categorical(["R", "A"], categories=["R", "A"]), "y": [0, 1]})
    info = patsy.dmatrix("product", data).design_info
    beta = np.array([0.5, np.log(2.0)])
    cov = np.array([[0.01, 0.0], [0.0, -0.02]])  # not positive definite
    row = _ratios(info, beta, cov, data, "R", False, 0.95, 4).row(0, named=True)
    assert row["estimate"] == pytest.approx(2.0)
    assert all(np.isnan(row[k]) for k in ("lower", "upper", "p_value"))


def test_one_curve_per_lot_on_one_day_is_the_pooled_t_of_the_lots() -> None:
    """Each lot gives one curve and there is one day: the lot intercept and the residual are
    one variance (REML can only split it at a boundary), so the model is OLS; for two products
    its ratio and interval are the pooled two-sample t on ln et50 (scipy, by hand here)."""
    et50 = {"A": [2.1, 2.6, 1.8, 2.4], "B": [4.4, 3.6, 5.1]}
    rows = [
        {"product": p, "lot": f"{p}{i}", "batch": "d1", "et50": v}
        for p, values in et50.items()
        for i, v in enumerate(values)
    ]
    fit = fit_mixed(pl.DataFrame(rows), reference="B")
    a, b = np.log(et50["A"]), np.log(et50["B"])
    t = stats.ttest_ind(a, b, equal_var=True)
    low, high = t.confidence_interval(0.95)
    ratio = fit.ratios.row(0, named=True)
    assert ratio["estimate"] == pytest.approx(np.exp(a.mean() - b.mean()), rel=1e-12)
    assert (ratio["lower"], ratio["upper"]) == pytest.approx((np.exp(low), np.exp(high)), rel=1e-9)
    assert ratio["p_value"] == pytest.approx(t.pvalue, rel=1e-9)
    assert ratio["df"] == 5
    assert "one curve per lot" in fit.formula and "OLS" in fit.formula
    assert fit.variance["component"].to_list() == ["lot + residual"]
