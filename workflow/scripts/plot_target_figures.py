from pathlib import Path

from killcurve.pipeline.steps import plot_target_figures, run

run(
    plot_target_figures,
    log=snakemake.log[0],
    wells=Path(snakemake.input.wells),
    curves=Path(snakemake.input.curves),
    slug=snakemake.wildcards.target,
    curves_pdf=Path(snakemake.output.curves_pdf),
    curves_png=Path(snakemake.output.curves_png),
    residuals_pdf=Path(snakemake.output.residuals_pdf),
    residuals_png=Path(snakemake.output.residuals_png),
    order=list(dict.fromkeys(snakemake.params.order)),
    cache=Path(snakemake.params.cache),
    products=Path(snakemake.input.products),
)
