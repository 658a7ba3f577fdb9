from pathlib import Path

from killcurve.pipeline.steps import plot_chunk_maps, run

run(
    plot_chunk_maps,
    log=snakemake.log[0],
    wells=Path(snakemake.input.wells),
    qc=Path(snakemake.input.qc),
    png_dir=Path(snakemake.output.png),
    pdf=Path(snakemake.output.pdf),
    exclude_failed=snakemake.params.exclude_failed,
    cache=Path(snakemake.params.cache),
)
