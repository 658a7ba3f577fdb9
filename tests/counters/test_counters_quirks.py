"""Cell-counter quirks and bad input, on small files written by the tests.

Each file is modelled on a real export of the corpus (same header text) with
values chosen so the expected numbers can be checked by hand.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter

from killcurve.errors import KillcurveInputError
from killcurve.io.counters import read_counter, sniff

BLU_HEADER = (
    "Sample ID,Cell count,Viable cells,Total (x10^6) cells/mL,Viable (x10^6) cells/mL,"
    "Viability (%),Analysis date/time,Dilution"
)
GENERIC_HEADER = "sample,total_cells_per_ml,viable_cells_per_ml,viability_pct,measured_at"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def test_generic_csv_derives_the_missing_value_per_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "counts.csv",
        "# thawed NEUK203-13 vials, counted on a Countess 3\n"
        f"{GENERIC_HEADER},instrument,operator\n"
        "V1-0h,2.0e6,1.5e6,,2024-05-01 14:30,Countess 3,AB\n"
        "V1-4h,1000000,,80,2024-05-01T18:30:00,Countess 3,AB\n",
    )
    export = read_counter(path)
    assert export.format == "generic_csv"
    rows = export.data.rows_by_key("sample", named=True, unique=True)
    # V1-0h: viability = 100 · 1.5e6 / 2.0e6 = 75 %
    assert rows["V1-0h"]["viability_pct"] == pytest.approx(75.0)
    assert rows["V1-0h"]["measured_at"] == datetime(2024, 5, 1, 14, 30)
    # V1-4h: viable = 1.0e6 · 80 / 100 = 8.0e5 cells/mL
    assert rows["V1-4h"]["viable_cells_per_ml"] == pytest.approx(8.0e5)
    assert rows["V1-4h"]["instrument"] == "Countess 3"
    assert export.metadata["ignored_columns"] == "operator"
    assert "(1 rows)" in export.metadata["derived"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("sample,viable_cells_per_ml\nS1,1e6\n", "needs columns sample, total_cells_per_ml"),
        ("sample,total_cells_per_ml\nS1,1e6\n", "viable_cells_per_ml and/or viability_pct"),
        (f'{GENERIC_HEADER}\nS1,"2,5e6",1e6,,\n', "line 2 (sample S1): total_cells_per_ml '2,5e6'"),
        (f"{GENERIC_HEADER}\nS1,2.0e6,abc,,\n", "viable_cells_per_ml 'abc' is not a number"),
        (f"{GENERIC_HEADER}\n,2.0e6,1.0e6,,\n", "line 2: no sample ID"),
        (f"{GENERIC_HEADER}\nS1,2.0e6,,,\n", "needs viable_cells_per_ml or viability_pct"),
        (f"{GENERIC_HEADER}\nS1,2.0e6,1.0e6,,1/5/2024\n", "measured_at '1/5/2024'"),
        # 10^6 cells/mL typed into a cells/mL column
        (f"{GENERIC_HEADER}\nS1,2.5,2.0,,\nS2,1.8,1.5,,\n", "largest concentration"),
        # viability typed as a fraction although the column says %
        (f"{GENERIC_HEADER}\nS1,2.0e6,1.5e6,0.75,\n", "holds fractions"),
        (f"{GENERIC_HEADER}\nS1,2.0e6,1.5e6,175,\n", "viability 175 % is outside 0–100 %"),
        (f"{GENERIC_HEADER}\nS1,1.0e6,2.0e6,,\n", "viable 2e+06 cells/mL"),
    ],
)
def test_generic_csv_bad_input(tmp_path: Path, body: str, words: str) -> None:
    path = write(tmp_path, "counts.csv", body)
    with pytest.raises(KillcurveInputError) as err:
        read_counter(path, "generic_csv")
    assert words in str(err.value)
    assert str(path) in str(err.value)


def test_vi_cell_blu_text_counts_and_day_first_dates(tmp_path: Path) -> None:
    """allotropy's later edit of example01 wrote ERROR for counts; a re-saved file day-first."""
    path = write(
        tmp_path,
        "blu.csv",
        f"{BLU_HEADER}\n"
        "CLB008,ERROR,ERROR,2.48,2.45,98.5,25/3/2022 11:14,1\n"
        "CLB009,5284,5194,1.87,1.84,98.3,3/4/2022 11:16,1\n",
    )
    data = read_counter(path).data
    assert data["total_count"].to_list() == [None, 5284]
    assert data["note"][0] == "total_count: ERROR; viable_count: ERROR"
    # 25/3 only reads day first, so the whole file is read day first: 3/4 is 3 April
    assert data["measured_at"].to_list() == [
        datetime(2022, 3, 25, 11, 14),
        datetime(2022, 4, 3, 11, 16),
    ]


def test_ambiguous_dates_are_stated(tmp_path: Path) -> None:
    path = write(
        tmp_path, "blu.csv", f"{BLU_HEADER}\nCLB001,2191,2123,0.78,0.75,96.9,3/4/2022 9:00,1\n"
    )
    export = read_counter(path)
    assert export.data["measured_at"][0] == datetime(2022, 3, 4, 9, 0)  # month first, as written
    assert "%d/%m/%Y %H:%M" in export.metadata["timestamp_ambiguity"]


def test_vi_cell_blu_utf16_little_endian(tmp_path: Path) -> None:
    text = f"\ufeff{BLU_HEADER}\nCLB001,2191,2123,0.78,0.75,96.9,3/21/2022 16:56,1\n"
    path = write(tmp_path, "blu16.csv", text, encoding="utf-16-le")
    assert read_counter(path).data["total_cells_per_ml"][0] == 780_000


def test_cellaca_metadata_block_and_e6_units(tmp_path: Path) -> None:
    """Cellaca_Example_1's layout with consistent values (its own are hand-made and refused)."""
    meta = "".join(
        f"{key},{value}" + "," * 16 + "\n"
        for key, value in (
            ("Plate Name", "Plate1"),
            ("Dilution", "2"),
            ("Results Timestamp", "5/20/25 12:25"),
            ("Instrument SN", "MX-123-123"),
        )
    )
    path = write(
        tmp_path,
        "cellaca.csv",
        meta + "," * 17 + "\n"
        ",,Row,Column,Well Name,Live Count,Live Concentration (E6),Viability (%),Dead Count,"
        "Dead Concentration (E6),Total Count,Total Concentration (E6),Errors\n"
        ",,0,0,1,180,0.45,90.00,20,0.05,200,0.50,\n"
        ",,0,1,2,150,0.30,75.00,50,0.10,200,0.40,Focus\n",
    )
    export = read_counter(path)
    assert export.format == "revvity_matrix"
    rows = export.data.rows_by_key("sample", named=True, unique=True)
    # 0.45 x10^6 = 450 000 cells/mL; 0.50 x10^6 = 500 000 cells/mL
    assert (rows["1"]["viable_cells_per_ml"], rows["1"]["total_cells_per_ml"]) == (450_000, 500_000)
    assert rows["2"]["note"] == "Focus"
    assert rows["1"]["measured_at"] == datetime(2025, 5, 20, 12, 25)
    assert export.metadata["serial_number"] == "MX-123-123"
    assert export.metadata["dilution"] == "2"


def test_cedex_header_in_1e5_cells_per_ml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cedex.csv",
        "Cedex ID,Sample identifer,Viability,Viable Cell Conc. [10^5 cells/mL],"
        "Total Cell Conc. [10^5 cells/mL],Date finished\n"
        "3714019,F01,95.29,45.3,47.5,6-18-2019 7:46:47 AM\n",
    )
    row = read_counter(path).data.row(0, named=True)
    # 45.3 x10^5 = 4 530 000 cells/mL; 47.5 x10^5 = 4 750 000 cells/mL
    assert (row["viable_cells_per_ml"], row["total_cells_per_ml"]) == (4_530_000, 4_750_000)


def test_cedex_without_unit_and_small_numbers_is_refused(tmp_path: Path) -> None:
    """A unit-less Cedex column read as cells/mL must look like cells/mL."""
    path = write(
        tmp_path,
        "cedex.csv",
        "Cedex ID,Sample identifer,Viability,Viable Cell Conc.,Total Cell Conc.\n"
        "3714019,F01,95.29,45.3,47.5\n",
    )
    with pytest.raises(KillcurveInputError, match=r"'Total Cell Conc\.' reads as 47\.5 cells/mL"):
        read_counter(path)


def test_matrix_concentration_without_unit_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "matrix.csv",
        "Well Name,Live Count,Live Concentration,Viability (%),Total Count,Total Concentration\n"
        "A1,180,0.45,90,200,0.50\n",
    )
    with pytest.raises(KillcurveInputError, match="'Total Concentration' states no unit"):
        read_counter(path)


def test_unrecognised_file_lists_formats_and_first_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "countess.csv", "Countess 3 export\nImage,Live,Dead\n")
    with pytest.raises(KillcurveInputError) as err:
        sniff(path)
    message = str(err.value)
    assert "vi_cell_blu, vi_cell_xr" in message and "generic_csv" in message
    assert "Countess 3 export\nImage,Live,Dead" in message


def test_unrecognised_workbook_names_its_sheets(tmp_path: Path) -> None:
    path = tmp_path / "luna.xlsx"
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("Results")
        sheet.write_row(0, 0, ["LUNA-FX7", "Live cells/mL"])
    with pytest.raises(KillcurveInputError, match="sheets Results; first rows:\nLUNA-FX7"):
        read_counter(path)


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        ("countess", "unknown cell-counter format 'countess'"),
        ("revvity_matrix", "no Well Name column"),
        ("roche_cedex_hires", "no Sample identifer column"),
    ],
)
def test_wrong_format_is_named(tmp_path: Path, fmt: str, words: str) -> None:
    path = write(tmp_path, "blu.csv", f"{BLU_HEADER}\nCLB001,2191,2123,0.78,0.75,96.9,,1\n")
    with pytest.raises(KillcurveInputError, match=words):
        read_counter(path, fmt)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(KillcurveInputError, match="file not found"):
        read_counter(tmp_path / "absent.csv")
    with pytest.raises(KillcurveInputError, match="the file is empty"):
        read_counter(write(tmp_path, "empty.csv", ""))


def test_header_only_export_has_no_samples(tmp_path: Path) -> None:
    with pytest.raises(KillcurveInputError, match="no sample rows found in this vi_cell_blu"):
        read_counter(write(tmp_path, "blu.csv", f"{BLU_HEADER}\n"))
