from pathlib import Path

from killcurve.steps import plot_dossier, run

TABLES = ("comparisons", "trend", "retention", "viability_lots", "viability_products")


def table(name: str) -> Path | None:
    """The rule's input ``name`` as a path; None when the rule has none (or an empty list)."""
    files = snakemake.input.get(name, [])
    files = [files] if isinstance(files, str) else list(files)
    return Path(files[0]) if files else None


run(
    plot_dossier,
    log=snakemake.log[0],
    figure=snakemake.params.figure,
    curves=Path(snakemake.input.curves),
    tables={name: table(name) for name in TABLES},
    pdf=Path(snakemake.output.pdf),
    png=Path(snakemake.output.png),
    order=list(dict.fromkeys(snakemake.params.order)),
    settings=dict(snakemake.params.settings),
)
