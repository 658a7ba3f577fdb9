from pathlib import Path

from killcurve.pipeline.steps import optional_tables, run, workbook

course = {
    key: Path(snakemake.input.get(f"timecourse_{key}"))
    for key in ("metrics", "comparisons")
    if snakemake.input.get(f"timecourse_{key}")
}
run(
    workbook,
    log=snakemake.log[0],
    qc=Path(snakemake.input.qc),
    curves=Path(snakemake.input.curves),
    comparisons=Path(snakemake.input.comparisons),
    xlsx_out=Path(snakemake.output.xlsx),
    tables=optional_tables(snakemake.input),
    timecourse=course,
)
