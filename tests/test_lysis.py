"""% lysis on hand-computed wells for both readouts."""

from __future__ import annotations

import polars as pl
import pytest

from killcurve.assay.lysis import compute_lysis
from killcurve.errors import KillcurveInputError


def _plate(readout: str, roles_signals: list[tuple[str, float]], plate: str = "P1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "plate_id": plate,
            "well": [f"A{i + 1}" for i in range(len(roles_signals))],
            "role": [r for r, _ in roles_signals],
            "signal": [s for _, s in roles_signals],
            "readout": readout,
            "excluded": False,
        }
    )


def test_luciferase_hand_computed() -> None:
    # T = mean(10000, 12000) = 11000; B = mean(900, 1100) = 1000; T − B = 10000.
    # S = 6000 -> 100 × (1 − 5000/10000) = 50 %;  S = 3500 -> 100 × (1 − 2500/10000) = 75 %;
    # S = 13000 -> 100 × (1 − 12000/10000) = −20 % (kept, not clipped).
    wells = _plate(
        "luciferase",
        [
            ("target_only", 10000),
            ("target_only", 12000),
            ("background", 900),
            ("background", 1100),
            ("sample", 6000),
            ("sample", 3500),
            ("sample", 13000),
        ],
    )
    out = compute_lysis(wells).filter(pl.col("role") == "sample")["pct_lysis"].to_list()
    assert out == pytest.approx([50.0, 75.0, -20.0], abs=1e-12)


def test_luciferase_without_background_uses_zero() -> None:
    # T = 8000, B = 0: S = 2000 -> 100 × (1 − 2000/8000) = 75 %.
    wells = _plate("luciferase", [("target_only", 8000), ("sample", 2000)])
    assert compute_lysis(wells)["pct_lysis"][1] == pytest.approx(75.0)


def test_release_hand_computed() -> None:
    # T (spontaneous) = mean(400, 600) = 500; M = mean(4400, 4600) = 4500; M − T = 4000.
    # S = 1500 -> 100 × 1000/4000 = 25 %; S = 4900 -> 110 % (kept); S = 300 -> −5 %.
    wells = _plate(
        "release",
        [
            ("target_only", 400),
            ("target_only", 600),
            ("max_lysis", 4400),
            ("max_lysis", 4600),
            ("sample", 1500),
            ("sample", 4900),
            ("sample", 300),
        ],
    )
    out = compute_lysis(wells).filter(pl.col("role") == "sample")["pct_lysis"].to_list()
    assert out == pytest.approx([25.0, 110.0, -5.0], abs=1e-12)


def test_excluded_wells_leave_controls_and_get_no_lysis() -> None:
    # The excluded target_only well (99999) must not enter T: T = 500, M = 4500.
    wells = _plate(
        "release",
        [("target_only", 500), ("target_only", 99999), ("max_lysis", 4500), ("sample", 2500)],
    ).with_columns(excluded=pl.Series([False, True, False, False]))
    out = compute_lysis(wells)["pct_lysis"].to_list()
    assert out[1] is None
    assert out[3] == pytest.approx(50.0)


def test_each_plate_uses_its_own_controls() -> None:
    a = _plate("release", [("target_only", 0), ("max_lysis", 100), ("sample", 50)], "P1")
    b = _plate("release", [("target_only", 100), ("max_lysis", 300), ("sample", 150)], "P2")
    out = compute_lysis(pl.concat([a, b])).filter(pl.col("role") == "sample")
    assert out["pct_lysis"].to_list() == pytest.approx([50.0, 25.0])


def test_release_max_not_above_spontaneous_is_refused() -> None:
    wells = _plate("release", [("target_only", 500), ("max_lysis", 400), ("sample", 450)], "PX")
    with pytest.raises(KillcurveInputError, match=r"plate PX: max_lysis mean 400 is not above"):
        compute_lysis(wells)


def test_luciferase_target_not_above_background_is_refused() -> None:
    wells = _plate("luciferase", [("target_only", 900), ("background", 1000), ("sample", 1)], "PL")
    with pytest.raises(KillcurveInputError, match=r"plate PL: target_only mean 900"):
        compute_lysis(wells)
