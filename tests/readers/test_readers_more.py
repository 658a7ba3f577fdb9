"""Every file of the second corpus (exports from other labs): family, parsed values, times.

Expected values were read by eye from the raw files (text editor for the text
exports, the sheet cells for the workbooks), not from the readers' output. For
kinetic files the wells are checked at their first time point (and one later
point), with the time read from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import polars as pl
import pytest

from killcurve.io.readers import read_export, select_plate, sniff

MORE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "plate_readers_more"


class Case(NamedTuple):
    """One file: its format, reads, and wells (plate, read, well, cycle, value or flag, time_s)."""

    file: str
    fmt: str
    reads: int
    wells: list[tuple[int, str, str, int | None, float | str, float | None]]


CASES = [
    Case(
        "agilent_gen5/231031_pr_calibration_lid.xlsx",
        "agilent_gen5",
        28,
        [
            (1, "OD600:600", "E1", None, 1.47, None),
            (1, "OD600:600", "A1", None, "empty", None),
            (1, "GFP 30:485,530", "A1", None, 845, None),
            (1, "GFP 30:485,530", "B1", None, 859, None),
            (1, "GFP 60:485,530", "A1", None, "overflow", None),
            (1, "GFP 30 TOP:485,530", "A1", None, 989, None),
        ],
    ),
    Case(
        "agilent_gen5/alphalisa_endpoint_singleplate.txt",
        "agilent_gen5",
        1,
        [
            (1, "Alpha", "A1", None, 0, None),
            (1, "Alpha", "A2", None, 2, None),
            (1, "Alpha", "B6", None, 3, None),
            (1, "Alpha", "H12", None, 1, None),
        ],
    ),
    Case(
        "agilent_gen5/picogreen_dest_plate1.txt",
        "agilent_gen5",
        1,
        [
            (1, "480,520", "A3", None, 130, None),
            (1, "480,520", "A4", None, 149, None),
            (1, "480,520", "G1", None, 12987, None),
            (1, "480,520", "H2", None, 108, None),
        ],
    ),
    Case(
        "bmg_mars/16-03-03 16-54-03 472 ABS 384 QC.csv",
        "bmg_mars",
        1,
        [
            (1, "484", "A1", None, 0.031, None),
            (1, "484", "C1", None, 2.368, None),
            (1, "484", "A8", None, "empty", None),
            (1, "484", "P24", None, 0.032, None),
        ],
    ),
    Case(
        "bmg_mars/Test.CSV",
        "bmg_mars",
        1,
        [
            (1, "600", "A1", 1, 0.236, 0.0),
            (1, "600", "A2", 1, 0.279, 0.0),
            (1, "600", "A6", 1, 0.273, 0.0),
            (1, "600", "A1", 2, 0.239, 600.0),  # Time row 10, MARS minutes
        ],
    ),
    Case(
        "bmg_smart_control/fluroescence_endpoint_example1.xlsx",
        "bmg_smart_control",
        1,
        [
            (1, "480-14/520-30", "A1", None, 4180171, None),
            (1, "480-14/520-30", "H12", None, 32522, None),
            (1, "480-14/520-30", "A10", None, "empty", None),
        ],
    ),
    Case(
        "moldev_softmax_pro/071216_ColumnVesiclesControlBottomWell.txt",
        "moldev_softmax_pro",
        1,
        [
            (1, "ex410/em490", "A7", 1, 1320.765, 0.0),
            (1, "ex410/em490", "B7", 1, 1404.427, 0.0),
            (1, "ex410/em490", "C7", 1, 1301.596, 0.0),
            (1, "ex410/em490", "A1", 1, "empty", 0.0),
            (1, "ex410/em490", "A7", 2, 1344.683, 5.0),
            (2, "ex410/em490", "A7", 1, 1171.761, 0.0),
        ],
    ),
    Case(
        "moldev_softmax_pro/full8x12.txt",
        "moldev_softmax_pro",
        1,
        [
            (1, "562", "A1", None, 2.4431, None),
            (1, "562", "A12", None, 0.1438, None),
            (1, "562", "B1", None, 0.7349, None),
            (1, "562", "H12", None, 0.1129, None),
        ],
    ),
    Case(
        "moldev_softmax_pro/spectra_max_190.txt",
        "moldev_softmax_pro",
        1,
        [
            (1, "412", "A1", 1, 0.0385, 0.0),
            (1, "412", "B2", 1, 1.8877, 0.0),
            (1, "412", "H12", 1, 0.04, 0.0),
            (1, "412", "A1", 2, 0.0383, 20.0),
        ],
    ),
    Case(
        "revvity_kaleido/absorbance_endpoint_single_plate_example_01.csv",
        "revvity_kaleido",
        1,
        [
            (1, "ABS mono 1", "A1", None, 2.2075694995298862, None),
            (1, "ABS mono 1", "A11", None, 0.049993264081777893, None),
            (1, "ABS mono 1", "H12", None, 0.043160960819347817, None),
        ],
    ),
    Case(
        "revvity_kaleido/fluorescence_v3.5_pure_csv_format_example.csv",
        "revvity_kaleido",
        1,
        [
            (1, "Fluorescence intensity 1", "A1", None, 40, None),
            (1, "Fluorescence intensity 1", "B1", None, 0, None),
            (1, "Fluorescence intensity 1", "H12", None, 55, None),
        ],
    ),
    Case(
        "revvity_victor/nivo_output.csv",
        "revvity_victor",
        1,
        [
            (1, "ABS (F) - Kinetics", "A1", 1, 0.059, 0.0),
            (1, "ABS (F) - Kinetics", "A2", 1, 0.078, 0.0),
            (1, "ABS (F) - Kinetics", "H12", 1, 0.057, 0.0),
            (1, "ABS (F) - Kinetics", "A2", 2, 0.084, 1772.1),
        ],
    ),
    Case(
        "revvity_victor/victorx3_output.txt",
        "revvity_victor",
        2,
        [
            (1, "Absorbance @ 600 (A)", "A1", 1, 0.057, 0.0),
            (1, "Absorbance @ 600 (A)", "H12", 1, 0.038, 47.49),  # 00:01:28.78 - 00:00:41.29
            (1, "GFP (Counts)", "A1", 1, 874, 0.0),
            (1, "GFP (Counts)", "H12", 1, 318, 51.36),  # 00:02:36.20 - 00:01:44.84
            (1, "Absorbance @ 600 (A)", "A1", 2, 0.062, 1838.99),  # 00:31:20.28
        ],
    ),
    Case(
        "tecan_icontrol/example-S032_Mfdpir_pPK66,sPK14,15_mScarlet_leak_check.xlsx",
        "tecan_icontrol",
        3,
        [
            (1, "OD600", "A1", None, 0.041900001, None),
            (1, "OD600", "B9", None, 1.572000027, None),
            (1, "OD600", "A3", None, "empty", None),
            (1, "sfGFP", "B3", None, 46560, None),
            (1, "mscarlet", "B4", None, 43929, None),
        ],
    ),
    Case(
        "tecan_spark/191219_calibration_membrane.csv",
        "tecan_spark",
        11,
        [
            (1, "OD600", "A1", None, 0.0921, None),
            (1, "OD600", "B1", None, 0.0905, None),
            (1, "OD600", "E1", None, 0.9082, None),
            (1, "GFP 120", "A1", None, "overflow", None),
        ],
    ),
]


@pytest.fixture
def more() -> Path:
    """The second corpus folder; skips when it is absent."""
    if not MORE.is_dir():
        pytest.skip(f"second corpus {MORE.resolve()} is absent (it sits beside the checkout)")
    return MORE


def test_every_file_is_covered(more: Path) -> None:
    """The table above names every export of the second corpus."""
    files = sorted(str(p.relative_to(more)) for p in more.rglob("*") if p.parent != more)
    assert sorted(c.file for c in CASES) == files


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_file_values(more: Path, case: Case) -> None:
    """``format: auto`` names the family; named wells hold the file's numbers and times."""
    assert sniff(more / case.file) == case.fmt
    data = read_export(more / case.file).data
    assert data["read"].n_unique() == case.reads
    for plate, read, well, cycle, expected, seconds in case.wells:
        at = pl.col("cycle").is_null() if cycle is None else pl.col("cycle") == cycle
        cell = data.filter(
            (pl.col("plate_index") == plate) & (pl.col("read") == read) & (pl.col("well") == well)
        ).filter(at)
        assert cell.height == 1, (plate, read, well, cycle)
        if isinstance(expected, str):
            assert (cell["flag"][0], cell["signal"][0]) == (expected, None)
        else:
            assert cell["signal"][0] == pytest.approx(expected)
        assert cell["time_s"][0] == (None if seconds is None else pytest.approx(seconds))


def test_softmax_blank_line_before_end_is_no_plate_row(more: Path) -> None:
    """full8x12: 8 plate rows and a tab-only separator before ``~End`` give 96 wells."""
    data = read_export(more / "moldev_softmax_pro/full8x12.txt").data
    assert (data.height, data["signal"].is_not_null().sum()) == (96, 96)


def test_kaleido_2_header_and_metadata(more: Path) -> None:
    """Kaleido 2.0 (``Results for`` + no-break space): read, barcode and version kept."""
    export = read_export(more / "revvity_kaleido/absorbance_endpoint_single_plate_example_01.csv")
    assert export.metadata["software_version"] == "Kaleido 2.0.3058.126"
    assert export.metadata["plates"] == "1=barcode V-2020-10-26 16:16:17"
    assert export.data["signal"].is_not_null().sum() == 96


def test_gen5_alpha_read_and_its_calculations(more: Path) -> None:
    """The AlphaLISA read (``Read Alpha Endpoint``) is raw; Blank/Log/[Concentration] are not."""
    export = read_export(more / "agilent_gen5/alphalisa_endpoint_singleplate.txt")
    assert export.metadata["skipped_blocks"] == "Blank Alpha; Log Alpha; [Concentration]"
    assert export.metadata["instrument"] == "Synergy Neo2"


@pytest.mark.parametrize(
    ("file", "points", "unread"),
    [
        ("moldev_softmax_pro/spectra_max_190.txt", 721, None),
        ("moldev_softmax_pro/071216_ColumnVesiclesControlBottomWell.txt", 65, "92"),
        ("bmg_mars/Test.CSV", 430, None),
        ("revvity_victor/nivo_output.csv", 17, None),
        ("revvity_victor/victorx3_output.txt", 17, None),
    ],
)
def test_kinetic_files_keep_every_time_point(
    more: Path, file: str, points: int, unread: str | None
) -> None:
    """The whole series is kept (points a stopped run never read are dropped and counted),
    and ``time: last`` picks the last point for every well."""
    export = read_export(more / file)
    assert export.metadata["time_points"] == str(points)
    assert export.metadata.get("unread_time_points") == unread
    last = select_plate(export, 1, export.data["read"][0], "last")
    assert last["cycle"].unique().to_list() == [last["cycle"].max()]
    assert last["well"].n_unique() == last.height


def test_decimal_commas_in_a_kinetic_softmax_run(more: Path) -> None:
    """SpectraMax 190 from a decimal-comma Windows: ``0,0385`` is 0.0385."""
    export = read_export(more / "moldev_softmax_pro/spectra_max_190.txt")
    assert export.metadata["decimal_mark"] == ","
    assert export.data["flag"].is_null().all()
