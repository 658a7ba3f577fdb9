from pathlib import Path

from killcurve.pipeline.steps import fit, run

run(
    fit,
    log=snakemake.log[0],
    wells=Path(snakemake.input.wells),
    fit_config=dict(snakemake.params.fit),
    axis=dict(snakemake.params.axis),
    csv_out=Path(snakemake.output.csv),
    parquet_out=Path(snakemake.output.parquet),
    targets_out=Path(snakemake.output.targets),
)
