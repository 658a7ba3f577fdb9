"""The simulated time-resolved arm recovers its truth: t50 per curve and the products' ratios.

A 40-curve simulated impedance study (:func:`killcurve.simulate.timecourse.write_timecourse_study`,
seed fixed) through :func:`killcurve.pipeline.timecourse.timecourse_tables`;
``benchmarks/timecourse_recovery.py`` repeats it over many seeds (rates in the benchmark README).
"""

from __future__ import annotations

import polars as pl
import pytest

from killcurve.config import load_config
from killcurve.pipeline.timecourse import timecourse_tables
from killcurve.simulate.timecourse import write_timecourse_study

from .recovery import ratio_rows, recovered_t50


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, pl.DataFrame]:
    study = tmp_path_factory.mktemp("recovery")
    truth = write_timecourse_study(study, n_curves=40, seed=20261124)
    return timecourse_tables(study, load_config(study / "config/config.yaml")), truth


def test_t50_within_10_percent_of_the_truth_in_90_percent_of_curves(run) -> None:
    tables, truth = run
    counts = recovered_t50(tables, truth)
    assert counts["reached"] >= 100  # the design lets most groups reach 50 %
    assert counts["estimated"] == counts["reached"]  # none reached in truth is censored here
    assert counts["within_10pct"] >= 0.9 * counts["estimated"]
    # a group censored in truth crosses in the data only by noise near the end of the run
    assert counts["censored_in_truth_but_crossed"] <= 0.05 * counts["reached"]


def test_pct_lysis_at_the_configured_times_matches_the_truth(run) -> None:
    tables, truth = run
    true = truth.filter(pl.col("metric") == "pct_lysis")
    metrics = tables["metrics"]
    errors = []
    for at in (24.0, 48.0, 72.0):
        joined = metrics.join(
            true.filter(pl.col("t_h") == at).select("product", "lot", "cryo", "et_ratio", "value"),
            on=["product", "lot", "cryo", "et_ratio"],
        )
        errors += (joined[f"pct_lysis_at_{at:g}h"] - joined["value"]).abs().to_list()
    assert len(errors) == 3 * metrics.height
    assert sorted(errors)[int(0.95 * len(errors))] < 3.0  # percentage points


def test_ratio_intervals_cover_the_true_ratios(run) -> None:
    tables, truth = run
    rows = ratio_rows(tables, truth)
    # et50 ratios at 24, 48, 72 h for fresh and post-thaw, t50 ratios where every lot crosses
    et50 = rows.filter(pl.col("metric") == "et50_ratio")
    assert sorted(set(et50["t_h"].to_list())) == [24.0, 48.0, 72.0]
    assert set(rows["method"].to_list()) >= {"welch_t_log_et50", "welch_t_log_t50"}
    missed = rows.filter(~pl.col("covers"))
    assert missed.height <= max(1, round(0.05 * rows.height)), missed.select(
        "cryo", "t_h", "et_ratio", "method", "estimate", "lower", "upper", "value"
    )
