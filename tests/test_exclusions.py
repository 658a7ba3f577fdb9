"""Manual and automatic exclusions: recorded with reasons, and they change the fit."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from killcurve.assay.lysis import compute_lysis
from killcurve.errors import KillcurveInputError
from killcurve.fit.curves import fit_curves
from killcurve.io.exclusions import apply_exclusions, read_exclusions
from killcurve.io.samplesheet import read_samplesheet
from killcurve.study.wells import load_wells
from tests.conftest import SMALL_STUDY

MANUAL_CURVE = "NEUK203-13|203-L02|SHP-77|bulk|fresh|B1"  # P06 rows A–C
OVERFLOW_CURVE = "NEUK203-13|203-L01|SHP-77|bulk|post_thaw|B2"  # P07 rows A–C


@pytest.fixture(scope="module")
def raw_wells() -> pl.DataFrame:
    return load_wells(read_samplesheet(SMALL_STUDY / "config/plates.tsv"), SMALL_STUDY)


def test_overflow_well_is_kept_flagged_and_excluded(raw_wells: pl.DataFrame) -> None:
    row = raw_wells.filter((pl.col("plate_id") == "P07") & (pl.col("well") == "C8")).row(
        0, named=True
    )
    assert row["signal"] is None
    assert row["flag"] == "overflow"
    assert row["excluded"] is True
    assert row["exclusion_reason"] == "overflow"


def test_manual_exclusion_is_recorded_and_changes_the_fit(raw_wells: pl.DataFrame) -> None:
    sheet = read_exclusions(SMALL_STUDY / "config/exclusions.tsv")
    marked = apply_exclusions(raw_wells, sheet, "config/exclusions.tsv")
    row = marked.filter((pl.col("plate_id") == "P06") & (pl.col("well") == "B4")).row(0, named=True)
    assert row["excluded"] is True
    assert row["exclusion_reason"] == (
        "manual: bubble seen in the well before reading (simulated) (simulator)"
    )
    assert row["signal"] is not None  # the reading is kept

    before = fit_curves(compute_lysis(raw_wells)).filter(pl.col("curve_id") == MANUAL_CURVE)
    after = fit_curves(compute_lysis(marked)).filter(pl.col("curve_id") == MANUAL_CURVE)
    assert before["n_points"][0] == 24
    assert after["n_points"][0] == 23
    assert after["et50"][0] != pytest.approx(before["et50"][0], rel=1e-9)
    # Every other curve is untouched (to rounding: the curves are fitted as one batch).
    others = fit_curves(compute_lysis(marked)).filter(pl.col("curve_id") != MANUAL_CURVE)
    unchanged = fit_curves(compute_lysis(raw_wells)).filter(pl.col("curve_id") != MANUAL_CURVE)
    assert others["et50"].to_list() == pytest.approx(unchanged["et50"].to_list(), rel=1e-12)


def test_overflow_well_is_left_out_of_its_curve(raw_wells: pl.DataFrame) -> None:
    curves = fit_curves(compute_lysis(raw_wells))
    assert curves.filter(pl.col("curve_id") == OVERFLOW_CURVE)["n_points"][0] == 23
    # Fitting the same curve with that well given back a number changes it.
    refilled = raw_wells.with_columns(
        pl.when((pl.col("plate_id") == "P07") & (pl.col("well") == "C8"))
        .then(pl.lit(190000.0))
        .otherwise(pl.col("signal"))
        .alias("signal"),
        pl.when((pl.col("plate_id") == "P07") & (pl.col("well") == "C8"))
        .then(False)
        .otherwise(pl.col("excluded"))
        .alias("excluded"),
    )
    again = fit_curves(compute_lysis(refilled)).filter(pl.col("curve_id") == OVERFLOW_CURVE)
    assert again["n_points"][0] == 24


def test_exclusion_of_an_unknown_well_is_refused(raw_wells: pl.DataFrame, tmp_path: Path) -> None:
    sheet = tmp_path / "exclusions.tsv"
    sheet.write_text("plate_id\twell\treason\twho\nP06\tH12\tsplash\tAB\n")
    with pytest.raises(KillcurveInputError, match=r"plate P06 well H12 is not a used well"):
        apply_exclusions(raw_wells, read_exclusions(sheet), str(sheet))


def test_exclusion_without_reason_is_refused(tmp_path: Path) -> None:
    sheet = tmp_path / "exclusions.tsv"
    sheet.write_text("plate_id\twell\treason\twho\r\nP06\tB4\t\tAB\r\n")
    with pytest.raises(KillcurveInputError, match=r"line 2: 'reason' is empty"):
        read_exclusions(sheet)


def test_empty_cell_is_reported_at_its_line_in_the_file(tmp_path: Path) -> None:
    """Comment and blank lines count: the empty reason is on line 6 of the file, not row 3."""
    sheet = tmp_path / "exclusions.tsv"
    sheet.write_text(
        "# wells dropped after review\nplate_id\twell\treason\twho\n\n"
        "P06\tB4\tbubble\tAB\n# second reviewer\nP06\tB5\t\tCD\n"
    )
    with pytest.raises(KillcurveInputError, match=r"line 6: 'reason' is empty"):
        read_exclusions(sheet)
