"""t50 ratios and AUC-over-time differences between products, against scipy by hand."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from killcurve.stats.timecourse import auc_rows, metric_rows, t50_rows


def metrics(t50: dict[str, list[float | None]], auc: dict[str, list[float]]) -> pl.DataFrame:
    rows = []
    for product, values in t50.items():
        for i, (t, a) in enumerate(zip(values, auc[product], strict=True)):
            rows.append(
                {"product": product, "lot": f"{product}{i}", "batch": "B1", "target": "T",
                 "et_ratio": 10.0, "t50_h": t, "auc_pct_h": a, "t_last_h": 72.0,
                 "plate_ids": f"P{i}"}
            )  # fmt: skip
    return pl.DataFrame(rows)


def test_t50_ratio_is_welchs_t_on_ln_t50_and_leaves_censored_curves_out() -> None:
    frame = metrics(
        {"new": [10.0, 12.0, 9.0, None], "old": [20.0, 25.0, 18.0]},
        {"new": [4000.0, 3900.0, 4100.0, 1000.0], "old": [3000.0, 2800.0, 3300.0]},
    )
    rows = t50_rows(frame, "new", "old")
    welch = rows[0]
    a, b = np.log([10.0, 12.0, 9.0]), np.log([20.0, 25.0, 18.0])
    result = stats.ttest_ind(a, b, equal_var=False)
    interval = result.confidence_interval(0.95)
    assert welch["method"] == "welch_t_log_t50"
    assert welch["estimate"] == pytest.approx(np.exp(a.mean() - b.mean()), rel=1e-12)
    assert (welch["lower"], welch["upper"]) == pytest.approx(
        (np.exp(interval.low), np.exp(interval.high)), rel=1e-9
    )
    assert welch["p_value"] == pytest.approx(result.pvalue, rel=1e-9)
    assert (welch["n_test"], welch["n_reference"]) == (3, 3)
    assert "never reached the level (t50 censored): new 1, old 0" in welch["notes"]
    # 3 lots per product: the lot-aware mixed model row follows
    assert rows[1]["method"] == "mixedlm_log_t50"
    assert rows[1]["estimate"] == pytest.approx(welch["estimate"], rel=0.05)


def test_auc_difference_is_welchs_t() -> None:
    frame = metrics(
        {"new": [1.0, 1.0, 1.0], "old": [1.0, 1.0]},
        {"new": [4000.0, 3900.0, 4100.0], "old": [3000.0, 2800.0]},
    )
    row = auc_rows(frame, "new", "old")[0]
    result = stats.ttest_ind([4000.0, 3900.0, 4100.0], [3000.0, 2800.0], equal_var=False)
    assert row["estimate"] == pytest.approx(4000.0 - 2900.0)
    assert row["p_value"] == pytest.approx(result.pvalue, rel=1e-9)
    low, high = result.confidence_interval(0.95)
    assert (row["lower"], row["upper"]) == pytest.approx((low, high), rel=1e-9)


def test_rows_per_group_and_level_only_for_comparisons_whose_products_are_there() -> None:
    frame = metrics(
        {"new": [10.0, 11.0], "old": [20.0, 22.0]}, {"new": [1.0, 2.0], "old": [3.0, 4.0]}
    )
    comparisons = [
        {"name": "c", "test": "new", "reference": "old", "by": ["target"]},
        {"name": "absent", "test": "new", "reference": "other", "by": []},
    ]
    rows = metric_rows(frame, comparisons, ["target"])
    assert [(r["comparison"], r["target"], r["et_ratio"], r["method"]) for r in rows] == [
        ("c", "T", 10.0, "welch_t_log_t50"), ("c", "T", 10.0, "mixedlm_log_t50"),
        ("c", "T", 10.0, "welch_t_auc_time"),
    ]  # fmt: skip
