"""Run a study's stages in-process, in the order the workflow's rules run them.

The catalogue of bad inputs uses this instead of a Snakemake subprocess per
case (seconds instead of minutes); tests/test_workflow.py checks that the
workflow itself stops the same way and clears ``results/``.
"""

from __future__ import annotations

from pathlib import Path

from killcurve.config import config_errors, load_config
from killcurve.errors import KillcurveInputError
from killcurve.io.samplesheet import resolve_in_study
from killcurve.pipeline import steps
from killcurve.pipeline.recovery import clear_results


def run_stages(study: Path) -> None:
    """Config check, collect_wells, fit, compare; on bad input clear results/ and re-raise."""
    tables = study / "results" / "tables"
    try:
        config = load_config(study / "config" / "config.yaml")
        errors = config_errors(config)
        if errors:
            raise KillcurveInputError("; ".join(errors))
        sheet = resolve_in_study(study, config["plates"], "config key plates")
        exclusions = config.get("exclusions")
        steps.collect_wells(
            samplesheet=sheet,
            study_dir=study,
            wells_out=tables / "wells.parquet",
            qc_out=tables / "plate_qc.csv",
            qc=config["qc"],
            exclusions=resolve_in_study(study, exclusions, "config key exclusions")
            if exclusions
            else None,
            fit_config=config["fit"],
            axis=config.get("axis"),
        )
        steps.fit(
            tables / "wells.parquet",
            config["fit"],
            tables / "curves.csv",
            tables / "curves.parquet",
        )
        steps.compare(tables / "curves.parquet", config["comparisons"], tables / "comparisons.csv")
    except KillcurveInputError:
        clear_results(study)
        raise
