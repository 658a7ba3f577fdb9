"""Plate-reader export readers, one module per instrument family.

:func:`read_export` is the one entry: it dispatches on the samplesheet's
``format`` (``auto`` sniffs the family from the file's content, whatever its
extension). Every reader returns a :class:`PlateExport` whose ``data`` has the
columns of :func:`~killcurve.io.readers.cells.cells_frame` and whose
``metadata`` keeps the file-level facts (instrument, serial number, software,
read date, read settings, and which blocks were skipped).

Formats (``READERS`` keys) and their modules:

========================  ================  =========================================
format                    module            exports
========================  ================  =========================================
``grid_csv``              grid_csv          a bare ``,1,2,…`` grid (simulated data)
``agilent_gen5``          gen5              Agilent BioTek Gen5 text or xlsx, per-well table
``moldev_softmax_pro``    softmax_pro       Molecular Devices SoftMax Pro text
``bmg_mars``              bmg               BMG Labtech MARS CSV (plate or table)
``bmg_smart_control``     bmg               BMG Labtech SMART Control xlsx
``perkin_elmer_envision`` envision          Revvity/PerkinElmer EnVision CSV
``revvity_kaleido``       kaleido           Revvity Kaleido CSV (EnSight; Kaleido 2.0 and 3.x)
``revvity_victor``        victor            Revvity VICTOR Nivo CSV, VICTOR X3 (Wallac) text
``tecan_magellan``        tecan             Tecan Magellan xlsx (list or matrix)
``tecan_spark``           tecan             Tecan SparkControl xlsx or CSV
``tecan_icontrol``        tecan             Tecan i-control xlsx (Infinite M200/M1000)
``promega_glomax``        glomax            Promega GloMax Navigator xlsx
``thermo_skanit``         skanit            Thermo Fisher SkanIt xlsx
``flowjo_csv``            flow_table        FlowJo statistics table, one row per well
``cell_index_csv``        cell_index        impedance cell index, one row per well and sweep
``incucyte``              incucyte          Incucyte / IncuCyte ZOOM metric over time (text)
``xcelligence_rtca``      rtca_export       xCELLigence RTCA / RTCA Pro xlsx, cell index per sweep
``tidy_csv``              tidy_csv          one row per well or point (never sniffed)
========================  ================  =========================================

Common rules: calculated blocks (blank-corrected, concentrations,
normalised, ratios, reduced data) are *skipped*, never returned as reads, and
named in ``metadata["skipped_blocks"]``. Kinetic reads come with every time
point: one row per well per time point, with ``cycle``, ``time_s`` (seconds
since the read's first reading) and ``timestamp`` (the file's own time text);
endpoint reads have those null. Overflow markers stay flagged wells
(``signal`` null). A file with several plates or reads, or a kinetic read,
needs :func:`select_plate` to choose one plate, read and time point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.io.detect import detect_format
from killcurve.io.readers import (
    bmg,
    cell_index,
    envision,
    flow_table,
    gen5,
    glomax,
    incucyte,
    kaleido,
    rtca_export,
    skanit,
    softmax_pro,
    tecan,
    tidy_csv,
    victor,
)
from killcurve.io.readers.grid_csv import looks_like as _looks_like_grid
from killcurve.io.readers.grid_csv import read_grid_csv
from killcurve.io.readers.hints import nearest_format
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.select import select_plate
from killcurve.io.readers.sheets import Sheets

Reader = Callable[[Path], PlateExport]

#: Format name -> reader. The samplesheet's ``format`` column takes these names or ``auto``.
READERS: dict[str, Reader] = {
    "grid_csv": read_grid_csv,
    gen5.FORMAT: gen5.read_gen5,
    softmax_pro.FORMAT: softmax_pro.read_softmax_pro,
    bmg.MARS: bmg.read_mars,
    bmg.SMART_CONTROL: bmg.read_smart_control,
    envision.FORMAT: envision.read_envision,
    kaleido.FORMAT: kaleido.read_kaleido,
    tecan.MAGELLAN: tecan.read_magellan,
    tecan.SPARK: tecan.read_spark,
    tecan.ICONTROL: tecan.read_icontrol,
    victor.FORMAT: victor.read_victor,
    glomax.FORMAT: glomax.read_glomax,
    skanit.FORMAT: skanit.read_skanit,
    flow_table.FORMAT: flow_table.read_flowjo,
    cell_index.FORMAT: cell_index.read_cell_index,
    incucyte.FORMAT: incucyte.read_incucyte,
    rtca_export.FORMAT: rtca_export.read_rtca_export,
    tidy_csv.FORMAT: tidy_csv.read_tidy_csv,
}

#: Text formats in the order they are tried by :func:`sniff`.
TEXT_SNIFFERS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (softmax_pro.FORMAT, softmax_pro.looks_like),
    (gen5.FORMAT, gen5.looks_like),
    (bmg.MARS, bmg.looks_like_mars),
    (envision.FORMAT, envision.looks_like),
    (kaleido.FORMAT, kaleido.looks_like),
    (victor.FORMAT, victor.looks_like),
    (tecan.SPARK, tecan.looks_like_spark_csv),
    (flow_table.FORMAT, flow_table.looks_like),
    (cell_index.FORMAT, cell_index.looks_like),
    (incucyte.FORMAT, incucyte.looks_like),
    ("grid_csv", _looks_like_grid),
)
#: Workbook formats in the order they are tried by :func:`sniff`.
BOOK_SNIFFERS: tuple[tuple[str, Callable[[Sheets], bool]], ...] = (
    (rtca_export.FORMAT, rtca_export.looks_like),
    (gen5.FORMAT, gen5.looks_like_book),
    (tecan.SPARK, tecan.looks_like_spark),
    (tecan.ICONTROL, tecan.looks_like_icontrol),
    (tecan.MAGELLAN, tecan.looks_like_magellan),
    (glomax.FORMAT, glomax.looks_like),
    (skanit.FORMAT, skanit.looks_like),
    (bmg.SMART_CONTROL, bmg.looks_like_smart_control),
)

_LOG = logging.getLogger(__name__)


def sniff(path: Path) -> str:
    """Name the format of ``path`` from its content, or stop with what the file looked like."""
    name, head = detect_format(path, TEXT_SNIFFERS, BOOK_SNIFFERS)
    if name is not None:
        return name
    nearest = nearest_format(path)
    raise KillcurveInputError(
        f"{path}: format not recognised. {nearest + ' ' if nearest else ''}"
        f"Known formats: {', '.join(sorted(READERS))}. "
        f"The file starts with:\n{head}\nSet the samplesheet's format column to one of them, "
        "or export the plate in one of these formats."
    )


def read_export(path: Path, fmt: str = "auto") -> PlateExport:
    """Read a plate-reader export with the reader for ``fmt`` (``auto``: sniffed).

    With ``auto`` the chosen family is logged and noted in
    ``metadata["format_detection"]``. Whatever goes wrong inside a reader
    reaches the caller as a :class:`KillcurveInputError` naming the file.
    """
    path = Path(path)
    try:
        chosen = sniff(path) if fmt == "auto" else fmt
    except KillcurveInputError:
        raise
    except Exception as err:  # a sniffer met bytes it does not understand
        raise KillcurveInputError(
            f"{path}: could not tell its format ({type(err).__name__}: {err}). "
            "Set the samplesheet's format column, or re-export the plate."
        ) from err
    if chosen not in READERS:
        raise KillcurveInputError(
            f"{path}: unknown format {fmt!r}. Known formats: auto, {', '.join(sorted(READERS))}."
        )
    try:
        export = READERS[chosen](path)
    except KillcurveInputError:
        raise
    except Exception as err:  # a reader met input it does not understand
        raise KillcurveInputError(
            f"{path}: could not be read as {chosen} ({type(err).__name__}: {err}). "
            "Check that the samplesheet's format matches the file (or use auto), "
            "or re-export the plate from the reader software."
        ) from err
    if fmt == "auto":
        _LOG.info("%s: format auto -> %s", path, chosen)
        metadata = {**export.metadata, "format_detection": f"auto: content matches {chosen}"}
        export = replace(export, metadata=metadata)
    return export


__all__ = ["READERS", "PlateExport", "read_export", "select_plate", "sniff"]
