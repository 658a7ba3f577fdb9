"""Viability after thaw in the workflow: the samplesheet joined to real counter files, by hand.

Test data: tests/data/viability (README there): 4 real Vi-CELL BLU rows, 2 real NC-View rows and
a hand-made generic_csv, named by viability.tsv (paths relative to tests/data).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from killcurve.errors import KillcurveInputError
from killcurve.pipeline.steps import viability
from killcurve.viability.counts import load_viability_counts

from .conftest import REPO, SMALL_STUDY, SNAKEMAKE, only_status_files, run_study

DATA = REPO / "tests/data"
SHEET = DATA / "viability/viability.tsv"
NEW, OLD = "NEUK203-13", "NEUK200-13"
# t(0.975, 1 df), for the across-lot intervals of two lots.
T_975_1 = 12.706204736174707
TABLES = ("results/tables/viability.csv", "results/tables/viability_products.csv")


def test_rows_are_joined_to_their_counter_values() -> None:
    counts = load_viability_counts(SHEET, DATA)
    assert counts["line"].to_list() == [4, 5, 6, 7, 9, 10, 11, 12, 14]  # comments, blank line
    assert counts["format"].to_list()[-1] == "auto"  # empty format cell
    rows = {r["sample"]: r for r in counts.iter_rows(named=True)}
    # Vi-CELL BLU CLB002: 'Total (x10^6) cells/mL' 2.72, 'Viable (x10^6) cells/mL' 2.63, 96.81 %
    assert (rows["CLB002"]["total_cells_per_ml"], rows["CLB002"]["viable_cells_per_ml"]) == (
        2.72e6,
        2.63e6,
    )
    assert rows["CLB002"]["viability_pct"] == 96.81
    # NC-View sample 1: 'TOTAL (cells/ml)' "274 000", 'LIVE (cells/ml)' "124 000", 45.1 %
    # (the instrument's viability, not 100 · 124000 / 274000 = 45.26 %)
    assert (rows["1"]["total_cells_per_ml"], rows["1"]["viability_pct"]) == (274000.0, 45.1)
    # generic_csv L1-24h-2 gives only viability 70 %: viable = 1.0e6 · 70 / 100 = 0.7e6
    assert rows["L1-24h-2"]["viable_cells_per_ml"] == pytest.approx(0.7e6)


@pytest.fixture
def tables(tmp_path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    lots, products = tmp_path / "viability.csv", tmp_path / "viability_products.csv"
    viability(SHEET, DATA, lots, products)
    return pl.read_csv(lots), pl.read_csv(products)


def _lot(lots: pl.DataFrame, product: str, lot: str, hours: float) -> dict:
    key = (pl.col("product") == product) & (pl.col("lot") == lot)
    return lots.filter(key & (pl.col("timepoint_h") == hours)).row(0, named=True)


def test_lot_table_matches_hand_calculation(tables: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    lots, _ = tables
    assert lots.height == 5
    # L1 0 h: CLB001 (viable 0.75e6/mL, 96.9 %) and CLB003 (0.53e6/mL, 98.35 %), 2.0 mL each,
    # 2.5e6 frozen. viability (96.9 + 98.35)/2 = 97.625, SD 1.45/√2 = 1.025305;
    # recovered 1.5e6 and 1.06e6 -> mean 1.28e6; recovery 60 and 42.4 % -> 51.2 %, SD 17.6/√2.
    l1 = _lot(lots, NEW, "L1", 0)
    assert l1["n"] == 2
    assert l1["viability_pct_mean"] == pytest.approx(97.625)
    assert l1["viability_pct_sd"] == pytest.approx(1.45 / 2**0.5)
    assert l1["viable_cells_recovered_mean"] == pytest.approx(1.28e6)
    assert l1["recovery_pct_mean"] == pytest.approx(51.2)
    assert l1["recovery_pct_sd"] == pytest.approx(17.6 / 2**0.5)
    assert (l1["passed"], l1["reasons"]) == (True, None)
    # L2 0 h: CLB002 (2.63e6/mL, 96.81 %), CLB005 (1.11e6/mL, 98.18 %), 1.0 mL, 5.0e6 frozen:
    # viability 97.495 %; recovery 52.6 and 22.2 % -> 37.4 % < 50 %: fails.
    l2 = _lot(lots, NEW, "L2", 0)
    assert l2["viability_pct_mean"] == pytest.approx(97.495)
    assert l2["viable_cells_recovered_mean"] == pytest.approx(1.87e6)
    assert l2["recovery_pct_mean"] == pytest.approx(37.4)
    assert (l2["passed"], l2["reasons"]) == (False, "recovery 37.4 % < 50 %")
    # L1 24 h: 80 and 70 % -> 75 %; recovered 0.8e6·2 = 1.6e6 and 0.7e6·2 = 1.4e6 -> 1.5e6,
    # recovery 64 and 56 % -> 60 %.
    l1_24 = _lot(lots, NEW, "L1", 24)
    assert (l1_24["viability_pct_mean"], l1_24["recovery_pct_mean"]) == pytest.approx((75, 60))
    assert l1_24["passed"] is True
    # L2 24 h: 1.2e6/2.0e6 = 60 % and 1.3e6/2.0e6 = 65 % -> 62.5 %; recovery 24 and 26 % -> 25 %.
    l2_24 = _lot(lots, NEW, "L2", 24)
    assert l2_24["viability_pct_mean"] == pytest.approx(62.5)
    assert l2_24["recovery_pct_mean"] == pytest.approx(25.0)
    assert l2_24["reasons"] == "viability 62.5 % < 70 %; recovery 25.0 % < 50 %"
    # R1 0 h, one replicate: 45.1 %; recovered 124000 · 1.0 mL; recovery 100 · 124000 / 1e6.
    r1 = _lot(lots, OLD, "R1", 0)
    assert (r1["n"], r1["viability_pct_sd"]) == (1, None)
    assert r1["recovery_pct_mean"] == pytest.approx(12.4)
    assert r1["reasons"] == "viability 45.1 % < 70 %; recovery 12.4 % < 50 %"


def test_product_table_matches_hand_calculation(
    tables: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    _, products = tables
    assert products.select("product", "timepoint_h", "n_lots", "n_lots_passed").rows() == [
        (OLD, 0.0, 1, 0),
        (NEW, 0.0, 2, 1),
        (NEW, 24.0, 2, 1),
    ]
    new_0 = products.row(1, named=True)
    # lot means 97.625 and 97.495: mean 97.56, SD 0.13/√2; half-width t(0.975, 1) · SD/√2
    # = 12.7062 · 0.065 = 0.82590
    assert new_0["viability_pct_mean"] == pytest.approx(97.56)
    assert new_0["viability_pct_sd"] == pytest.approx(0.13 / 2**0.5)
    assert new_0["viability_pct_ci_low"] == pytest.approx(97.56 - T_975_1 * 0.065)
    assert new_0["viability_pct_ci_high"] == pytest.approx(97.56 + T_975_1 * 0.065)
    # recovery lot means 51.2 and 37.4: mean 44.3, half-width 12.7062 · 13.8/2 = 87.673
    # (the interval passes below 0 %: reported as computed)
    assert new_0["recovery_pct_mean"] == pytest.approx(44.3)
    assert new_0["recovery_pct_ci_low"] == pytest.approx(44.3 - T_975_1 * 6.9)
    assert new_0["recovery_pct_ci_low"] < 0
    # 24 h: viability lot means 75 and 62.5 -> 68.75 ± 12.7062 · 12.5/2
    assert products.row(2, named=True)["viability_pct_ci_high"] == pytest.approx(
        68.75 + T_975_1 * 6.25
    )
    old_0 = products.row(0, named=True)
    assert (old_0["viability_pct_mean"], old_0["viability_pct_ci_low"]) == (45.1, None)


def test_limits_and_level_come_from_the_arguments(tmp_path: Path) -> None:
    lots, products = tmp_path / "lots.csv", tmp_path / "products.csv"
    viability(
        SHEET, DATA, lots, products, min_viability_pct=None, min_recovery_pct=35, ci_level=0.5
    )
    table = pl.read_csv(lots)
    # only recovery ≥ 35 % is checked: L2 0 h (37.4 %) passes, L2 24 h (25 %) fails
    assert _lot(table, NEW, "L2", 0)["passed"] is True
    assert _lot(table, NEW, "L2", 24)["reasons"] == "recovery 25.0 % < 35 %"
    # 50 % interval, 1 df: t(0.75, 1) = 1, half-width = SD/√2 = 0.13/2
    assert pl.read_csv(products).row(1, named=True)["viability_pct_ci_high"] == pytest.approx(
        97.56 + 0.065
    )


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the test data under ``tmp_path/viability`` with one edit to the sheet."""
    shutil.copytree(DATA / "viability", tmp_path / "viability")
    sheet = tmp_path / "viability/viability.tsv"
    assert old in sheet.read_text()
    sheet.write_text(sheet.read_text().replace(old, new, 1))
    return sheet


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "\tCLB005\t",
            "\tCLB004\t",
            r"viability\.tsv line 7 \(sample 'CLB004' in 'viability/vi_cell_blu_0h\.csv'\): "
            r"the file has no such sample\. Its samples: 'CLB001', 'CLB002', 'CLB003', 'CLB005'",
        ),
        (
            "nc_view_0h.csv",
            "nc_view_typo.csv",
            r"viability\.tsv line 14: counter file 'viability/nc_view_typo\.csv' does not exist",
        ),
        ("prefreeze_viable_cells", "prefreeze", r"missing column\(s\) prefreeze_viable_cells"),
        ("\tCLB003\t", "\t\t", r"viability\.tsv line 5: sample is empty\. Fill it in\."),
        ("vi_cell_blu\tCLB003", "vi_cell_blue\tCLB003", r"line 5: unknown cell-counter format"),
        (
            "viability/counts_24h.csv\tgeneric_csv\tL1-24h-1",
            "viability/README.md\tauto\tL1-24h-1",
            r"line 9: counter file 'viability/README\.md' \(format auto\): .*not a "
            r"cell-counter export",
        ),
        (
            "viability/counts_24h.csv\tgeneric_csv\tL1-24h-1",
            "viability/counts_24h.csv\tvi_cell_blu\tL1-24h-1",
            r"line 9: counter file 'viability/counts_24h\.csv' \(format vi_cell_blu\)",
        ),
        (
            "CLB003\tNEUK203-13\tL1\t0\t2\t2.0",
            "CLB003\tNEUK203-13\tL1\t0\t2\t2,0",
            r"viability\.tsv line 5 \(product NEUK203-13, lot L1, 0\.0 h, replicate 2\): "
            r"volume_ml '2,0' is not a number",
        ),
        (
            "CLB003\tNEUK203-13\tL1\t0\t2",
            "CLB003\tNEUK203-13\tL1\t0\t1",
            r"line 4 \(product NEUK203-13, lot L1, 0\.0 h, replicate 1\): this replicate "
            "appears more than once",
        ),
    ],
)
def test_bad_sheet_stops_naming_line_file_and_sample(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    sheet = _edited(tmp_path, old, new)
    with pytest.raises(KillcurveInputError, match=message):
        viability(sheet, tmp_path, tmp_path / "a.csv", tmp_path / "b.csv")
    assert not (tmp_path / "a.csv").exists()


def test_sample_without_a_count_stops_quoting_the_counter(tmp_path: Path) -> None:
    sheet = _edited(tmp_path, "vi_cell_blu_0h.csv\tvi_cell_blu\tCLB001", "blu.csv\tauto\tCLB001")
    lines = (DATA / "viability/vi_cell_blu_0h.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[3] = "ERROR"  # 'Total (x10^6) cells/mL' of CLB001
    (tmp_path / "viability/blu.csv").write_text("\n".join([lines[0], ",".join(cells)]))
    with pytest.raises(
        KillcurveInputError,
        match=r"line 4 \(sample 'CLB001' in 'viability/blu\.csv'\): the counter gave no total "
        r"cells/mL for this sample \(the counter noted: Total \(x10\^6\) cells/mL: ERROR\)",
    ):
        viability(sheet, tmp_path, tmp_path / "a.csv", tmp_path / "b.csv")


def test_sample_twice_in_its_file_is_refused(tmp_path: Path) -> None:
    sheet = _edited(tmp_path, "\tL1-24h-1\t", "\tdup\t")
    counts = tmp_path / "viability/counts_24h.csv"
    text = counts.read_text().replace("L1-24h-1,", "dup,").replace("L1-24h-2,", "dup,")
    counts.write_text(text)
    with pytest.raises(KillcurveInputError, match=r"line 9 .*has 2 results with this sample ID"):
        viability(sheet, tmp_path, tmp_path / "a.csv", tmp_path / "b.csv")


@pytest.mark.workflow
def test_workflow_writes_the_tables_and_reruns_when_a_count_changes(tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(SMALL_STUDY / "config", study / "config")
    shutil.copytree(DATA / "viability", study / "viability")
    config = study / "config/config.yaml"
    config.write_text(
        config.read_text() + "viability:\n  samplesheet: viability/viability.tsv\n"
        "  min_viability_pct: 60\n"
    )
    run = [*SNAKEMAKE, "--directory", str(study), *TABLES]
    done = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lots = pl.read_csv(study / TABLES[0])
    # limit 60 %: L2 24 h (62.5 %) now fails on recovery only (25 %)
    assert _lot(lots, NEW, "L2", 24)["reasons"] == "recovery 25.0 % < 50 %"
    assert pl.read_csv(study / TABLES[1]).height == 3
    # Edit a count: L2-24h-2 viable 1.3e6 -> 1.5e6/mL, so viability (60 + 75)/2 = 67.5 %.
    counts = study / "viability/counts_24h.csv"
    counts.write_text(counts.read_text().replace("L2-24h-2,2.0e6,1.3e6", "L2-24h-2,2.0e6,1.5e6"))
    again = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Updated input files: viability/counts_24h.csv" in again.stdout + again.stderr
    lots = pl.read_csv(study / TABLES[0])
    assert _lot(lots, NEW, "L2", 24)["viability_pct_mean"] == pytest.approx(67.5)


@pytest.mark.workflow
def test_workflow_without_the_key_has_no_viability_rule(small_study: Path) -> None:
    dry = subprocess.run(
        [*SNAKEMAKE, "--directory", str(small_study), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "render_report" in dry.stdout and "assess_viability" not in dry.stdout


@pytest.mark.workflow
def test_workflow_with_a_missing_counter_file_stops_before_running(tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(SMALL_STUDY / "config", study / "config")
    shutil.copytree(DATA / "viability", study / "viability")
    (study / "viability/nc_view_0h.csv").unlink()
    config = study / "config/config.yaml"
    config.write_text(config.read_text() + "viability:\n  samplesheet: viability/viability.tsv\n")
    done = run_study(study)
    assert done.returncode != 0
    assert "counter file 'viability/nc_view_0h.csv' does not exist" in done.stderr
    assert only_status_files(study)


def test_config_key_defaults_null_limits_and_typos() -> None:
    schema = str(REPO / "workflow/schemas/config.schema.yaml")
    config = {"study": "s", "plates": "p.tsv", "viability": {"samplesheet": "v.tsv"}}
    validate(config, schema)
    assert config["viability"] == {
        "samplesheet": "v.tsv",
        "min_viability_pct": 70,
        "min_recovery_pct": 50,
        "ci_level": 0.95,
    }
    unchecked = {"study": "s", "plates": "p.tsv", "viability": {"samplesheet": "v.tsv"}}
    unchecked["viability"]["min_viability_pct"] = None
    validate(unchecked, schema)
    assert unchecked["viability"]["min_viability_pct"] is None
    absent = {"study": "s", "plates": "p.tsv"}
    validate(absent, schema)
    assert "viability" not in absent
    for bad in ({"samplesheet": "v.tsv", "min_viabilty_pct": 70}, {"min_viability_pct": 70}):
        with pytest.raises(WorkflowError):
            validate({"study": "s", "plates": "p.tsv", "viability": bad}, schema)


def test_counter_format_names_match_the_readers() -> None:
    """The sheet check's list of formats (kept import-light) is the readers' own."""
    from killcurve.io.counters import READERS
    from killcurve.viability.counts import COUNTER_FORMATS

    assert tuple(READERS) == COUNTER_FORMATS
