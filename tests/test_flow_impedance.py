"""flow and impedance readouts from their own table formats, through the well-table stage."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from killcurve.assay.lysis import compute_lysis
from killcurve.errors import KillcurveInputError
from killcurve.study.wells import plate_wells

LAYOUT = """\
[expt]
target = "SHP-77"

[block.2x1.A1]
role = "sample"
product = "NEUK203-13"
lot = "L1"

[well.A1]
et_ratio = 10
[well.A2]
et_ratio = 2

[block.2x1.B1]
role = "target_only"
"""


def _sheet(study: Path, file: str, fmt: str, readout: str, **extra: str) -> dict[str, str]:
    (study / "layout.toml").write_text(LAYOUT)
    return {"plate_id": "F1", "file": file, "format": fmt, "layout": "layout.toml",
            "readout": readout, "batch": "B1", **extra}  # fmt: skip


def test_flowjo_table_to_percent_lysis(tmp_path: Path) -> None:
    (tmp_path / "flow.csv").write_text(
        ",Targets | Count,Targets/Dead | Freq. of Parent\n"
        "Specimen_001_A1_A01.fcs,1500,55\n"
        "Specimen_001_A2_A02.fcs,1490,32.5\n"
        "Specimen_001_B1_B01.fcs,1600,8\n"
        "Specimen_001_B2_B02.fcs,1610,12\n"
        "Mean,1550,26.9\n"
    )
    sheet = _sheet(tmp_path, "flow.csv", "auto", "flow", read="Targets/Dead | Freq. of Parent")
    wells = compute_lysis(plate_wells(sheet, tmp_path)).sort("well")
    # T = mean(8, 12) = 10 % dead; A1: 100 × (55 − 10)/90 = 50 %; A2: 100 × 22.5/90 = 25 %.
    lysis = dict(zip(wells["well"], wells["pct_lysis"], strict=True))
    assert lysis["A1"] == pytest.approx(50.0)
    assert lysis["A2"] == pytest.approx(25.0)


def test_flowjo_table_needs_the_read_chosen(tmp_path: Path) -> None:
    (tmp_path / "flow.csv").write_text(
        ",Targets | Count,Targets/Dead | Freq. of Parent\nA1,1,2\nA2,1,2\nB1,1,2\nB2,1,2\n"
    )
    with pytest.raises(KillcurveInputError, match=r"plate F1: .*holds several plates/reads"):
        plate_wells(_sheet(tmp_path, "flow.csv", "flowjo_csv", "flow"), tmp_path)


def test_cell_index_normalised_at_effector_addition(tmp_path: Path) -> None:
    rows = ["well,time_h,cell_index"]
    # Effectors added at 20 h; analysis at 44 h.
    ci = {"A1": (1.0, 0.5), "A2": (1.25, 1.875), "B1": (0.8, 1.6), "B2": (1.0, 2.0)}
    for well, (at_20, at_44) in ci.items():
        rows += [f"{well},0.0,0.1", f"{well},20.0,{at_20}", f"{well},44.0,{at_44}"]
    (tmp_path / "ci.csv").write_text("\n".join(rows) + "\n")
    sheet = _sheet(tmp_path, "ci.csv", "auto", "impedance", read="44 h", normalise_read="20 h")
    wells = compute_lysis(plate_wells(sheet, tmp_path)).sort("well")
    # Normalised CI: A1 0.5/1.0 = 0.5, A2 1.875/1.25 = 1.5; target-only B1 2.0, B2 2.0 → T = 2.
    # % cytolysis = 100 × (1 − CI/T): A1 75 %, A2 25 %.
    values = dict(zip(wells["well"], wells["signal"], strict=True))
    assert values["A1"] == pytest.approx(0.5) and values["B1"] == pytest.approx(2.0)
    lysis = dict(zip(wells["well"], wells["pct_lysis"], strict=True))
    assert lysis["A1"] == pytest.approx(75.0)
    assert lysis["A2"] == pytest.approx(25.0)
    assert wells.filter(pl.col("well") == "A1")["readout"][0] == "impedance"
