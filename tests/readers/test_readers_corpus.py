"""Every file of the reference corpus: detected family, parsed values, or a specific refusal.

Expected values were read by eye from the raw files (text editor for the text
exports, the sheet cells for the workbooks), not from the readers' output.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import polars as pl
import pytest

from killcurve.io.readers import read_export, sniff


class Case(NamedTuple):
    """One corpus file: its family, how many wells hold a number, the plates/reads, some wells."""

    file: str
    numeric: int
    parts: list[tuple[int, str]]
    wells: list[tuple[int, str, str, float | str]]  # plate_index, read, well, value or flag


GEN5 = "agilent_gen5"
CASES = [
    Case(
        f"{GEN5}/luminescence/endpoint_singleplate.txt",
        96,
        [(1, "LUM:Lum")],
        [(1, "LUM:Lum", "A1", 8718), (1, "LUM:Lum", "B2", 9406), (1, "LUM:Lum", "H12", 8490)],
    ),
    Case(
        f"{GEN5}/luminescence/endpoint_singleplate_withoutStepLabel.txt",
        96,
        [(1, "Lum")],
        [(1, "Lum", "A1", 210530), (1, "Lum", "D7", 232030), (1, "Lum", "H12", 250360)],
    ),
    Case(
        f"{GEN5}/absorbance/240411_172731_BNCH2345883_abs450_96well_non_numeric_values.txt",
        83,
        [(1, "abs450:450")],
        [
            (1, "abs450:450", "A1", 2.1),
            (1, "abs450:450", "A8", "overflow"),
            (1, "abs450:450", "D12", "not_numeric"),
            (1, "abs450:450", "H12", 2.5),
        ],
    ),
    Case(
        f"{GEN5}/fluorescence/endpoint_singleplate_filter.txt",
        384,
        [(1, "504,531")],
        [(1, "504,531", "A1", 190), (1, "504,531", "I13", 85), (1, "504,531", "P24", 86)],
    ),
    Case(
        f"{GEN5}/luminescence/luminescence_no_results_table.txt",
        384,
        [(1, "Lum")],
        [(1, "Lum", "A1", 337), (1, "Lum", "D6", 101139), (1, "Lum", "P24", 329)],
    ),
    Case(
        f"{GEN5}/multi_read_modes/multiple_read_modes.txt",
        288,
        [(1, "od:600"), (1, "fluor:579,616"), (1, "fluor:479,520")],
        [
            (1, "od:600", "A1", 0.052),
            (1, "od:600", "B1", 0.124),
            (1, "fluor:579,616", "A1", 75),
            (1, "fluor:479,520", "H10", 852),
        ],
    ),
    Case(
        f"{GEN5}/luminescence/exclude/endpoint_multiplate.txt",
        288,
        [(1, "LUM:Lum"), (2, "LUM:Lum"), (3, "LUM:Lum")],
        [(1, "LUM:Lum", "A1", 8366), (2, "LUM:Lum", "A1", 9067), (3, "LUM:Lum", "H12", 8344)],
    ),
    Case(
        f"{GEN5}/Synergy instrument datafile (Fibrillation data) - TXT format.txt",
        288,
        [(1, "Read 1:450,490"), (1, "Read 1:295,350"), (1, "Read 1:295,335")],
        [
            (1, "Read 1:450,490", "A1", 214),
            (1, "Read 1:450,490", "B10", 2691),
            (1, "Read 1:295,350", "A1", 17455),
            (1, "Read 1:295,335", "H12", 18241),
        ],
    ),
    Case(
        "moldev_softmax_pro/MD_SMP_luminescence_endpoint_example03.txt",
        96,
        [(1, "Lum"), (2, "Lum")],
        [
            (1, "Lum", "A1", 1011329),
            (1, "Lum", "C10", 1299308),
            (1, "Lum", "E1", "empty"),
            (2, "Lum", "A1", 1497823),
        ],
    ),
    Case(
        "moldev_softmax_pro/MD_SMP_fluorescence_endpoint_example06.txt",
        864,
        [(p, r) for p in (1, 2, 3) for r in ("ex404/em445", "ex485/em535", "ex569/em780")],
        [
            (1, "ex404/em445", "A1", 2138332.25),
            (1, "ex404/em445", "A2", -421432.75),
            (1, "ex485/em535", "A1", -961071.375),
        ],
    ),
    Case(
        "moldev_softmax_pro/MD_SMP_luminescence_endpoint_example08.txt",
        864,
        [(p, r) for p in (1, 2, 3) for r in ("480", "515", "578")],
        [
            (1, "480", "A1", -1631265.875),
            (1, "480", "B1", 717082.125),
            (1, "515", "A1", 2004268.875),
        ],
    ),
    Case(
        "moldev_softmax_pro/MD_SMP_luminescence_endpoint_partial_plate_example02.txt",
        96,
        [(1, "400"), (1, "578"), (1, "700")],
        [
            (1, "400", "C3", 2250491),
            (1, "400", "F10", 430522),
            (1, "400", "A1", "empty"),
            (1, "578", "C3", 874418),
            (1, "700", "C3", 1011370),
        ],
    ),
    Case(
        "bmg_mars/16-02-29 14-34-46 Transcreener ADP2 FI.csv",
        302,
        [(1, "580/620")],
        [
            (1, "580/620", "A1", 25104),
            (1, "580/620", "O12", 59),
            (1, "580/620", "O11", "empty"),
            (1, "580/620", "P1", 63471),
        ],
    ),
    Case(
        "bmg_mars/16-03-03 13-25-45 472 QC 384 FI.csv",
        68,
        [(1, "485/520")],
        [
            (1, "485/520", "A1", 23864),
            (1, "485/520", "A12", 231438),
            (1, "485/520", "D1", "empty"),
            (1, "485/520", "P24", 23949),
        ],
    ),
    Case(
        "bmg_mars/24-10-16 15-09-52 Luminescence 1536.csv",
        1536,
        [(1, "No filter")],
        [
            (1, "No filter", "A1", 985),
            (1, "No filter", "AA1", 42388),
            (1, "No filter", "AF1", 35636),
            (1, "No filter", "AF48", 56717),
        ],
    ),
    Case(
        "bmg_mars/BMG Labtech format.CSV",
        96,
        [(1, "450 1")],
        [(1, "450 1", "A1", 0.073), (1, "450 1", "C4", 0.656), (1, "450 1", "H12", 0.207)],
    ),
    Case(
        "bmg_mars/PHERAstar output file.CSV",
        96,
        [(1, "450")],
        [(1, "450", "A1", 1.691), (1, "450", "G12", 1.4), (1, "450", "H12", 0.884)],
    ),
    Case(
        "bmg_smart_control/fluorescence_endpoint_example2.xlsx",
        96,
        [(1, "480-14/520-30")],
        [
            (1, "480-14/520-30", "A1", 8168026),
            (1, "480-14/520-30", "D4", 147432),
            (1, "480-14/520-30", "H12", 15882),
        ],
    ),
    Case(
        "perkin_elmer_envision/PE_Envision_fluorescence_example01.csv",
        96,
        [
            (1, "AC HTRF Laser [Eu](1) - channel 1 window 1 (Counts)"),
            (1, "AC HTRF Laser [Eu](1) - channel 2 window 1 (Counts)"),
        ],
        [
            (1, "AC HTRF Laser [Eu](1) - channel 1 window 1 (Counts)", "A1", 31441),
            (1, "AC HTRF Laser [Eu](1) - channel 1 window 1 (Counts)", "H7", 3339),
            (1, "AC HTRF Laser [Eu](1) - channel 1 window 1 (Counts)", "A4", "empty"),
            (1, "AC HTRF Laser [Eu](1) - channel 2 window 1 (Counts)", "A1", 80368),
        ],
    ),
    Case(
        "perkin_elmer_envision/PE_Envision_fluorescence_example02.csv",
        416,
        [(p, "Alexa-488(1)") for p in (1, 2, 3, 4, 5)],
        [
            (1, "Alexa-488(1)", "A1", 5230093),
            (1, "Alexa-488(1)", "E1", "empty"),
            (2, "Alexa-488(1)", "A1", 4817678),
            (5, "Alexa-488(1)", "H12", 5080334),
        ],
    ),
    Case(
        "perkin_elmer_envision/PE_Envision_fluorescence_example03.csv",
        384,
        [(1, "GENE - HTS Screen 384 Plate(1)")],
        [
            (1, "GENE - HTS Screen 384 Plate(1)", "A1", 512740),
            (1, "GENE - HTS Screen 384 Plate(1)", "A24", 554048),
            (1, "GENE - HTS Screen 384 Plate(1)", "P24", 2692),
        ],
    ),
    Case(
        "perkin_elmer_envision/PE_Envision_luminescence_example01.csv",
        768,
        [(1, "0_1 US LUM 384(1) - channel 0 (CPS)"), (2, "0_1 US LUM 384(1) - channel 0 (CPS)")],
        [
            (1, "0_1 US LUM 384(1) - channel 0 (CPS)", "A2", 40),
            (1, "0_1 US LUM 384(1) - channel 0 (CPS)", "G19", 120),
            (2, "0_1 US LUM 384(1) - channel 0 (CPS)", "B4", 80),
            (2, "0_1 US LUM 384(1) - channel 0 (CPS)", "P24", 40),
        ],
    ),
    Case(
        "revvity_kaleido/luminescence_endpoint_single_plate_example_01.csv",
        96,
        [(1, "Luminescence 1")],
        [
            (1, "Luminescence 1", "A1", 94395),
            (1, "Luminescence 1", "D9", 16315),
            (1, "Luminescence 1", "H12", 75),
        ],
    ),
    Case(
        "revvity_kaleido/luminescence_v3.5_pure_csv_format_example.csv",
        96,
        [(1, "Luminescence 1")],
        [
            (1, "Luminescence 1", "A1", 3330),
            (1, "Luminescence 1", "B2", 218540),
            (1, "Luminescence 1", "H12", 2460),
        ],
    ),
    Case(
        "tecan_magellan/SLA01P01_OD.xlsx",
        96,
        [(1, "1")],
        [(1, "1", "A1", 0.1462), (1, "1", "A11", 0.0462), (1, "1", "H12", 0.0461)],
    ),
    Case(
        "tecan_magellan/SLA01P01_assay.xlsx",
        768,
        [(1, "Label1"), (1, "Label2")],
        [(1, "Label1", "A1", 0.4002), (1, "Label2", "A1", 0.3741), (1, "Label1", "P24", 0.1144)],
    ),
    Case(
        "tecan_spark/tekan_spark_endpoint.xlsx",
        9,
        [(1, "Label 1")],
        [
            (1, "Label 1", "C11", 47088),
            (1, "Label 1", "C15", 68576),
            (1, "Label 1", "D11", 125959),
            (1, "Label 1", "D14", 95432),
            (1, "Label 1", "A1", "empty"),
        ],
    ),
    Case(
        "promega_glomax/Dual Luciferase Reporter Assay System ELIAS 2019.03.18 13_18_40.xlsx",
        192,
        [(1, "Luminescence 1"), (1, "Luminescence 2")],
        [
            (1, "Luminescence 1", "A1", 637),
            (1, "Luminescence 1", "H12", 381100),
            (1, "Luminescence 2", "B8", 326),
        ],
    ),
    Case(
        "promega_glomax/Dual Luciferase Reporter Assay System ELIAS 2020.03.10 05_34_44.xlsx",
        48,
        [(1, "Luminescence 1"), (1, "Luminescence 2")],
        [
            (1, "Luminescence 1", "A1", 8873),
            (1, "Luminescence 1", "D6", 433000),
            (1, "Luminescence 1", "E1", "empty"),
            (1, "Luminescence 2", "A1", 1241000),
        ],
    ),
    Case(
        "thermo_skanit/luciferase_assay_example.xlsx",
        96,
        [(1, "Luminescence 1")],
        [
            (1, "Luminescence 1", "A1", 105.4),
            (1, "Luminescence 1", "B7", 398100),
            (1, "Luminescence 1", "H12", 1043),
        ],
    ),
    Case(
        "thermo_skanit/skanit_data.xlsx",
        96,
        [(1, "Absorbance 1")],
        [
            (1, "Absorbance 1", "A1", 1.7455),
            (1, "Absorbance 1", "D3", 0.9125),
            (1, "Absorbance 1", "H12", 0.1032),
        ],
    ),
]

#: Kinetic-only files: read, time points, wells (well, cycle, value read by eye, time_s).
KINETIC = {
    "tecan_spark/tekan_spark.xlsx": (
        "Label 1",
        61,
        [("A1", 1, 0.9969, 0.0), ("A2", 1, 0.1427, 0.0), ("A1", 2, 1.0248, 29.849)],
    ),
    "thermo_skanit/Multiskan Sky.xlsx": (
        "Absorbance",
        101,
        [("A2", 1, 1.1296, 0.0), ("B2", 1, 1.1318, 0.42), ("A2", 101, 1.0306, 599.99)],
    ),
}


def _exports(root: Path) -> list[str]:
    """Relative paths of every export file in the corpus (licence and index files excluded)."""
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.parent != root
    )


def test_every_corpus_file_is_covered(corpus: Path) -> None:
    """The tables below name every export of the corpus: none is left untested."""
    assert sorted([c.file for c in CASES] + list(KINETIC)) == _exports(corpus)


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_corpus_file_values(corpus: Path, case: Case) -> None:
    """Named wells hold the numbers (or flags) of the raw file; counts and reads match
    (endpoint reads; the Gen5 fibrillation file's kinetic reads are checked below)."""
    export = read_export(corpus / case.file, case.file.split("/")[0])
    data = export.data.filter(pl.col("cycle").is_null())
    assert data.filter(pl.col("signal").is_not_null()).height == case.numeric
    parts = data.select("plate_index", "read").unique(maintain_order=True).rows()
    assert parts == case.parts
    for plate, read, well, expected in case.wells:
        cell = data.filter(
            (pl.col("plate_index") == plate) & (pl.col("read") == read) & (pl.col("well") == well)
        )
        assert cell.height == 1, (plate, read, well)
        if isinstance(expected, str):
            assert cell["flag"][0] == expected
            assert cell["signal"][0] is None
        else:
            assert cell["signal"][0] == pytest.approx(expected)
            assert cell["flag"][0] is None


@pytest.mark.parametrize("file", [c.file for c in CASES] + list(KINETIC))
def test_corpus_file_family_is_sniffed(corpus: Path, file: str) -> None:
    """``format: auto`` picks the family the file belongs to (its corpus folder)."""
    assert sniff(corpus / file) == file.split("/")[0]


@pytest.mark.parametrize("file", list(KINETIC))
def test_corpus_kinetic_files_read_as_time_series(corpus: Path, file: str) -> None:
    """The two kinetic-only exports (once refused) give every time point of every well."""
    read, points, wells = KINETIC[file]
    data = read_export(corpus / file).data
    assert data["read"].unique().to_list() == [read]
    assert data["cycle"].max() == points
    assert data.group_by("cycle").len()["len"].n_unique() == 1  # same wells at every point
    for well, cycle, value, seconds in wells:
        cell = data.filter((pl.col("well") == well) & (pl.col("cycle") == cycle))
        assert cell["signal"].to_list() == [pytest.approx(value)]
        assert cell["time_s"][0] == pytest.approx(seconds)


def test_corpus_gen5_kinetic_reads_follow_the_endpoint_reads(corpus: Path) -> None:
    """Gen5's fibrillation run: 3 endpoint reads, then 3 kinetic reads of 557/556 points read
    (62 points of the 577 planned were never read: time 0:00:00, all wells empty)."""
    export = read_export(corpus / CASES[7].file)
    kinetic = export.data.filter(pl.col("cycle").is_not_null())
    counts = dict(kinetic.group_by("read").agg(pl.col("cycle").max()).iter_rows())
    assert counts == {"Read 2:450,490": 557, "Read 3:295,350": 556, "Read 3:295,335": 556}
    assert export.metadata["unread_time_points"] == "62"
    first = kinetic.filter((pl.col("read") == "Read 2:450,490") & (pl.col("cycle") == 1))
    assert first.filter(pl.col("well") == "A2")["signal"][0] == 1114
    assert first["timestamp"][0] == "0:07:31" and first["time_s"][0] == 0.0
    second = kinetic.filter((pl.col("read") == "Read 2:450,490") & (pl.col("cycle") == 2))
    assert second.filter(pl.col("well") == "A1")["signal"][0] == 214
    assert second["time_s"][0] == 600.0  # 0:17:31 - 0:07:31


def test_corpus_metadata_keeps_provenance(corpus: Path) -> None:
    """Instrument, serial number and read date come through under the common names."""
    gen5 = read_export(corpus / CASES[3].file).metadata
    assert (gen5["instrument"], gen5["serial_number"]) == ("Synergy Neo2", "11111111")
    assert gen5["read_date"] == "8/15/2024"
    assert gen5["skipped_blocks"] == "Blank 504,531; [Concentration]"
    skanit = read_export(corpus / "thermo_skanit/skanit_data.xlsx").metadata
    assert (skanit["instrument"], skanit["serial_number"]) == ("Varioskan LUX", "3020-81776")
    assert "Blank Subtraction 1" in skanit["skipped_blocks"]
    fibrillation = read_export(corpus / CASES[7].file).metadata
    assert fibrillation["kinetic_reads"] == "Read 2:450,490; Read 3:295,350; Read 3:295,335"
    glomax = read_export(corpus / CASES[28].file).metadata
    assert glomax["serial_number"] == "9111000078"
    assert glomax["format_detection"] == "auto: content matches promega_glomax"
