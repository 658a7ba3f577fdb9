from pathlib import Path

from killcurve.pipeline.steps import plot_plate_maps, run

run(
    plot_plate_maps,
    log=snakemake.log[0],
    chunk_pngs=[Path(p) for p in snakemake.input.png],
    chunk_pdfs=[Path(p) for p in snakemake.input.pdf],
    chunk_qc=[Path(p) for p in snakemake.input.chunk_qc],
    chunk_wells=[Path(p) for p in snakemake.input.chunk_wells],
    wells=Path(snakemake.input.wells),
    qc=Path(snakemake.input.qc),
    png_dir=Path(snakemake.output.png),
    pdf=Path(snakemake.output.pdf),
    exclude_failed=snakemake.params.exclude_failed,
)
