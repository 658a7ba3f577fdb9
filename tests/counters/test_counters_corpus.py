"""Every file of the cell-counter corpus: detected family, row count, named samples, or refusal.

Expected values were read by eye from the raw files (a text editor for the
CSV and TXT exports, the sheet cells for the workbooks), in the export's own
unit, and are converted here by hand where the header says x10^6 cells/mL.
The corpus is ../shared/reference/cell_counters beside the checkout; the
tests skip when it is absent.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pytest

from killcurve.errors import KillcurveInputError
from killcurve.io.counters import COLUMNS, read_counter, sniff

E6 = 1e6  # "x10^6 cells/mL" headers: the exported number times 10^6 is cells/mL


class Sample(NamedTuple):
    """One sample's expected values: cells/mL, %, counts and time (None: not in the export)."""

    sample: str
    total: float | None
    viable: float | None
    viability: float | None
    total_count: int | None = None
    viable_count: int | None = None
    measured_at: datetime | None = None
    note: str | None = None  # a text the note must contain


class Case(NamedTuple):
    """One corpus file: the family it is, how many sample rows, some samples."""

    file: str
    fmt: str
    rows: int
    samples: list[Sample]


BLU01 = [
    Sample("CLB001", 0.78 * E6, 0.75 * E6, 96.9, 2191, 2123, datetime(2022, 3, 21, 16, 56)),
    Sample("CLB011", 3.48 * E6, 2.51 * E6, 72.06, 9799, 7061, datetime(2022, 3, 28, 10, 12)),
]
SAMPLE2_TIME, P001_TIME = datetime(2021, 2, 18, 14, 13, 29), datetime(2008, 4, 4, 11, 52, 36)
MATRIX = [
    Sample("P2-1", 2.62e6, 2.28e6, 87.0, 1342, 1165),
    Sample("P3-9", 1.61e6, 1.61e6, 100.0, 824, 824, note="No Cells found in F2 Image A"),
]

CASES = [
    Case("vi_cell_blu/Beckman_Vi-Cell-BLU_example01.csv", "vi_cell_blu", 10, BLU01),
    Case("vi_cell_blu/Beckman_Vi-Cell-BLU_example01_utf16.csv", "vi_cell_blu", 10, BLU01),
    Case(
        "vi_cell_blu/Beckman_Vi-Cell-BLU_example02.csv",
        "vi_cell_blu",
        5,
        [
            Sample("CLB002", 0.36 * E6, 0.33 * E6, 91.42, 501, 458, datetime(2021, 9, 20, 16, 30)),
            Sample("CLB005", 0.61 * E6, 0.56 * E6, 91.07, 829, 755, datetime(2021, 9, 20, 16, 36)),
        ],
    ),
    Case(
        "vi_cell_blu/Beckman_Vi-Cell-BLU_different_mu_character.csv",
        "vi_cell_blu",
        1,  # the file holds one sample only
        [Sample("CLB001", 0.78 * E6, 0.75 * E6, 96.9, 2191, 2123, datetime(2022, 3, 21, 16, 56))],
    ),
    Case(
        "vi_cell_xr/Beckman_Vi-Cell-XR_example01_instrumentOutput.xlsx",
        "vi_cell_xr",
        187,
        [
            # numbers stored as text cells: "15.5", "7.80"
            Sample(
                "CLB001", 15.5 * E6, 7.80 * E6, 50.4, 135, 68, datetime(2021, 8, 31, 16, 31, 23)
            ),
            Sample("CLB187", 294 * E6, 211 * E6, 71.7, 2566, 1840, datetime(2021, 9, 3, 7, 45, 55)),
        ],
    ),
    Case(
        "vi_cell_xr/Beckman_Vi-Cell-XR_example03_instrumentOutput.xls",
        "vi_cell_xr",
        34,
        [
            Sample(
                "CLB001",
                1.840408427810669 * E6,
                1.809946759 * E6,
                98.344749451,
                1752,
                1723,
                datetime(2022, 10, 18, 9, 8, 24),
            ),
            Sample(
                "CLB034",
                1.308903797 * E6,
                0.778449638 * E6,
                59.470306396,
                1246,
                741,
                datetime(2022, 10, 28, 9, 18, 29),
            ),
        ],
    ),
    Case(
        "vi_cell_xr/Beckman_Vi-Cell-XR_example04_instrumentOutput.xlsx",
        "vi_cell_xr",
        16,
        [
            Sample(
                "CLB001", 3.20 * E6, 3.14 * E6, 98.1, 943, 925, datetime(2022, 10, 7, 11, 52, 44)
            ),
            Sample(
                "CLB016", 2.28 * E6, 2.24 * E6, 98.7, 670, 661, datetime(2022, 10, 7, 12, 36, 52)
            ),
        ],
    ),
    Case(
        "vi_cell_xr/Beckman_Vi-Cell-XR_hiddenRow.xlsx",
        "vi_cell_xr",
        24,
        [
            Sample(
                "foobar#1", 14.2 * E6, 13.2 * E6, 93.6, 6622, 6198, datetime(2023, 4, 6, 10, 25, 31)
            ),
            Sample(
                "foobar#24",
                14.0 * E6,
                11.5 * E6,
                82.1,
                6570,
                5392,
                datetime(2023, 4, 6, 11, 39, 52),
            ),
        ],
    ),
    Case(
        "vi_cell_xr/Beckman_Vi-Cell-XR_report_format.xlsx",
        "vi_cell_xr",
        1,  # a single-sample report
        [
            Sample(
                "7B",
                0.97030721435546874 * E6,
                0.84412728080749511 * E6,
                86.994537354,
                915,
                796,
                datetime(2026, 5, 11, 14, 59, 27),
            )
        ],
    ),
    Case(
        "vi_cell_xr/Beckman_Vi-Cell-XR_example07_instrumentOutput.txt",
        "vi_cell_xr",
        1,  # a single-sample result file
        [
            Sample(
                "CLB001", 90.2 * E6, 87.4 * E6, 97.0, 4263, 4133, datetime(2023, 9, 29, 5, 21, 32)
            )
        ],
    ),
    Case(
        "chemometec_nucleoview/chemometec_nucleoview_example01.csv",
        "chemometec_nucleoview",
        1,
        [
            Sample(
                "20231120-0012-c-cellsABCD",
                3.58e6,
                2.45e6,
                68.2,
                None,
                None,
                datetime(2023, 11, 20, 16, 30, 16),
            )
        ],
    ),
    Case(
        "chemometec_nucleoview/chemometec_nucleoview_example02.csv",
        "chemometec_nucleoview",
        1,
        [
            Sample(
                "20231120-0002-c-cellsABCD",
                1.70e6,
                1.58e6,
                92.8,
                None,
                None,
                datetime(2023, 11, 20, 11, 3),
            )
        ],
    ),
    Case(
        "chemometec_nucleoview/chemometec_nucleoview_example03.csv",
        "chemometec_nucleoview",
        1,  # results only: no date in the file
        [Sample("20231120-0002-c-cellsABCD", 1.67e6, 1.60e6, 95.5)],
    ),
    Case(
        "chemometec_nucleoview/chemometec_nucleoview_example04.csv",
        "chemometec_nucleoview",
        1,  # total annotated "(Out of optimal range)": left empty, quoted in the note
        [
            Sample(
                "20231120-0012-c-cellsABCD",
                None,
                2.45e6,
                68.2,
                measured_at=datetime(2023, 11, 20, 16, 30, 16),
                note="Total (cells/ml): 3.58E3 (Out of optimal range)",
            )
        ],
    ),
    Case(
        "chemometec_nucleoview/chemometec_nucleoview_example08.csv",
        "chemometec_nucleoview",
        1,  # Time (UTC) "1999-09-99 09:49:29" is no date: left empty, noted
        [Sample("1111_viability count new 99x_pass 99", 1.12e6, 9.28e5, 83.0, note="1999-09-99")],
    ),
    Case(
        "chemometec_nc_view/chememotec_nc_view_example.csv",
        "chemometec_nc_view",
        32,
        [
            Sample("1", 274_000, 124_000, 45.1),  # "274 000" with a no-break space
            Sample("8", 424_000, 341_000, 80.4, note="Warning: Foreign object detected"),
            Sample("22", 1.07e6, 1.02e6, 94.9),  # E notation from 10^6 up
        ],
    ),
    Case(
        "roche_cedex_hires/roche_cedex_hires_example_1.csv",
        "roche_cedex_hires",
        8,
        [
            Sample(
                "0618_F01",
                4753276,
                4529542.5,
                95.29307556,
                4504,
                4292,
                datetime(2019, 6, 18, 7, 46, 47),
            ),
            Sample(
                "0618_F08",
                6549474,
                6261364.5,
                95.60102844,
                6206,
                5933,
                datetime(2019, 6, 18, 8, 20, 5),
            ),
        ],
    ),
    Case(
        "roche_cedex_hires/roche_cedex_hires_example_3.csv",
        "roche_cedex_hires",
        97,
        [
            # Date finished "2/18/2021 2:13:29 PM"; Total/Viable Cell Count 2800/2788
            Sample("Sample2", 2471583.847, 2460991.345, 99.57142857, 2800, 2788, SAMPLE2_TIME),
            Sample("P001", 2993633.714, 2855680.817, 95.39179104, 5360, 5113, P001_TIME),
        ],
    ),
    Case(
        "roche_cedex_hires/roche_cedex_hires_example_4.xlsx",
        "roche_cedex_hires",
        97,  # the same rows as example_3, full precision, dates as Excel dates
        [
            Sample(
                "Sample2",
                2471583.84742277,
                2460991.34521953,
                99.571428571,
                2800,
                2788,
                SAMPLE2_TIME,
            ),
            Sample("P001", 2993633.7135849, 2855680.81670888, 95.391791045, 5360, 5113, P001_TIME),
        ],
    ),
    Case("revvity_matrix/revvity_matrix_1_csv.csv", "revvity_matrix", 18, MATRIX),
    # the xlsx holds viability as the fraction 0.87 (percent number format)
    Case("revvity_matrix/revvity_matrix_1_xlsx.xlsx", "revvity_matrix", 18, MATRIX),
]

#: Corpus files refused, with the words the message must contain.
REFUSED = {
    # hand-made values: Live Concentration (E6) 0.50 but Total Concentration (E6) 0.30
    "revvity_matrix/Cellaca_Example_1.csv": (
        "revvity_matrix",
        "line 11 (sample 1): viable 500000 cells/mL ('Live Concentration (E6)') is more than "
        "total 300000 cells/mL",
    ),
}


def test_every_corpus_file_is_covered(corpus: Path) -> None:
    files = {
        str(p.relative_to(corpus))
        for p in corpus.glob("*/*")
        if p.is_file() and not p.name.startswith("LICENSE")
    }
    assert files == {c.file for c in CASES} | set(REFUSED)


@pytest.mark.parametrize("case", CASES, ids=[Path(c.file).name for c in CASES])
def test_corpus_file(corpus: Path, case: Case) -> None:
    path = corpus / case.file
    assert sniff(path) == case.fmt
    export = read_counter(path)
    data = export.data
    assert export.format == case.fmt
    assert dict(data.schema) == COLUMNS
    assert data.height == case.rows
    assert export.metadata["format_detection"] == f"auto: content matches {case.fmt}"
    for expected in case.samples:
        rows = data.filter(pl.col("sample") == expected.sample)
        assert rows.height == 1, expected.sample
        got = rows.row(0, named=True)
        for column, value in (
            ("total_cells_per_ml", expected.total),
            ("viable_cells_per_ml", expected.viable),
            ("viability_pct", expected.viability),
        ):
            assert got[column] == (None if value is None else pytest.approx(value, rel=1e-9))
        assert (got["total_count"], got["viable_count"]) == (
            expected.total_count,
            expected.viable_count,
        )
        assert got["measured_at"] == expected.measured_at
        if expected.note is None:
            assert got["note"] is None
        else:
            assert expected.note in got["note"]


@pytest.mark.parametrize("file", sorted(REFUSED))
def test_corpus_file_refused(corpus: Path, file: str) -> None:
    fmt, words = REFUSED[file]
    assert sniff(corpus / file) == fmt
    with pytest.raises(KillcurveInputError, match="internally inconsistent") as err:
        read_counter(corpus / file)
    assert words in str(err.value)
    assert file.split("/")[-1] in str(err.value)


def test_units_are_recorded(corpus: Path) -> None:
    """The provenance says which header became which column and by what factor."""
    blu = read_counter(corpus / "vi_cell_blu/Beckman_Vi-Cell-BLU_example01.csv").metadata
    assert "'Total (x10^6) cells/mL' × 1e+06" in blu["units"]
    matrix = read_counter(corpus / "revvity_matrix/revvity_matrix_1_xlsx.xlsx").metadata
    assert "'Viability' (fraction) × 100" in matrix["units"]
    cedex = read_counter(corpus / "roche_cedex_hires/roche_cedex_hires_example_1.csv").metadata
    assert "no unit" in cedex["unit_convention"]


def test_instrument_metadata(corpus: Path) -> None:
    xr = read_counter(corpus / "vi_cell_xr/Beckman_Vi-Cell-XR_hiddenRow.xlsx").metadata
    assert xr["software_version"] == "Vi-CELL XR 2.06.3"
    assert xr["serial_number"] == "AW17301"
    assert xr["skipped_rows"].startswith("row 7")
    nucleo = corpus / "chemometec_nucleoview/chemometec_nucleoview_example02.csv"
    meta = read_counter(nucleo).metadata
    assert (meta["serial_number"], meta["software_version"], meta["time_zone"]) == (
        "9000201099909999",
        "1.4.0.0",
        "UTC-7 h",
    )


def test_cedex_repeated_sample_ids_are_kept_and_listed(corpus: Path) -> None:
    """KV020 is measured under data sets Original (dilution 1) and Original2 (dilution 0.25)."""
    export = read_counter(corpus / "roche_cedex_hires/roche_cedex_hires_example_3.csv")
    kv020 = export.data.filter(pl.col("sample") == "KV020").sort("viable_cells_per_ml")
    assert kv020["viable_cells_per_ml"].to_list() == pytest.approx([5192057.5, 20768230])
    assert "KV020 (2 rows)" in export.metadata["duplicate_samples"]
