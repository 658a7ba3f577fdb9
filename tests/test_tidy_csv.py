"""tidy_csv input: a well column with a layout, a column mapping without one, the PRAME study."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from killcurve.errors import KillcurveInputError
from killcurve.io.readers import read_export
from killcurve.io.readers.tidy_csv import is_tidy_mapping, read_mapping, tidy_plate_wells
from killcurve.io.samplesheet import read_samplesheet
from killcurve.study.wells import load_wells
from tests.conftest import REPO, SNAKEMAKE

PRAME = REPO / "examples" / "luminescence_prame_nut"
NUT_CSV = "data/bispecific_cell_culture/nut_cell_lines_bispecific_luminescence.csv"

MAPPING = """\
[tidy]
signal = "RLU"
[tidy.columns]
role = "condition"
et_ratio = "condition"
day = "day"
[tidy.values.role]
alone = "target_only"
"1:1" = "sample"
"5:1" = "sample"
[tidy.values.et_ratio]
"1:1" = 1
"5:1" = 5
[tidy.constants]
lot = "L1"
"""
TABLE = """\
condition,day,RLU
alone,1,1000
alone,1,1200
1:1,1,550
5:1,1,OVRFLW
5:1,1,110
alone,2,800
1:1,2,400
"""


def _study(tmp_path: Path, mapping: str = MAPPING, table: str = TABLE) -> Path:
    (tmp_path / "map.toml").write_text(mapping)
    (tmp_path / "points.csv").write_text(table)
    return tmp_path


def _row(**extra: str) -> dict[str, str]:
    base = {
        "plate_id": "D1",
        "file": "points.csv",
        "format": "tidy_csv",
        "layout": "map.toml",
        "readout": "luciferase",
        "batch": "b1",
        "product": "CAR-T",
        "target": "K562",
        "day": "1",
    }
    return {**base, **extra}


def test_mapping_selects_rows_maps_fields_and_numbers_wells(tmp_path: Path) -> None:
    study = _study(tmp_path)
    wells = tidy_plate_wells(_row(), study)
    # day = 1 selects file lines 2–6 (header = line 1); running wells A1…A5 in file order.
    assert wells["source_row"].to_list() == [2, 3, 4, 5, 6]
    assert wells["well"].to_list() == ["A1", "A2", "A3", "A4", "A5"]
    assert wells["synthetic_well"].to_list() == [True] * 5
    assert wells["role"].to_list() == ["target_only"] * 2 + ["sample"] * 3
    assert wells["et_ratio"].to_list() == [None, None, 1.0, 5.0, 5.0]
    assert wells["signal"].to_list() == [1000.0, 1200.0, 550.0, None, 110.0]
    # the overflow marker is kept as a flagged, excluded well (never a number)
    assert wells["flag"].to_list() == [None, None, None, "overflow", None]
    assert wells["exclusion_reason"].to_list() == [None, None, None, "overflow", None]
    # samplesheet constants (product, target) and mapping constants (lot) on every well
    assert set(wells["product"]) == {"CAR-T"} and set(wells["lot"]) == {"L1"}
    assert set(wells["day"]) == {"1"}


def test_scale_turns_fractions_into_percent(tmp_path: Path) -> None:
    mapping = MAPPING.replace('signal = "RLU"', 'signal = "RLU"\nscale = 100')
    table = "condition,day,RLU\nalone,1,0.98\n1:1,1,0.25\n"
    wells = tidy_plate_wells(_row(readout="pct_survival"), _study(tmp_path, mapping, table))
    # 0.98 × 100 = 98 %, 0.25 × 100 = 25 % survival
    assert wells["signal"].to_list() == pytest.approx([98.0, 25.0])


def test_read_column_of_the_samplesheet_overrides_the_mapping_signal(tmp_path: Path) -> None:
    table = "condition,day,RLU,RLU2\nalone,1,1000,7\n1:1,1,550,3\n"
    wells = tidy_plate_wells(_row(read="RLU2"), _study(tmp_path, table=table))
    assert wells["signal"].to_list() == [7.0, 3.0]


def test_well_column_gives_real_positions(tmp_path: Path) -> None:
    mapping = MAPPING.replace('day = "day"', 'day = "day"\nwell = "pos"')
    table = "condition,day,RLU,pos\nalone,1,1000,B03\n1:1,1,550,C7\n"
    wells = tidy_plate_wells(_row(), _study(tmp_path, mapping, table))
    assert wells.select("well", "row", "col", "synthetic_well").rows() == [
        ("B3", "B", 3, False),
        ("C7", "C", 7, False),
    ]


@pytest.mark.parametrize(
    ("mapping", "table", "row", "message"),
    [
        (MAPPING, TABLE.replace("alone,2", "lonely,2"), {}, "line 7: condition value 'lonely'"),
        (MAPPING, TABLE, {"day": "3"}, "no line of the file matches the samplesheet's day = '3'"),
        (MAPPING.replace('"5:1" = 5', '"5:1" = "five"'), TABLE, {}, "et_ratio 'five' is not a"),
        (MAPPING.replace('signal = "RLU"', 'signal = "Lum"'), TABLE, {}, "no column 'Lum'"),
        (MAPPING, TABLE.replace("1:1,1,550", "1:1,1,n/a"), {}, "reading 'n/a' is not a"),
        (MAPPING, TABLE.replace("alone,1,1200", "1:1,1,1200"), {"readout": "release"}, "max_lysis"),
        (MAPPING.replace("[tidy.constants]", "[tidy.nonsense]"), TABLE, {}, "unknown key"),
        (MAPPING, TABLE, {"plate_index": "2"}, "plate_index does not apply"),
    ],
)
def test_bad_tables_and_mappings_stop_naming_plate_and_line(
    tmp_path: Path, mapping: str, table: str, row: dict[str, str], message: str
) -> None:
    with pytest.raises(KillcurveInputError, match="plate D1") as err:
        tidy_plate_wells(_row(**row), _study(tmp_path, mapping, table))
    assert message in str(err.value)


def test_registry_reader_with_a_well_column(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("Well\tRLU\tnote\nA01\t1500\tx\nH12\t2,5\tx\n")
    export = read_export(path, "tidy_csv")
    rlu = export.data.filter(pl.col("read") == "RLU")
    # tab-separated; A01 -> A1; "2,5" with a decimal comma (no point anywhere) -> 2.5
    assert rlu.select("well", "signal").rows() == [("A1", 1500.0), ("H12", 2.5)]
    assert sorted(export.data["read"].unique()) == ["RLU", "note"]


def test_registry_reader_without_well_column_says_use_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("sample,RLU\na,1\n")
    with pytest.raises(KillcurveInputError, match=r"\[tidy\] table"):
        read_export(path, "tidy_csv")


def test_mapping_is_told_apart_from_a_wellmap_layout(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(MAPPING)
    (tmp_path / "l.toml").write_text('[well.A1]\nrole = "sample"\n')
    assert is_tidy_mapping(tmp_path / "m.toml") and not is_tidy_mapping(tmp_path / "l.toml")
    assert read_mapping(tmp_path / "m.toml").values["et_ratio"] == {"1:1": 1, "5:1": 5}


def test_prame_luminescence_plate_from_the_real_file() -> None:
    sheet = read_samplesheet(PRAME / "config" / "plates.tsv")
    row = sheet.filter(pl.col("plate_id") == "NUTH460_96h").row(0, named=True)
    wells = tidy_plate_wells(row, PRAME)
    # H460 column, time 96, no_pulse, no_bispecific: file lines 2–13 (read by hand):
    # tumour-only 42567, 43768, 44901, 46421; E:T1 48199, 45469, 46070, 49255;
    # E:T5 31033, 34151, 38881, 35852.
    assert wells["source_row"].to_list() == list(range(2, 14))
    assert wells["signal"].to_list() == [
        42567.0, 43768.0, 44901.0, 46421.0, 48199.0, 45469.0,
        46070.0, 49255.0, 31033.0, 34151.0, 38881.0, 35852.0,
    ]  # fmt: skip
    assert wells["role"].to_list() == ["target_only"] * 4 + ["sample"] * 8
    assert wells["et_ratio"].drop_nulls().to_list() == [1.0] * 4 + [5.0] * 4
    # the engager plate of the same line and time has three tumour-only rows (lines 26–28)
    eng = sheet.filter(pl.col("plate_id") == "NUTH460_96h_eng").row(0, named=True)
    eng_wells = tidy_plate_wells(eng, PRAME)
    assert eng_wells.filter(pl.col("role") == "target_only")["signal"].to_list() == [
        48663.0, 44934.0, 44226.0,
    ]  # fmt: skip


def test_whole_prame_samplesheet_loads() -> None:
    wells = load_wells(read_samplesheet(PRAME / "config" / "plates.tsv"), PRAME)
    # 32 luminescence plates: per line and time 12 + 12 + 9 + 9 = 42 wells (4 lines × 2 times)
    # = 336; 6 allogeneic files × 48 lines = 288.
    assert wells.height == 336 + 288
    assert wells["plate_id"].n_unique() == 38


def test_example_data_are_byte_identical_to_the_reference_copy(shared: Path) -> None:
    source = shared / "reference" / "real_assays" / "luminescence_prame_nut"
    pairs = [(PRAME / "data" / "LICENSE", source / "LICENSE")]
    pairs += [(c, source / c.relative_to(PRAME)) for c in sorted(PRAME.glob("data/*/*.csv"))]
    assert len(pairs) == 8
    for copy, original in pairs:
        digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (copy, original)]
        assert digest[0] == digest[1], copy


@pytest.mark.workflow
@pytest.mark.slow
def test_prame_study_runs_end_to_end(tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(PRAME, study, ignore=shutil.ignore_patterns("results", "logs", ".snakemake"))
    done = subprocess.run(
        [*SNAKEMAKE, "--directory", str(study)], capture_output=True, text=True, timeout=1500
    )
    assert done.returncode == 0, done.stderr[-3000:]
    wells = pl.read_parquet(study / "results" / "tables" / "wells.parquet")
    h460 = wells.filter((pl.col("plate_id") == "NUTH460_96h") & (pl.col("source_row") == 10))
    # H460, 96 h, no pulse, no engager, E:T 5:1 rep 1 (file line 10): S = 31033 RLU;
    # T = (42567 + 43768 + 44901 + 46421)/4 = 177657/4 = 44414.25;
    # % lysis = 100 × (1 − 31033/44414.25) = 100 × (1 − 0.698717191) = 30.1282809 %.
    assert h460["pct_lysis"][0] == pytest.approx(30.1282809, abs=1e-6)
    line797 = wells.filter((pl.col("plate_id") == "NUT797_96h") & (pl.col("source_row") == 10))
    # 797, same condition: T = (5589 + 6665 + 6863 + 7428)/4 = 6636.25; S = 146;
    # 100 × (1 − 146/6636.25) = 97.7999623 %.
    assert line797["pct_lysis"][0] == pytest.approx(97.7999623, abs=1e-6)
    allo = wells.filter((pl.col("plate_id") == "ALLO_H460") & (pl.col("source_row") == 2))
    # ALLO_H460 line 2: normalised viability 0.907207 (no T cells) -> 90.7207 % survival,
    # % lysis = 100 − 90.7207 = 9.2793 %.
    assert allo["pct_lysis"][0] == pytest.approx(9.2793, abs=1e-9)
    qc = pl.read_csv(study / "results" / "tables" / "plate_qc.csv").fill_null("")
    reasons = dict(qc.select("plate_id", "reasons").iter_rows())
    assert reasons["ALLO_797"] == "duplicate data: signals identical to plate ALLO_1015"
    assert reasons["ALLO_1015"] == "duplicate data: signals identical to plate ALLO_797"
    assert not any("duplicate" in reasons[p] for p in reasons if p not in ("ALLO_797", "ALLO_1015"))
    curves = pl.read_csv(study / "results" / "tables" / "curves.csv")
    dup = curves.filter(
        pl.col("target").is_in(["797", "10-15"]) & (pl.col("batch") == "allogeneic")
    )
    assert dup["flags"].to_list() == ["no_usable_points"] * 8
    assert (study / "results" / "report.html").stat().st_size > 0
