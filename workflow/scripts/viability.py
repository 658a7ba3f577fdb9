from pathlib import Path

from killcurve.pipeline.steps import run, viability

run(
    viability,
    log=snakemake.log[0],
    samplesheet=Path(snakemake.input.sheet),
    study_dir=Path("."),
    lots_out=Path(snakemake.output.lots),
    products_out=Path(snakemake.output.products),
    min_viability_pct=snakemake.params.min_viability_pct,
    min_recovery_pct=snakemake.params.min_recovery_pct,
    ci_level=snakemake.params.ci_level,
)
