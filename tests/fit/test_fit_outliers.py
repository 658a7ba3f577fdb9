"""ROUT outliers marked in the well table: excluded with a reason, never dropped."""

from __future__ import annotations

import numpy as np
import polars as pl

from killcurve.fit.curves import FitOptions, fit_curves
from killcurve.fit.outliers import mark_outliers
from tests.test_curves import X, four_pl, wells_for

TRUTH = {"bottom": 2.0, "top": 88.0, "et50": 3.0, "hill": 1.3}


def _noisy_wells() -> pl.DataFrame:
    """Two lots, 8 E:T × 3 wells, 1 % lysis Gaussian noise; lot L1 well 13 (E:T 2.5) is +35 %."""
    rng = np.random.default_rng(7)
    y1 = four_pl(X, **TRUTH) + rng.normal(0.0, 1.0, X.size)
    y2 = four_pl(X, **TRUTH) + rng.normal(0.0, 1.0, X.size)
    y1[13] += 35.0  # the gross error: E:T 2.5 (X[12:15]), second replicate
    wells = wells_for({"L1": y1, "L2": y2}).with_columns(
        pl.lit(None, pl.String).alias("exclusion_reason")
    )
    # a well already excluded by hand keeps its reason and is not tested again
    return wells.with_columns(
        pl.when(pl.col("well") == "L23")
        .then(pl.lit("manual: bubble (AB)"))
        .otherwise(pl.col("exclusion_reason"))
        .alias("exclusion_reason"),
        (pl.col("excluded") | (pl.col("well") == "L23")).alias("excluded"),
    )


def test_the_planted_outlier_and_only_it_is_excluded_with_reason() -> None:
    wells = _noisy_wells()
    marked = mark_outliers(wells, FitOptions())
    assert marked.height == wells.height  # nothing dropped
    flagged = marked.filter(pl.col("exclusion_reason") == "outlier")
    assert flagged["well"].to_list() == ["L113"]
    assert marked.filter(pl.col("well") == "L113")["excluded"].item()
    manual = marked.filter(pl.col("well") == "L23").row(0, named=True)
    assert manual["excluded"] and manual["exclusion_reason"] == "manual: bubble (AB)"
    assert marked.filter(pl.col("excluded")).height == 2


def test_the_fit_after_marking_is_the_fit_without_the_outlier() -> None:
    wells = _noisy_wells()
    l1 = pl.col("lot") == "L1"
    before = fit_curves(wells).filter(l1)["et50"].item()
    after = fit_curves(mark_outliers(wells, FitOptions())).filter(l1)
    dropped = fit_curves(wells.filter(pl.col("well") != "L113")).filter(l1)
    assert after["et50"].item() == dropped["et50"].item()
    assert after["n_points"].item() == 23  # 24 wells − the outlier (the manual one is in L2)
    # the +35 % well at E:T 2.5 pulls et50 left by > 5 %; without it et50 is within 3 % of 3.0
    assert before < 0.95 * 3.0
    assert abs(after["et50"].item() / 3.0 - 1.0) < 0.03


def test_an_outlier_on_an_already_flagged_well_joins_the_reasons() -> None:
    wells = _noisy_wells().with_columns(
        pl.when(pl.col("well") == "L113")
        .then(pl.lit("lysis_flag_note"))
        .otherwise(pl.col("exclusion_reason"))
        .alias("exclusion_reason")
    )
    marked = mark_outliers(wells, FitOptions())
    assert marked.filter(pl.col("well") == "L113")["exclusion_reason"].item() == (
        "lysis_flag_note; outlier"
    )


def test_clean_curves_give_no_outliers() -> None:
    rng = np.random.default_rng(11)
    wells = wells_for({"L1": four_pl(X, **TRUTH) + rng.normal(0.0, 1.0, X.size)}).with_columns(
        pl.lit(None, pl.String).alias("exclusion_reason")
    )
    assert not mark_outliers(wells, FitOptions())["excluded"].any()


def test_the_collect_step_marks_outliers_only_when_configured() -> None:
    from killcurve.steps import _with_outliers

    wells = _noisy_wells()
    assert _with_outliers(wells, {"model": "4pl"}).equals(wells)
    assert _with_outliers(wells, {"outliers": {"method": "none", "q": 0.01}}).equals(wells)
    marked = _with_outliers(wells, {"model": "4pl", "outliers": {"method": "rout", "q": 0.01}})
    assert marked.filter(pl.col("exclusion_reason") == "outlier")["well"].to_list() == ["L113"]
