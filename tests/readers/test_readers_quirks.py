"""Export quirks on real files and faithful reconstructions of them.

Decimal commas, encodings, overflow markers, multi-plate selection, sniffing
by content, and the errors users see. Reconstructions are written to
``tmp_path`` from the bundled real exports in ``tests/data/readers``.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from killcurve.errors import KillcurveInputError
from killcurve.io.readers import READERS, read_export, select_plate, sniff

GEN5_FILE = "240411_172731_BNCH2345883_abs450_96well_non_numeric_values.txt"
MARS_FILE = "PHERAstar output file.CSV"
SOFTMAX_FILE = "MD_SMP_luminescence_endpoint_example03.txt"
KALEIDO_FILE = "luminescence_v3.5_pure_csv_format_example.csv"


def _signal(frame: pl.DataFrame, well: str, plate: int = 1) -> float | None:
    return frame.filter((pl.col("well") == well) & (pl.col("plate_index") == plate))["signal"][0]


def _flag(frame: pl.DataFrame, well: str) -> str | None:
    return frame.filter(pl.col("well") == well)["flag"][0]


def _mars_rows(data: Path) -> list[str]:
    return (data / MARS_FILE).read_text().splitlines()


# --- decimal commas -------------------------------------------------------------------


def test_gen5_decimal_comma_reconstruction(data: Path, tmp_path: Path) -> None:
    """A Gen5 export from a decimal-comma Windows: tab-separated, ``2,100`` readings."""
    text = (data / GEN5_FILE).read_text()
    comma = re.sub(r"(?<=\t)(\d+)\.(\d+)(?=\t)", r"\1,\2", text)
    assert "\t2,100\t" in comma
    path = tmp_path / "gen5_comma.txt"
    path.write_text(comma)
    export = read_export(path)
    assert export.format == "agilent_gen5"
    assert export.metadata["decimal_mark"] == ","
    assert _signal(export.data, "A1") == pytest.approx(2.1)
    assert _signal(export.data, "H12") == pytest.approx(2.5)
    assert _flag(export.data, "A8") == "overflow"
    assert export.data["signal"].is_not_null().sum() == 83


def test_mars_semicolon_decimal_comma_utf16_reconstruction(data: Path, tmp_path: Path) -> None:
    """MARS from a German Windows: ``;``-separated, ``1,691`` readings, saved as UTF-16."""
    lines = []
    for line in _mars_rows(data):
        cells = [re.sub(r"^(\d+)\.(\d+)$", r"\1,\2", c) for c in line.split(",")]
        lines.append(";".join(cells))
    path = tmp_path / "mars_de.csv"
    path.write_text("\r\n".join(lines), encoding="utf-16")
    export = read_export(path)
    assert export.format == "bmg_mars"
    assert export.metadata["decimal_mark"] == ","
    assert _signal(export.data, "A1") == pytest.approx(1.691)
    assert _signal(export.data, "G12") == pytest.approx(1.4)
    assert export.data["signal"].is_not_null().sum() == 96


def test_point_numbers_in_a_comma_file_are_not_guessed(data: Path, tmp_path: Path) -> None:
    """Mixed marks are not silently read: with any ``x.y`` value the mark stays ``.``."""
    lines = _mars_rows(data)
    lines[9] = lines[9].replace("1.691", "1,691")
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines).replace(",1,691,", ',"1,691",'))
    export = read_export(path)
    assert "decimal_mark" not in export.metadata
    assert _flag(export.data, "A1") == "not_numeric"
    assert _signal(export.data, "A2") == pytest.approx(1.557)


# --- encodings ------------------------------------------------------------------------


def test_utf16_softmax_real_file(data: Path) -> None:
    """SoftMax Pro writes UTF-16LE with a BOM; two plates in Time format."""
    assert (data / SOFTMAX_FILE).read_bytes()[:2] == codecs.BOM_UTF16_LE
    export = read_export(data / SOFTMAX_FILE)
    assert export.format == "moldev_softmax_pro"
    assert _signal(export.data, "A1", plate=1) == 1011329
    assert _signal(export.data, "A1", plate=2) == 1497823
    assert export.metadata["plates"] == "1=c12345_2; 2=c123455_3"


def test_utf16_without_bom(data: Path, tmp_path: Path) -> None:
    """The same SoftMax file without its byte-order mark still decodes."""
    text = (data / SOFTMAX_FILE).read_text(encoding="utf-16")
    path = tmp_path / "no_bom.txt"
    path.write_bytes(text.encode("utf-16-le"))
    assert _signal(read_export(path).data, "A2") == 929426


def test_latin1_kaleido_reconstruction(data: Path, tmp_path: Path) -> None:
    """A Kaleido export saved as Windows-1252 (Latin-1): ``µ`` is byte 0xB5, not UTF-8."""
    text = (data / KALEIDO_FILE).read_text(encoding="utf-8")
    path = tmp_path / "kaleido_latin1.csv"
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    export = read_export(path)
    assert export.format == "revvity_kaleido"
    assert export.metadata["Well Volume [µl]"] == "300"
    assert _signal(export.data, "B2") == 218540


def test_latin1_gen5_real_file(corpus: Path) -> None:
    """The Gen5 fibrillation export is Latin-1 (``40°C``): decoded, not refused."""
    path = (
        corpus / "agilent_gen5" / "Synergy instrument datafile (Fibrillation data) - TXT format.txt"
    )
    assert b"40\xb0C" in path.read_bytes()
    export = read_export(path)
    assert "Setpoint 40°C" in export.metadata["procedure"]


def test_utf8_bom_mars_reconstruction(data: Path, tmp_path: Path) -> None:
    """MARS (CLARIOstar) may write a UTF-8 BOM before ``User:``; sniffing still works."""
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + (data / MARS_FILE).read_bytes())
    assert sniff(path) == "bmg_mars"
    assert read_export(path).metadata["user"] == "USER"


# --- overflow and other markers -------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "flag"),
    [
        ("OVRFLW", "overflow"),
        ("Sat", "overflow"),
        ("*****", "overflow"),
        (">3.500", "overflow"),
        ("OVER", "overflow"),
        ("<0.001", "not_numeric"),
        ("MISSED", "not_numeric"),
        ("", "empty"),
    ],
)
def test_markers_are_flagged_never_numbers(
    data: Path, tmp_path: Path, marker: str, flag: str
) -> None:
    """Saturation markers are overflow wells with no signal; other text is not a number."""
    lines = _mars_rows(data)
    lines[9] = lines[9].replace("A,1.691,", f"A,{marker},")
    path = tmp_path / "marker.csv"
    path.write_text("\n".join(lines))
    frame = read_export(path).data
    assert _flag(frame, "A1") == flag
    assert _signal(frame, "A1") is None
    assert frame.filter(pl.col("well") == "A1")["raw"][0] == marker


def test_real_overflow_file(data: Path) -> None:
    """Gen5's own OVRFLW (8 wells) and MISSED (5 wells) cells."""
    frame = read_export(data / GEN5_FILE).data
    counts = dict(frame.group_by("flag").len().rows())
    assert counts == {None: 83, "overflow": 8, "not_numeric": 5}


# --- plates, reads and selection -------------------------------------------------------


def test_select_plate_needs_a_choice_in_a_multi_plate_file(data: Path) -> None:
    """Two plates and no choice: the error names the file and lists both plates."""
    export = read_export(data / SOFTMAX_FILE)
    with pytest.raises(KillcurveInputError) as err:
        select_plate(export, None, None)
    message = str(err.value)
    assert SOFTMAX_FILE in message
    assert "plate_index 1 read 'Lum'" in message and "plate_index 2 read 'Lum'" in message


def test_select_plate_returns_the_chosen_plate(data: Path) -> None:
    export = read_export(data / SOFTMAX_FILE)
    plate = select_plate(export, 2, None)
    assert plate.height == 96
    assert set(plate["plate_index"]) == {2}
    assert _signal(plate, "A1", plate=2) == 1497823
    assert select_plate(export, 1, "Lum")["signal"][0] == 1011329


@pytest.mark.parametrize(("plate", "read"), [(3, None), (1, "450")])
def test_select_plate_refuses_what_is_not_there(data: Path, plate: int, read: str | None) -> None:
    export = read_export(data / SOFTMAX_FILE)
    with pytest.raises(KillcurveInputError) as err:
        select_plate(export, plate, read)
    assert SOFTMAX_FILE in str(err.value)
    assert "It holds: plate_index 1 read 'Lum', plate_index 2 read 'Lum'" in str(err.value)


def test_single_plate_needs_no_choice(data: Path) -> None:
    assert select_plate(read_export(data / MARS_FILE), None, None).height == 96


def test_multi_read_needs_a_read(corpus: Path) -> None:
    """Gen5 with three reads in one Results table: choose a read by its label."""
    export = read_export(corpus / "agilent_gen5/multi_read_modes/multiple_read_modes.txt")
    with pytest.raises(KillcurveInputError, match="several plates/reads"):
        select_plate(export, 1, None)
    assert select_plate(export, 1, "od:600")["signal"][0] == pytest.approx(0.052)


def test_384_and_1536_plate_geometry(corpus: Path) -> None:
    """384-well rows run A–P × 24; 1536-well rows A–AF × 48 (BMG writes a–f for AA–AF)."""
    frame = read_export(corpus / "bmg_mars/24-10-16 15-09-52 Luminescence 1536.csv").data
    assert frame.height == 1536
    assert frame["row"].unique().len() == 32 and frame["col"].max() == 48
    assert frame["row"].unique(maintain_order=True).to_list()[-6:] == [
        "AA",
        "AB",
        "AC",
        "AD",
        "AE",
        "AF",
    ]
    path = corpus / "agilent_gen5/luminescence/luminescence_no_results_table.txt"
    frame = read_export(path).data
    assert (frame.height, frame["row"].max(), frame["col"].max()) == (384, "P", 24)


# --- sniffing by content ----------------------------------------------------------------


def test_sniff_ignores_the_extension(data: Path, tmp_path: Path) -> None:
    """A MARS CSV saved as .txt and a Gen5 text saved as .csv keep their families."""
    mars = tmp_path / "mars.txt"
    mars.write_bytes((data / MARS_FILE).read_bytes())
    gen5 = tmp_path / "gen5.csv"
    gen5.write_bytes((data / GEN5_FILE).read_bytes())
    assert (sniff(mars), sniff(gen5)) == ("bmg_mars", "agilent_gen5")


def test_unrecognised_file_lists_formats_and_first_lines(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Plate reader notes\nsecond line\n")
    with pytest.raises(KillcurveInputError) as err:
        read_export(path)
    message = str(err.value)
    assert str(path) in message and "format not recognised" in message
    assert all(name in message for name in READERS)
    assert "Plate reader notes" in message


def _write_xlsx(path: Path, sheet: str, rows: list[list[str]]) -> None:
    """A minimal xlsx workbook (inline strings) written with the standard library."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    cells = "".join(
        f'<row r="{i}">'
        + "".join(
            f'<c r="{chr(65 + j)}{i}" t="inlineStr"><is><t>{v}</t></is></c>'
            for j, v in enumerate(row)
        )
        + "</row>"
        for i, row in enumerate(rows, start=1)
    )
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{pkg}/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        f'<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{pkg}/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{cells}'
        "</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w") as book:
        for name, xml in parts.items():
            book.writestr(name, xml)


def test_unrecognised_workbook_names_its_sheets(tmp_path: Path) -> None:
    """A workbook no family claims: the error shows its sheets and first rows."""
    path = tmp_path / "other.xlsx"
    _write_xlsx(path, "Notes", [["Sample list"], ["S1", "donor 7"]])
    with pytest.raises(KillcurveInputError) as err:
        read_export(path)
    message = str(err.value)
    assert "format not recognised" in message
    assert "sheets Notes" in message and "S1 | donor 7" in message


def test_workbook_sniffed_whatever_its_extension(corpus: Path, tmp_path: Path) -> None:
    """A Magellan workbook renamed to .dat is still found to be Magellan."""
    path = tmp_path / "plate.dat"
    path.write_bytes((corpus / "tecan_magellan/SLA01P01_OD.xlsx").read_bytes())
    assert sniff(path) == "tecan_magellan"


def test_grid_csv_still_detected_and_read(tmp_path: Path) -> None:
    header = "," + ",".join(str(c) for c in range(1, 13))
    body = [
        f"{r}," + ",".join(str(10 * i + c) for c in range(1, 13)) for i, r in enumerate("ABCDEFGH")
    ]
    path = tmp_path / "grid.csv"
    path.write_text("\n".join([header, *body]) + "\n")
    export = read_export(path)
    assert export.format == "grid_csv"
    assert _signal(export.data, "B3") == 13
    assert export.data["read"].unique().to_list() == ["1"]


# --- errors users see --------------------------------------------------------------------


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(KillcurveInputError, match="file not found"):
        read_export(tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(KillcurveInputError, match="the file is empty"):
        read_export(empty)


def test_broken_workbook_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"not really a zip" * 10)
    with pytest.raises(KillcurveInputError, match="not a readable Excel workbook") as err:
        read_export(path)
    assert "broken.xlsx" in str(err.value)


def test_header_without_plate_data(data: Path, tmp_path: Path) -> None:
    """A MARS file cut after its header: no plate data, and what to do about it."""
    path = tmp_path / "header_only.csv"
    path.write_text("\n".join(_mars_rows(data)[:7]))
    with pytest.raises(KillcurveInputError, match=r"no plate data found .* export the raw data"):
        read_export(path)


def test_wrong_format_given(data: Path) -> None:
    """A MARS file read as SoftMax Pro: refused with the file named, no traceback."""
    with pytest.raises(KillcurveInputError, match="no plate data found in this moldev_softmax_pro"):
        read_export(data / MARS_FILE, "moldev_softmax_pro")
    with pytest.raises(KillcurveInputError, match="unknown format 'softmax'"):
        read_export(data / MARS_FILE, "softmax")


def test_truncated_softmax_block_is_refused(data: Path, tmp_path: Path) -> None:
    text = (data / SOFTMAX_FILE).read_text(encoding="utf-16")
    path = tmp_path / "cut.txt"
    path.write_text(text.replace("\tTimeFormat\t", "\tOddFormat\t", 1), encoding="utf-16")
    with pytest.raises(KillcurveInputError, match=r"line 2: Plate: header not understood"):
        read_export(path)


def _gen5_kinetic(tmp_path: Path) -> Path:
    """A Gen5 export holding only a kinetic table of two time points, 10 min apart."""
    wells = "\t".join(f"{r}{c}" for r in "AB" for c in range(1, 13))
    lines = [
        "Software Version\t3.15.15",
        "Plate Number\tPlate 1",
        "Procedure Details",
        "",
        "Read\tAbsorbance Endpoint",
        "",
        "Read 1:450",
        "",
        f"Time\tT° Read 1:450\t{wells}",
        "0:00:00\t25.0\t" + "\t".join(["0.1"] * 24),
        "0:10:00\t25.0\t" + "\t".join(["0.2"] * 24),
    ]
    path = tmp_path / "kinetic.txt"
    path.write_text("\r\n".join(lines), encoding="latin-1")
    return path


def test_gen5_kinetic_only_is_a_time_series(tmp_path: Path) -> None:
    """Every time point of a kinetic-only Gen5 export is read, timed from its first point."""
    data = read_export(_gen5_kinetic(tmp_path)).data
    assert data.height == 48
    assert data.filter(pl.col("cycle") == 2)["time_s"].unique().to_list() == [600.0]
    assert data.filter(pl.col("cycle") == 2)["timestamp"][0] == "0:10:00"


@pytest.mark.parametrize(
    ("time", "value"), [("last", 0.2), ("0", 0.1), ("600", 0.2), ("10 min", 0.2), ("7 min", 0.2)]
)
def test_samplesheet_time_picks_one_time_point(tmp_path: Path, time: str, value: float) -> None:
    """``time``: last, or the time point nearest to a time since the first reading."""
    wells = select_plate(read_export(_gen5_kinetic(tmp_path)), None, None, time)
    assert wells.height == 24
    assert wells["signal"].unique().to_list() == [value]


@pytest.mark.parametrize(
    ("time", "words"),
    [
        (None, "kinetic series (2 time points, 0 s to 600 s (10 min))"),
        ("30 min", "no time point near time '30 min' (1800 s (30 min))"),
        ("soon", "time 'soon' is not a time"),
    ],
)
def test_samplesheet_time_missing_or_wrong(tmp_path: Path, time: str | None, words: str) -> None:
    """A kinetic read needs a time; a time far from every point, or not a time, is refused."""
    with pytest.raises(KillcurveInputError) as err:
        select_plate(read_export(_gen5_kinetic(tmp_path)), None, None, time)
    assert words in str(err.value) and "kinetic.txt" in str(err.value)


def test_samplesheet_time_on_an_endpoint_read(data: Path) -> None:
    """Endpoint reads: empty or ``last`` changes nothing; a number is a mistake."""
    export = read_export(data / MARS_FILE)
    assert select_plate(export, None, None, "last").equals(select_plate(export, None, None))
    with pytest.raises(KillcurveInputError, match="endpoint read"):
        select_plate(export, None, None, "60")


def test_duplicate_wells_are_refused(data: Path, tmp_path: Path) -> None:
    lines = _mars_rows(data)
    lines[10] = lines[10].replace("B,", "A,", 1)
    path = tmp_path / "twice.csv"
    path.write_text("\n".join(lines))
    with pytest.raises(KillcurveInputError, match="well A1 appears twice"):
        read_export(path)


def test_unexpected_reader_failure_is_wrapped(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever breaks inside a reader reaches the user as a KillcurveInputError."""

    def broken(path: Path) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setitem(READERS, "bmg_mars", broken)
    with pytest.raises(KillcurveInputError, match="could not be read as bmg_mars") as err:
        read_export(data / MARS_FILE)
    assert MARS_FILE in str(err.value)


@pytest.mark.parametrize(
    ("text", "fmt", "setting"),
    [
        ("BMG LABTECH CLARIOstar\nWell;Value\nA1;5\n", "bmg_mars", "export the raw data as CSV"),
        ("Exported from VICTOR Nivo\nA1,0.1\n", "revvity_victor", "well results as CSV"),
        ("Gen5 3.15\nWell\tValue\nA1\t5\n", "agilent_gen5", "tab-delimited text file"),
    ],
)
def test_unrecognised_file_names_the_nearest_format(
    tmp_path: Path, text: str, fmt: str, setting: str
) -> None:
    """A file no reader recognises but that names its software gets that format's setting."""
    path = tmp_path / "export.csv"
    path.write_text(text)
    with pytest.raises(KillcurveInputError) as err:
        sniff(path)
    assert f"nearest to format {fmt}" in str(err.value) and setting in str(err.value)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    texts=st.lists(
        st.one_of(
            st.text(alphabet="0123456789.,+-eE >*OVRFLWovrsatin ", max_size=8),
            st.sampled_from(["OVRFLW", "Sat", "*****", ">3.2", "1,5", "1.5", "-0.25e3", "inf"]),
        ),
        min_size=1,
        max_size=20,
    ),
    decimal=st.sampled_from([".", ","]),
)
def test_small_and_large_frames_classify_cells_alike(texts: list[str], decimal: str) -> None:
    """cells_frame classifies a plate's cells in Python (classify) and a kinetic run's in
    polars (classify_expr): both give the same signal and flag for every text."""
    from killcurve.io.readers.cells import cells_frame

    records = [(1, "r", "A", i + 1, text) for i, text in enumerate(texts)]
    small = cells_frame(records, decimal)
    table = pl.DataFrame(
        {"plate_index": 1, "read": "r", "row": "A", "col": list(range(1, len(texts) + 1)),
         "raw": texts, "cycle": None, "time_s": None, "timestamp": None},
        schema={"plate_index": pl.Int32, "read": pl.String, "row": pl.String, "col": pl.Int32,
                "raw": pl.String, "cycle": pl.Int32, "time_s": pl.Float64,
                "timestamp": pl.String},
    )  # fmt: skip
    large = cells_frame([], decimal, [table])
    assert small.equals(large)
