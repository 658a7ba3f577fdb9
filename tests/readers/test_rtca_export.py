"""``xcelligence_rtca``: the real xCELLigence exports read as one kinetic ``Cell Index`` read.

Expected values were read from the workbooks' XML without killcurve or fastexcel (zipfile +
ElementTree over ``xl/worksheets/sheetN.xml`` of the ``Cell Index`` sheet; shared strings for
the block headers). A sweep's block starts with its header ``Cell Index at: h:mm:ss`` in column
A of row r, the column-number row is r + 1, plate rows A–H are rows r + 2 … r + 9, and plate
column c is spreadsheet column c + 1 (B … M):

* CARRGODEX P1 (``2009011552P1R_Export.xlsx``, sheet3.xml): 652 blocks, last
  ``164:29:26`` (A7162). Sweep 94 ``23:48:00`` (A1024): B1027 (B1) = 0.7688; sweep 95
  ``25:04:58`` (the pause for adding effectors). Sweep 100 ``26:20:01`` (A1090): B1092 (A1) =
  0.3335, M1092 (A12) = 0.4397.
* CARRGODEX P2 (``2009011553P2R_Export.xlsx``, sheet3.xml): 666 blocks, last ``168:01:17``
  (A7316): B7319 (B1) = −0.2118, M7320 (C12) = 0.045 (stored 4.4999999999999998E-2).
* RTCA Pro (``20220718_A549_HaCat_8H3_Export.xlsx``, sheet5.xml): 845 blocks, last
  ``211:08:06`` (A9285): F9287 (A5) = 2.0849, M9289 (C12) = 4.8556. Sweep 98 ``24:02:17``
  (A1068), the one nearest 24 h (sweep 97 is ``23:47:15``, sweep 99 ``24:17:17``): B1070 (A1) =
  1.8549, B1077 (H1) = 1.6175. Block 1 (``0:00:00``): all 96 cells 0.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from killcurve.errors import KillcurveInputError
from killcurve.io.readers import PlateExport, read_export, select_plate
from killcurve.study.wells import plate_wells

SHARED = Path(__file__).resolve().parents[3] / "shared"
CARRGODEX = SHARED / "reference/real_assays/xcelligence_carrgodex"
PRO = SHARED / "reference/timecourse_more/xcelligence_rtca_pro/20220718_A549_HaCat_8H3_Export.xlsx"


def _read(path: Path) -> PlateExport:
    if not path.is_file():
        pytest.skip(f"reference data {path} is absent (../shared beside the checkout)")
    return read_export(path, "auto")


@pytest.fixture(scope="module")
def p1() -> PlateExport:
    return _read(CARRGODEX / "2009011552P1R_Export.xlsx")


@pytest.fixture(scope="module")
def pro() -> PlateExport:
    return _read(PRO)


def _at(export: PlateExport, well: str, sweep: int) -> tuple:
    row = export.data.filter((pl.col("well") == well) & (pl.col("cycle") == sweep))
    assert row.height == 1
    return row.select("signal", "raw", "time_s", "timestamp").row(0)


def test_carrgodex_exports_read_every_sweep_as_one_kinetic_read(p1: PlateExport) -> None:
    assert p1.format == "xcelligence_rtca"
    assert p1.metadata["format_detection"] == "auto: content matches xcelligence_rtca"
    assert p1.data.select("plate_index", "read").unique().rows() == [(1, "Cell Index")]
    assert p1.data.height == 652 * 96 and p1.metadata["time_points"] == "652"
    assert _at(p1, "B1", 94) == (0.7688, "0.7688", 23 * 3600 + 48 * 60, "23:48:00")
    assert _at(p1, "A1", 100) == (0.3335, "0.3335", 26 * 3600 + 20 * 60 + 1, "26:20:01")
    assert _at(p1, "A12", 100)[0] == 0.4397
    assert p1.data["time_s"].max() == 164 * 3600 + 29 * 60 + 26
    assert p1.data["flag"].null_count() == p1.data.height
    meta = p1.metadata
    assert (meta["software"], meta["Exp ID"], meta["kinetic_reads"]) == (
        "xCELLigence RTCA",
        "2009011552P1R",
        "Cell Index",
    )
    p2 = _read(CARRGODEX / "2009011553P2R_Export.xlsx")
    assert p2.data["cycle"].max() == 666 and p2.data.height == 666 * 96
    assert _at(p2, "B1", 666) == (-0.2118, "-0.2118", 168 * 3600 + 1 * 60 + 17, "168:01:17")
    assert _at(p2, "C12", 666)[:2] == (0.045, "0.045")


def test_rtca_pro_export_with_its_background_sweep_and_exp_notes(pro: PlateExport) -> None:
    assert pro.format == "xcelligence_rtca" and pro.data.height == 845 * 96
    first = pro.data.filter(pl.col("cycle") == 1)
    assert first.height == 96 and first["signal"].unique().to_list() == [0.0]
    assert first["time_s"].unique().to_list() == [0.0] and first["timestamp"][0] == "0:00:00"
    assert _at(pro, "A5", 845) == (2.0849, "2.0849", 211 * 3600 + 8 * 60 + 6, "211:08:06")
    assert _at(pro, "C12", 845)[0] == 4.8556
    meta = pro.metadata
    assert (meta["software_version"], meta["instrument"], meta["serial_number"]) == (
        "2.3.4",
        "W380",
        "281080811166",
    )
    assert meta["Exp ID"] == "2207181246P5R" and meta["time_points"] == "845"


def test_samplesheet_time_picks_the_sweep_nearest_to_it(p1: PlateExport, pro: PlateExport) -> None:
    at_24 = select_plate(pro, None, None, "24 h")
    assert at_24.height == 96 and at_24["cycle"].unique().to_list() == [98]
    assert at_24.filter(pl.col("well") == "A1")["timestamp"].to_list() == ["24:02:17"]
    assert select_plate(pro, None, None, "last")["cycle"].unique().to_list() == [845]
    # CARRGODEX paused from 23:48:00 to 25:04:58 (effectors added): 24 h is 12 min from the
    # nearest sweep, more than half the 15-min interval, so it is refused; 23.8 h is sweep 94.
    with pytest.raises(KillcurveInputError, match="no time point near time '24 h'"):
        select_plate(p1, None, None, "24 h")
    assert select_plate(p1, None, None, "23.8 h")["cycle"].unique().to_list() == [94]


def test_endpoint_path_reads_the_chosen_sweep(tmp_path: Path) -> None:
    """A samplesheet row with ``format: xcelligence_rtca`` and ``time: 24 h`` gives the wells of
    sweep 98 with their cell index (A1 1.8549, H1 1.6175)."""
    if not PRO.is_file():
        pytest.skip(f"reference data {PRO} is absent (../shared beside the checkout)")
    shutil.copyfile(PRO, tmp_path / "plate.xlsx")
    (tmp_path / "plate.toml").write_text(
        '[expt]\ntarget = "A549"\n'
        '[well.A1]\nrole = "sample"\nproduct = "8H3_cAb"\nlot = "L1"\nconcentration = 100\n'
        '[well.H1]\nrole = "target_only"\n'
    )
    row = {
        "plate_id": "PRO1",
        "file": "plate.xlsx",
        "format": "xcelligence_rtca",
        "layout": "plate.toml",
        "readout": "impedance",
        "time": "24 h",
    }
    wells = plate_wells(row, tmp_path).sort("well")
    assert wells.select("well", "role", "signal").rows() == [
        ("A1", "sample", 1.8549),
        ("H1", "target_only", 1.6175),
    ]


def test_rtca_module_imported_first_loads() -> None:
    """killcurve.io.rtca imports the readers package, which imports this reader back."""
    done = subprocess.run(
        [sys.executable, "-c", "import killcurve.io.rtca, killcurve.io.readers"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
