from pathlib import Path

from killcurve.steps import run, trend

run(
    trend,
    log=snakemake.log[0],
    curves=Path(snakemake.input.curves),
    stages=list(snakemake.params.stages),
    csv_out=Path(snakemake.output.csv),
)
