from pathlib import Path

from killcurve.pipeline.steps import run, statistics

run(
    statistics,
    log=snakemake.log[0],
    curves=Path(snakemake.input.curves),
    wells=Path(snakemake.input.wells),
    comparisons=[dict(c) for c in snakemake.params.comparisons],
    stages=list(snakemake.params.stages),
    thaw=dict(snakemake.params.thaw),
    comparisons_out=Path(snakemake.output.comparisons),
    trend_out=Path(snakemake.output.trend),
    retention_out=Path(snakemake.output.retention),
    cache=Path(snakemake.params.cache),
)
