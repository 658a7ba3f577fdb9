from pathlib import Path

from killcurve.steps import compare, run

run(
    compare,
    log=snakemake.log[0],
    curves=Path(snakemake.input.curves),
    wells=Path(snakemake.input.wells),
    comparisons=[dict(c) for c in snakemake.params.comparisons],
    csv_out=Path(snakemake.output.csv),
    cache=Path(snakemake.params.cache),
)
