"""Time-resolved exports of timecourse_more: Incucyte text and `.PlateMap`, MARS Excel tables.

Every expected value was read by hand from the files (awk over the tab-separated
columns; the XML by eye): see that folder's README for their layouts.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from killcurve.errors import KillcurveInputError
from killcurve.io.platemap import read_platemap
from killcurve.io.readers import read_export


def _value(data: pl.DataFrame, read: str, well: str, hours: float) -> tuple:
    row = data.filter(
        (pl.col("read") == read) & (pl.col("well") == well) & (pl.col("time_s") == hours * 3600)
    )
    assert row.height == 1
    return row.select("signal", "flag", "raw").row(0)


def test_car_t_killing_count_every_scan_and_the_failed_analysis_sentinel(shared: Path) -> None:
    path = shared / "reference/timecourse_more/incucyte_cart_killing"
    export = read_export(path / "20241118_TCSL248_wk0_incucyte_count.txt", "auto")
    data, read = export.data, "Red Object Count (Per Image)"
    assert export.format == "incucyte"
    assert data.height == 96 * 60 and data["cycle"].max() == 60
    assert _value(data, read, "A1", 0) == (3229.2, None, "3229.2")
    assert _value(data, read, "B1", 0)[0] == 4440.4
    assert _value(data, read, "B6", 177)[0] == 8764.2
    assert _value(data, read, "E6", 99) == (9415.2, None, "9415.2")  # 11/12/2024 8:46:00 PM
    # −4.29e8 where the image analysis failed: flagged, never a count.
    assert _value(data, read, "D5", 30) == (None, "overflow", "-4.294926E+08")
    assert _value(data, read, "B6", 84)[:2] == (None, "overflow")
    assert _value(data, read, "B6", 90)[:2] == (None, "overflow")
    assert data["flag"].eq("overflow").sum() == 11
    first = data.filter((pl.col("well") == "A1") & (pl.col("cycle") == 3)).row(0, named=True)
    assert first["time_s"] == 6 * 3600 and first["timestamp"] == "11/8/2024 11:46:00 PM"
    meta = export.metadata
    assert meta["metric"] == read and meta["vessel"] == "TCSL248_wk0Incucyte_DBG"
    assert meta["skipped_blocks"] == "Std Dev Well" and meta["failed_analysis_values"] == "11"


def test_zoom_caspase_export_keeps_each_image_as_a_read(shared: Path) -> None:
    path = shared / "reference/timecourse_more/incucyte_caspase_death"
    export = read_export(path / "sample_data_GO_Count_image.txt", "auto")
    data, metric = export.data, "Green Object Count (1/Image)"
    assert export.format == "incucyte"
    assert data.height == 60 * 9 * 46 and data["cycle"].max() == 46
    # 540 well columns of the header line: 60 wells (B2–G11) × images 1–9.
    assert data["read"].unique().sort().to_list() == [f"{metric}, Image {k}" for k in range(1, 10)]
    assert data["well"].n_unique() == 60
    assert data.group_by("well", "cycle").len()["len"].unique().to_list() == [9]
    # First scan, wells B2 and C2: 2 2 3 0 5 2 0 0 2 | 2 5 2 1 4 3 1 10 1
    assert _value(data, f"{metric}, Image 1", "B2", 0)[0] == 2.0
    assert _value(data, f"{metric}, Image 4", "B2", 0)[0] == 0.0
    assert _value(data, f"{metric}, Image 8", "C2", 0)[0] == 10.0
    # Later scans (awk over the header's column numbers): C2 Image 8 (column 19) at 2 h is 12,
    # E7 Image 5 (column 304) at 46 h is 86, G11 Image 9 (column 542) at 90 h is 12.
    assert _value(data, f"{metric}, Image 8", "C2", 2) == (12.0, None, "12")
    assert _value(data, f"{metric}, Image 5", "E7", 46)[0] == 86.0
    last = data.filter((pl.col("well") == "G11") & (pl.col("read") == f"{metric}, Image 9"))
    assert last.sort("cycle").select("signal", "time_s", "timestamp").row(-1) == (
        12.0,
        90 * 3600,
        "27.06.2016 12:00:00",
    )
    meta = export.metadata
    assert (meta["metric"], meta["cell_type"], meta["analysis"]) == (
        metric,
        "HEK293RAF1ER",
        "Experiment_1",
    )


def test_zoom_confluence_export_with_off_grid_scans(shared: Path) -> None:
    path = shared / "reference/timecourse_more/incucyte_zoom_proliferation"
    data = read_export(path / "example_data.txt", "auto").data
    read = "Phase Object Confluence (Percent)"
    assert data.height == 60 * 71
    assert _value(data, read, "B2", 0)[0] == 15.75452
    # The sixth scan is 0.1 h late: 20.1 h = 72,360 s.
    sixth = data.filter((pl.col("well") == "B2") & (pl.col("cycle") == 6)).row(0, named=True)
    assert sixth["time_s"] == pytest.approx(72360.0)
    assert (sixth["signal"], sixth["timestamp"]) == (23.0897, "31/01/2014 13:06:00")
    # D7 (column 35): 29.919 at 100 h, 46.01514 at 140.1 h; G11 (last column) at 280 h.
    assert _value(data, read, "D7", 100)[0] == 29.919
    d7 = data.filter((pl.col("well") == "D7") & (pl.col("timestamp") == "05/02/2014 13:06:00"))
    assert d7.select("signal", "time_s").row(0) == (46.01514, pytest.approx(140.1 * 3600))
    assert _value(data, read, "G11", 280) == (24.90015, None, "24.90015")
    assert data["cycle"].max() == 71


def test_platemap_reads_as_a_layout_of_items_per_well(shared: Path) -> None:
    path = shared / "reference/timecourse_more/incucyte_zoom_proliferation/example.PlateMap"
    layout = read_platemap(path)
    assert layout.height == 60  # B2–G11; the outer wells hold nothing
    assert layout.columns == [
        "well", "row", "col", "compound", "compound_concentration",
        "compound_concentration_units", "growth_condition",
    ]  # fmt: skip
    wells = {r[0]: r[3:] for r in layout.rows()}
    assert wells["B2"] == ("DMSO", 0.1, "%", "8 x 10e4/mL")  # <well row="1" col="1">
    assert wells["C5"] == ("PDD00017273", 30.0, "µM", "4 x 10e4/mL")  # row 2, col 4
    assert wells["G11"][:2] == ("PDD00017273", pytest.approx(10 / 27))  # row 6, col 10
    per_dose = layout.group_by("compound_concentration").len()["len"].to_list()
    assert per_dose == [10] * 6


def test_incucyte_header_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "scan.txt"
    path.write_text("Metric: Red Object Count\n\nDate Time\tElapsed\tA1\nx\tsoon\t5\n")
    with pytest.raises(KillcurveInputError, match=r"scan\.txt: Elapsed 'soon' of scan 1"):
        read_export(path, "incucyte")
    (tmp_path / "map.PlateMap").write_text("<plateMap><other/></plateMap>")
    with pytest.raises(KillcurveInputError, match=r"map\.PlateMap: no <plateMap><wellStore>"):
        read_platemap(tmp_path / "map.PlateMap")


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(cut=st.integers(0, 31_000), flip=st.integers(0, 255))
def test_damaged_platemaps_give_only_input_errors(
    shared: Path, tmp_path: Path, cut: int, flip: int
) -> None:
    whole = shared / "reference/timecourse_more/incucyte_zoom_proliferation/example.PlateMap"
    data = bytearray(whole.read_bytes())
    data[cut % len(data)] = flip
    path = tmp_path / "damaged.PlateMap"
    path.write_bytes(bytes(data[: cut + 200]))
    try:
        layout = read_platemap(path)
    except KillcurveInputError as err:
        assert "damaged.PlateMap" in str(err)
    else:
        assert layout.height >= 1


def test_mars_excel_table_of_all_cycles_with_unit_time_cells(shared: Path) -> None:
    """CLARIOstar PI kinetics (timecourse_more/bmg_mars_pi_kinetics): MARS's ``Table All
    Cycles`` sheet, two channels side by side, time cells ``0 h 6 min`` read as written.

    By hand from the sheet: A01 1563 → 1577 (channel 2, cycles 1 and 236), 13735 → 15831
    (channel 1); H12 channel 1 23904 → 22575.
    """
    folder = shared / "reference/timecourse_more/bmg_mars_pi_kinetics"
    export = read_export(
        folder / "200731 Plate GP1 n1 HeLa 40000 cell death assay 24h.xlsx", "auto"
    )
    data, meta = export.data, export.metadata
    assert meta["software"] == "MARS (Excel table)" and meta["time_points"] == "236"
    assert data.height == 96 * 236 * 2

    def at(read: str, well: str, cycle: int) -> tuple:
        row = data.filter(
            (pl.col("read") == read) & (pl.col("well") == well) & (pl.col("cycle") == cycle)
        )
        return row.select("signal", "time_s", "timestamp").row(0)

    assert at("493-15/636-15 2", "A1", 1) == (1563.0, 0.0, "0 h")
    assert at("493-15/636-15 2", "A1", 2) == (1550.0, 360.0, "0 h 6 min")
    assert at("493-15/636-15 2", "A1", 236) == (1577.0, 84600.0, "23 h 30 min")
    assert at("535-15/617-20 1", "A1", 1)[0] == 13735.0
    assert at("535-15/617-20 1", "A1", 236)[0] == 15831.0
    assert at("535-15/617-20 1", "H12", 1)[0] == 23904.0
    assert at("535-15/617-20 1", "H12", 236)[:2] == (22575.0, 84600.0)
