from pathlib import Path

from killcurve.pipeline.steps import optional_tables, run, workbook

run(
    workbook,
    log=snakemake.log[0],
    qc=Path(snakemake.input.qc),
    curves=Path(snakemake.input.curves),
    comparisons=Path(snakemake.input.comparisons),
    xlsx_out=Path(snakemake.output.xlsx),
    tables=optional_tables(snakemake.input),
)
