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
    a = _plate("release", [("target_only", 10), ("max_lysis", 110), ("sample", 60)], "P1")
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


def test_ldh_cytotox96_convention_by_hand() -> None:
    # Promega CytoTox 96 (TB163 §VI): subtract the medium background from experimental,
    # effector-spontaneous and target-spontaneous wells, the volume-correction control
    # from the target maximum, then 100 × (Exp − E_spont − T_spont)/(T_max − T_spont).
    # B = 0.100, V = 0.120, T = 0.300 → T′ = 0.200, M = 1.120 → M″ = 1.000,
    # E (NEUK, 10:1) = 0.150 → E′ = 0.050, S = 0.850 → S′ = 0.750:
    # 100 × (0.750 − 0.050 − 0.200)/(1.000 − 0.200) = 100 × 0.5/0.8 = 62.5 %.
    wells = pl.DataFrame(
        {
            "plate_id": "L1",
            "well": ["A1", "A2", "A3", "A4", "A5", "A6"],
            "role": ["background", "volume_correction", "target_only", "max_lysis",
                     "effector_only", "sample"],
            "signal": [0.100, 0.120, 0.300, 1.120, 0.150, 0.850],
            "product": [None, None, None, None, "NEUK", "NEUK"],
            "lot": [None, None, None, None, None, "L01"],
            "et_ratio": [None, None, None, None, 10.0, 10.0],
            "readout": "ldh",
            "excluded": False,
        }
    )  # fmt: skip
    out = compute_lysis(wells)
    assert out.filter(pl.col("role") == "sample")["pct_lysis"][0] == pytest.approx(62.5)


def test_ldh_without_matching_effector_control_is_refused() -> None:
    wells = pl.DataFrame(
        {
            "plate_id": "L2",
            "well": ["A1", "A2", "A3", "A4", "A5"],
            "role": ["background", "target_only", "max_lysis", "effector_only", "sample"],
            "signal": [0.1, 0.3, 1.1, 0.15, 0.8],
            "product": [None, None, None, "NEUK", "NEUK"],
            "lot": [None, None, None, None, "L01"],
            "et_ratio": [None, None, None, 10.0, 5.0],
            "readout": "ldh",
            "excluded": False,
        }
    )
    with pytest.raises(KillcurveInputError, match=r"plate L2 well A5: ldh needs effector_only"):
        compute_lysis(wells)


def test_flow_dead_percent_by_hand() -> None:
    # T = mean(8, 12) = 10 % dead in target-only wells; S = 55 % dead:
    # 100 × (55 − 10)/(100 − 10) = 50 %.
    wells = _plate("flow", [("target_only", 8.0), ("target_only", 12.0), ("sample", 55.0)])
    assert compute_lysis(wells)["pct_lysis"][2] == pytest.approx(50.0)


def test_impedance_cell_index_by_hand() -> None:
    # Normalised CI of target-only wells 1.9 and 2.1 → T = 2.0; S = 0.5:
    # 100 × (1 − 0.5/2.0) = 75 %.
    wells = _plate("impedance", [("target_only", 1.9), ("target_only", 2.1), ("sample", 0.5)])
    assert compute_lysis(wells)["pct_lysis"][2] == pytest.approx(75.0)


def test_values_outside_0_100_are_flagged_not_clipped() -> None:
    wells = _plate(
        "release",
        [("target_only", 100.0), ("max_lysis", 200.0), ("sample", 90.0), ("sample", 230.0),
         ("sample", 150.0)],
    )  # fmt: skip
    out = compute_lysis(wells).filter(pl.col("role") == "sample")
    assert out["pct_lysis"].to_list() == pytest.approx([-10.0, 130.0, 50.0])
    assert out["lysis_flag"].to_list() == ["negative", "above_100", None]


@pytest.mark.parametrize(
    ("readout", "controls"),
    [
        ("luciferase", {"T": 50_000.0, "B": 400.0}),
        ("release", {"T": 1_000.0, "M": 11_000.0}),
        ("ldh", {"T": 0.30, "M": 1.90, "B": 0.05, "V": 0.12, "E": 0.10}),
        ("impedance", {"T": 1.8}),
    ],
)
def test_lysis_scale_is_the_delta_method_sd_per_unit_cv(
    readout: str, controls: dict[str, float]
) -> None:
    """lysis_scale = |∂ % lysis/∂S| · S, checked against a central difference of the
    % lysis formula itself: a reading S with SD c·S gives % lysis an SD of c × scale."""
    from killcurve.assay.lysis import lysis_scale_expr, pct_lysis_expr

    signals = [0.2, 0.7, 1.3] if readout in ("ldh", "impedance") else [900.0, 5_000.0, 9_000.0]
    base = {k: controls.get(k) for k in ("T", "M", "B", "V", "E")}
    frame = pl.DataFrame(
        {"readout": readout, "signal": signals, **base},
        schema_overrides={k: pl.Float64 for k in ("T", "M", "B", "V", "E")},
    )
    h = 1e-6
    up = frame.with_columns(pl.col("signal") * (1 + h)).select(pct_lysis_expr())
    down = frame.with_columns(pl.col("signal") * (1 - h)).select(pct_lysis_expr())
    # (lysis(S(1+h)) − lysis(S(1−h)))/(2h) = ∂lysis/∂S · S
    numeric = ((up["pct_lysis"] - down["pct_lysis"]).abs() / (2 * h)).to_list()
    scale = frame.select(lysis_scale_expr())["lysis_scale"].to_list()
    assert scale == pytest.approx(numeric, rel=1e-6)
    # hand values, first signal: e.g. release 100 × 900 / (11000 − 1000) = 9.0
    hand = {
        "luciferase": 100 * 900 / 49_600,
        "release": 9.0,
        "ldh": 100 * 0.2 / ((1.90 - 0.12) - (0.30 - 0.05)),
        "impedance": 100 * 0.2 / 1.8,
    }
    assert scale[0] == pytest.approx(hand[readout], rel=1e-12)  # fmt: skip


def test_flow_and_precomputed_readouts_have_no_lysis_scale() -> None:
    from killcurve.assay.lysis import lysis_scale_expr

    frame = pl.DataFrame(
        {"readout": ["flow", "pct_lysis", "pct_survival"], "signal": [30.0, 40.0, 60.0],
         "T": [5.0, None, None], "M": None, "B": None, "V": None},
        schema_overrides={k: pl.Float64 for k in ("M", "B", "V")},
    )  # fmt: skip
    assert frame.select(lysis_scale_expr())["lysis_scale"].to_list() == [None, None, None]
