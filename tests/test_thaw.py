"""Retention after thaw, paired by lot, against hand calculations."""

from __future__ import annotations

import math

import polars as pl
import pytest
from scipy import stats

from killcurve.stats.thaw import RETENTION_COLUMNS, thaw_retention


def _curves() -> pl.DataFrame:
    rows = []
    # Product A: three lots; et50 fresh 2, 3, 4 and post-thaw 3, 3.6, 6 (ratios 1.5, 1.2, 1.5).
    for lot, pre, post in (("A1", 2.0, 3.0), ("A2", 3.0, 3.6), ("A3", 4.0, 6.0)):
        for cryo, et50, auc in (("fresh", pre, 300.0), ("post_thaw", post, 240.0)):
            rows.append(
                {"product": "A", "lot": lot, "target": "K562", "stage": "bulk", "cryo": cryo,
                 "batch": "B1", "et50": et50, "converged": True, "auc": auc, "model": "4pl",
                 "bottom": 0.0, "top": 100.0, "hill": 1.0, "et_min": 0.3125, "et_max": 40.0}
            )  # fmt: skip
    # Product B, lot B1: fresh on two days (et50 2 and 8: geometric mean 4); post-thaw 6.
    for batch, et50 in (("B1", 2.0), ("B2", 8.0)):
        rows.append(
            {"product": "B", "lot": "B1", "target": "K562", "stage": "bulk", "cryo": "fresh",
             "batch": batch, "et50": et50, "converged": True, "auc": 100.0, "model": "4pl",
             "bottom": 0.0, "top": 100.0, "hill": 1.0, "et_min": 0.3125, "et_max": 40.0}
        )  # fmt: skip
    rows.append({**rows[-1], "cryo": "post_thaw", "batch": "B3", "et50": 6.0})
    # Lot B2 has no post-thaw curve.
    rows.append({**rows[-1], "lot": "B2", "cryo": "fresh"})
    return pl.DataFrame(rows)


def test_retention_ratios_match_hand_calculation() -> None:
    table = thaw_retention(_curves(), reference_et=10.0)
    assert table.columns == list(RETENTION_COLUMNS)
    a = table.filter((pl.col("product") == "A") & (pl.col("metric") == "et50_fold_change"))
    lots = a.filter(pl.col("level") == "lot")
    assert lots["estimate"].to_list() == pytest.approx([1.5, 1.2, 1.5])
    row = a.filter(pl.col("level") == "product").row(0, named=True)
    logs = [math.log(1.5), math.log(1.2), math.log(1.5)]
    mean = sum(logs) / 3
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / 2)
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    assert row["n_lots"] == 3
    assert row["estimate"] == pytest.approx(math.exp(mean))
    assert row["lower"] == pytest.approx(math.exp(mean - half))
    assert row["upper"] == pytest.approx(math.exp(mean + half))
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(mean / (sd / math.sqrt(3)), 2))
    # Lysis at E:T 10 from the fitted 4PL (bottom 0, top 100, hill 1): 100·10/(10 + et50).
    lysis = table.filter(
        (pl.col("lot") == "A1") & (pl.col("metric") == "lysis_retention_at_10")
    ).row(0, named=True)
    assert lysis["pre"] == pytest.approx(100 * 10 / 12)
    assert lysis["estimate"] == pytest.approx((100 * 10 / 13) / (100 * 10 / 12))
    auc = table.filter(
        (pl.col("product") == "A")
        & (pl.col("metric") == "auc_retention")
        & (pl.col("level") == "product")
    )
    assert auc["estimate"][0] == pytest.approx(0.8) and auc["upper"][0] == pytest.approx(0.8)


def test_days_are_pooled_per_lot_and_unpaired_lots_are_named() -> None:
    table = thaw_retention(_curves(), reference_et=None)
    b = table.filter((pl.col("product") == "B") & (pl.col("metric") == "et50_fold_change"))
    lot = b.filter(pl.col("lot") == "B1").row(0, named=True)
    assert lot["pre"] == pytest.approx(4.0) and lot["estimate"] == pytest.approx(1.5)
    row = b.filter(pl.col("level") == "product").row(0, named=True)
    assert row["n_lots"] == 1 and row["lower"] is None
    assert "B2" in row["notes"] and "one lot" in row["notes"]
    assert "lysis_retention_at_10" not in table["metric"].to_list()


def test_row_order_of_the_curves_does_not_change_a_single_bit() -> None:
    curves = _curves()
    reference = thaw_retention(curves, "fresh", "post_thaw", 10.0)
    for seed in range(10):
        shuffled = curves.sample(fraction=1.0, shuffle=True, seed=seed)
        assert thaw_retention(shuffled, "fresh", "post_thaw", 10.0).equals(reference)
