from pathlib import Path

from killcurve.steps import plot_curves, run

run(
    plot_curves,
    log=snakemake.log[0],
    wells=Path(snakemake.input.wells),
    curves=Path(snakemake.input.curves),
    slug=snakemake.wildcards.target,
    pdf=Path(snakemake.output.pdf),
    png=Path(snakemake.output.png),
    order=list(dict.fromkeys(snakemake.params.order)),
)
