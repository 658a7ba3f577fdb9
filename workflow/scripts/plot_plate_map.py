from pathlib import Path

from killcurve.steps import plot_plate_map, run

run(
    plot_plate_map,
    log=snakemake.log[0],
    wells=Path(snakemake.input.wells),
    plate=snakemake.wildcards.plate,
    pdf=Path(snakemake.output.pdf),
    png=Path(snakemake.output.png),
)
