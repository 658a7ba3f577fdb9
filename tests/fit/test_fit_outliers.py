"""ROUT outliers marked in the well table: excluded with a reason, never dropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from killcurve.fit.curves import FitOptions, fit_curves
from killcurve.fit.outliers import mark_outliers, outlier_wells
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
    from killcurve.pipeline.curves import _with_outliers

    wells = _noisy_wells()
    assert _with_outliers(wells, {"model": "4pl"}).equals(wells)
    assert _with_outliers(wells, {"outliers": {"method": "none", "q": 0.01}}).equals(wells)
    marked = _with_outliers(wells, {"model": "4pl", "outliers": {"method": "rout", "q": 0.01}})
    assert marked.filter(pl.col("exclusion_reason") == "outlier")["well"].to_list() == ["L113"]


def test_on_a_concentration_axis_rout_tests_each_curve_on_its_concentrations() -> None:
    """Found by the whole-study generator: ROUT read x from et_ratio, which on a
    concentration axis is the one fixed E:T of the curve, and stopped the run with
    'no titration'. The same wells titrated by concentration give the same call."""
    from killcurve.pipeline.curves import _with_outliers

    wells = _noisy_wells().with_columns(
        pl.col("et_ratio").alias("concentration"), pl.lit(5.0).alias("et_ratio")
    )
    config = {"model": "4pl", "outliers": {"method": "rout", "q": 0.01}}
    axis = {"variable": "concentration", "unit": "nM"}
    marked = _with_outliers(wells, config, axis)
    assert marked.filter(pl.col("exclusion_reason") == "outlier")["well"].to_list() == ["L113"]
    assert marked["et_ratio"].unique().to_list() == [5.0]  # the table keeps its columns
    assert marked.columns == wells.columns


def _release_plates(n_plates: int, seed: int) -> pl.DataFrame:
    """Release plates with constant-CV readings: T = 1,000, M = 11,000 counts, CV 5 %.

    Per plate 3 curves (lots) × 8 E:T × 3 wells, 8 target_only and 8 max_lysis wells;
    S = (T + (M − T)·L/100)·exp(N(0, 0.05)), so the SD of % lysis is 0.05·S/100 in % lysis
    units: 0.7 % at the curve's 4 % bottom, 4.6 % at its 88 % top. One gross error per plate,
    lot 1's second well at the lowest E:T (true lysis ≈ 4.6 %): its reading × 1.6 (+7 % lysis,
    about 9 of its own SDs but under 2 SDs of the top's spread).
    """
    from killcurve.assay.lysis import compute_lysis

    rng = np.random.default_rng(seed)
    truth = {"bottom": 4.0, "top": 88.0, "et50": 3.0, "hill": 1.3}
    frames = []
    for p in range(n_plates):
        plate = f"P{p:02d}"
        lysis = np.concatenate([four_pl(X, **truth) for _ in range(3)])
        signal = (1_000.0 + 10_000.0 * lysis / 100.0) * np.exp(rng.normal(0, 0.05, lysis.size))
        signal[X.size - 2] *= 1.6  # lot 1, lowest E:T (X ends with 3 wells at 0.3125)
        controls = np.concatenate([1_000.0 * np.exp(rng.normal(0, 0.05, 8)),
                                   11_000.0 * np.exp(rng.normal(0, 0.05, 8))])  # fmt: skip
        n = lysis.size
        frames.append(
            pl.DataFrame(
                {"plate_id": plate, "well": [f"W{i}" for i in range(n + 16)],
                 "role": ["sample"] * n + ["target_only"] * 8 + ["max_lysis"] * 8,
                 "product": "A", "lot": [f"{plate}-L{i // X.size + 1}" for i in range(n)]
                 + [None] * 16, "target": "T", "stage": None, "cryo": None, "batch": "B1",
                 "readout": "release", "et_ratio": [*np.tile(X, 3), *[None] * 16],
                 "signal": [*signal, *controls], "excluded": False, "exclusion_reason": None},
                schema_overrides={"stage": pl.String, "cryo": pl.String, "lot": pl.String,
                                  "exclusion_reason": pl.String, "et_ratio": pl.Float64},
            )
        )  # fmt: skip
    return compute_lysis(pl.concat(frames))


def test_signal_weighting_finds_gross_errors_at_the_quiet_end_and_spares_the_noisy_end() -> None:
    """20 simulated release plates (:func:`_release_plates`), one planted error each, 1,440
    sample wells. Recovered truth, seeds 1–4 measured: weighted ROUT (the default) found
    18–20 planted errors with 0–5 false calls; unweighted ROUT found 4–12 with 13–29 false
    calls, most of them ordinary wells at high lysis, where the spread is largest."""
    wells = _release_plates(20, seed=3)
    planted = {(f"P{p:02d}", f"W{X.size - 2}") for p in range(20)}

    def calls(weighting: str) -> set[tuple[str, str]]:
        marked = mark_outliers(wells, FitOptions(), weighting=weighting)
        return set(marked.filter(pl.col("exclusion_reason") == "outlier").select(
            "plate_id", "well").iter_rows())  # fmt: skip

    weighted, unweighted = calls("signal"), calls("none")
    assert len(planted & weighted) >= 18 and len(weighted - planted) <= 5
    assert len(planted & unweighted) <= 12 and len(unweighted - planted) >= 13
    high = set(wells.filter(pl.col("et_ratio") >= 5).select("plate_id", "well").iter_rows())
    assert len((unweighted - planted) & high) > len((weighted - planted) & high)


@pytest.mark.workflow
def test_on_the_example_signal_weighting_calls_the_planted_error_and_few_others(
    example_run: Path,
) -> None:
    """The example's wells (simulated: log-normal reading noise, one reading × 0.55 planted at
    P04 C2) under ROUT at Q = 1 %: unweighted 52 calls, signal-weighted 4 with P04 C2 among
    them (the numbers config/README.md quotes)."""
    wells = pl.read_parquet(example_run / "results/tables/wells.parquet")
    options = FitOptions()
    weighted = outlier_wells(wells, options, 0.01, "signal")
    unweighted = outlier_wells(wells, options, 0.01, "none")
    assert ("P04", "C2") in set(weighted.iter_rows())
    assert weighted.height == 4 and unweighted.height == 52


def test_the_methods_state_the_outlier_rule_and_what_it_marked() -> None:
    from killcurve.report.methods import methods, outlier_methods

    assert outlier_methods(None, 0) == (
        "Outliers: no outlier rule (config fit.outliers.method: none); no well removed."
    )
    text = outlier_methods({"method": "rout", "q": 0.001, "weighting": "signal"}, 3)
    assert "Benjamini–Hochberg at Q = 0.1 %. 3 wells marked excluded" in text
    assert "|∂ % lysis/∂S|·S" in text
    assert "residuals unweighted" in outlier_methods({"method": "rout", "weighting": "none"}, 0)
    # placed after the readout and QC sentences, before the curve sentence
    lines = methods(pl.DataFrame(), {"method": "rout"}, 1)
    assert (
        lines.index(outlier_methods({"method": "rout"}, 1))
        == lines.index("Curves: none fitted.") - 1
    )


def test_the_report_counts_the_wells_rout_marked(tmp_path: Path) -> None:
    from killcurve.pipeline.report import _n_outliers

    marked = mark_outliers(_noisy_wells(), FitOptions()).with_columns(
        pl.when(pl.col("well") == "L113")
        .then(pl.lit("manual: bubble (AB); outlier"))  # a joined reason counts too
        .otherwise(pl.col("exclusion_reason"))
        .alias("exclusion_reason")
    )
    marked.write_parquet(tmp_path / "wells.parquet")
    assert _n_outliers(tmp_path / "wells.parquet") == 1  # not the manual-only L23
