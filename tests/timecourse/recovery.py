"""Recovery counts of a simulated time-resolved study against its truth (the test and
``benchmarks/timecourse_recovery.py`` share them)."""

from __future__ import annotations

import polars as pl

METHODS = ("welch_t_log_et50", "mixedlm_log_et50", "welch_t_log_t50", "mixedlm_log_t50")


def recovered_t50(tables: dict[str, pl.DataFrame], truth: pl.DataFrame) -> dict[str, int]:
    """Counts of the t50 recovery of one study (module docstring)."""
    true = truth.filter(pl.col("metric") == "t50_h").select(
        "product", "lot", "cryo", "et_ratio", pl.col("value").alias("true")
    )
    joined = tables["metrics"].join(true, on=["product", "lot", "cryo", "et_ratio"])
    reached = joined.filter(pl.col("true").is_not_null())
    estimated = reached.filter(pl.col("t50_h").is_not_null())
    close = estimated.filter(((pl.col("t50_h") / pl.col("true")) - 1).abs() <= 0.10)
    crossed = joined.filter(pl.col("true").is_null() & pl.col("t50_h").is_not_null())
    return {
        "reached": reached.height,
        "estimated": estimated.height,
        "within_10pct": close.height,
        "censored_in_truth_but_crossed": crossed.height,
    }


def ratio_rows(tables: dict[str, pl.DataFrame], truth: pl.DataFrame) -> pl.DataFrame:
    """The ratio rows with an interval, each with its true ratio and whether it covers it."""
    rows = tables["comparisons"].filter(
        pl.col("method").is_in(METHODS) & pl.col("lower").is_not_null()
    )
    et50 = rows.filter(pl.col("metric") == "et50_ratio").join(
        truth.filter(pl.col("metric") == "et50_ratio").select("cryo", "t_h", "value"),
        on=["cryo", "t_h"],
    )
    t50 = rows.filter(pl.col("metric") == "t50_ratio").join(
        truth.filter(pl.col("metric") == "t50_ratio").select("cryo", "et_ratio", "value"),
        on=["cryo", "et_ratio"],
    )
    both = pl.concat([et50, t50], how="diagonal_relaxed").filter(pl.col("value").is_not_null())
    return both.with_columns(
        ((pl.col("lower") <= pl.col("value")) & (pl.col("value") <= pl.col("upper"))).alias(
            "covers"
        )
    )
