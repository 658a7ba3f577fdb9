from pathlib import Path

from killcurve.pipeline.steps import figure_pack, optional_tables, run, timecourse_inputs

run(
    figure_pack,
    log=snakemake.log[0],
    study=snakemake.params.study,
    curves=Path(snakemake.input.curves),
    wells=Path(snakemake.input.wells),
    figure_dir=Path(snakemake.input.plate_maps).parent,
    provenance=Path(snakemake.input.provenance),
    pdf_out=Path(snakemake.output.pdf),
    captions=Path(snakemake.params.captions) if snakemake.params.captions else None,
    tables=optional_tables(snakemake.input),
    settings=dict(snakemake.params.settings),
    cache=Path(snakemake.params.cache),
    timecourse=timecourse_inputs(snakemake.input, snakemake.params),
)
