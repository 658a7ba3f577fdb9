from pathlib import Path

from killcurve.pipeline.timecourse import collect_plate
from killcurve.pipeline.steps import run

run(
    collect_plate,
    log=snakemake.log[0],
    plate=dict(snakemake.params.row),
    study_dir=Path("."),
    points_out=Path(snakemake.output.points),
    hashes_out=Path(snakemake.output.hashes),
    exclusions=Path(snakemake.input.exclusions[0]) if snakemake.input.exclusions else None,
    cache=Path(snakemake.params.cache),
)
