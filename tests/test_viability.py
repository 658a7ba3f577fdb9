"""Viability and recovery after thaw: hand-calculated lots and products, and bad input."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from killcurve.errors import KillcurveInputError
from killcurve.io.counters import read_counter
from killcurve.viability.lots import lot_viability, product_viability, replicate_recovery

NEW, OLD = "NEUK203-13", "NEUK200-13"


def counts() -> pl.DataFrame:
    """Counts of thawed vials, 1 mL each unless stated; pre-freeze viable cells per lot."""
    rows = [
        # product, lot, h, rep, total/mL, viable/mL, viability %, volume mL, pre-freeze cells
        (NEW, "L1", 0, 1, 2.0e6, 1.6e6, None, 1.0, 4.0e6),
        (NEW, "L1", 0, 2, 2.0e6, 1.7e6, None, 1.0, 4.0e6),
        (NEW, "L1", 0, 3, 2.0e6, 1.8e6, None, 1.0, 4.0e6),
        (NEW, "L1", 24, 1, 2.0e6, 1.2e6, None, 1.0, 4.0e6),
        (NEW, "L1", 24, 2, 2.0e6, 1.4e6, None, 1.0, 4.0e6),
        (NEW, "L2", 0, 1, 2.5e6, None, 90.0, 1.0, 3.0e6),
        (NEW, "L2", 0, 2, 2.5e6, None, 94.0, 1.0, 3.0e6),
        (NEW, "L3", 0, 1, 2.0e6, 1.6e6, None, 0.5, 1.0e6),
        (OLD, "K1", 0, 1, 1.0e6, 0.6e6, None, 2.0, 2.0e6),
    ]
    return pl.DataFrame(
        rows,
        schema=[
            "product",
            "lot",
            "timepoint_h",
            "replicate",
            "total_cells_per_ml",
            "viable_cells_per_ml",
            "viability_pct",
            "volume_ml",
            "prefreeze_viable_cells",
        ],
        orient="row",
    )


def test_replicate_values() -> None:
    reps = replicate_recovery(counts())
    first = reps.row(0, named=True)
    # viability = 100 · 1.6e6 / 2.0e6 = 80 %; recovered = 1.6e6 cells/mL · 1.0 mL = 1.6e6 cells;
    # recovery = 100 · 1.6e6 / 4.0e6 = 40 %
    assert (first["viability_pct"], first["viable_cells_recovered"], first["recovery_pct"]) == (
        pytest.approx(80.0),
        pytest.approx(1.6e6),
        pytest.approx(40.0),
    )
    l2 = reps.filter(pl.col("lot") == "L2").row(0, named=True)
    # viable = 2.5e6 · 90 / 100 = 2.25e6 cells/mL; recovery = 100 · 2.25e6 · 1.0 / 3.0e6 = 75 %
    assert l2["viable_cells_per_ml"] == pytest.approx(2.25e6)
    assert l2["recovery_pct"] == pytest.approx(75.0)
    l3 = reps.filter(pl.col("lot") == "L3").row(0, named=True)
    # recovered = 1.6e6 cells/mL · 0.5 mL = 8.0e5 cells; recovery = 100 · 8.0e5 / 1.0e6 = 80 %
    assert (l3["viable_cells_recovered"], l3["recovery_pct"]) == (
        pytest.approx(8.0e5),
        pytest.approx(80.0),
    )
    assert "_row" not in reps.columns


def test_lot_viability_by_hand() -> None:
    lots = lot_viability(counts()).rows_by_key(["lot", "timepoint_h"], named=True, unique=True)
    l1 = lots[("L1", 0.0)]
    # viability 80, 85, 90 %: mean 85, SD √((25 + 0 + 25) / 2) = 5
    # recovered 1.6e6, 1.7e6, 1.8e6 cells: mean 1.7e6, SD 1.0e5
    # recovery 40, 42.5, 45 %: mean 42.5, SD 2.5 -> fails recovery ≥ 50 %
    assert l1["n"] == 3
    assert (l1["viability_pct_mean"], l1["viability_pct_sd"]) == (
        pytest.approx(85),
        pytest.approx(5),
    )
    assert (l1["viable_cells_recovered_mean"], l1["viable_cells_recovered_sd"]) == (
        pytest.approx(1.7e6),
        pytest.approx(1.0e5),
    )
    assert (l1["recovery_pct_mean"], l1["recovery_pct_sd"]) == (
        pytest.approx(42.5),
        pytest.approx(2.5),
    )
    assert (l1["passed"], l1["reasons"]) == (False, "recovery 42.5 % < 50 %")
    l1_24 = lots[("L1", 24.0)]
    # viability 60, 70 %: mean 65; recovery 100 · 1.2e6 / 4e6 = 30, 35 %: mean 32.5
    assert l1_24["reasons"] == "viability 65.0 % < 70 %; recovery 32.5 % < 50 %"
    l2 = lots[("L2", 0.0)]
    # viability 90, 94 %: mean 92, SD √((4 + 4) / 1) = 2.828427
    # recovery 100 · 2.25e6 / 3e6 = 75, 100 · 2.35e6 / 3e6 = 78.333 %: mean 76.667
    assert l2["viability_pct_sd"] == pytest.approx(2.828427, rel=1e-6)
    assert l2["recovery_pct_mean"] == pytest.approx(76.666667, rel=1e-6)
    assert (l2["passed"], l2["reasons"]) == (True, None)
    # one replicate: no SD
    assert lots[("L3", 0.0)]["viability_pct_sd"] is None
    # OLD K1: viability 100 · 0.6e6 / 1.0e6 = 60 %; recovery 100 · 0.6e6 · 2.0 / 2.0e6 = 60 %
    assert lots[("K1", 0.0)]["reasons"] == "viability 60.0 % < 70 %"


def test_acceptance_limits_are_arguments() -> None:
    lenient = lot_viability(counts(), min_viability_pct=60, min_recovery_pct=40)
    # L1 0 h: 85 % ≥ 60 %, 42.5 % ≥ 40 %; L1 24 h: recovery 32.5 % < 40 %
    assert lenient["passed"].to_list() == [True, True, False, True, True]
    assert lenient["lot"].to_list() == ["K1", "L1", "L1", "L2", "L3"]
    unchecked = lot_viability(counts(), min_viability_pct=None, min_recovery_pct=None)
    assert unchecked["passed"].all()
    assert unchecked["reasons"].null_count() == unchecked.height


def test_product_summary_across_lots_by_hand() -> None:
    summary = product_viability(lot_viability(counts()))
    new0 = summary.filter((pl.col("product") == NEW) & (pl.col("timepoint_h") == 0)).row(
        0, named=True
    )
    # lot means of viability: L1 85, L2 92, L3 80 -> mean 85.6667
    # SD = √((0.6667² + 6.3333² + 5.6667²) / 2) = √(72.6667 / 2) = 6.027714
    # 95 % CI: t(0.975, 2) = 4.302653; half width 4.302653 · 6.027714 / √3 = 14.973657
    assert new0["n_lots"] == 3
    assert new0["n_lots_passed"] == 2  # L2 and L3 pass, L1 fails recovery
    assert new0["viability_pct_mean"] == pytest.approx(85.666667, rel=1e-6)
    assert new0["viability_pct_sd"] == pytest.approx(6.027714, rel=1e-6)
    assert new0["viability_pct_ci_low"] == pytest.approx(85.666667 - 14.973657, rel=1e-6)
    assert new0["viability_pct_ci_high"] == pytest.approx(85.666667 + 14.973657, rel=1e-6)
    # lot means of recovery: 42.5, 76.6667, 80 -> mean 66.388889
    assert new0["recovery_pct_mean"] == pytest.approx(66.388889, rel=1e-6)
    old0 = summary.filter(pl.col("product") == OLD).row(0, named=True)
    # one lot: mean is that lot's, no SD and no interval
    assert (old0["n_lots"], old0["viability_pct_mean"]) == (1, pytest.approx(60.0))
    assert (old0["viability_pct_sd"], old0["viability_pct_ci_low"]) == (None, None)
    assert summary.columns[:4] == ["product", "timepoint_h", "n_lots", "n_lots_passed"]


def test_from_a_counter_export_joined_to_a_samplesheet(tmp_path: Path) -> None:
    """The intended flow: read_counter, join on sample, then lot_viability."""
    export = tmp_path / "thaw_counts.csv"
    export.write_text(
        "sample,total_cells_per_ml,viable_cells_per_ml\nV1,2.0e6,1.5e6\nV2,2.0e6,1.7e6\n"
    )
    sheet = pl.DataFrame(
        {
            "sample": ["V1", "V2"],
            "product": [NEW, NEW],
            "lot": ["L1", "L1"],
            "timepoint_h": [4, 4],
            "replicate": [1, 2],
            "volume_ml": [1.2, 1.2],
            "prefreeze_viable_cells": [3.0e6, 3.0e6],
        }
    )
    tidy = read_counter(export).data.join(sheet, on="sample", how="inner")
    lot = lot_viability(tidy).row(0, named=True)
    # viability 75, 85 %: mean 80
    # recovery 100 · 1.5e6 · 1.2 / 3e6 = 60 and 100 · 1.7e6 · 1.2 / 3e6 = 68 %: mean 64
    assert (lot["viability_pct_mean"], lot["recovery_pct_mean"]) == (
        pytest.approx(80.0),
        pytest.approx(64.0),
    )
    assert lot["passed"]


def _with(row: int, **values: object) -> pl.DataFrame:
    """``counts()`` with the cells of one row (0-based) replaced."""
    frame = counts().with_columns(pl.col("volume_ml").cast(pl.String))
    for column, value in values.items():
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row)
            .then(pl.lit(value, frame.schema[column] if value is not None else None))
            .otherwise(pl.col(column))
            .alias(column)
        )
    return frame


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (counts().drop("volume_ml"), "missing column(s) volume_ml"),
        (
            counts().drop("viable_cells_per_ml", "viability_pct"),
            "missing column(s) viable_cells_per_ml or viability_pct",
        ),
        (
            _with(1, volume_ml="1,0"),
            "row 2 (product NEUK203-13, lot L1, 0.0 h, replicate 2): "
            "volume_ml '1,0' is not a number",
        ),
        (
            _with(2, volume_ml="0"),
            "row 3 (product NEUK203-13, lot L1, 0.0 h, replicate 3): volume_ml must be above 0",
        ),
        (_with(0, lot=None), "lot is empty"),
        (
            _with(5, viability_pct=None),
            "row 6 (product NEUK203-13, lot L2, 0.0 h, replicate 1): needs viable",
        ),
        (
            _with(0, viable_cells_per_ml=2.5e6),
            "viable_cells_per_ml is more than total_cells_per_ml",
        ),
        (_with(5, viability_pct=104.0), "viability_pct is outside 0–100 %"),
        (
            _with(1, replicate=1),
            "row 1 (product NEUK203-13, lot L1, 0.0 h, replicate 1): this replicate appears "
            "more than once",
        ),
        (
            _with(3, prefreeze_viable_cells=5.0e6),
            "product NEUK203-13 lot L1 has more than one prefreeze",
        ),
    ],
)
def test_bad_counts_are_named(frame: pl.DataFrame, words: str) -> None:
    with pytest.raises(KillcurveInputError) as err:
        lot_viability(frame, source="thaw_counts.tsv")
    assert str(err.value).startswith("thaw_counts.tsv")
    assert words in str(err.value)
