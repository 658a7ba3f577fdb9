checkpoint fit_curves:
    input:
        wells="results/tables/wells.parquet",
    output:
        csv="results/tables/curves.csv",
        parquet="results/tables/curves.parquet",
    log:
        "logs/fit_curves.log",
    benchmark:
        "logs/benchmarks/fit_curves.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        fit=config["fit"],
        axis=config["axis"],
    script:
        "../scripts/fit_curves.py"


# Per target, the curve figure and the residual figure are a job each: the longest jobs
# after the fit (a 1,000-plate study's K562 pair took 18 s in one job), run first.
rule plot_target_curves:
    input:
        wells="results/tables/wells.parquet",
        curves="results/tables/curves.parquet",
    output:
        pdf="results/figures/curves_{target}.pdf",
        png="results/figures/curves_{target}.png",
    log:
        "logs/plot_target_curves/{target}.log",
    benchmark:
        "logs/benchmarks/plot_target_curves/{target}.tsv"
    priority: 1
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        figure="curves",
        order=PRODUCT_ORDER,
        # A figure whose data did not change is copied from here (killcurve.memo).
        cache=MEMO_CACHE,
    script:
        "../scripts/plot_target_figure.py"


rule plot_target_residuals:
    input:
        wells="results/tables/wells.parquet",
        curves="results/tables/curves.parquet",
    output:
        pdf="results/figures/residuals_{target}.pdf",
        png="results/figures/residuals_{target}.png",
    log:
        "logs/plot_target_residuals/{target}.log",
    benchmark:
        "logs/benchmarks/plot_target_residuals/{target}.tsv"
    priority: 1
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        figure="residuals",
        order=PRODUCT_ORDER,
        cache=MEMO_CACHE,
    script:
        "../scripts/plot_target_figure.py"
