"""Rule functions of the wells stage: plates to chunk tables (% lysis, plate QC), then merged."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from killcurve.io.exclusions import read_exclusions
from killcurve.io.samplesheet import check_files, read_samplesheet
from killcurve.pipeline.curves import _with_outliers
from killcurve.pipeline.step import _atomic, _thresholds, write_csv, write_parquet


def collect_wells(
    samplesheet: Path,
    study_dir: Path,
    wells_out: Path,
    qc_out: Path,
    qc: dict[str, Any],
    exclusions: Path | None = None,
    fit_config: dict[str, Any] | None = None,
    axis: dict[str, Any] | None = None,
) -> None:
    """Read plates, apply exclusions, compute % lysis and QC; write wells and plate QC tables.

    The whole study in one process, as one chunk (the workflow runs :func:`collect_chunk`
    per chunk and :func:`merge_wells`; both give the same tables).
    """
    from killcurve.study.chunks import chunk_tables, merge_chunks

    sheet = read_samplesheet(samplesheet)
    check_files(sheet, study_dir)
    excl = read_exclusions(exclusions) if exclusions is not None else None
    limits = _thresholds(qc)
    wells, table = chunk_tables(sheet, study_dir, limits, excl, str(exclusions))
    wells, table = merge_chunks(
        [wells], [table], limits, qc.get("exclude_failed_plates", True), excl, str(exclusions)
    )
    write_parquet(_with_outliers(wells, fit_config, axis), wells_out)
    write_csv(table, qc_out)


def collect_chunk(
    plates: Sequence[dict[str, str | None]],
    study_dir: Path,
    wells_out: Path,
    qc_out: Path,
    qc: dict[str, Any],
    exclusions: Path | None = None,
    cache: Path | None = None,
    hashes_out: Path | None = None,
) -> None:
    """Wells with % lysis and plate QC of some samplesheet rows (``plates``: one dict per
    row); written as Parquet for :func:`merge_wells` and the chunk's plate maps. ``cache``:
    where unchanged layouts are reused from (:func:`killcurve.io.layout.read_layout`).
    ``hashes_out``: a JSON object of the rows' export and layout files (as the sheet names
    them) → SHA-256, for ``provenance.json`` (:func:`write_provenance`), so that a changed
    plate is hashed again by its chunk alone."""
    from killcurve.common.hashing import sha256
    from killcurve.study.chunks import chunk_tables

    sheet = pl.DataFrame(list(plates), schema=dict.fromkeys(plates[0], pl.String))
    excl = read_exclusions(exclusions) if exclusions is not None else None
    limits = _thresholds(qc)
    wells, table = chunk_tables(sheet, study_dir, limits, excl, str(exclusions), cache)
    write_parquet(wells, wells_out)
    write_parquet(table, qc_out)
    if hashes_out is not None:
        files = sorted({row[column] for row in plates for column in ("file", "layout")})
        digests = {f: sha256(Path(study_dir) / f) for f in files}
        text = json.dumps(digests, indent=1) + "\n"
        _atomic(hashes_out, lambda p: p.write_text(text, encoding="utf-8"))


def merge_wells(
    chunk_wells: Sequence[Path],
    chunk_qc: Sequence[Path],
    wells_out: Path,
    qc_out: Path,
    qc: dict[str, Any],
    exclusions: Path | None = None,
    fit_config: dict[str, Any] | None = None,
    axis: dict[str, Any] | None = None,
) -> None:
    """``wells.parquet`` and ``plate_qc.csv`` of the study from its chunks' tables.

    ``axis``: the config key ``axis`` (ROUT tests each curve on its x)."""
    from killcurve.study.chunks import merge_chunks

    excl = read_exclusions(exclusions) if exclusions is not None else None
    wells, table = merge_chunks(
        [pl.read_parquet(p) for p in chunk_wells],
        [pl.read_parquet(p) for p in chunk_qc],
        _thresholds(qc),
        qc.get("exclude_failed_plates", True),
        excl,
        str(exclusions),
    )
    write_parquet(_with_outliers(wells, fit_config, axis), wells_out)
    write_csv(table, qc_out)
