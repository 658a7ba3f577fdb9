"""``agilent_gen5``: Agilent BioTek Gen5 text exports (tab-separated, UTF-8 or Latin-1).

A Gen5 export is a header (``Software Version``, ``Plate Number``, ``Date``,
``Reader Type:``, ``Reading Type`` …), ``Procedure Details``, an optional
``Layout`` matrix, then result matrices: a title line (``Results``, ``Lum``,
``Read 1:450,490``), a ``\\t1\\t2…`` column header and one line per plate row
whose last cell names the block (``LUM:Lum``, ``504,531``, ``od:600``).
Unlettered continuation lines under a row hold further blocks for the same
plate row (other reads of a multi-read protocol, or calculated values).
Multi-plate exports repeat the whole sequence per plate.

What becomes a read: blocks named like a raw measurement, ``[step:]measure``
where measure is a wavelength (``450``), an ex,em pair (``504,531``), ``Lum``,
or the measurement Gen5 names after the read mode of an unnamed ``Read`` step
(``Read<TAB>Alpha Endpoint`` gives ``Alpha``), and step is a ``Read`` step
named in the procedure or Gen5's default ``Read N``. The read name is that
label as written (``LUM:Lum``, ``fluor:579,616``, ``Read 1:450,490``,
``Alpha``).

Kinetic tables (``Time``, ``T° <read>``, one column per well; one line per
time point) are read with every time point: ``cycle``, ``time_s`` and
``timestamp`` (the ``Time`` cell as written, e.g. ``0:07:31``, counted by
Gen5 from the start of the run). Points a stopped run never read (time
``0:00:00`` after the first, all wells empty) are dropped and counted in
``metadata["unread_time_points"]``. A file may hold endpoint reads and
kinetic reads (Gen5 runs an endpoint read before a kinetic loop).

Other layouts of the same results: Gen5 saved as Excel (xlsx, same rows, the
tables starting in the second column) with the reads as rows of a ``Well``
table (``Well, A1, A2, …`` then ``<label>, v1, v2, …``), and Gen5's per-well
table (``Well ID, Name, Well, Conc/Dil, <label>, Count, Mean, Std Dev, CV``;
one line per well, the raw read in the column named by its label, the
statistics skipped).

Skipped, and listed in the metadata: calculated blocks (``NormLum``,
``Blank 504,531``, ``Log Alpha``, ``[Concentration]``, kinetic summaries
such as ``Max V [...]``, per-well statistics) under ``skipped_blocks``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl

from killcurve.io.readers.matrix import column_header
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import (
    KINETIC_HINT,
    Point,
    Record,
    build_export,
    clock_seconds,
    join_names,
    rename_keys,
)
from killcurve.io.readers.sheets import Sheets, is_workbook, read_sheets
from killcurve.io.readers.text import read_text
from killcurve.plate import row_name, split_well

FORMAT = "agilent_gen5"

_LABEL = re.compile(r"^(?:(?P<step>[^:\[\]]+):)?(?P<measure>[^:\[\]]+)$")
_MEASURE = re.compile(r"^(Lum|\d+(?:\.\d+)?(?:/\d+)?(?:,\d+(?:\.\d+)?(?:/\d+)?)?)$")
_DEFAULT_STEP = re.compile(r"^Read \d+$")
_UNNAMED_STEP = re.compile(r"^(?P<mode>\w+)\s+(Endpoint|Kinetic|Spectrum|Scan)$")
_MODES = ("Absorbance", "Fluorescence", "Luminescence")  # their data sets are named as above
_STATISTICS = ("Count", "Mean", "Std Dev", "CV (%)", "CV", "Well ID", "Name", "Conc/Dil")
_METADATA = {
    "Software Version": "software_version",
    "User Name:": "user",
    "Experiment File Path:": "experiment_file",
    "Protocol File Path:": "protocol_file",
    "Date": "read_date",
    "Time": "read_time",
    "Reader Type:": "instrument",
    "Reader Serial Number:": "serial_number",
    "Reading Type": "reading_type",
    "Plate Type": "plate_type",
}


def looks_like(text: str) -> bool:
    """Gen5: ``Software Version<TAB>`` near the top and a Gen5 plate header, or the per-well
    table header (``Well ID<TAB>Name<TAB>Well<TAB>Conc/Dil``)."""
    head = text[:4000]
    if head.lstrip().startswith("Well ID\tName\tWell\t"):
        return True
    return "Software Version\t" in head and any(
        key in head for key in ("Plate Number\t", "Reader Type:\t", "Procedure Details")
    )


def looks_like_book(sheets: Sheets) -> bool:
    """Gen5 saved as Excel: a sheet starting ``Software Version`` with a Gen5 plate header."""
    for rows in sheets.values():
        firsts = [row[0].strip() for row in rows[:30] if row]
        if firsts and firsts[0] == "Software Version" and "Reader Type:" in firsts:
            return True
    return False


def is_raw_label(label: str, steps: set[str], measures: frozenset[str] = frozenset()) -> bool:
    """True when a block label names a raw measurement rather than a calculation.

    ``measures``: measurement names of unnamed Read steps (``Alpha``).

    >>> is_raw_label("LUM:Lum", {"LUM"}), is_raw_label("504,531", set())
    (True, True)
    >>> is_raw_label("NormLum", {"LUM"}), is_raw_label("Blank Read 1:450", set())
    (False, False)
    >>> is_raw_label("Alpha", set(), frozenset({"Alpha"})), is_raw_label("Log Alpha", set())
    (True, False)
    """
    match = _LABEL.match(label)
    if not match or not (_MEASURE.match(match["measure"]) or match["measure"] in measures):
        return False
    step = match.group("step")
    return step is None or step in steps or bool(_DEFAULT_STEP.match(step))


def read_gen5(path: Path) -> PlateExport:
    """Read a Gen5 export (text or Excel): every raw read of every plate, kinetic ones with
    every time point."""
    path = Path(path)
    if is_workbook(path):
        sheets = read_sheets(path)
        book = next((r for r in sheets.values() if r and r[0] and r[0][0].strip()), [])
        rows = _Rows(["\t".join(_excel_cells(row)) for row in book])
    else:
        rows = _Rows(read_text(path, allow_latin1=True).splitlines())
    found, plates, steps, procedure = _header(rows)
    measures = frozenset(_unnamed_measures(procedure))
    results = _Results(steps, measures)
    results.read(rows)
    metadata = {"software": "Gen5", **rename_keys(found, _METADATA)}
    if plates:
        metadata["plates"] = join_names(plates)
    if procedure:
        metadata["procedure"] = " | ".join(procedure)
    if results.calculated:
        metadata["skipped_blocks"] = join_names(results.calculated)
    if results.unread:
        metadata["unread_time_points"] = str(results.unread)
    hint = (
        KINETIC_HINT
        if results.unread
        else "Export the plate results as a matrix (Results table) or as a per-well table."
    )
    return build_export(path, FORMAT, results.records, metadata, hint, results.tables)


def _excel_cells(row: list[str]) -> list[str]:
    """A workbook row as the text export writes it: Excel's date and time cells back as text.

    >>> _excel_cells(["Date", "2023-10-31 00:00:00"]), _excel_cells(["Time", "1899-12-31 16:24:02"])
    (['Date', '2023-10-31'], ['Time', '16:24:02'])
    """
    return [
        cell.removesuffix(" 00:00:00")
        .removeprefix("1899-12-31 ")
        .removeprefix("1899-12-30 ")
        .replace("\t", " ")
        .replace("\n", " ")
        .replace("\r", " ")
        for cell in row
    ]


def _filled(cells: list[str]) -> list[str]:
    """The non-empty cells of a row, stripped."""
    return [cell.strip() for cell in cells if cell.strip()]


def _kinetic_frame(
    kept: list[str],
    wells: list[tuple[int, tuple[str, int]]],
    stamps: list[tuple[str, float]],
    plate: int,
    label: str,
) -> pl.DataFrame:
    """One kinetic table's cells as a frame (the columns of ``cells_frame``'s ``tables``).

    ``kept``: the table's lines (time points, tab-separated), ``wells``: (column index,
    (row, col)) of each well column. The lines go to polars' CSV reader as they are, so
    that the 10⁵ cells of a long run become polars strings without a Python object each.
    """
    width = max(i for i, _ in wells) + 1
    n = len(kept)
    keys = [str(k) for k in range(len(wells))]
    table = pl.read_csv(
        io.StringIO("\n".join(kept)),
        separator="\t",
        has_header=False,
        schema=dict.fromkeys((f"c{i}" for i in range(width)), pl.String),
        quote_char=None,
        truncate_ragged_lines=True,
    ).select(pl.col(f"c{i}").alias(k) for k, (i, _) in zip(keys, wells, strict=True))
    where = pl.DataFrame(
        {
            "variable": keys,
            "row": [w[0] for _, w in wells],
            "col": [w[1] for _, w in wells],
        },
        schema={"variable": pl.String, "row": pl.String, "col": pl.Int32},
    )
    return (
        table.with_columns(
            pl.Series("cycle", range(1, n + 1), dtype=pl.Int32),
            pl.Series("time_s", [t for _, t in stamps], dtype=pl.Float64),
            pl.Series("timestamp", [t for t, _ in stamps], dtype=pl.String),
        )
        # unpivot stacks the wells' columns in order: each well's points in one run
        .unpivot(index=["cycle", "time_s", "timestamp"], value_name="raw")
        .join(where, on="variable", how="left", maintain_order="left")
        .with_columns(
            pl.col("raw").fill_null("").str.strip_chars(),
            pl.lit(plate, pl.Int32).alias("plate_index"),
            pl.lit(label).alias("read"),
        )
        .drop("variable")
    )


def _header(rows: list[list[str]]) -> tuple[dict[str, str], list[str], set[str], list[str]]:
    """Header facts (first plate wins), plate names, named Read steps, procedure lines."""
    found: dict[str, str] = {}
    plates: list[str] = []
    steps: set[str] = set()
    procedure: list[str] = []
    in_procedure = False
    keys = {*_METADATA, "Plate Number", "Read", "Procedure Details"}
    for cells in rows:
        if not in_procedure and cells[0].strip() not in keys:
            continue  # a result or kinetic line (thousands of cells): nothing of the header
        filled = _filled(cells)
        if not filled:  # the procedure is the first paragraph after its title
            in_procedure = in_procedure and not procedure
            continue
        first = cells[0].strip()
        if in_procedure:
            procedure.append(" ".join(filled))
        if first in _METADATA:
            found.setdefault(first, cells[1].strip() if len(cells) > 1 else "")
        if first == "Plate Number":
            plates.append(filled[-1])
        elif first == "Read" and len(filled) > 1 and not _UNNAMED_STEP.match(filled[1]):
            steps.add(filled[1])
        elif first == "Procedure Details" and not procedure:
            in_procedure = True
    return found, plates, steps, procedure


def _unnamed_measures(procedure: list[str]) -> list[str]:
    """Measurement names of unnamed Read steps other than the three Gen5 names by wavelength.

    >>> _unnamed_measures(["Read Alpha Endpoint", "Read Fluorescence Endpoint", "Read LUM"])
    ['Alpha']
    """
    out = []
    for line in procedure:
        step = _UNNAMED_STEP.match(line.removeprefix("Read").strip())
        if line.startswith("Read ") and step and step["mode"] not in _MODES:
            out.append(step["mode"])
    return out


class _Rows:
    """The export's lines, each split at tabs only when first read as cells (``rows[i]``):
    a kinetic table's 10³ lines of 10² cells go to polars' CSV reader unsplit."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._cells: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index: int) -> list[str]:
        cells = self._cells.get(index)
        if cells is None:
            cells = self._cells[index] = self.lines[index].split("\t")
        return cells

    def head(self, index: int, n: int) -> list[str]:
        """The first ``n`` cells of line ``index``, then the rest of the line as one string."""
        return self.lines[index].split("\t", n)


class _Results:
    """Walks the result rows of a Gen5 export and collects the raw reads."""

    def __init__(self, steps: set[str], measures: frozenset[str]) -> None:
        self.steps, self.measures = steps, measures
        self.records: list[Record | Point] = []
        self.tables: list[pl.DataFrame] = []
        self.calculated: list[str] = []
        self.unread = 0

    def raw(self, label: str) -> bool:
        """True when ``label`` names a raw read."""
        return is_raw_label(label, self.steps, self.measures)

    def read(self, rows: _Rows) -> None:
        """Collect every matrix, well table, per-well table and kinetic table of ``rows``."""
        plate, section, width = 0, "", 0
        row: str | None = None
        index = 0
        while index < len(rows):
            cells = rows[index]
            filled = _filled(cells)
            index += 1
            if not filled:
                row = None
                continue
            first = cells[0].strip()
            letter = row_name(first, 0) if first else row
            if first == "Plate Number":
                plate += 1
            elif len(filled) == 1 and filled[0] == first and letter is None:
                section, width, row = first, 0, None  # a block title: Layout, Results, Lum …
                continue
            if first == "" and (header := column_header(cells, 1)) and header == len(filled):
                width, row = header, None  # data lines end with a label
                continue
            if filled[0] in ("Well", "Time") and len(filled) > 2 and split_well(filled[-1]):
                at = next(i for i, c in enumerate(cells) if c.strip() == filled[0])
                table = self.kinetic if filled[0] == "Time" else self.well_table
                index = table(rows, index, at, max(plate, 1), section)
                width = 0
                continue
            if "Well ID" in filled and "Well" in filled:
                index = self.per_well(rows, index, cells, max(plate, 1))
                width = 0
                continue
            if not width or section == "Layout" or letter is None:
                continue
            row = letter
            self.matrix_row(cells, width, max(plate, 1), section, letter)

    def matrix_row(self, cells: list[str], width: int, plate: int, section: str, row: str) -> None:
        """One lettered (or continuation) row of a result matrix; the last cell names it."""
        label = cells[width + 1].strip() if len(cells) > width + 1 else ""
        label = label or (section if self.raw(section) else "1")
        if label != "1" and not self.raw(label):
            self.calculated.append(label)
            return
        padded = cells + [""] * (width + 1 - len(cells))
        self.records.extend(
            (plate, label, row, col, padded[col].strip()) for col in range(1, width + 1)
        )

    def well_table(
        self, rows: list[list[str]], index: int, at: int, plate: int, section: str
    ) -> int:
        """Rows ``<label>, v1, v2, …`` under a ``Well, A1, A2, …`` header at column ``at``."""
        wells = [split_well(c) for c in rows[index - 1][at + 1 :]]
        while index < len(rows) and _filled(rows[index]):
            cells = rows[index]
            label = cells[at].strip() if at < len(cells) else ""
            index += 1
            if not self.raw(label):
                self.calculated.append(label or section)
                continue
            values = cells[at + 1 :] + [""] * len(wells)
            self.records.extend(
                (plate, label, well[0], well[1], value.strip())
                for well, value in zip(wells, values, strict=False)
                if well is not None
            )
        return index

    def kinetic(self, rows: _Rows, index: int, at: int, plate: int, section: str) -> int:
        """Time points ``time, T°, v1, v2, …`` under a ``Time, T° <read>, A1, …`` header."""
        header = rows[index - 1]
        temperature = header[at + 1].strip() if len(header) > at + 1 else ""
        label = section or temperature.partition(" ")[2]
        wells = [(i, split_well(c)) for i, c in enumerate(header) if i > at and split_well(c)]
        raw = self.raw(label)
        if not raw:
            self.calculated.append(label)
        kept: list[str] = []
        stamps: list[tuple[str, float]] = []
        while index < len(rows):
            head = rows.head(index, at + 2)
            stamp = head[at].strip() if len(head) > at else ""
            if not stamp:
                break
            index += 1
            if not raw:
                continue
            seconds = clock_seconds(stamp)
            if seconds is None:
                continue
            if len(head) <= at + 2 or not head[at + 2].strip():  # no reading in any well
                self.unread += 1
                continue
            kept.append(rows.lines[index - 1])
            stamps.append((stamp, seconds))
        if kept:
            self.tables.append(_kinetic_frame(kept, wells, stamps, plate, label))
        return index

    def per_well(self, rows: list[list[str]], index: int, header: list[str], plate: int) -> int:
        """Gen5's per-well table: one row per well, a column per raw read and statistics."""
        names = [c.strip() for c in header]
        well_at = names.index("Well")
        reads = {i: n for i, n in enumerate(names) if n and i != well_at and self.raw(n)}
        self.calculated.extend(n for i, n in enumerate(names) if n and n not in _STATISTICS
                               and i != well_at and i not in reads)  # fmt: skip
        self.calculated.extend(n for n in names if n in ("Count", "Mean", "Std Dev", "CV (%)"))
        while index < len(rows) and _filled(rows[index]):
            cells = rows[index]
            index += 1
            well = split_well(cells[well_at]) if well_at < len(cells) else None
            if well is None:
                continue
            for at, read in reads.items():
                raw = cells[at].strip() if at < len(cells) else ""
                self.records.append((plate, read, well[0], well[1], raw))
        return index
