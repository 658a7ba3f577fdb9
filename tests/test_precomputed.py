"""Readouts computed upstream: pct_lysis taken as is, pct_survival as 100 − S, and their QC."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from killcurve.assay.lysis import compute_lysis
from killcurve.assay.qc import plate_qc
from killcurve.io.samplesheet import read_samplesheet
from killcurve.study.wells import load_wells

PRAME = Path(__file__).resolve().parents[1] / "examples" / "luminescence_prame_nut"


def _plate(readout: str, roles_signals: list[tuple[str, float]]) -> pl.DataFrame:
    n = len(roles_signals)
    return pl.DataFrame(
        {
            "plate_id": "P1",
            "well": [f"A{i + 1}" for i in range(n)],
            "row": "A",
            "col": list(range(1, n + 1)),
            "role": [r for r, _ in roles_signals],
            "signal": [s for _, s in roles_signals],
            "readout": readout,
            "excluded": False,
            "exclusion_reason": pl.Series([None] * n, dtype=pl.String),
        }
    )


def test_pct_lysis_is_taken_as_is_without_controls() -> None:
    # No control wells at all: the values are already % lysis. −3 % is kept and flagged.
    out = compute_lysis(_plate("pct_lysis", [("sample", 12.5), ("sample", 80.0), ("sample", -3)]))
    assert out["pct_lysis"].to_list() == [12.5, 80.0, -3.0]
    assert out["lysis_flag"].to_list() == [None, None, "negative"]


def test_pct_survival_is_100_minus_survival() -> None:
    # 30 % surviving -> 100 − 30 = 70 % lysis; 104 % -> −4 % (kept, flagged);
    # target_only 98 and 102 % -> 2 and −2 % (controls get a value, never a flag).
    wells = _plate(
        "pct_survival",
        [("target_only", 98.0), ("target_only", 102.0), ("sample", 30.0), ("sample", 104.0)],
    )
    out = compute_lysis(wells)
    assert out["pct_lysis"].to_list() == pytest.approx([2.0, -2.0, 70.0, -4.0])
    assert out["lysis_flag"].to_list() == [None, None, None, "negative"]


def test_pct_survival_plate_qc_where_controls_exist() -> None:
    # target_only 95, 100, 105 %: mean 100, SD 5, CV 5 %.  max_lysis 1, 2, 3 %: mean 2, SD 1;
    # its CV (≈ 0 % by construction) is not computed, nor S/B (a ratio to ≈ 0).
    # Z′ = 1 − 3 × (5 + 1)/|100 − 2| = 1 − 18/98 = 0.8163265.
    wells = _plate(
        "pct_survival",
        [("target_only", v) for v in (95.0, 100.0, 105.0)]
        + [("max_lysis", v) for v in (1.0, 2.0, 3.0)]
        + [("sample", 40.0)],
    )
    row = plate_qc(compute_lysis(wells)).row(0, named=True)
    assert row["target_only_mean"] == pytest.approx(100.0)
    assert row["target_only_cv"] == pytest.approx(5.0)
    assert row["max_lysis_cv"] is None
    assert row["signal_to_background"] is None
    assert row["z_prime"] == pytest.approx(1 - 18 / 98)
    assert row["pass"] is True


def test_pct_lysis_plate_qc_skips_the_cv_of_zero_lysis_controls() -> None:
    # target_only −2, 0, 2 % lysis: mean 0, SD 2 (CV undefined: not computed);
    # max_lysis 98, 100, 102: CV = 2/100 = 2 %; Z′ = 1 − 3 × (2 + 2)/100 = 0.88.
    wells = _plate(
        "pct_lysis",
        [("target_only", v) for v in (-2.0, 0.0, 2.0)]
        + [("max_lysis", v) for v in (98.0, 100.0, 102.0)],
    )
    row = plate_qc(compute_lysis(wells)).row(0, named=True)
    assert row["target_only_cv"] is None
    assert row["max_lysis_cv"] == pytest.approx(2.0)
    assert row["z_prime"] == pytest.approx(0.88)
    assert row["signal_to_background"] is None
    assert row["reasons"] == ""


def test_luciferase_plate_without_background_has_no_signal_to_background() -> None:
    # Only target_only controls: no opposite control, so S/B (and Z′) are empty, not 1.0.
    wells = _plate("luciferase", [("target_only", 1000.0), ("target_only", 1100.0), ("sample", 5)])
    row = plate_qc(compute_lysis(wells)).row(0, named=True)
    assert row["signal_to_background"] is None and row["z_prime"] is None
    assert row["pass"] is True


def test_samplesheet_accepts_precomputed_readouts(tmp_path: Path) -> None:
    sheet = tmp_path / "plates.tsv"
    sheet.write_text(
        "plate_id\tfile\tlayout\treadout\tbatch\n"
        "A\ta.csv\tm.toml\tpct_lysis\tb\nB\tb.csv\tm.toml\tpct_survival\tb\n"
    )
    assert read_samplesheet(sheet)["readout"].to_list() == ["pct_lysis", "pct_survival"]


def test_real_allogeneic_survival_becomes_lysis() -> None:
    sheet = read_samplesheet(PRAME / "config" / "plates.tsv")
    wells = compute_lysis(load_wells(sheet.filter(pl.col("plate_id") == "ALLO_A549"), PRAME))
    # A549 file, line 2: normalized_viability 1.004183296 (no T cells: target_only)
    # -> 100.4183296 % survival -> 100 − 100.4183296 = −0.4183296 % lysis;
    # line 17 (+CD3/CD28, −PDL1, 250000 T cells, relative dose 25): 0.473211365
    # -> 47.3211365 % survival -> 100 − 47.3211365 = 52.6788635 % lysis.
    first = wells.filter(pl.col("source_row") == 2).row(0, named=True)
    assert first["role"] == "target_only" and first["et_ratio"] is None
    assert first["pct_lysis"] == pytest.approx(-0.4183296, abs=1e-9)
    line = wells.filter(pl.col("source_row") == 17).row(0, named=True)
    assert line["product"] == "+CD3/CD28, -PDL1" and line["et_ratio"] == 25.0
    assert line["pct_lysis"] == pytest.approx(52.6788635, abs=1e-9)
