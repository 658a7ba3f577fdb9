rule compare_products:
    input:
        curves="results/tables/curves.parquet",
    output:
        csv="results/tables/comparisons.csv",
    log:
        "logs/compare_products.log",
    benchmark:
        "logs/benchmarks/compare_products.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        comparisons=config["comparisons"],
    script:
        "../scripts/compare_products.py"
