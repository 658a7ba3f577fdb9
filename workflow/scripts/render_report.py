from pathlib import Path

from killcurve.pipeline.steps import optional_tables, report, run, timecourse_inputs

run(
    report,
    log=snakemake.log[0],
    study=snakemake.params.study,
    qc=Path(snakemake.input.qc),
    curves=Path(snakemake.input.curves),
    wells=Path(snakemake.input.wells),
    comparisons=Path(snakemake.input.comparisons),
    figure_dir=Path(snakemake.input.plate_maps).parent,
    provenance=Path(snakemake.input.provenance),
    html_out=Path(snakemake.output.html),
    captions=Path(snakemake.params.captions) if snakemake.params.captions else None,
    tables=optional_tables(snakemake.input),
    settings=dict(snakemake.params.settings),
    cache=Path(snakemake.params.cache),
    timecourse=timecourse_inputs(snakemake.input, snakemake.params),
    outliers=dict(snakemake.params.outliers),
    verdict=dict(snakemake.params.verdict),
)
