from pathlib import Path

from killcurve.steps import run, workbook

TABLES = ("comparisons", "trend", "retention", "viability_lots", "viability_products")


def table(name: str) -> Path | None:
    """The rule's input ``name`` as a path; None when the rule has none (or an empty list)."""
    files = snakemake.input.get(name, [])
    files = [files] if isinstance(files, str) else list(files)
    return Path(files[0]) if files else None


run(
    workbook,
    log=snakemake.log[0],
    qc=Path(snakemake.input.qc),
    curves=Path(snakemake.input.curves),
    comparisons=Path(snakemake.input.comparisons),
    xlsx_out=Path(snakemake.output.xlsx),
    tables={name: table(name) for name in TABLES},
)
