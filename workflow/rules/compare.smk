# First after the fit: it heads the longest chain (comparisons -> forest plot -> report and
# figure pack), which otherwise waited behind the figure jobs.
rule compare_products:
    input:
        curves="results/tables/curves.parquet",
        wells="results/tables/wells.parquet",
    output:
        csv="results/tables/comparisons.csv",
    log:
        "logs/compare_products.log",
    benchmark:
        "logs/benchmarks/compare_products.tsv"
    priority: 2
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        comparisons=config["comparisons"],
        # Rows of comparison groups whose curves and wells did not change (killcurve.memo).
        cache=MEMO_CACHE,
    script:
        "../scripts/compare_products.py"


rule stage_trend:
    input:
        curves="results/tables/curves.parquet",
    output:
        csv="results/tables/stage_trend.csv",
    log:
        "logs/stage_trend.log",
    benchmark:
        "logs/benchmarks/stage_trend.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        stages=config["stages"],
    script:
        "../scripts/stage_trend.py"


rule thaw_retention:
    input:
        curves="results/tables/curves.parquet",
    output:
        csv="results/tables/thaw_retention.csv",
    log:
        "logs/thaw_retention.log",
    benchmark:
        "logs/benchmarks/thaw_retention.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        thaw=config["thaw"],
    script:
        "../scripts/thaw_retention.py"
