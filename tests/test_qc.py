"""Plate QC statistics against hand calculation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from killcurve.assay.qc import QcThresholds, exclude_failed_plates, plate_qc
from killcurve.plate import row_index


def _wells(plate: str, t: list[float], m: list[float], readout: str = "release") -> pl.DataFrame:
    roles = ["target_only"] * len(t) + ["max_lysis"] * len(m) + ["sample"]
    n = len(roles)
    return pl.DataFrame(
        {
            "plate_id": plate,
            "row": [["A", "B", "C"][i % 3] for i in range(n)],
            "col": [2 + i // 3 for i in range(n)],
            "role": roles,
            "signal": [float(v) for v in (*t, *m, 50.0)],
            "readout": readout,
            "excluded": False,
            "exclusion_reason": pl.Series([None] * n, dtype=pl.String),
        }
    )


def test_z_prime_cv_signal_to_background_and_spontaneous_by_hand() -> None:
    # target_only 90, 100, 110: mean 100, SD 10, CV 10 %.
    # max_lysis 950, 1000, 1050: mean 1000, SD 50, CV 5 %.
    # Z′ = 1 − 3 × (10 + 50)/|100 − 1000| = 1 − 180/900 = 0.8; S/B = 1000/100 = 10;
    # spontaneous release = 100 × 100/1000 = 10 % of maximum.
    qc = plate_qc(_wells("P1", [90, 100, 110], [950, 1000, 1050]))
    row = qc.row(0, named=True)
    assert row["target_only_mean"] == pytest.approx(100.0)
    assert row["target_only_cv"] == pytest.approx(10.0)
    assert row["max_lysis_cv"] == pytest.approx(5.0)
    assert row["z_prime"] == pytest.approx(0.8)
    assert row["signal_to_background"] == pytest.approx(10.0)
    assert row["spontaneous_pct"] == pytest.approx(10.0)
    assert row["pass"] is True
    assert row["reasons"] == ""


def test_low_z_prime_fails_with_reasons_and_excludes_samples() -> None:
    # target_only 50, 100, 150: SD 50; max_lysis 300, 400, 500: SD 100;
    # Z′ = 1 − 3 × 150/300 = −0.5; CV target_only = 50/100 = 50 %, max_lysis = 100/400 = 25 %;
    # S/B = 400/100 = 4 (passes); spontaneous = 100 × 100/400 = 25 % (passes at 30 %).
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


def test_high_spontaneous_release_and_low_window_fail() -> None:
    # T = 600, M = 1000 (tight controls): spontaneous = 60 % > 30 %; S/B = 1.667 < 2.
    qc = plate_qc(_wells("P3", [599, 600, 601], [999, 1000, 1001]))
    reasons = qc["reasons"][0]
    assert "signal_to_background 1.667 < 2.0" in reasons
    assert "spontaneous_pct 60.0% > 30.0%" in reasons


def test_row_index() -> None:
    rows = pl.DataFrame({"r": ["A", "H", "P", "AF"]}).select(row_index(pl.col("r")))
    assert rows["r"].to_list() == [1, 8, 16, 32]


def _gradient_plate(slope_per_row: float) -> pl.DataFrame:
    # 8 target_only wells down column 11 and 8 max_lysis wells down column 12 of a 96-well plate;
    # target_only signal rises by `slope_per_row` per row (a pipetting/temperature gradient).
    rng = np.random.default_rng(3)
    rows = list("ABCDEFGH")
    t = [1000.0 * (1 + slope_per_row * i) * (1 + rng.normal(0, 0.01)) for i in range(8)]
    m = [10000.0 * (1 + rng.normal(0, 0.01)) for _ in range(8)]
    return pl.DataFrame(
        {
            "plate_id": "G",
            "row": rows * 2,
            "col": [11] * 8 + [12] * 8,
            "role": ["target_only"] * 8 + ["max_lysis"] * 8,
            "signal": t + m,
            "readout": "release",
            "excluded": False,
            "exclusion_reason": pl.Series([None] * 16, dtype=pl.String),
        }
    )


def test_row_gradient_in_controls_is_reported() -> None:
    # 5 % per row over 7 rows = 35 % of the first well; Theil–Sen effect ≈ 35/1.175 ≈ 30 % of mean.
    qc = plate_qc(_gradient_plate(0.05), QcThresholds(max_control_cv_pct=50))
    assert "position effect: target_only trend by row" in qc["reasons"][0]
    assert qc["pass"][0] is False


def test_flat_controls_show_no_position_effect() -> None:
    qc = plate_qc(_gradient_plate(0.0))
    assert qc["position_effect"][0] == ""
    assert qc["pass"][0] is True


def test_holm_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    from killcurve.assay.qc import holm

    rng = np.random.default_rng(11)
    for m in (1, 2, 3, 7, 20):
        p = rng.uniform(0, 0.2, m)
        assert holm(p) == pytest.approx(multipletests(p, method="holm")[1], rel=1e-12)
