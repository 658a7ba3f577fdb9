"""Plate QC statistics against hand calculation."""

from __future__ import annotations

import polars as pl
import pytest

from killcurve.assay.qc import exclude_failed_plates, plate_qc


def _wells(plate: str, t: list[float], m: list[float]) -> pl.DataFrame:
    roles = ["target_only"] * len(t) + ["max_lysis"] * len(m) + ["sample"]
    return pl.DataFrame(
        {
            "plate_id": plate,
            "role": roles,
            "signal": [float(v) for v in (*t, *m, 50.0)],
            "readout": "release",
            "excluded": False,
            "exclusion_reason": pl.Series([None] * len(roles), dtype=pl.String),
        }
    )


def test_z_prime_and_cv_by_hand() -> None:
    # target_only 90, 100, 110: mean 100, SD 10, CV 10 %.
    # max_lysis 950, 1000, 1050: mean 1000, SD 50, CV 5 %.
    # Z′ = 1 − 3 × (10 + 50)/|100 − 1000| = 1 − 180/900 = 0.8.
    qc = plate_qc(_wells("P1", [90, 100, 110], [950, 1000, 1050]))
    row = qc.row(0, named=True)
    assert row["target_only_mean"] == pytest.approx(100.0)
    assert row["target_only_cv"] == pytest.approx(10.0)
    assert row["max_lysis_cv"] == pytest.approx(5.0)
    assert row["z_prime"] == pytest.approx(0.8)
    assert row["pass"] is True
    assert row["reasons"] == ""


def test_low_z_prime_fails_with_reason_and_excludes_samples() -> None:
    # target_only 50, 100, 150: SD 50; max_lysis 300, 400, 500: SD 100;
    # Z′ = 1 − 3 × 150/300 = −0.5 → fails; CV target_only = 50/100 = 50 % and
    # CV max_lysis = 100/400 = 25 %, both > 20 % → three reasons.
    wells = _wells("P2", [50, 100, 150], [300, 400, 500])
    qc = plate_qc(wells)
    row = qc.row(0, named=True)
    assert row["z_prime"] == pytest.approx(-0.5)
    assert row["pass"] is False
    assert row["reasons"] == (
        "z_prime -0.5 < 0.5; target_only_cv 50.0% > 20.0%; max_lysis_cv 25.0% > 20.0%"
    )
    marked = exclude_failed_plates(wells, qc).filter(pl.col("role") == "sample")
    assert marked["excluded"].to_list() == [True]
    assert marked["exclusion_reason"].to_list() == ["plate_failed_qc"]
