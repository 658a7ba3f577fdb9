"""Manual exclusions (``config/exclusions.tsv``): wells a scientist removes, with reason and name.

Tab-separated with columns ``plate_id``, ``well``, ``reason``, ``who``; blank
lines and ``#`` comments are ignored. Excluded wells stay in ``wells.parquet``
with ``excluded = true`` and ``exclusion_reason = "manual: <reason> (<who>)"``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.io.sheets import read_sheet

COLUMNS = ("plate_id", "well", "reason", "who")


def read_exclusions(path: Path) -> pl.DataFrame:
    """Read and check the exclusions sheet; every cell of the four columns must be filled
    (the plate, the well, a reason and who decided it)."""
    path = Path(path)
    if not path.is_file():
        raise KillcurveInputError(
            f"exclusions {path}: file not found. Fix config key 'exclusions' or create the file "
            f"with columns {', '.join(COLUMNS)}."
        )
    sheet = read_sheet(path, "exclusions", COLUMNS)
    if sheet is None:
        return pl.DataFrame(schema=dict.fromkeys(COLUMNS, pl.String))
    return sheet.select(COLUMNS).with_columns(pl.col("well").str.to_uppercase())


def apply_exclusions(wells: pl.DataFrame, exclusions: pl.DataFrame, source: str) -> pl.DataFrame:
    """Mark the listed wells excluded; stop when one names a plate or well the study lacks."""
    if exclusions.height == 0:
        return wells
    unknown = exclusions.join(wells.select("plate_id", "well"), on=["plate_id", "well"], how="anti")
    if unknown.height:
        row = unknown.row(0, named=True)
        raise KillcurveInputError(
            f"exclusions {source}: plate {row['plate_id']} well {row['well']} is not a used well "
            "of the study (check plate_id and the layout). Fix or remove that line."
        )
    marks = exclusions.group_by("plate_id", "well").agg(
        pl.format("manual: {} ({})", "reason", "who").str.join("; ").alias("manual")
    )
    return (
        wells.join(marks, on=["plate_id", "well"], how="left")
        .with_columns(
            pl.when(pl.col("manual").is_null())
            .then(pl.col("exclusion_reason"))
            .when(pl.col("exclusion_reason").is_null())
            .then(pl.col("manual"))
            .otherwise(pl.concat_str(["exclusion_reason", "manual"], separator="; "))
            .alias("exclusion_reason"),
            (pl.col("excluded") | pl.col("manual").is_not_null()).alias("excluded"),
        )
        .drop("manual")
    )
