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
from killcurve.io.samplesheet import (
    check_files,
    is_time_resolved,
    read_samplesheet,
    resolve_in_study,
)
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
    course: list[str] = []
    wells = _plates(study_dir, config, valid, result, course)
    if valid and wells is not None:
        _curves_and_comparisons(study_dir, config, wells, result, course)
    elif valid:
        result.summary.append("curves, comparisons: checked once every plate can be read")
    if valid and config.get("viability"):
        _viability(study_dir, config["viability"]["samplesheet"], result)
    return result


def _plates(
    study_dir: Path,
    config: dict[str, Any],
    valid: bool,
    result: StudyCheck,
    course_products: list[str],
) -> pl.DataFrame | None:
    """The study's well table as the workflow's chunks and merge make it (one plate per
    chunk), or None when the samplesheet or a plate cannot be read; problems go to
    ``result``. The config's QC limits are used when the config is ``valid``. Time-resolved
    plates are read as their own jobs read them (:func:`killcurve.study.timecourse.load_points`)
    and their products added to ``course_products``; a study of only those gives an empty
    well table."""
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
    course = is_time_resolved(sheet)
    if course.any():
        course_products += _time_resolved(study_dir, sheet, readable, exclusions, source, result)
        if exclusions is not None:
            exclusions = exclusions.filter(
                ~pl.col("plate_id").is_in(sheet.filter(course)["plate_id"].implode())
            )
    wells_parts, qc_parts, failed = [], [], []
    for i, plate in enumerate(sheet["plate_id"]):
        if course[i]:
            continue
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
        return None if failed or not course.any() else pl.DataFrame()
    if exclusions is not None:  # lines of unreadable plates are not reported twice
        exclusions = exclusions.filter(~pl.col("plate_id").is_in(failed))
    merged = result.attempt(
        merge_chunks, wells_parts, qc_parts, limits, exclude_failed, exclusions, source
    )
    if merged is None:  # an exclusion names no plate of the study: merge without them
        merged = merge_chunks(wells_parts, qc_parts, limits, exclude_failed)
    _plate_summary(sheet.filter(~course), merged[0], config, result)
    return None if failed else merged[0]


def _time_resolved(
    study_dir: Path,
    sheet: pl.DataFrame,
    readable: set[int],
    exclusions: pl.DataFrame | None,
    source: str,
    result: StudyCheck,
) -> list[str]:
    """Read every readable time-resolved plate as its workflow job does; problems go to
    ``result``, a summary line says what was read; the products of their sample wells."""
    from killcurve.study.timecourse import load_points

    course = is_time_resolved(sheet)
    products: set[str] = set()
    read, points = 0, 0
    for i in range(sheet.height):
        if not course[i] or i not in readable:
            continue
        found = result.attempt(load_points, sheet.slice(i, 1), study_dir, exclusions, source)
        if found is None:
            continue
        read += 1
        points += found["cycle"].n_unique()
        samples = found.filter(pl.col("role") == "sample")
        products |= set(samples["product"].drop_nulls().to_list())
    result.summary.append(
        f"time-resolved plates: {read} of {int(course.sum())} read, {points} time points"
    )
    return sorted(products)


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
    study_dir: Path,
    config: dict[str, Any],
    wells: pl.DataFrame,
    result: StudyCheck,
    course_products: list[str],
) -> None:
    """What the fit and the statistics refuse on input, as :func:`killcurve.pipeline.steps.fit` and
    :func:`killcurve.pipeline.steps.compare` check it; problems go to ``result``. Comparisons
    may name the products of time-resolved plates (``course_products``)."""
    from killcurve.fit.curves import FitOptions
    from killcurve.report.captions import load_captions

    axis = result.attempt(Axis.from_config, config.get("axis"))
    points = result.attempt(axis.points, wells) if axis and wells.height else wells
    result.attempt(FitOptions.from_config, config["fit"])
    if points is None:
        return
    comparisons = config["comparisons"]
    products = list(course_products)
    if points.height:
        result.problems += curve_problems(points)
        samples = points.filter(pl.col("role") == "sample")
        products += samples["product"].unique().to_list()
    result.attempt(check_comparisons, comparisons, sorted(set(products)))
    covariates = sorted({c for comp in comparisons for c in comp.get("covariates", [])})
    if covariates and points.height:
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
