"""Checking a whole study directory without running the workflow (``killcurve check``).

Every input the run would refuse, at start-up or in a step, with the run's own checks and
messages, listed together rather than stopping at the first:

1. the config against the workflow's schema;
2. the samplesheet (columns, empty cells, plate ids, readouts; its rows against the
   samplesheet schema) and that every plate's export and layout exists;
3. each plate as one chunk of the workflow reads it (:func:`killcurve.study.chunks.chunk_tables`):
   its export and layout (plate size, unreadable wells, fields, roles), its manual
   exclusions and the controls % lysis needs; then the exclusions naming no plate of the
   study (:func:`killcurve.study.chunks.merge_chunks`);
4. once every plate is read: the ``axis`` and ``fit`` keys, every curve the fit refuses on
   input (:func:`killcurve.fit.curve_table.curve_problems`), the comparisons' products,
   columns, margins and covariates, and the captions file;
5. the viability arm (config key ``viability``): its samplesheet, the counter files it
   names, each sample in its file once with a count, and the counted values.

Steps 4 and 5 read the config's values, so they wait until it passes the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from killcurve.assay.qc import QcThresholds
from killcurve.config import config_errors, load_config, samplesheet_errors
from killcurve.errors import KillcurveInputError
from killcurve.fit.curve_table import curve_problems
from killcurve.io.exclusions import read_exclusions
from killcurve.io.samplesheet import check_files, read_samplesheet, resolve_in_study
from killcurve.pipeline.step import _thresholds
from killcurve.stats.compare import check_comparisons, curve_covariates
from killcurve.study.axis import Axis
from killcurve.study.chunks import chunk_tables, merge_chunks
from killcurve.viability.counts import check_viability_counts, check_viability_sheet, sheet_name
from killcurve.viability.lots import replicate_problems

T = TypeVar("T")


@dataclass
class StudyCheck:
    """Outcome of :func:`check_study`: a summary (lines) and the problems found."""

    summary: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def attempt(self, check: Callable[..., T], *args: Any) -> T | None:
        """``check(*args)``, or None with its :class:`KillcurveInputError` kept as a problem."""
        try:
            return check(*args)
        except KillcurveInputError as err:
            self.problems.append(str(err))
            return None


def check_study(study_dir: Path) -> StudyCheck:
    """Check ``study_dir`` (its ``config/config.yaml`` and everything it names)."""
    study_dir = Path(study_dir)
    result = StudyCheck()
    config = result.attempt(load_config, study_dir / "config" / "config.yaml")
    if config is None:
        return result
    errors = result.attempt(config_errors, config)
    if errors is None:  # no schema to check against
        return result
    result.problems += errors
    if "plates" not in config:
        return result
    result.summary.append(f"study: {config.get('study', '?')}")
    valid = not errors
    wells = _plates(study_dir, config, valid, result)
    if valid and wells is not None:
        _curves_and_comparisons(study_dir, config, wells, result)
    elif valid:
        result.summary.append("curves, comparisons: checked once every plate can be read")
    if valid and config.get("viability"):
        _viability(study_dir, config["viability"]["samplesheet"], result)
    return result


def _plates(
    study_dir: Path, config: dict[str, Any], valid: bool, result: StudyCheck
) -> pl.DataFrame | None:
    """The study's well table as the workflow's chunks and merge make it (one plate per
    chunk), or None when the samplesheet or a plate cannot be read; problems go to
    ``result``. The config's QC limits are used when the config is ``valid``."""
    sheet_path = result.attempt(
        resolve_in_study, study_dir, str(config["plates"]), "config key plates"
    )
    sheet = result.attempt(read_samplesheet, sheet_path) if sheet_path else None
    if sheet is None:
        return None
    readable = _startup_rows(sheet, study_dir, str(config["plates"]), result)
    exclusions, source = None, ""
    if config.get("exclusions"):
        path = result.attempt(
            resolve_in_study, study_dir, str(config["exclusions"]), "config key exclusions"
        )
        exclusions = result.attempt(read_exclusions, path) if path else None
        source = str(path)
    limits = _thresholds(config["qc"]) if valid else QcThresholds()
    exclude_failed = config["qc"].get("exclude_failed_plates", True) if valid else True
    wells_parts, qc_parts, failed = [], [], []
    for i, plate in enumerate(sheet["plate_id"]):
        tables = None
        if i in readable:
            tables = result.attempt(
                chunk_tables, sheet.slice(i, 1), study_dir, limits, exclusions, source
            )
        if tables is None:
            failed.append(plate)
            continue
        wells_parts.append(tables[0])
        qc_parts.append(tables[1])
    if not wells_parts:
        return None
    if exclusions is not None:  # lines of unreadable plates are not reported twice
        exclusions = exclusions.filter(~pl.col("plate_id").is_in(failed))
    merged = result.attempt(
        merge_chunks, wells_parts, qc_parts, limits, exclude_failed, exclusions, source
    )
    if merged is None:  # an exclusion names no plate of the study: merge without them
        merged = merge_chunks(wells_parts, qc_parts, limits, exclude_failed)
    _plate_summary(sheet, merged[0], config, result)
    return None if failed else merged[0]


def _startup_rows(sheet: pl.DataFrame, study_dir: Path, name: str, result: StudyCheck) -> set[int]:
    """The workflow's start-up checks of the samplesheet rows (each plate's files exist, the
    row passes the samplesheet schema), row by row; the indices of the rows that pass.
    Problems go to ``result``: the missing files first, then the schema's, as the workflow
    checks them."""
    passed, schema_problems = set(), []
    for i, row in enumerate(sheet.iter_rows(named=True)):
        errors = samplesheet_errors([row], name)
        schema_problems += errors
        try:
            check_files(sheet.slice(i, 1), study_dir)
        except KillcurveInputError as err:
            result.problems.append(str(err))
            continue
        if not errors:
            passed.add(i)
    result.problems += schema_problems
    return passed


def _curves_and_comparisons(
    study_dir: Path, config: dict[str, Any], wells: pl.DataFrame, result: StudyCheck
) -> None:
    """What the fit and the statistics refuse on input, as :func:`killcurve.pipeline.steps.fit` and
    :func:`killcurve.pipeline.steps.compare` check it; problems go to ``result``."""
    from killcurve.fit.curves import FitOptions
    from killcurve.report.captions import load_captions

    axis = result.attempt(Axis.from_config, config.get("axis"))
    points = result.attempt(axis.points, wells) if axis else None
    result.attempt(FitOptions.from_config, config["fit"])
    if points is None:
        return
    result.problems += curve_problems(points)
    samples = points.filter(pl.col("role") == "sample")
    comparisons = config["comparisons"]
    result.attempt(check_comparisons, comparisons, samples["product"].unique().to_list())
    covariates = sorted({c for comp in comparisons for c in comp.get("covariates", [])})
    if covariates:
        result.attempt(curve_covariates, points, covariates)
    if config.get("captions"):
        result.attempt(load_captions, study_dir / config["captions"])


def _viability(study_dir: Path, samplesheet: str, result: StudyCheck) -> None:
    """What the workflow refuses in the viability arm: the samplesheet and its counter files
    when it starts, the counts in ``assess_viability``; problems go to ``result``."""
    path = study_dir / samplesheet
    found = result.attempt(check_viability_sheet, path, study_dir)
    if found is None:
        return
    sheet, problems = found
    result.problems += problems
    counts, problems = check_viability_counts(sheet, study_dir, path)
    result.problems += problems
    problems = result.attempt(replicate_problems, counts, sheet_name(path))
    result.problems += problems or []
    lots = counts.select("product", "lot").n_unique()
    result.summary.append(f"viability: {counts.height} counts of {lots} lots")


def _plate_summary(
    sheet: pl.DataFrame, wells: pl.DataFrame, config: dict[str, Any], result: StudyCheck
) -> None:
    """Summary lines of the plates read: readouts, products, targets, lots, curves, wells."""
    samples = wells.filter(pl.col("role") == "sample")
    products = sorted(samples["product"].drop_nulls().unique().to_list())
    readouts = sheet.group_by("readout").len().sort("readout")
    curves = samples.select("product", "lot", "target", "stage", "cryo", "batch").n_unique()
    comparisons = config.get("comparisons") or []
    result.summary += [
        f"plates: {sheet.height} ({', '.join(f'{r} {n}' for r, n in readouts.iter_rows())})",
        f"products: {', '.join(products)}",
        f"targets: {', '.join(sorted(samples['target'].drop_nulls().unique().to_list()))}",
        f"lots: {samples['lot'].n_unique()}, curves: {curves}, "
        f"sample wells: {samples.height}, excluded wells: {wells['excluded'].sum()}",
        f"comparisons: {', '.join(str(c.get('name')) for c in comparisons) or 'none'}",
    ]
