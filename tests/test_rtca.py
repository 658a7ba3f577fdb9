"""xCELLigence RTCA Excel exports: the real CARRGODEX exports read by hand, and bad files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from killcurve.errors import KillcurveInputError
from killcurve.io.rtca import RtcaExport, read_rtca

from .conftest import SHARED

RTCA = SHARED / "reference" / "real_assays" / "xcelligence_carrgodex"
P1 = RTCA / "2009011552P1R_Export.xlsx"
P2 = RTCA / "2009011553P2R_Export.xlsx"


def write_rtca(
    path: Path,
    times: Sequence[str],
    cell_index: Mapping[str, Sequence[float | str]],
    layout: Mapping[str, str],
    sheets: Sequence[str] = ("Cover", "Layout", "Cell Index"),
) -> Path:
    """A small RTCA-shaped workbook: ``times`` as ``h:mm:ss``, CI per well, layout text per well.

    Wells not in ``cell_index`` are written 0, wells not in ``layout`` left empty.
    """
    book = xlsxwriter.Workbook(path)
    rows = "ABCDEFGH"
    if "Cover" in sheets:
        cover = book.add_worksheet("Cover")
        cover.write_row(0, 0, ["Exp ID:", "TEST"])
    if "Layout" in sheets:
        sheet = book.add_worksheet("Layout")
        sheet.write_row(0, 1, [str(c) for c in range(1, 13)])
        for r, label in enumerate(rows, start=1):
            sheet.write(r, 0, label)
            for c in range(1, 13):
                if f"{label}{c}" in layout:
                    sheet.write(r, c, layout[f"{label}{c}"])
    if "Cell Index" in sheets:
        sheet = book.add_worksheet("Cell Index")
        for k, time in enumerate(times):
            top = 11 * k
            sheet.write(top, 0, f"Cell Index at: {time}")
            sheet.write_row(top + 1, 1, [str(c) for c in range(1, 13)])
            for r, label in enumerate(rows, start=top + 2):
                sheet.write(r, 0, label)
                for c in range(1, 13):
                    sheet.write(r, c, cell_index.get(f"{label}{c}", [0.0] * len(times))[k])
    book.close()
    return path


@pytest.fixture(scope="module")
def p1() -> RtcaExport:
    if not P1.is_file():
        pytest.skip(f"reference data {P1} is absent (../shared beside the checkout)")
    return read_rtca(P1)


def _ci(export: RtcaExport, well: str, sweep: int) -> tuple[float, float]:
    row = export.data.filter((pl.col("well") == well) & (pl.col("sweep") == sweep))
    assert row.height == 1
    return row["time_h"][0], row["cell_index"][0]


def test_cell_index_at_named_wells_and_sweeps(p1: RtcaExport) -> None:
    # Read by hand from the xlsx XML (xl/worksheets/sheet3.xml = sheet 'Cell Index'; sweep k's
    # header is on row 11(k − 1) + 1, rows A–H follow the column-number row; well column c is
    # spreadsheet column c + 1):
    #   P1 sweep 94  'Cell Index at: 23:48:00' cell B1027 (well B1)  = 0.7688
    #   P1 sweep 300 'Cell Index at: 76:21:21' cell M3299 (well H12) = 6.8668
    #   P2 sweep 300 'Cell Index at: 76:21:44' cell M3298 (well G12) = 0.1046
    assert _ci(p1, "B1", 94) == (pytest.approx(23.8), 0.7688)
    assert _ci(p1, "H12", 300) == (pytest.approx(76 + 21 / 60 + 21 / 3600), 6.8668)
    p2 = read_rtca(P2)
    assert _ci(p2, "G12", 300) == (pytest.approx(76 + 21 / 60 + 44 / 3600), 0.1046)
    # 652 sweeps (P1, last 'Cell Index at: 164:29:26') and 666 (P2, last 168:01:17) × 96 wells.
    assert p1.data.height == 652 * 96 and p2.data.height == 666 * 96
    assert p1.data["time_h"].max() == pytest.approx(164 + 29 / 60 + 26 / 3600)
    # The first sweep is the background: CI 0 in every well.
    assert p1.data.filter(pl.col("sweep") == 1)["cell_index"].unique().to_list() == [0.0]
    assert p1.data["flag"].null_count() == p1.data.height
    assert p1.metadata["Exp ID"] == "2009011552P1R"


def test_layout_annotations(p1: RtcaExport) -> None:
    layout = p1.layout.filter(pl.col("well").is_in(["A1", "B1", "H12"])).sort("well")
    assert layout["annotation"].to_list() == [
        "PBT1(0)",
        "PBT1(0); IL13(2500)",
        "PBT2(0); Drug(1.00ug/ml)",
    ]
    b1 = layout.filter(pl.col("well") == "B1")["items"][0].to_list()
    assert b1 == [{"name": "PBT1", "amount": "0"}, {"name": "IL13", "amount": "2500"}]


def test_small_export_round_trip(tmp_path: Path) -> None:
    path = write_rtca(
        tmp_path / "plate.xlsx",
        ["0:00:00", "0:15:00", "25:30:15", "101:00:00"],
        {"A1": [0, 0.5, 1.25, "2"], "B2": [0, 0.4, "", 0.1]},
        {"A1": "T1(0)\n", "B2": "T1(0)\nCAR(5000)\nDrug(10nM)\n"},
    )
    export = read_rtca(path)
    a1 = export.data.filter(pl.col("well") == "A1").sort("sweep")
    assert a1["time_h"].to_list() == pytest.approx([0.0, 0.25, 25.504166667, 101.0])
    assert a1["cell_index"].to_list() == [0.0, 0.5, 1.25, 2.0]
    b2 = export.data.filter((pl.col("well") == "B2") & (pl.col("sweep") == 3)).row(0, named=True)
    assert (b2["cell_index"], b2["flag"], b2["annotation"]) == (
        None,
        "empty",
        "T1(0); CAR(5000); Drug(10nM)",
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sheets": ("Cover", "Cell Index")}, r"sheet\(s\) Layout missing"),
        ({"times": ["0:00:00", "2:00:00", "1:00:00"]}, r"sweep times do not increase"),
    ],
)
def test_bad_exports_say_what_and_where(tmp_path: Path, kwargs: dict, match: str) -> None:
    args = {"times": ["0:00:00", "1:00:00"], "cell_index": {}, "layout": {"A1": "T1(0)"}} | kwargs
    path = write_rtca(tmp_path / "bad.xlsx", **args)
    with pytest.raises(KillcurveInputError, match=match):
        read_rtca(path)


def test_rtca_pro_export_with_a_long_layout_table(shared: Path) -> None:
    """RTCA Pro 2.3.4 (timecourse_more): the Layout sheet is a long table, 845 sweeps to 211 h.

    Values as the workbook shows them: A1 at 0:00:16 is −0.0026, at 211:08:06 5.0451; C845
    (third column) 5.5861; H12 holds HaCaTmodel with IgG1_MMAE at 0 pM.
    """
    path = shared / "reference/timecourse_more/xcelligence_rtca_pro"
    export = read_rtca(path / "20220718_A549_HaCat_8H3_Export.xlsx")
    data = export.data
    assert data.height == 845 * 96 and data["sweep"].max() == 845
    a1 = data.filter(pl.col("well") == "A1").sort("sweep")
    assert a1["cell_index"][1] == -0.0026 and a1["time_h"][1] == pytest.approx(16 / 3600)
    assert a1["cell_index"][-1] == 5.0451 and a1["time_h"][-1] == pytest.approx(211 + 8.1 / 60)
    last = data.filter((pl.col("sweep") == 845) & (pl.col("row") == "A") & (pl.col("col") == 3))
    assert last["cell_index"].to_list() == [5.5861]
    layout = {r["well"]: r["annotation"] for r in export.layout.iter_rows(named=True)}
    assert len(layout) == 96
    assert layout["A1"] == "A549(0); 8H3_cAb(100mM)"
    assert layout["G1"] == "A549(0); 8H3_cAb(1.56mM)"
    assert layout["H12"] == "HaCaTmodel(0); IgG1_MMAE(0pM)"
    assert export.metadata["Exp ID"] == "2207181246P5R"
