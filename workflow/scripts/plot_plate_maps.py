from pathlib import Path

from killcurve.steps import plot_plate_maps, run

run(
    plot_plate_maps,
    log=snakemake.log[0],
    wells=Path(snakemake.input.wells),
    qc=Path(snakemake.input.qc),
    png_dir=Path(snakemake.output.png),
    pdf=Path(snakemake.output.pdf),
)
