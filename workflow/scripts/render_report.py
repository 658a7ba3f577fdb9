from pathlib import Path

from killcurve.steps import report, run

run(
    report,
    log=snakemake.log[0],
    study=snakemake.params.study,
    qc=Path(snakemake.input.qc),
    curves=Path(snakemake.input.curves),
    comparisons=Path(snakemake.input.comparisons),
    figures=[Path(f) for f in snakemake.input.figures],
    plate_maps=Path(snakemake.input.plate_maps),
    provenance=Path(snakemake.input.provenance),
    html_out=Path(snakemake.output.html),
)
