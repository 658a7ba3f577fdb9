from pathlib import Path

from killcurve.steps import plot_target_figure, run

run(
    plot_target_figure,
    log=snakemake.log[0],
    figure=snakemake.params.figure,
    wells=Path(snakemake.input.wells),
    curves=Path(snakemake.input.curves),
    slug=snakemake.wildcards.target,
    pdf=Path(snakemake.output.pdf),
    png=Path(snakemake.output.png),
    order=list(dict.fromkeys(snakemake.params.order)),
    cache=Path(snakemake.params.cache),
)
