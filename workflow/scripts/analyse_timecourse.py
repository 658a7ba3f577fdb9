from pathlib import Path

from killcurve.pipeline.timecourse import analyse
from killcurve.pipeline.steps import run

out = snakemake.output
run(
    analyse,
    log=snakemake.log[0],
    plates=[Path(p) for p in snakemake.input.plates],
    config=dict(snakemake.params.config),
    points_out=Path(out.points),
    metrics_csv=Path(out.metrics_csv),
    metrics_parquet=Path(out.metrics_parquet),
    curves_csv=Path(out.curves_csv),
    curves_parquet=Path(out.curves_parquet),
    comparisons_csv=Path(out.comparisons),
    qc_csv=Path(out.qc),
)
