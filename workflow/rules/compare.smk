# The study-level statistics in one job: comparisons, stage trend and thaw retention all read
# only the fitted curves (and the wells), and as one process they load statsmodels and the
# curves once (three jobs cost ~2 CPU-s more in a one-plate rerun of 1,000 plates). Next
# after the per-target figures: it heads a long chain (comparisons -> forest plot -> report
# and figure pack), which otherwise waited behind the dossier figures.
rule study_statistics:
    input:
        curves="results/tables/curves.parquet",
        wells="results/tables/wells.parquet",
    output:
        comparisons="results/tables/comparisons.csv",
        trend="results/tables/stage_trend.csv",
        retention="results/tables/thaw_retention.csv",
    log:
        "logs/study_statistics.log",
    benchmark:
        "logs/benchmarks/study_statistics.tsv"
    priority: 2
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        comparisons=config["comparisons"],
        stages=config["stages"],
        thaw=config["thaw"],
        # Rows of comparison groups whose curves and wells did not change (killcurve.common.memo).
        cache=MEMO_CACHE,
    script:
        "../scripts/study_statistics.py"
