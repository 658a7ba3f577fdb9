from pathlib import Path

from killcurve.steps import report, run

TABLES = ("comparisons", "trend", "retention", "viability_lots", "viability_products")


def table(name: str) -> Path | None:
    """The rule's input ``name`` as a path; None when the rule has none (or an empty list)."""
    files = snakemake.input.get(name, [])
    files = [files] if isinstance(files, str) else list(files)
    return Path(files[0]) if files else None


run(
    report,
    log=snakemake.log[0],
    study=snakemake.params.study,
    qc=Path(snakemake.input.qc),
    curves=Path(snakemake.input.curves),
    wells=Path(snakemake.input.wells),
    comparisons=Path(snakemake.input.comparisons),
    figure_dir=Path(snakemake.input.plate_maps).parent,
    provenance=Path(snakemake.input.provenance),
    html_out=Path(snakemake.output.html),
    captions=Path(snakemake.params.captions) if snakemake.params.captions else None,
    tables={name: table(name) for name in TABLES},
    settings=dict(snakemake.params.settings),
)
