from pathlib import Path

from killcurve.steps import optional_tables, plot_dossier, run

run(
    plot_dossier,
    log=snakemake.log[0],
    figure=snakemake.params.figure,
    curves=Path(snakemake.input.curves),
    tables=optional_tables(snakemake.input),
    pdf=Path(snakemake.output.pdf),
    png=Path(snakemake.output.png),
    order=list(dict.fromkeys(snakemake.params.order)),
    settings=dict(snakemake.params.settings),
    cache=Path(snakemake.params.cache),
)
