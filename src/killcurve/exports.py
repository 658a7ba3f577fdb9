"""Writing plate readings as instrument exports (used by the simulator).

Each writer lays out a 96-well grid the way the instrument's software does,
with the metadata block above it, so that simulated studies exercise the same
readers as real ones. Overflowing wells are written with the instrument's own
marker. Readings are rounded to whole counts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from killcurve.plate import row_letter

Writer = Callable[[np.ndarray, set[str], dict[str, str]], str]


def _cells(values: np.ndarray, overflow: set[str], marker: str) -> list[list[str]]:
    return [
        [
            marker if f"{row_letter(i)}{j}" in overflow else f"{v:.0f}"
            for j, v in enumerate(row, start=1)
        ]
        for i, row in enumerate(values)
    ]


def grid_csv(values: np.ndarray, overflow: set[str], meta: dict[str, str]) -> str:
    """``grid_csv``: ``,1,…,12`` header, one row per plate row; overflow as ``OVRFLW``."""
    header = "," + ",".join(str(c) for c in range(1, values.shape[1] + 1))
    body = [
        f"{row_letter(i)}," + ",".join(cells)
        for i, cells in enumerate(_cells(values, overflow, "OVRFLW"))
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
