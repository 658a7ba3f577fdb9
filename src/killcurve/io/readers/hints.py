"""What to tell a user whose file no reader recognises: the nearest format and its export setting.

When :func:`killcurve.io.readers.sniff` finds no format, the first few
thousand characters (or the first rows of every sheet) are searched for the
words an instrument's software writes into its exports; the first family
whose words appear is named with the export setting its reader needs.
"""

from __future__ import annotations

from pathlib import Path

from killcurve.io.readers.sheets import is_workbook, read_sheets
from killcurve.io.readers.text import read_text

#: (words any of which marks the family, format, the export setting the reader needs).
NEAREST: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("SoftMax", "##BLOCKS", "SpectraMax"), "moldev_softmax_pro",
     "In SoftMax Pro use File > Export, format .txt, Plate or Time layout."),
    (("Gen5", "Reader Serial Number", "Synergy", "Cytation", "Epoch"), "agilent_gen5",
     "In Gen5 export the plate to a tab-delimited text file or Excel with the read matrices "
     "(or the per-well table)."),
    (("MARS", "BMG", "CLARIOstar", "PHERAstar", "FLUOstar", "Raw Data ("), "bmg_mars",
     "In MARS export the raw data as CSV (plate or table layout)."),
    (("SparkControl", "Spark", "i-control", "Magellan", "Tecan", "infinite"), "tecan_spark",
     "In SparkControl or i-control export the result sheet to Excel (or SparkControl CSV); "
     "Magellan: export to Excel as list or matrix (formats tecan_spark, tecan_icontrol, "
     "tecan_magellan)."),
    (("Kaleido", "EnSight", "Result for"), "revvity_kaleido",
     "In Kaleido export the results as CSV."),
    (("VICTOR", "Wallac", "Nivo", "WELL RESULTS"), "revvity_victor",
     "On the VICTOR Nivo export the well results as CSV; on a VICTOR X3 the list of "
     "measurements as text."),
    (("EnVision", "Exported with EnVision"), "perkin_elmer_envision",
     "In EnVision Manager export the plate results as CSV."),
    (("SkanIt", "Multiskan", "Varioskan", "Luminoskan"), "thermo_skanit",
     "In SkanIt export the session to Excel."),
    (("GloMax",), "promega_glomax", "On the GloMax export the results to Excel."),
)  # fmt: skip


def nearest_format(path: Path) -> str:
    """A sentence naming the nearest known format of ``path`` and its export setting, or ""."""
    try:
        if is_workbook(path):
            sheets = read_sheets(path, n_rows=40)
            sample = " ".join([*sheets, *(c for rows in sheets.values() for r in rows for c in r)])
        else:
            sample = read_text(path, allow_latin1=True)[:6000]
    except Exception:  # the caller's message stands on its own when the file cannot be read
        return ""
    lowered = sample.lower()
    for words, fmt, setting in NEAREST:
        found = next((w for w in words if w.lower() in lowered), None)
        if found:
            return (
                f"It mentions {found!r}, so it is nearest to format {fmt}, but not laid out "
                f"as that reader expects. {setting}"
            )
    return ""
