from pathlib import Path

from killcurve.steps import plot_residuals, run

run(
    plot_residuals,
    log=snakemake.log[0],
    wells=Path(snakemake.input.wells),
    curves=Path(snakemake.input.curves),
    slug=snakemake.wildcards.target,
    pdf=Path(snakemake.output.pdf),
    png=Path(snakemake.output.png),
    order=list(dict.fromkeys(snakemake.params.order)),
)
