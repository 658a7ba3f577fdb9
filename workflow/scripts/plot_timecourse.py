from pathlib import Path

from killcurve.pipeline.timecourse import plot
from killcurve.pipeline.steps import run

out = snakemake.output
run(
    plot,
    log=snakemake.log[0],
    points=Path(snakemake.input.points),
    curves=Path(snakemake.input.curves),
    order=list(snakemake.params.order),
    axis=dict(snakemake.params.axis or {}),
    killing_pdf=Path(out.killing_pdf),
    killing_png=Path(out.killing_png),
    et50_pdf=Path(out.et50_pdf),
    et50_png=Path(out.et50_png),
)
