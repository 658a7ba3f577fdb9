"""The viability samplesheet joined to the cell-counter files it names.

The viability samplesheet (config key ``viability.samplesheet``) is
tab-separated, one row per counted replicate; blank lines and ``#`` lines are
ignored. Columns:

==========================  ==========================================================
``file``                    the counter export, relative to the study directory
``format``                  its reader (``vi_cell_blu``, ``generic_csv``, …) or ``auto``;
                            optional, empty means ``auto``
``sample``                  the sample ID as written in that file
``product``, ``lot``        the product and its lot
``timepoint_h``             hours after thaw (0, 4, 24 …)
``replicate``               replicate id within product × lot × time point
``volume_ml``               volume of thawed suspension the count stands for (mL)
``prefreeze_viable_cells``  viable cells frozen for this lot (cells; the same on every row
                            of the lot)
==========================  ==========================================================

Several rows may point to one file; each file is read once per format.
:func:`viability_counts` returns the sheet with the counter's
``total_cells_per_ml``, ``viable_cells_per_ml`` (cells/mL) and
``viability_pct`` (%) of each row's sample, plus ``line`` (the row's line in
the sheet, for messages): the input of :func:`killcurve.viability.lot_viability`.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.io.samplesheet import resolve_in_study
from killcurve.io.sheets import data_lines, read_sheet

#: The cell-counter formats (:data:`killcurve.io.counters.READERS`, tested equal), named here
#: so that checking the sheet when the workflow is parsed does not import the readers (and
#: pandas with them: 0.6 s of every Snakemake start).
COUNTER_FORMATS = (
    "vi_cell_blu",
    "vi_cell_xr",
    "chemometec_nucleoview",
    "chemometec_nc_view",
    "roche_cedex_hires",
    "revvity_matrix",
    "generic_csv",
)
#: Columns every row of the viability samplesheet fills (``format`` may be empty: auto).
REQUIRED_COLUMNS = (
    "file",
    "sample",
    "product",
    "lot",
    "timepoint_h",
    "replicate",
    "volume_ml",
    "prefreeze_viable_cells",
)
#: The counter values joined onto each row.
VALUE_COLUMNS = ("total_cells_per_ml", "viable_cells_per_ml", "viability_pct")


def read_viability_sheet(path: Path, study_dir: Path) -> pl.DataFrame:
    """The viability samplesheet as text columns, with ``format`` filled and ``line`` added.

    ``line`` is the row's line number in the file (comments and blank lines
    counted). Stops with a :class:`KillcurveInputError` naming the sheet and
    line when the file is missing, a required column is missing or empty, a
    format is unknown, or a counter file does not exist inside ``study_dir``
    (the first problem of :func:`check_viability_sheet`).
    """
    sheet, problems = check_viability_sheet(path, study_dir)
    if problems:
        raise KillcurveInputError(problems[0])
    return sheet


def sheet_name(path: Path) -> str:
    """How messages name the viability samplesheet at ``path``."""
    return f"viability samplesheet {path}"


def check_viability_sheet(path: Path, study_dir: Path) -> tuple[pl.DataFrame, list[str]]:
    """The rows of the viability samplesheet that pass the row checks, and a message for each
    problem, in line order: an empty required cell, an unknown format, a counter file that
    does not exist inside ``study_dir`` (named once, at the first row naming it; the rows
    naming it are left out). Problems of the whole sheet (no file, no rows, a missing
    column, a cell spanning lines) stop with a :class:`KillcurveInputError`.
    """
    path = Path(path)
    where = sheet_name(path)
    if not path.is_file():
        raise KillcurveInputError(
            f"{where}: file not found. Set config key 'viability.samplesheet' to the path of "
            "the viability samplesheet, relative to the study directory."
        )
    sheet = read_sheet(path, "viability samplesheet", ())
    if sheet is None:
        raise KillcurveInputError(
            f"{where}: no rows. Add one tab-separated row per counted replicate with columns "
            f"{', '.join(REQUIRED_COLUMNS)} (and format)."
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in sheet.columns]
    if missing:
        hint = " (is it tab-separated?)" if len(sheet.columns) == 1 else ""
        raise KillcurveInputError(
            f"{where}: missing column(s) {', '.join(missing)}{hint}. Required columns: "
            f"{', '.join(REQUIRED_COLUMNS)}; optional: format."
        )
    if "format" not in sheet.columns:
        sheet = sheet.with_columns(format=pl.lit(None, pl.String))
    sheet = sheet.with_columns(
        format=pl.col("format").replace("", None).fill_null("auto"),
        line=pl.Series(data_lines(path), dtype=pl.Int64),
    )
    problems, keep = [], []
    found: set[str] = set()  # counter files checked (many rows share one file)
    absent: set[str] = set()  # counter files found missing (named once)
    for row in sheet.iter_rows(named=True):
        problem = _row_problem(row, f"{where} line {row['line']}", study_dir, found, absent)
        if problem is not None:
            problems.append(problem)
        keep.append(problem is None and row["file"] not in absent)
    return sheet.filter(pl.Series(keep, dtype=pl.Boolean)), problems


def _row_problem(
    row: dict, place: str, study_dir: Path, found: set[str], absent: set[str]
) -> str | None:
    """What is wrong with one viability samplesheet row, or None (also for a row naming a
    counter file already reported missing). ``found``/``absent``: counter files seen to exist
    or not, updated here so that each file is looked up and reported once."""
    empty = [c for c in REQUIRED_COLUMNS if not row[c]]
    if empty:
        return f"{place}: {', '.join(empty)} is empty. Fill it in."
    if row["format"] != "auto" and row["format"] not in COUNTER_FORMATS:
        return (
            f"{place}: unknown cell-counter format {row['format']!r}. Known formats: "
            f"auto, {', '.join(COUNTER_FORMATS)}."
        )
    if row["file"] in found or row["file"] in absent:
        return None
    absent.add(row["file"])
    try:
        target = resolve_in_study(study_dir, row["file"], f"{place} file")
    except KillcurveInputError as err:
        return str(err)
    if not target.is_file():
        return (
            f"{place}: counter file {row['file']!r} does not exist (looked in {target}). "
            "Fix the path (relative to the study directory) or add the file."
        )
    absent.discard(row["file"])
    found.add(row["file"])
    return None


def viability_counts(sheet: pl.DataFrame, study_dir: Path, sheet_path: Path) -> pl.DataFrame:
    """``sheet`` (from :func:`read_viability_sheet`) with each row's counter values joined.

    Adds ``total_cells_per_ml``, ``viable_cells_per_ml`` (cells/mL) and
    ``viability_pct`` (%) of the row's ``sample`` in its ``file``, read with
    :func:`~killcurve.io.counters.read_counter` in the row's ``format``.
    Stops naming the sheet line, file and sample when the file cannot be read,
    the sample is not in it or is in it more than once, or the counter gave
    no total, or neither viable cells nor viability, for it (the first problem of
    :func:`check_viability_counts`).
    """
    counts, problems = check_viability_counts(sheet, study_dir, sheet_path)
    if problems:
        raise KillcurveInputError(problems[0])
    return counts


def check_viability_counts(
    sheet: pl.DataFrame, study_dir: Path, sheet_path: Path
) -> tuple[pl.DataFrame, list[str]]:
    """The rows of ``sheet`` whose counts could be joined (as :func:`viability_counts`), and a
    message for each problem: first every counter file that cannot be read (in sheet order;
    its rows are left out), then every row whose sample has no usable count in its file."""
    from killcurve.io.counters import read_counter

    where = sheet_name(sheet_path)
    problems = []
    exports: dict[tuple[str, str], pl.DataFrame] = {}
    for row in sheet.unique(["file", "format"], maintain_order=True).iter_rows(named=True):
        try:
            export = read_counter(Path(study_dir) / row["file"], row["format"])
        except KillcurveInputError as err:
            problems.append(
                f"{where} line {row['line']}: counter file {row['file']!r} "
                f"(format {row['format']}): {err}"
            )
            continue
        exports[row["file"], row["format"]] = export.data
    keep, values = [], []
    for row in sheet.iter_rows(named=True):
        export = exports.get((row["file"], row["format"]))
        if export is not None:
            try:
                values.append(_sample_values(export, row, where))
            except KillcurveInputError as err:
                problems.append(str(err))
                export = None
        keep.append(export is not None)
    joined = pl.DataFrame(values, schema=dict.fromkeys(VALUE_COLUMNS, pl.Float64), orient="row")
    kept = sheet.filter(pl.Series(keep, dtype=pl.Boolean))
    return pl.concat([kept, joined], how="horizontal"), problems


def load_viability_counts(path: Path, study_dir: Path) -> pl.DataFrame:
    """Read the viability samplesheet at ``path`` and join its counter values (both above)."""
    return viability_counts(read_viability_sheet(path, study_dir), study_dir, path)


def _sample_values(data: pl.DataFrame, row: dict, where: str) -> tuple[float | None, ...]:
    """Total, viable (cells/mL) and viability (%) of ``row['sample']`` in one export's data."""
    place = f"{where} line {row['line']} (sample {row['sample']!r} in {row['file']!r})"
    hits = data.filter(pl.col("sample") == row["sample"])
    if hits.height == 0:
        known = data["sample"].unique(maintain_order=True).to_list()
        shown = ", ".join(repr(s) for s in known[:20]) + (", …" if len(known) > 20 else "")
        raise KillcurveInputError(
            f"{place}: the file has no such sample. Its samples: {shown}. Correct the sample "
            "ID in the viability samplesheet, or point the row to the file that holds it."
        )
    if hits.height > 1:
        raise KillcurveInputError(
            f"{place}: the file has {hits.height} results with this sample ID, so the count "
            "meant is unclear. Give the samples distinct IDs in the counter software (or "
            "copy the one meant into a generic_csv file) and point the row to it."
        )
    found = hits.row(0, named=True)
    lacking = "total cells/mL" if found["total_cells_per_ml"] is None else None
    if found["viable_cells_per_ml"] is None and found["viability_pct"] is None:
        lacking = "viable cells/mL or viability"
    if lacking:
        note = f" (the counter noted: {found['note']})" if found["note"] else ""
        raise KillcurveInputError(
            f"{place}: the counter gave no {lacking} for this sample{note}. Recount the "
            "sample, or remove the row from the viability samplesheet."
        )
    return tuple(found[c] for c in VALUE_COLUMNS)
