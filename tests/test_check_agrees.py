"""``killcurve check`` refuses what the run refuses, with the run's own message.

Every case of the bad-input catalogue (tests/test_bad_input.py) and of a catalogue of bad
viability inputs (edits of the bundled example's viability arm) is checked, then run: the
check's problems are exactly the run's message. The unmodified studies pass.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from killcurve.cli.main import main
from killcurve.config import config_errors, load_config, samplesheet_errors
from killcurve.errors import KillcurveInputError
from killcurve.io.samplesheet import check_files, read_samplesheet, resolve_in_study
from killcurve.pipeline.check import check_study
from killcurve.pipeline.steps import viability

from .conftest import REPO
from .stages import run_stages
from .test_bad_input import CASES, Edit, _chain, _regex, _sub, grid_study  # noqa: F401


def _startup_message(study: Path) -> str | None:
    """What the workflow's start-up says of the samplesheet's rows against their schema
    (workflow/rules/common.smk, several joined by line ends), which tests/stages.py skips;
    None when it lets the run go on (or the config or samplesheet stop it earlier)."""
    try:
        config = load_config(study / "config/config.yaml")
        if config_errors(config):
            return None
        sheet = read_samplesheet(resolve_in_study(study, config["plates"], "plates"))
        check_files(sheet, study)
    except KillcurveInputError:
        return None
    return "\n".join(samplesheet_errors(sheet.iter_rows(named=True), config["plates"])) or None


def _run_message(study: Path) -> str:
    """The message the in-process run (tests/stages.py) stops with on ``study``."""
    with pytest.raises(KillcurveInputError) as caught:
        run_stages(study)
    return str(caught.value)


def _expected(message: str) -> list[str]:
    """The run's message as check's problems: the run joins config errors with ``"; "``
    (tests/stages.py) and samplesheet schema errors with line ends; check lists each."""
    if message.startswith("samplesheet ") and " column " in message:
        return message.split("\n")
    return message.split("; ") if message.startswith("config key") else [message]


#: Cases where check goes on after the run stops: the fit stops at the first refused curve,
#: check names each (here: both of P03's curves).
MORE_THAN_THE_RUN = {
    "curve with a single E:T value": 1,
    "mixed readouts in one curve": 1,
}


@pytest.mark.parametrize(("case", "edit", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_check_gives_the_runs_message_for_every_catalogue_case(
    grid_study: Path,  # noqa: F811
    case: str,
    edit: Edit,
    fragments: tuple[str, ...],
) -> None:
    edit(grid_study)
    found = check_study(grid_study)
    startup = _startup_message(grid_study)
    message = startup or _run_message(grid_study)
    # the catalogue's words are the stages' (the start-up message names the plate only)
    for fragment in fragments[:1] if startup else fragments:
        assert fragment in message
    expected = _expected(message)
    assert found.problems[: len(expected)] == expected
    assert len(found.problems) == len(expected) + MORE_THAN_THE_RUN.get(case, 0)


# --- the viability arm ---------------------------------------------------------------------

VSHEET = "config/viability.tsv"
BLU_0H = "config/viability/NEUK203-13_0h.csv"  # Vi-CELL BLU, rows 2-4, 8-10, 14-16 of the sheet
NC_0H = "config/viability/NEUK200-13_0h.csv"  # NC-View, rows 20-22, 26-28, 32-34


def _unlink(relative: str) -> Edit:
    def edit(study: Path) -> None:
        (study / relative).unlink()

    return edit


def _append_row(relative: str, pattern: str) -> Edit:
    """Repeat the line of ``relative`` that matches ``pattern`` at the end of the file."""

    def edit(study: Path) -> None:
        path = study / relative
        line = next(x for x in path.read_text().splitlines() if re.search(pattern, x))
        path.write_text(path.read_text().rstrip("\n") + "\n" + line + "\n")

    return edit


# (case id, edit, fragments the message must contain). Sheet line n holds data row n - 1.
VIABILITY_CASES: list[tuple[str, Edit, tuple[str, ...]]] = [
    ("counter file that does not exist",
     _sub(VSHEET, "config/viability/NEUK200-13_24h.csv", "config/viability/NEUK200-13_48h.csv"),
     ("viability.tsv line 23", "counter file 'config/viability/NEUK200-13_48h.csv' does not "
      "exist", "Fix the path")),
    ("counter file deleted", _unlink(NC_0H),
     ("viability.tsv line 20", "counter file 'config/viability/NEUK200-13_0h.csv' does not "
      "exist")),
    ("sample id not in its file", _sub(VSHEET, "\t203-L02_0h_r2\t", "\t203-L02_0h_r9\t"),
     ("viability.tsv line 9 (sample '203-L02_0h_r9' in 'config/viability/NEUK203-13_0h.csv')",
      "the file has no such sample", "'203-L02_0h_r2'")),
    ("value the counter annotated as out of range",
     _sub(NC_0H, "OK,4.66E+06,", "OK,4.66E+06 (Out of optimal range),"),
     ("viability.tsv line 20 (sample '200-L01_0h_r1'", "the counter gave no total cells/mL",
      "the counter noted: TOTAL (cells/ml): 4.66E+06 (Out of optimal range)")),
    ("counter error instead of a count", _sub(BLU_0H, "203-L01_0h_r2,13814,12477,4.92,",
                                              "203-L01_0h_r2,13814,12477,ERROR,"),
     ("line 3 (sample '203-L01_0h_r2'", "the counter gave no total cells/mL", "ERROR")),
    ("viability above 100 % in the counter file", _sub(BLU_0H, ",4.42,90.04,", ",4.42,104.04,"),
     ("viability.tsv line 2: counter file 'config/viability/NEUK203-13_0h.csv' (format "
      "vi_cell_blu)", "0–100")),
    ("viable above total in the counter file", _sub(BLU_0H, ",4.91,4.42,", ",4.91,5.42,"),
     ("viability.tsv line 2: counter file", "viable")),
    ("concentration no counter reports", _sub(NC_0H, "OK,4.66E+06,4.01E+06,",
                                              "OK,4.66E+12,4.01E+12,"),
     ("viability.tsv line 20: counter file 'config/viability/NEUK200-13_0h.csv'",)),
    ("sample twice in its file", _append_row(BLU_0H, r"^203-L01_0h_r3,"),
     ("line 4 (sample '203-L01_0h_r3'", "has 2 results with this sample ID")),
    ("sheet missing a column", _sub(VSHEET, "prefreeze_viable_cells", "prefreeze"),
     ("viability.tsv: missing column(s) prefreeze_viable_cells",)),
    ("sheet with an empty sample cell", _sub(VSHEET, "\t203-L01_0h_r3\t", "\t\t"),
     ("viability.tsv line 4: sample is empty. Fill it in.",)),
    ("unknown counter format",
     _sub(VSHEET, "vi_cell_blu\t203-L01_0h_r3", "vi_cell_blue\t203-L01_0h_r3"),
     ("viability.tsv line 4: unknown cell-counter format 'vi_cell_blue'", "Known formats")),
    ("a file that is not a counter export",
     _sub(VSHEET, "config/viability/NEUK203-13_24h.csv\tvi_cell_blu", "config/plates.tsv\tauto"),
     ("line 5: counter file 'config/plates.tsv' (format auto)", "not a cell-counter export")),
    ("counter file read in the wrong format",
     _regex(VSHEET, r"NEUK203-13_24h\.csv\tvi_cell_blu", "NEUK203-13_24h.csv\tchemometec_nc_view"),
     ("line 5: counter file 'config/viability/NEUK203-13_24h.csv' (format "
      "chemometec_nc_view)",)),
    ("counter file outside the study directory",
     _sub(VSHEET, "config/viability/NEUK203-13_24h.csv", "../NEUK203-13_24h.csv"),
     ("line 5 file '../NEUK203-13_24h.csv' points outside the study directory",)),
    ("decimal comma in a volume", _sub(VSHEET, "203-L01_0h_r2\tNEUK203-13\t203-L01\t0\t2\t10.0",
                                       "203-L01_0h_r2\tNEUK203-13\t203-L01\t0\t2\t10,0"),
     ("viability.tsv line 3 (product NEUK203-13, lot 203-L01, 0.0 h, replicate 2): volume_ml "
      "'10,0' is not a number",)),
    ("zero volume", _sub(VSHEET, "203-L01_0h_r2\tNEUK203-13\t203-L01\t0\t2\t10.0",
                         "203-L01_0h_r2\tNEUK203-13\t203-L01\t0\t2\t0"),
     ("line 3 (product NEUK203-13, lot 203-L01, 0.0 h, replicate 2): volume_ml must be above 0",)),
    ("replicate given twice", _sub(VSHEET, "203-L01_0h_r2\tNEUK203-13\t203-L01\t0\t2",
                                   "203-L01_0h_r2\tNEUK203-13\t203-L01\t0\t1"),
     ("line 2 (product NEUK203-13, lot 203-L01, 0.0 h, replicate 1): this replicate appears "
      "more than once",)),
    ("pre-freeze cells differing within a lot",
     _sub(VSHEET, "\t2\t10.0\t54300000", "\t2\t10.0\t54000000"),
     ("product NEUK203-13 lot 203-L01 has more than one prefreeze_viable_cells value",)),
    ("quote left open in the sheet", _sub(VSHEET, "\t203-L01_0h_r2\t", '\t"203-L01_0h_r2\t'),
     ("viability.tsv: a quote (\") opens a cell", "Close the quote")),
    ("quoted cell spanning two lines",
     _chain(_sub(VSHEET, "\t203-L01_0h_r2\t", '\t"203-L01_0h_r2\t'),
            _sub(VSHEET, "\t203-L01_0h_r3\t", '\t203-L01_0h_r3"\t')),
     ("viability.tsv: 35 rows read from 36 lines; a cell spans several lines",)),
    ("sheet without rows", _regex(VSHEET, r"\n(?:.*\n)*", "\n"), ("viability.tsv: no rows",)),
    ("config names a sheet that is not there",
     _sub("config/config.yaml", "samplesheet: config/viability.tsv", "samplesheet: config/v.tsv"),
     ("viability samplesheet", "v.tsv: file not found", "viability.samplesheet")),
    ("viability limit out of range",
     _sub("config/config.yaml", "min_viability_pct: 70", "min_viability_pct: 170"),
     ("config key viability.min_viability_pct", "170")),
]  # fmt: skip


def _with_viability(study: Path) -> Path:
    """``study`` given the bundled example's viability arm (its sheet, counter files and key)."""
    shutil.copy(REPO / VSHEET, study / VSHEET)
    shutil.copytree(REPO / "config/viability", study / "config/viability")
    example = (REPO / "config/config.yaml").read_text()
    key = re.search(r"^viability:\n(?:  .*\n)+", example, flags=re.M)
    assert key is not None
    config = study / "config/config.yaml"
    config.write_text(config.read_text() + key.group(0))
    return study


@pytest.fixture
def viability_study(small_study: Path) -> Path:
    """The small study with the bundled example's viability arm."""
    return _with_viability(small_study)


@pytest.fixture
def one_plate_viability(viability_study: Path) -> Path:
    """:func:`viability_study` cut to plate P01 (both products) without exclusions: the
    viability arm with little else to check (0.05 s a check instead of 0.2 s)."""
    sheet = viability_study / "config/plates.tsv"
    sheet.write_text("\n".join(sheet.read_text().splitlines()[:2]) + "\n")
    config = viability_study / "config/config.yaml"
    config.write_text(config.read_text().replace("exclusions: config/exclusions.tsv\n", ""))
    return viability_study


def _viability_message(study: Path) -> str:
    """The message the run stops with in the viability arm: the config, then the rule
    ``assess_viability`` (:func:`killcurve.pipeline.steps.viability`, which reads the sheet as the
    workflow's start-up does)."""
    config = load_config(study / "config/config.yaml")
    with pytest.raises(KillcurveInputError) as caught:
        errors = config_errors(config)
        if errors:
            raise KillcurveInputError("; ".join(errors))
        settings = config["viability"]
        tables = study / "results/tables"
        viability(
            study / settings["samplesheet"],
            study,
            tables / "viability.csv",
            tables / "viability_products.csv",
            settings["min_viability_pct"],
            settings["min_recovery_pct"],
            settings["ci_level"],
        )
    assert not (study / "results/tables/viability.csv").exists()
    return str(caught.value)


@pytest.mark.parametrize(
    ("edit", "fragments"), [c[1:] for c in VIABILITY_CASES], ids=[c[0] for c in VIABILITY_CASES]
)
def test_check_gives_the_runs_message_for_bad_viability_input(
    one_plate_viability: Path, edit: Edit, fragments: tuple[str, ...]
) -> None:
    edit(one_plate_viability)
    found = check_study(one_plate_viability)
    message = _viability_message(one_plate_viability)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert found.problems == [message]


def test_the_example_and_the_small_study_pass(tmp_path: Path, small_study: Path) -> None:
    example = check_study(REPO)
    assert example.problems == []
    # config/plates.tsv: P01-P10 release, P11-P22 luciferase; 66 curves of 24 wells each;
    # config/viability.tsv: 36 counts, 3 lots of each product; excluded: P13 H4 (overflow)
    # and P15 E5 (config/exclusions.tsv); TC01-TC04 time-resolved, 192 sweeps each
    assert example.summary[1:] == [
        "time-resolved plates: 4 of 4 read, 768 time points",
        "plates: 22 (luciferase 12, release 10)",
        "products: NEUK200-13, NEUK203-13",
        "targets: H82, K562, NALM6-DLL3, SHP-77",
        "lots: 6, curves: 66, sample wells: 1584, excluded wells: 2",
        "comparisons: neuk203_vs_neuk200",
        "viability: 36 counts of 6 lots",
    ]
    small = check_study(small_study)
    assert small.problems == []
    assert small.summary[1] == "plates: 8 (luciferase 4, release 4)"


def test_check_lists_every_problem_at_once(
    viability_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The three inputs of issue 25 and two broken plates: the run stops at one, check
    names all five."""
    for edit in (
        _sub(VSHEET, "config/viability/NEUK200-13_24h.csv", "config/viability/NEUK200-13_48h.csv"),
        _sub(VSHEET, "\t203-L02_0h_r2\t", "\t203-L02_0h_r9\t"),
        _sub(NC_0H, "OK,4.66E+06,", "OK,4.66E+06 (Out of optimal range),"),
        _sub("config/plates.tsv", "config/data/P02.CSV", "config/data/P02_x.CSV"),
        _sub("config/plates.tsv", "config/layouts/P07.toml", "config/layouts/none.toml"),
    ):
        edit(viability_study)
    found = check_study(viability_study)
    assert [p.split(":")[0] for p in found.problems] == [
        "plate P02",
        "plate P07",
        f"viability samplesheet {viability_study / VSHEET} line 23",
        f"viability samplesheet {viability_study / VSHEET} line 9 (sample '203-L02_0h_r9' in "
        "'config/viability/NEUK203-13_0h.csv')",
        f"viability samplesheet {viability_study / VSHEET} line 20 (sample '200-L01_0h_r1' in "
        "'config/viability/NEUK200-13_0h.csv')",
    ]
    assert "curves, comparisons: checked once every plate can be read" in found.summary
    assert main(["check", str(viability_study)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("5 problem(s):\n- plate P02: file 'config/data/P02_x.CSV' does not")
