"""``incucyte``: Sartorius Incucyte (S3/SX5 and IncuCyte ZOOM) text exports of a metric over time.

The export of one metric of one vessel: six ``Key: value`` lines (``Vessel Name:`` or
``Label:``, ``Metric: Red Object Count (Per Image)``, ``Cell Type:``, ``Passage:``,
``Notes:``, ``Analysis:`` or ``Analysis Job:``; kept as metadata), an empty line, a
tab-separated header ``Date Time, Elapsed, <well>, …`` and one line per scan. A well
column is ``B2`` (one value per well) or ``B2, Image 3`` (one value per image of the
well; IncuCyte ZOOM's per-image export). Columns of statistics (``A1 (Std Dev Well)``,
``A1 (Std Err Image)``) are calculated values: skipped and named in
``metadata["skipped_blocks"]``.

Reads: the metric as written (``Red Object Count (Per Image)``); per-image columns
give one read per image, ``<metric>, Image <k>`` (average the images of a well
downstream, as the instrument software does). Each scan is a time point: ``cycle``
its number, ``time_s`` = ``Elapsed`` (hours) × 3600, ``timestamp`` the ``Date Time``
cell as written (``11/8/2024 5:46:00 PM``, ``23.06.2016 18:00:00``: the date order
is the computer's locale and is not interpreted).

Incucyte writes −4.2949·10⁸ (a 32-bit sentinel, −2³²/10) where the analysis of an
image failed; values ≤ :data:`SENTINEL_BELOW` are flagged ``overflow`` with a null
signal, never used as counts or confluence.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.io.readers.model import PlateExport
from killcurve.io.readers.records import build_export, join_names, rename_keys
from killcurve.io.readers.text import read_text
from killcurve.plate import split_well

FORMAT = "incucyte"
#: Values at or below this are Incucyte's failed-analysis sentinel (−4.2949·10⁸).
SENTINEL_BELOW = -1.0e8

_METADATA = {
    "Vessel Name": "vessel",
    "Label": "vessel",
    "Metric": "metric",
    "Cell Type": "cell_type",
    "Passage": "passage",
    "Notes": "notes",
    "Analysis": "analysis",
    "Analysis Job": "analysis",
}
_IMAGE = re.compile(r"^(?P<well>[A-Za-z]{1,2}\d{1,2}), Image (?P<image>\d+)$")
_HINT = (
    "Export the metric from the Incucyte software as text (Export Data: one metric, "
    "all wells, with the Date Time and Elapsed columns)."
)


def looks_like(text: str) -> bool:
    """A ``Metric:`` line among the first lines and a ``Date Time<TAB>Elapsed`` header."""
    head = text[:4000].splitlines()
    return any(line.startswith("Metric:") for line in head[:8]) and any(
        line.startswith("Date Time\tElapsed") for line in head[:12]
    )


def read_incucyte(path: Path) -> PlateExport:
    """Every scan of every well (or image) of an Incucyte text export (module docstring)."""
    path = Path(path)
    lines = read_text(path).splitlines()
    at = next((i for i, line in enumerate(lines) if line.startswith("Date Time\t")), None)
    if at is None:
        raise KillcurveInputError(
            f"{path}: no 'Date Time, Elapsed, <wells>' header found in this Incucyte "
            f"export. {_HINT}"
        )
    found = {}
    for line in lines[:at]:
        key, sep, value = line.partition(":")
        if sep and key.strip() in _METADATA:
            found[key.strip()] = value.strip()
    metric = found.get("Metric", "") or "Incucyte metric"
    header = [cell.strip() for cell in lines[at].split("\t")]
    columns, skipped = _well_columns(header, metric)
    if not columns:
        raise KillcurveInputError(f"{path}: the header names no well column (A1, B2, …). {_HINT}")
    body = "\n".join(line for line in lines[at + 1 :] if line.strip())
    if not body:
        raise KillcurveInputError(f"{path}: the export holds no scan below its header. {_HINT}")
    table = pl.read_csv(
        io.StringIO(body),
        separator="\t",
        has_header=False,
        new_columns=[f"c{i}" for i in range(len(header))],
        infer_schema=False,
        quote_char=None,
        truncate_ragged_lines=True,
    ).select(pl.col(f"c{i}") for i in range(len(header)))
    elapsed = table["c1"].str.strip_chars().cast(pl.Float64, strict=False)
    if elapsed.null_count():
        scan = int(elapsed.is_null().arg_true()[0])
        raise KillcurveInputError(
            f"{path}: Elapsed {table['c1'][scan]!r} of scan {scan + 1} (line {at + 2 + scan}) "
            f"is not a number of hours. {_HINT}"
        )
    n = table.height
    cells = (
        table.select(pl.col(f"c{i}").alias(str(k)) for k, (i, _, _, _) in enumerate(columns))
        .with_columns(
            pl.Series("cycle", range(1, n + 1), dtype=pl.Int32),
            (elapsed * 3600.0).alias("time_s"),
            table["c0"].str.strip_chars().alias("timestamp"),
        )
        .unpivot(index=["cycle", "time_s", "timestamp"], value_name="raw")
        .with_columns(
            pl.col("raw").fill_null("").str.strip_chars(),
            pl.lit(1, pl.Int32).alias("plate_index"),
            pl.Series("read", [c[1] for c in columns]).repeat_by(n).explode(),
            pl.Series("row", [c[2] for c in columns]).repeat_by(n).explode(),
            pl.Series("col", [c[3] for c in columns], dtype=pl.Int32).repeat_by(n).explode(),
        )
        .drop("variable")
    )
    metadata = {"software": "Incucyte", **rename_keys(found, _METADATA), "time_unit": "h"}
    if skipped:
        metadata["skipped_blocks"] = join_names(skipped)
    export = build_export(path, FORMAT, [], metadata, _HINT, [cells])
    sentinel = pl.col("signal") <= SENTINEL_BELOW
    data = export.data.with_columns(
        pl.when(sentinel).then(pl.lit("overflow")).otherwise(pl.col("flag")).alias("flag"),
        pl.when(sentinel).then(None).otherwise(pl.col("signal")).alias("signal"),
    )
    metadata = export.metadata
    if marked := int(export.data.select(sentinel.sum()).item() or 0):
        metadata = {**metadata, "failed_analysis_values": str(marked)}
    return PlateExport(data=data, metadata=metadata, format=FORMAT, path=path)


def _well_columns(
    header: list[str], metric: str
) -> tuple[list[tuple[int, str, str, int]], list[str]]:
    """(column index, read, row, col) of each raw well column, and the skipped column kinds."""
    columns: list[tuple[int, str, str, int]] = []
    skipped: list[str] = []
    for i, name in enumerate(header[2:], start=2):
        if not name:
            continue
        image = _IMAGE.match(name)
        well = split_well(image["well"] if image else name)
        if well is None:
            kind = name.partition("(")[2].rstrip(")") or name
            if kind not in skipped:
                skipped.append(kind)
            continue
        read = f"{metric}, Image {int(image['image'])}" if image else metric
        columns.append((i, read, well[0], well[1]))
    return columns, skipped
