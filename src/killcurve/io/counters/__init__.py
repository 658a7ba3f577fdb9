"""Cell-counter export readers, one module per instrument family.

:func:`read_counter` is the one entry: it reads an export with the reader for
``fmt`` (``auto`` names the family from the file's content, whatever its
extension) and returns a :class:`CounterExport`: one row per sample with
``sample``, ``total_cells_per_ml``, ``viable_cells_per_ml`` (cells/mL),
``viability_pct`` (0–100), ``total_count``, ``viable_count``,
``measured_at``, ``instrument`` and ``note``, plus file-level ``metadata``
(see :class:`~killcurve.io.counters.model.CounterExport`).

==========================  ================  ==================================================
format                      module            exports
==========================  ================  ==================================================
``vi_cell_blu``             vi_cell_blu       Beckman Coulter Vi-CELL BLU CSV (UTF-8 or UTF-16)
``vi_cell_xr``              vi_cell_xr        Beckman Coulter Vi-CELL XR run summary (xls/xlsx),
                                              sample report (xlsx), result text (txt)
``chemometec_nucleoview``   nucleocounter     ChemoMetec NucleoView result CSV, one sample
``chemometec_nc_view``      nucleocounter     ChemoMetec NC-View result table CSV
``roche_cedex_hires``       cedex_hires       Roche Cedex HiRes data export (CSV/xlsx)
``revvity_matrix``          revvity_matrix    Revvity Cellaca MX / Matrix results (CSV/xlsx)
``generic_csv``             generic_csv       hand-made CSV with the common column names
==========================  ================  ==================================================

Common rules (in :mod:`~killcurve.io.counters.model`): concentrations are
converted to cells/mL by the unit their header states (x10^6, x10^5, E6);
a unit that is not stated is an error (except the Cedex convention, see
:mod:`~killcurve.io.counters.cedex_hires`); values the instrument annotated or
wrote as text are left empty and quoted in ``note``; viable above total,
viability outside 0–100 % and concentrations outside 10^3–10^10 cells/mL are
refused with the file and row named.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.counters import (
    cedex_hires,
    generic_csv,
    nucleocounter,
    revvity_matrix,
    vi_cell_blu,
    vi_cell_xr,
)
from killcurve.io.counters.model import COLUMNS, CounterExport
from killcurve.io.detect import detect_format
from killcurve.io.readers.sheets import Sheets

Reader = Callable[[Path], CounterExport]

#: Format name -> reader.
READERS: dict[str, Reader] = {
    vi_cell_blu.FORMAT: vi_cell_blu.read_vi_cell_blu,
    vi_cell_xr.FORMAT: vi_cell_xr.read_vi_cell_xr,
    nucleocounter.NUCLEOVIEW: nucleocounter.read_nucleoview,
    nucleocounter.NC_VIEW: nucleocounter.read_nc_view,
    cedex_hires.FORMAT: cedex_hires.read_cedex_hires,
    revvity_matrix.FORMAT: revvity_matrix.read_revvity_matrix,
    generic_csv.FORMAT: generic_csv.read_generic_csv,
}

#: Text formats in the order :func:`sniff` tries them.
TEXT_SNIFFERS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (vi_cell_xr.FORMAT, vi_cell_xr.looks_like),
    (vi_cell_blu.FORMAT, vi_cell_blu.looks_like),
    (nucleocounter.NUCLEOVIEW, nucleocounter.looks_like_nucleoview),
    (nucleocounter.NC_VIEW, nucleocounter.looks_like_nc_view),
    (cedex_hires.FORMAT, cedex_hires.looks_like),
    (revvity_matrix.FORMAT, revvity_matrix.looks_like),
    (generic_csv.FORMAT, generic_csv.looks_like),
)
#: Workbook formats in the order :func:`sniff` tries them.
BOOK_SNIFFERS: tuple[tuple[str, Callable[[Sheets], bool]], ...] = (
    (vi_cell_xr.FORMAT, vi_cell_xr.looks_like_book),
    (cedex_hires.FORMAT, cedex_hires.looks_like_book),
    (revvity_matrix.FORMAT, revvity_matrix.looks_like_book),
)

_LOG = logging.getLogger(__name__)


def sniff(path: Path) -> str:
    """Name the counter format of ``path`` from its content, or stop with what the file held."""
    name, head = detect_format(path, TEXT_SNIFFERS, BOOK_SNIFFERS)
    if name is not None:
        return name
    raise KillcurveInputError(
        f"{path}: not a cell-counter export this version knows. Known formats: "
        f"{', '.join(READERS)}. The file starts with:\n{head}\nExport the counts from the "
        "counter software in one of these formats, or copy them into a generic_csv file "
        "(columns sample, total_cells_per_ml, viable_cells_per_ml and/or viability_pct)."
    )


def read_counter(path: Path, fmt: str = "auto") -> CounterExport:
    """Read a cell-counter export with the reader for ``fmt`` (``auto``: sniffed from content).

    With ``auto`` the chosen family is logged and noted in
    ``metadata["format_detection"]``. Whatever goes wrong inside a reader
    reaches the caller as a :class:`KillcurveInputError` naming the file.
    """
    path = Path(path)
    if fmt != "auto" and fmt not in READERS:
        raise KillcurveInputError(
            f"{path}: unknown cell-counter format {fmt!r}. Known formats: auto, "
            f"{', '.join(READERS)}."
        )
    try:
        chosen = sniff(path) if fmt == "auto" else fmt
        export = READERS[chosen](path)
    except KillcurveInputError:
        raise
    except Exception as err:  # a reader met input it does not understand
        raise KillcurveInputError(
            f"{path}: could not be read as a {fmt if fmt != 'auto' else 'cell-counter'} export "
            f"({type(err).__name__}: {err}). Check that the format matches the file "
            "(or use auto), or re-export the counts from the counter software."
        ) from err
    if fmt == "auto":
        _LOG.info("%s: cell-counter format auto -> %s", path, chosen)
        metadata = {**export.metadata, "format_detection": f"auto: content matches {chosen}"}
        export = replace(export, metadata=metadata)
    return export


__all__ = ["COLUMNS", "READERS", "CounterExport", "read_counter", "sniff"]
