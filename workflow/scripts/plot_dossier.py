from pathlib import Path

from killcurve.pipeline.steps import optional_tables, plot_dossier, run


def optional(name):
    """The rule's input ``name`` as a path, or None when the rule has none."""
    path = snakemake.input.get(name)
    return Path(path) if path else None


run(
    plot_dossier,
    log=snakemake.log[0],
    figure=snakemake.params.figure,
    curves=optional("curves"),
    tables=optional_tables(snakemake.input),
    pdf=Path(snakemake.output.pdf),
    png=Path(snakemake.output.png),
    order=list(dict.fromkeys(snakemake.params.order)),
    settings=dict(snakemake.params.settings),
    cache=Path(snakemake.params.cache),
    products=optional("products"),
)
