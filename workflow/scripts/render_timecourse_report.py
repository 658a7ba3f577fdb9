from pathlib import Path

from killcurve.pipeline.steps import run
from killcurve.pipeline.timecourse import report_page

run(
    report_page,
    log=snakemake.log[0],
    study=snakemake.params.study,
    metrics=Path(snakemake.input.metrics),
    comparisons=Path(snakemake.input.comparisons),
    curves=Path(snakemake.input.curves),
    qc=Path(snakemake.input.qc),
    figure_dir=Path(snakemake.input.figures[0]).parent,
    provenance=Path(snakemake.input.provenance),
    config=dict(snakemake.params.config),
    html_out=Path(snakemake.output.html),
    captions=Path(snakemake.params.captions) if snakemake.params.captions else None,
)
