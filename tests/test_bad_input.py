"""The bad-input catalogue: each case corrupts a copy of the example study.

Every case must stop with :class:`KillcurveInputError` whose message names the
place (file, plate, well or config key) and says what to do, and must leave no
output under ``results/``. Inputs are never modified by a run (checked by hash).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from killcurve.errors import KillcurveInputError
from killcurve.io.readers import read_export
from killcurve.simulate.exports import grid_csv

from .stages import run_stages

Edit = Callable[[Path], None]


def _sub(relative: str, old: str, new: str, count: int = 1) -> Edit:
    def edit(study: Path) -> None:
        path = study / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, count))

    return edit


def _regex(relative: str, pattern: str, new: str) -> Edit:
    def edit(study: Path) -> None:
        path = study / relative
        text, n = re.subn(pattern, new, path.read_text(), count=1, flags=re.M)
        assert n == 1, f"{pattern!r} not in {relative}"
        path.write_text(text)

    return edit


def _write(relative: str, data: bytes) -> Edit:
    def edit(study: Path) -> None:
        (study / relative).write_bytes(data)

    return edit


def _grid_cells(relative: str, cells: dict[str, str]) -> Edit:
    """Replace the readings of named wells (``{"A9": "0"}``) in a grid_csv file."""

    def edit(study: Path) -> None:
        path = study / relative
        lines = [line.split(",") for line in path.read_text().splitlines()]
        for well, value in cells.items():
            lines["ABCDEFGH".index(well[0]) + 1][int(well[1:])] = value
        path.write_text("\n".join(",".join(line) for line in lines) + "\n")

    return edit


def _latin1_cell(relative: str, well: str) -> Edit:
    """Write a reading with a Latin-1 byte (0xB5, µ) into a well, as Windows software does."""

    def edit(study: Path) -> None:
        path = study / relative
        lines = path.read_bytes().split(b"\n")
        cells = lines["ABCDEFGH".index(well[0]) + 1].split(b",")
        cells[int(well[1:])] = b"12\xb5"
        lines["ABCDEFGH".index(well[0]) + 1] = b",".join(cells)
        path.write_bytes(b"\n".join(lines))

    return edit


def _append_plate(relative: str) -> Edit:
    """Make a Gen5 export hold a second plate (the whole block repeated, as Gen5 does)."""

    def edit(study: Path) -> None:
        path = study / relative
        text = path.read_text()
        path.write_text(text + text.replace("Plate Number\tPlate 1", "Plate Number\tPlate 2"))

    return edit


def _controls(relative: str, role_cols: tuple[int, ...], value: str) -> Edit:
    return _grid_cells(relative, {f"{r}{c}": value for r in "ABCDEF" for c in role_cols})


def _chain(*edits: Edit) -> Edit:
    def edit(study: Path) -> None:
        for e in edits:
            e(study)

    return edit


SHEET = "config/plates.tsv"
CONFIG = "config/config.yaml"
P03 = "config/data/P03.csv"  # release (K562, post-thaw)
P05 = "config/data/P05.csv"  # luciferase (SHP-77, fresh)
L03 = "config/layouts/P03.toml"

# (case id, edit, fragments every message must contain)
CASES: list[tuple[str, Edit, tuple[str, ...]]] = [
    ("missing plate file", _sub(SHEET, "config/data/P03.csv", "config/data/P03_x.csv"),
     ("plate P03", "does not exist", "Fix the path")),
    ("missing layout file", _sub(SHEET, "config/layouts/P03.toml", "config/layouts/none.toml"),
     ("plate P03", "layout", "does not exist")),
    ("empty plate file", _write(P03, b""), ("plate P03", "P03.csv", "empty", "Re-export")),
    ("blank plate file", _write(P03, b"\n \n"), ("plate P03", "empty")),
    ("unknown format", _sub(SHEET, "P03.csv\tgrid_csv", "P03.csv\tspectramax"),
     ("plate P03", "unknown format 'spectramax'", "Known formats")),
    ("unrecognised file with format auto",
     _chain(_sub(SHEET, "P03.csv\tgrid_csv", "P03.csv\tauto"), _write(P03, b"hello\nworld\n")),
     ("plate P03", "format not recognised", "hello")),
    ("truncated export: rows missing", _regex(P03, r"^F,.*\n(?:.*\n)*", ""),
     ("plate P03", "5 plate rows", "truncated")),
    ("truncated export: short row", _regex(P03, r",\d+\n(?=D,)", "\n"),
     ("plate P03", "row C", "11 readings, expected 12")),
    ("layout for a 384-well plate", _sub(L03, "[block.2x6.A11]", "[block.2x6.A23]"),
     ("plate P03", "uses wells", "another plate size")),
    ("duplicated plate_id", _sub(SHEET, "P04\t", "P03\t"), ("plate_id P03", "more than once")),
    ("duplicated well table in layout", _sub(L03, "[block.2x6.A9]", "[block.2x6.A11]"),
     ("plate P03", "P03.toml", "not a valid wellmap layout")),
    ("sample wells without lot", _sub(L03, 'lot = "203-L01"\n', ""),
     ("plate P03", "have no 'lot'", "Set it in the layout")),
    ("well with fields but no role", _sub(L03, 'role = "background"', 'note = "medium"'),
     ("plate P03", "G1", "no role")),
    ("non-numeric reading", _grid_cells(P03, {"B2": "n/a"}),
     ("plate P03 well B2", "'n/a'", "not a number")),
    ("empty reading in a used well", _grid_cells(P03, {"C5": ""}),
     ("plate P03 well C5", "empty")),
    ("decimal comma splits a reading", _grid_cells(P03, {"A3": "1234,5"}),
     ("P03.csv", "row A", "decimal comma")),
    ("quoted decimal comma", _grid_cells(P03, {"A3": '"1234,5"'}),
     ("plate P03 well A3", "'1234,5'", "decimal point")),
    ("wrong encoding (Latin-1 byte)", _latin1_cell(P03, "A3"),
     ("plate P03", "not valid UTF-8", "Save the export as UTF-8")),
    ("not a grid_csv header", _regex(P03, r"^,1,2,3", ";1;2;3"),
     ("plate P03", "not a grid_csv column header", "set its format")),
    ("row letters out of order", _regex(P03, r"^B,", "X,"),
     ("plate P03", "expected row letter 'B'")),
    ("missing target_only role", _sub(L03, 'role = "target_only"', 'role = "background"'),
     ("plate P03", "no target_only wells", "Add them to the layout")),
    ("release plate without max_lysis", _sub(L03, 'role = "max_lysis"', 'role = "background"'),
     ("plate P03", "no max_lysis wells", "release")),
    ("control wells read zero", _controls(P03, (9, 10), "0"),
     ("plate P03", "target_only mean 0 is zero or negative")),
    ("negative control signal", _controls(P03, (9, 10), "-50"),
     ("plate P03", "zero or negative")),
    ("max lysis not above spontaneous", _controls(P03, (11, 12), "100"),
     ("plate P03", "max_lysis mean 100 is not above target_only")),
    ("luciferase target not above background", _controls(P05, (9, 10), "800"),
     ("plate P05", "is not above the background")),
    ("missing E:T", _sub(L03, "[block.1x6.A4]\net_ratio = 5\n", ""),
     ("plate P03", "have no 'et_ratio'")),
    ("zero E:T", _sub(L03, "et_ratio = 5\n", "et_ratio = 0\n"),
     ("plate P03", "well A4", "is not a positive number", "10 means 10:1")),
    ("negative E:T", _sub(L03, "et_ratio = 5\n", "et_ratio = -5\n"),
     ("plate P03", "well A4", "not a positive number")),
    ("non-numeric E:T", _sub(L03, "et_ratio = 5\n", 'et_ratio = "five"\n'),
     ("P03.toml", "et_ratio must be a number", "'five'")),
    ("curve with one E:T point",
     _chain(*(_sub(L03, f"[block.1x6.A{c}]\net_ratio = {e:g}\n", "") for c, e in
              ((2, 20), (3, 10), (4, 5), (5, 2.5), (6, 1.25), (7, 0.625), (8, 0.3125)))),
     ("plate P03", "have no 'et_ratio'")),
    ("curve with a single E:T value", _chain(*(_sub(L03, f"et_ratio = {e:g}\n", "et_ratio = 40\n") for e in
                           (20, 10, 5, 2.5, 1.25, 0.625, 0.3125))),
     ("curve NEUK200-13|200-L01|K562|bulk|post_thaw|B2", "no titration", "et_ratio")),
    ("all-NaN curve (every well overflowed)",
     _grid_cells(P03, {f"{r}{c}": "OVRFLW" for r in "ABC" for c in range(1, 9)}),
     ("curve NEUK203-13|203-L01|K562|bulk|post_thaw|B2", "no well has a numeric reading")),
    ("product in comparisons absent from layouts", _sub(CONFIG, "test: NEUK203-13", "test: NEUK-203"),
     ("config key comparisons[0].test", "'NEUK-203'", "Products found")),
    ("unknown by column", _sub(CONFIG, "by: [target, cryo]", "by: [target, donor]"),
     ("config key comparisons.0.by.1", "'donor' is not one of")),
    ("schema type error", _sub(CONFIG, "min_z_prime: 0.5", "min_z_prime: high"),
     ("config key qc.min_z_prime", "'high' is not of type 'number'")),
    ("typo in a config key", _sub(CONFIG, "plates: config", "plate: config"),
     ("'plate' was unexpected", "'plates' is a required property")),
    ("config that is not YAML", _sub(CONFIG, "fit:\n", "fit: [\n"), ("config.yaml", "not valid YAML")),
    ("path escaping the study directory", _sub(SHEET, "config/data/P03.csv", "../P03.csv"),
     ("plate P03 file", "outside the study directory", "Copy the file")),
    ("mixed readouts in one curve",
     _chain(lambda study: as_grid_csv(study, "P04"),
            _sub(SHEET, "P04\tconfig/data/P04.csv\tgrid_csv\tconfig/layouts/P04.toml\trelease\tB2",
                 "P04\tconfig/data/P04.csv\tgrid_csv\tconfig/layouts/P03.toml\tflow\tB2"),
            _controls("config/data/P04.csv", (9, 10), "5")),
     ("curve NEUK200-13|200-L01|K562|bulk|post_thaw|B2", "different readouts", "batch")),
    ("samplesheet missing a column", _regex(SHEET, r"\treadout", "\tassay"),
     ("plates.tsv", "missing column(s) readout")),
    ("samplesheet empty required cell", _sub(SHEET, "release\tB2", "release\t"),
     ("plates.tsv line 4", "'batch' is empty")),
    ("samplesheet without plate rows", _write(SHEET, b"plate_id\tfile\tlayout\treadout\tbatch\n"),
     ("plates.tsv", "no plate rows")),
    ("comma-separated samplesheet", _write(SHEET, b"plate_id,file,layout,readout,batch\nP1,a,b,c,d\n"),
     ("plates.tsv", "is it tab-separated")),
    ("unknown readout", _sub(SHEET, "release\tB2", "calcein\tB2"),
     ("plate P03", "unknown readout 'calcein'", "luciferase")),
    ("unknown role", _sub(L03, 'role = "max_lysis"', 'role = "max"'),
     ("plate P03", "unknown role 'max'", "Roles are")),
    ("invalid cryo value", _sub(L03, 'cryo = "post_thaw"', 'cryo = "frozen"'),
     ("plate P03", "cryo 'frozen'", "fresh, post_thaw")),
    ("samplesheet and layout disagree",
     _chain(_regex(SHEET, r"\toperator$", "\toperator\ttarget"),
            _regex(SHEET, r"\tsimulated$", "\tsimulated\tSHP-77")),
     ("plate P01", "'target' is 'SHP-77' in the samplesheet but 'K562' in the layout")),
    ("exclusion of an unknown well", _write("config/exclusions.tsv",
     b"plate_id\twell\treason\twho\nP03\tH12\tsplash\tAB\n"),
     ("exclusions", "plate P03 well H12", "not a used well")),
    ("exclusion without who", _write("config/exclusions.tsv",
     b"plate_id\twell\treason\twho\nP03\tA1\tsplash\t\n"),
     ("exclusions", "line 2", "'who' is empty")),
    ("truncated BMG MARS export", _regex("config/data/P01.CSV", r"^D,(?:.*\n)*", ""),
     ("plate P01", "P01.CSV")),
    ("Gen5 export named as BMG MARS", _sub(SHEET, "P06.txt\tagilent_gen5", "P06.txt\tbmg_mars"),
     ("plate P06", "P06.txt")),
    ("multi-plate export without a choice", _append_plate("config/data/P06.txt"),
     ("plate P06", "holds several plates/reads", "plate_index")),
    ("ldh plate without effector controls", _sub(SHEET, "P03.toml\trelease", "P03.toml\tldh"),
     ("plate P03 well A2", "ldh needs effector_only", "Add them to the layout")),
]  # fmt: skip


def as_grid_csv(study: Path, plate: str) -> None:
    """Rewrite one plate of the study as ``grid_csv`` (its values, overflow kept)."""
    sheet = study / SHEET
    row = next(line for line in sheet.read_text().splitlines() if line.startswith(plate + "\t"))
    file, fmt = row.split("\t")[1:3]
    data = read_export(study / file, fmt).data.sort("row", "col")
    values = data["signal"].fill_null(0.0).to_numpy().reshape(8, 12)
    overflow = set(data.filter(pl.col("flag") == "overflow")["well"].to_list())
    (study / f"config/data/{plate}.csv").write_text(grid_csv(values, overflow, {}))
    (study / file).unlink()
    sheet.write_text(
        sheet.read_text().replace(f"{file}\t{fmt}", f"config/data/{plate}.csv\tgrid_csv")
    )


@pytest.fixture
def grid_study(small_study: Path) -> Path:
    """The example with P03 (release) and P05 (luciferase) as grid_csv, the catalogue's targets."""
    as_grid_csv(small_study, "P03")
    as_grid_csv(small_study, "P05")
    return small_study


def _hashes(study: Path) -> dict[str, str]:
    return {
        str(p.relative_to(study)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((study / "config").rglob("*"))
        if p.is_file()
    }


def test_catalogue_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("edit", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_stops_with_a_message_and_no_output(
    grid_study: Path, edit: Edit, fragments: tuple[str, ...]
) -> None:
    example_study = grid_study
    edit(example_study)
    before = _hashes(example_study)
    with pytest.raises(KillcurveInputError) as caught:
        run_stages(example_study)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    results = example_study / "results"
    assert not results.exists() or not [p for p in results.rglob("*") if p.is_file()]
    assert _hashes(example_study) == before, "a run modified its inputs"


def test_windows_line_endings_in_the_samplesheet_work(grid_study: Path) -> None:
    example_study = grid_study
    sheet = example_study / SHEET
    sheet.write_bytes(sheet.read_bytes().replace(b"\n", b"\r\n"))
    run_stages(example_study)
    assert (example_study / "results/tables/curves.csv").is_file()


def test_utf16_plate_file_works(grid_study: Path) -> None:
    example_study = grid_study
    plate = example_study / P03
    plate.write_bytes(plate.read_text().encode("utf-16"))
    run_stages(example_study)
    assert (example_study / "results/tables/comparisons.csv").is_file()
