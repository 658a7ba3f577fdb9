from pathlib import Path

from killcurve.pipeline.steps import run, write_provenance

run(
    write_provenance,
    log=snakemake.log[0],
    inputs=[Path(snakemake.input.sheet)]
    + [Path(f) for f in snakemake.input.exclusions]
    + [Path(f) for f in snakemake.input.viability],
    chunk_hashes=[Path(f) for f in snakemake.input.chunks],
    config=dict(snakemake.config),
    code_dir=Path(snakemake.params.code_dir),
    json_out=Path(snakemake.output.json),
)
