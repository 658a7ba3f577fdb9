from pathlib import Path

from killcurve.pipeline.steps import collect_chunk, run

run(
    collect_chunk,
    log=snakemake.log[0],
    plates=list(snakemake.params.plates),
    study_dir=Path("."),
    wells_out=Path(snakemake.output.wells),
    qc_out=Path(snakemake.output.qc),
    qc=dict(snakemake.params.qc),
    exclusions=Path(snakemake.input.exclusions[0]) if snakemake.input.exclusions else None,
    cache=Path(snakemake.params.cache),
    hashes_out=Path(snakemake.output.hashes),
)
