"""Checking a whole study directory without running the workflow (``killcurve check``).

Collects every problem it can find, rather than stopping at the first:
config schema, samplesheet, files, each plate's layout and export (plate size,
unreadable wells, controls), exclusions, and the products named in comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from killcurve.assay.lysis import check_controls, control_means
from killcurve.config import config_errors, load_config
from killcurve.errors import KillcurveInputError
from killcurve.io.exclusions import apply_exclusions, read_exclusions
from killcurve.io.samplesheet import check_files, read_samplesheet, resolve_in_study
from killcurve.stats.compare import check_comparisons
from killcurve.wells import plate_wells


@dataclass
class StudyCheck:
    """Outcome of :func:`check_study`: a summary (lines) and the problems found."""

    summary: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def check_study(study_dir: Path) -> StudyCheck:
    """Check ``study_dir`` (its ``config/config.yaml`` and everything it names)."""
    study_dir = Path(study_dir)
    result = StudyCheck()
    try:
        config = load_config(study_dir / "config" / "config.yaml")
    except KillcurveInputError as err:
        result.problems.append(str(err))
        return result
    result.problems += config_errors(config)
    if "plates" not in config:
        return result
    result.summary.append(f"study: {config.get('study', '?')}")
    try:
        sheet_path = resolve_in_study(study_dir, str(config["plates"]), "config key plates")
        sheet = read_samplesheet(sheet_path)
        check_files(sheet, study_dir)
    except KillcurveInputError as err:
        result.problems.append(str(err))
        return result
    plates = []
    for row in sheet.iter_rows(named=True):
        try:
            wells = plate_wells(row, study_dir)
            check_controls(control_means(wells))
            plates.append(wells)
        except KillcurveInputError as err:
            result.problems.append(str(err))
    if not plates:
        return result
    wells = pl.concat(plates, how="diagonal_relaxed")
    if config.get("exclusions"):
        try:
            path = resolve_in_study(study_dir, config["exclusions"], "config key exclusions")
            apply_exclusions(wells, read_exclusions(path), config["exclusions"])
        except KillcurveInputError as err:
            result.problems.append(str(err))
    samples = wells.filter(pl.col("role") == "sample")
    products = sorted(samples["product"].unique().to_list())
    try:
        check_comparisons(config.get("comparisons", []), products)
    except KillcurveInputError as err:
        result.problems.append(str(err))
    readouts = sheet.group_by("readout").len().sort("readout")
    curves = samples.select("product", "lot", "target", "stage", "cryo", "batch").n_unique()
    result.summary += [
        f"plates: {sheet.height} ({', '.join(f'{r} {n}' for r, n in readouts.iter_rows())})",
        f"products: {', '.join(products)}",
        f"targets: {', '.join(sorted(samples['target'].unique().to_list()))}",
        f"lots: {samples['lot'].n_unique()}, curves: {curves}, "
        f"sample wells: {samples.height}, overflow wells: {wells['excluded'].sum()}",
        f"comparisons: {', '.join(c['name'] for c in config.get('comparisons', [])) or 'none'}",
    ]
    return result
