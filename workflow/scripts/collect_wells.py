from pathlib import Path

from killcurve.steps import collect_wells, run

run(
    collect_wells,
    log=snakemake.log[0],
    samplesheet=Path(snakemake.input.sheet),
    study_dir=Path("."),
    wells_out=Path(snakemake.output.wells),
    qc_out=Path(snakemake.output.qc),
    qc=dict(snakemake.params.qc),
    exclusions=Path(snakemake.input.exclusions[0]) if snakemake.input.exclusions else None,
)
