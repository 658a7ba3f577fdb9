"""Plates in chunks: the well and QC tables of a few plates at a time, merged into the study's.

A 1,000-plate study is read in chunks of consecutive samplesheet rows (the
workflow's ``collect_chunk`` jobs), so that changing one plate file re-reads
one chunk instead of the study. Everything per plate happens in the chunk:
reading and layout (:func:`killcurve.study.wells.load_wells`), the manual exclusions
of the chunk's plates, % lysis and the plate QC. Only two things look across
plates and wait for the merge (:func:`merge_chunks`):

* an exclusion naming a plate the samplesheet does not have;
* duplicated data (:func:`killcurve.assay.qc.duplicate_plates`): the QC rows of
  plates whose signals repeat a plate of *another* chunk are computed again
  over the whole study, so ``plate_qc`` equals a single pass over all plates.

Then failed plates' sample wells are excluded (when configured), as in a
single pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from killcurve.assay.lysis import compute_lysis
from killcurve.assay.qc import (
    QC_COLUMNS,
    QcThresholds,
    duplicate_plates,
    exclude_failed_plates,
    plate_qc,
)
from killcurve.errors import KillcurveInputError
from killcurve.io.exclusions import apply_exclusions
from killcurve.study.wells import TRAILING_COLUMNS, WELL_COLUMNS, load_wells


def chunk_tables(
    sheet: pl.DataFrame,
    study_dir: Path,
    thresholds: QcThresholds,
    exclusions: pl.DataFrame | None = None,
    source: str = "",
    cache: Path | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Wells (with ``pct_lysis``, before failed plates are excluded) and plate QC of the
    plates in ``sheet`` (samplesheet rows); ``exclusions`` lines of other plates are ignored,
    ``source`` names the exclusions file in messages, ``cache`` is where parsed layouts are
    reused from (:func:`killcurve.io.layout.read_layout`)."""
    wells = load_wells(sheet, study_dir, cache)
    if exclusions is not None:
        mine = exclusions.filter(pl.col("plate_id").is_in(sheet["plate_id"].implode()))
        wells = apply_exclusions(wells, mine, source)
    wells = compute_lysis(wells)
    return wells, plate_qc(wells, thresholds)


def well_column_order(parts: Sequence[pl.DataFrame]) -> list[str]:
    """Column order of the merged well table, as a single pass writes it: ``WELL_COLUMNS``,
    the other metadata sorted by name, ``TRAILING_COLUMNS``, then the columns that
    :func:`killcurve.assay.lysis.compute_lysis` appends (``pct_lysis``, ``lysis_flag``).

    >>> a = pl.DataFrame(schema=[*WELL_COLUMNS, "zeta", *TRAILING_COLUMNS, "pct_lysis"])
    >>> b = pl.DataFrame(schema=[*WELL_COLUMNS, "alpha", *TRAILING_COLUMNS, "pct_lysis"])
    >>> well_column_order([a, b])[len(WELL_COLUMNS):]
    ['alpha', 'zeta', 'file', 'layout', 'excluded', 'exclusion_reason', 'pct_lysis']
    """
    first = parts[0].columns
    appended = first[first.index(TRAILING_COLUMNS[-1]) + 1 :]
    seen = {c for part in parts for c in part.columns}
    extra = sorted(seen - {*WELL_COLUMNS, *TRAILING_COLUMNS, *appended})
    return [*WELL_COLUMNS, *extra, *TRAILING_COLUMNS, *appended]


def merge_chunks(
    wells_parts: Sequence[pl.DataFrame],
    qc_parts: Sequence[pl.DataFrame],
    thresholds: QcThresholds,
    exclude_failed: bool = True,
    exclusions: pl.DataFrame | None = None,
    source: str = "",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The study's ``wells`` and ``plate_qc`` tables from the chunks' (see the module doc).

    Wells are sorted by plate, row and column, QC rows by plate, as in a single pass.
    """
    wells = (
        pl.concat(wells_parts, how="diagonal_relaxed")
        .select(well_column_order(wells_parts))
        .sort("plate_id", "row", "col")
    )
    if exclusions is not None:
        unknown = exclusions.filter(~pl.col("plate_id").is_in(wells["plate_id"].implode()))
        if unknown.height:
            row = unknown.row(0, named=True)
            raise KillcurveInputError(
                f"exclusions {source}: plate {row['plate_id']} well {row['well']} is not a "
                "used well of the study (check plate_id and the layout). Fix or remove that line."
            )
    qc = pl.concat(qc_parts, how="diagonal_relaxed").select(QC_COLUMNS)
    copied = duplicate_plates(wells)["plate_id"]
    if copied.len():
        again = plate_qc(wells.filter(pl.col("plate_id").is_in(copied.implode())), thresholds)
        qc = pl.concat(
            [qc.filter(~pl.col("plate_id").is_in(copied.implode())), again],
            how="diagonal_relaxed",
        )
    qc = qc.sort("plate_id")
    if exclude_failed:
        wells = exclude_failed_plates(wells, qc)
    return wells, qc
