from pathlib import Path

from killcurve.pipeline.steps import merge_wells, run

run(
    merge_wells,
    log=snakemake.log[0],
    chunk_wells=[Path(p) for p in snakemake.input.wells],
    chunk_qc=[Path(p) for p in snakemake.input.qc],
    wells_out=Path(snakemake.output.wells),
    qc_out=Path(snakemake.output.qc),
    qc=dict(snakemake.params.qc),
    fit_config=dict(snakemake.params.fit),
    axis=dict(snakemake.params.axis),
    exclusions=Path(snakemake.input.exclusions[0]) if snakemake.input.exclusions else None,
)
