"""The duplicated-data QC check: plates whose signal arrays are identical fail, both of them."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from killcurve.assay.lysis import compute_lysis
from killcurve.assay.qc import duplicate_plates, exclude_failed_plates, plate_qc
from killcurve.io.samplesheet import read_samplesheet
from killcurve.study.wells import load_wells

PRAME = Path(__file__).resolve().parents[1] / "examples" / "luminescence_prame_nut"


def _plates(signals: dict[str, list[float | None]]) -> pl.DataFrame:
    """One frame of plates: wells A1, A2, … with role target_only then samples."""
    frames = [
        pl.DataFrame(
            {
                "plate_id": plate,
                "well": [f"A{i + 1}" for i in range(len(values))],
                "row": "A",
                "col": list(range(1, len(values) + 1)),
                "role": ["target_only", "target_only"] + ["sample"] * (len(values) - 2),
                "signal": pl.Series(values, dtype=pl.Float64),
                "readout": "luciferase",
                "excluded": False,
                "exclusion_reason": pl.Series([None] * len(values), dtype=pl.String),
            }
        )
        for plate, values in signals.items()
    ]
    return pl.concat(frames)


def test_identical_plates_are_found_and_a_one_value_difference_is_not() -> None:
    wells = _plates(
        {
            "P1": [1000.0, 1100.0, 400.0, 250.5],
            "P2": [1000.0, 1100.0, 400.0, 250.5],  # a copy of P1
            "P3": [1000.0, 1100.0, 400.0, 250.6],  # differs from P1 in its last well
        }
    )
    assert duplicate_plates(wells).rows() == [("P1", "P2"), ("P2", "P1")]


def test_same_values_in_another_well_order_are_not_duplicates() -> None:
    # "identical signal arrays" compares well for well (row, then column), not value sets.
    wells = _plates({"P1": [1000.0, 1100.0, 400.0, 250.5], "P2": [1100.0, 1000.0, 400.0, 250.5]})
    assert duplicate_plates(wells).height == 0


def test_unreadable_wells_match_and_three_copies_name_each_other() -> None:
    # Overflowing wells (signal null) at the same place still match; 3 numbers ≥ the minimum.
    same = [1000.0, 1100.0, None, 250.5]
    wells = _plates({"P1": same, "P2": same, "P3": same})
    assert duplicate_plates(wells).rows() == [("P1", "P2; P3"), ("P2", "P1; P3"), ("P3", "P1; P2")]


def test_plates_with_too_few_readings_are_not_compared() -> None:
    # Two numbers each (< MIN_DUPLICATE_READINGS = 3): equal by chance is too likely to flag.
    wells = _plates({"P1": [1000.0, 1100.0, None], "P2": [1000.0, 1100.0, None]})
    assert duplicate_plates(wells).height == 0


def test_duplicate_plates_fail_qc_and_lose_their_samples() -> None:
    wells = compute_lysis(
        _plates(
            {
                "P1": [1000.0, 1100.0, 400.0, 250.5],
                "P2": [1000.0, 1100.0, 400.0, 250.5],
                "P3": [990.0, 1010.0, 500.0, 300.0],
            }
        )
    )
    qc = plate_qc(wells)
    assert qc.select("plate_id", "pass", "reasons").rows() == [
        ("P1", False, "duplicate data: signals identical to plate P2"),
        ("P2", False, "duplicate data: signals identical to plate P1"),
        ("P3", True, ""),
    ]
    marked = exclude_failed_plates(wells, qc).filter(pl.col("role") == "sample")
    assert marked.group_by("plate_id").agg(pl.col("excluded").all()).sort("plate_id").rows() == [
        ("P1", True),
        ("P2", True),
        ("P3", False),
    ]


def test_the_real_797_and_1015_copy_is_flagged() -> None:
    # luminescence_prame_nut README: the 797_… and 1015_… allogeneic files hold identical values
    # (an upstream copy error); only their cell_line column differs.
    sheet = read_samplesheet(PRAME / "config" / "plates.tsv").filter(
        pl.col("plate_id").str.starts_with("ALLO_")
    )
    qc = plate_qc(compute_lysis(load_wells(sheet, PRAME)))
    flagged = qc.filter(pl.col("reasons").str.contains("duplicate data"))
    assert flagged.select("plate_id", "reasons").rows() == [
        ("ALLO_1015", "duplicate data: signals identical to plate ALLO_797"),
        ("ALLO_797", "duplicate data: signals identical to plate ALLO_1015"),
    ]
    assert qc.height == 6
