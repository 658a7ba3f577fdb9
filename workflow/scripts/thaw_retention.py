from pathlib import Path

from killcurve.steps import retention, run

run(
    retention,
    log=snakemake.log[0],
    curves=Path(snakemake.input.curves),
    thaw=dict(snakemake.params.thaw),
    csv_out=Path(snakemake.output.csv),
)
