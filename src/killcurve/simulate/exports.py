"""Writing simulated readings as instrument exports (used by the simulator).

Plate readers: each writer lays out a 96-well grid the way the instrument's
software does, with the metadata block above it, so that simulated studies
exercise the same readers as real ones. Overflowing wells are written with the
instrument's own marker. Readings are rounded to whole counts.

Cell counters: each writer lays out a list of :class:`Count` rows the way
the counter's software exports them (columns, units, rounding, line ends as
in the real files of ``../shared/reference/cell_counters``), so that
:func:`killcurve.io.counters.read_counter` reads them like real exports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from killcurve.plate import row_letter

Writer = Callable[[np.ndarray, set[str], dict[str, str]], str]


def _cells(
    values: np.ndarray, overflow: set[str], marker: str, decimals: int = 0
) -> list[list[str]]:
    return [
        [
            marker if f"{row_letter(i)}{j}" in overflow else f"{v:.{decimals}f}"
            for j, v in enumerate(row, start=1)
        ]
        for i, row in enumerate(values)
    ]


def grid_csv(
    values: np.ndarray, overflow: set[str], meta: dict[str, str], decimals: int = 0
) -> str:
    """``grid_csv``: ``,1,…,12`` header, one row per plate row; overflow as ``OVRFLW``;
    readings to ``decimals`` places (whole counts by default)."""
    header = "," + ",".join(str(c) for c in range(1, values.shape[1] + 1))
    body = [
        f"{row_letter(i)}," + ",".join(cells)
        for i, cells in enumerate(_cells(values, overflow, "OVRFLW", decimals))
    ]
    return "\n".join([header, *body]) + "\n"


def bmg_mars(values: np.ndarray, overflow: set[str], meta: dict[str, str]) -> str:
    """BMG Labtech MARS CSV (PHERAstar/CLARIOstar fluorescence endpoint), CRLF line ends."""
    n_cols = values.shape[1]
    lines = [
        f"User: USER,Path: C:\\Program Files (x86)\\BMG\\CLARIOstar\\User\\Data,"
        f"Test run no.: {meta['run']}",
        f"Test name: {meta['test']},Date: {meta['date_us']},Time: {meta['time']}",
        "",
        f"ID1: {meta['plate_id']},",
        "Fluorescence (FI)",
        "",
        "Raw Data (485/520)",
        "",
        "," + ",".join(str(c) for c in range(1, n_cols + 1)) + ",",
        *(
            f"{row_letter(i)}," + ",".join(cells)
            for i, cells in enumerate(_cells(values, overflow, "overflow"))
        ),
        "",
    ]
    return "\r\n".join(lines)


def agilent_gen5(values: np.ndarray, overflow: set[str], meta: dict[str, str]) -> str:
    """Agilent BioTek Gen5 text export (Synergy luminescence endpoint), CRLF, tab-separated."""
    n_cols = values.shape[1]
    head = [
        "",
        "",
        "Software Version\t3.12.08",
        "",
        "",
        "",
        f"Experiment File Path:\tC:\\Users\\Public\\Documents\\Experiments\\{meta['plate_id']}.xpt",
        "Protocol File Path:\tC:\\Users\\Public\\Documents\\Protocols\\killing_lum.prt",
        "",
        "",
        "",
        "Plate Number\tPlate 1",
        f"Date\t{meta['date_us']}",
        f"Time\t{meta['time']}",
        "Reader Type:\tSynergy H1",
        "Reader Serial Number:\t21051414",
        "Reading Type\tReader",
        "",
        "Procedure Details",
        "",
        "Plate Type\t96 WELL PLATE (Use plate lid)",
        "Read\tLuminescence Endpoint",
        "\tFull Plate",
        "\tIntegration Time: 0:01.00 (MM:SS.ss)",
        "\tFilter Set 1",
        "\t    Emission: Full light",
        "\t    Optics: Top,  Gain: 135",
        "\tRead Height: 4.5 mm",
        "",
        "Results",
        "\t" + "\t".join(str(c) for c in range(1, n_cols + 1)),
    ]
    body = [
        f"{row_letter(i)}\t" + "\t".join(cells) + "\tLum"
        for i, cells in enumerate(_cells(values, overflow, "OVRFLW"))
    ]
    return "\r\n".join([*head, *body, ""])


#: Format name (as the readers know it) -> writer.
WRITERS: dict[str, Writer] = {
    "grid_csv": grid_csv,
    "bmg_mars": bmg_mars,
    "agilent_gen5": agilent_gen5,
}
#: File suffix of each written format.
SUFFIX = {"grid_csv": ".csv", "bmg_mars": ".CSV", "agilent_gen5": ".txt"}


# --- Cell-counter exports -------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """One counted sample: objects seen by the counter and the concentrations it reports.

    ``total_per_ml`` and ``viable_per_ml`` are cells/mL of the counted
    suspension (count / analysed volume × dilution); the viability a counter
    reports is 100 · ``viable_count`` / ``total_count`` (%), from the counts,
    not from the rounded concentrations.
    """

    sample: str
    total_count: int
    viable_count: int
    total_per_ml: float
    viable_per_ml: float
    measured_at: datetime

    @property
    def viability_pct(self) -> float:
        """Viable / total objects counted, in %."""
        return 100.0 * self.viable_count / self.total_count


CounterWriter = Callable[[list[Count]], str]

#: Volume of suspension each counter images per count (mL): counts = cells/mL × this.
#: Vi-CELL BLU 100 images ≈ 2.81 µL (CLB001 of the corpus: 2191 objects at 0.78e6/mL);
#: NC-202 Via2-Cassette ≈ 1.5 µL; a haemocytometer's four large squares 0.4 µL.
ANALYSED_ML = {"vi_cell_blu": 2.81e-3, "chemometec_nc_view": 1.5e-3, "generic_csv": 4.0e-4}


def _short(value: float, decimals: int) -> str:
    """``value`` rounded to ``decimals``, trailing zeros dropped, as counter software writes.

    >>> _short(96.9049, 2), _short(0.7, 2), _short(49.0, 1)
    ('96.9', '0.7', '49')
    """
    return f"{round(value, decimals):.{decimals}f}".rstrip("0").rstrip(".")


VI_CELL_BLU_HEADER = (
    "Sample ID,Cell count,Viable cells,Total (x10^6) cells/mL,Viable (x10^6) cells/mL,"
    "Viability (%),Average diameter (μm),Average viable diameter (μm),Average circularity,"
    "Average viable circularity,Average cells per image,Average background intensity,"
    "Bubble count,Cluster count,Images for analysis,Cell type,Minimum Diameter (μm),"
    "Maximum Diameter (μm),Images,Cell sharpness,Minimum circularity,Decluster degree,"
    "Aspiration cycles,Viable spot brightness (%),Viable spot area (%),Mixing cycles,"
    "Analysis date/time,Reanalysis date/time,Analysis by,Reanalysis by,Dilution,Wash,Tag"
)


def vi_cell_blu(counts: list[Count]) -> str:
    """Beckman Coulter Vi-CELL BLU result CSV: UTF-8, CRLF, unquoted, 33 columns.

    Mirrors the corpus file ``Beckman_Vi-Cell-BLU_example01.csv``: concentrations
    in 10^6 cells/mL with 2 decimals, viability in % with 2 decimals (trailing
    zeros dropped), ``Analysis date/time`` as ``M/D/YYYY H:MM``, 100 images,
    an empty ``Tag`` column. Diameters are those of lymphocyte-sized cells
    (dead cells shrink: the mean falls with viability).
    """
    lines = [VI_CELL_BLU_HEADER]
    for c in counts:
        dead = 1.0 - c.viable_count / c.total_count
        when = c.measured_at
        lines.append(
            ",".join(
                [
                    c.sample,
                    str(c.total_count),
                    str(c.viable_count),
                    _short(c.total_per_ml / 1e6, 2),
                    _short(c.viable_per_ml / 1e6, 2),
                    _short(c.viability_pct, 2),
                    _short(10.9 - 2.5 * dead, 2),
                    "11.02",
                    "0.9",
                    "0.91",
                    str(round(c.total_count / 100)),
                    "134",
                    "0",
                    str(round(40 * dead)),
                    "100",
                    "NK cells",
                    "6",
                    "30",
                    "100",
                    "7",
                    "0.1",
                    "Medium",
                    "3",
                    "50",
                    "5",
                    "3",
                    f"{when.month}/{when.day}/{when.year} {when.hour}:{when.minute:02d}",
                    "",
                    "Vi-CELL",
                    "",
                    "1",
                    "Normal Wash",
                    "",
                ]
            )
        )
    return "\r\n".join(lines) + "\r\n"


NC_VIEW_HEADER = (
    "NAME,SAMPLE ID,TAGS,PROTOCOL,MEDIA,USER,OPERATOR,SIGNED BY,INSTRUMENT,STATUS,"
    "TOTAL (cells/ml),LIVE (cells/ml),DEAD (cells/ml),VIABILITY (%),DIAMETER (µm),"
    "AGGREGATES (%),DEBRIS INDEX,DILUTION FACTOR"
)


def _nc_number(value: float) -> str:
    """NC-View's number: 3 significant digits, no-break-space thousands below 10^6, else E.

    >>> _nc_number(274_012.0), _nc_number(54_449.0), _nc_number(1_071_000.0)
    ('274\\xa0000', '54\\xa0400', '1.07E+06')
    """
    rounded = float(f"{value:.3g}")
    if rounded >= 1e6:
        return f"{rounded:.2E}"
    return f"{rounded:,.0f}".replace(",", "\u00a0")


def chemometec_nc_view(counts: list[Count]) -> str:
    """ChemoMetec NC-View (NucleoCounter NC-202) result table CSV: UTF-8, CRLF, no final newline.

    Mirrors the corpus file ``chememotec_nc_view_example.csv``: ``NAME`` is the
    run id ``YYYYMMDD-NNNNN``, concentrations in cells/mL with 3 significant
    digits (``274 000`` with a no-break space below 10^6, ``1.07E+06`` above),
    viability in % with 1 decimal; no timestamp column.
    """
    lines = [NC_VIEW_HEADER]
    for run, c in enumerate(counts, start=1):
        dead = c.total_per_ml - c.viable_per_ml
        lines.append(
            ",".join(
                [
                    f"{c.measured_at:%Y%m%d}-{run:05d}",
                    c.sample,
                    "",
                    "Count & Viability",
                    "Via2-Cassette",
                    "na",
                    "sim",
                    "",
                    "S/N: 9002020100000001",
                    "OK",
                    _nc_number(c.total_per_ml),
                    _nc_number(c.viable_per_ml),
                    _nc_number(dead),
                    _short(c.viability_pct, 1),
                    "14.8",
                    "6.1",
                    "20",
                    "1",
                ]
            )
        )
    return "\r\n".join(lines)


def generic_csv_counts(counts: list[Count]) -> str:
    """``generic_csv`` counts: cells/mL as whole numbers, viability with 1 decimal, ISO times.

    The hand-made format of :mod:`killcurve.io.counters.generic_csv` (e.g. a
    haemocytometer count typed in), LF line ends.
    """
    lines = [
        "sample,total_cells_per_ml,viable_cells_per_ml,viability_pct,total_count,"
        "viable_count,measured_at,instrument"
    ]
    lines += [
        f"{c.sample},{c.total_per_ml:.0f},{c.viable_per_ml:.0f},{_short(c.viability_pct, 1)},"
        f"{c.total_count},{c.viable_count},{c.measured_at:%Y-%m-%d %H:%M},haemocytometer"
        for c in counts
    ]
    return "\n".join(lines) + "\n"


#: Counter format name (as :func:`killcurve.io.counters.read_counter` knows it) -> writer.
COUNTER_WRITERS: dict[str, CounterWriter] = {
    "vi_cell_blu": vi_cell_blu,
    "chemometec_nc_view": chemometec_nc_view,
    "generic_csv": generic_csv_counts,
}
