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


rule plot_curves:
    input:
        wells="results/tables/wells.parquet",
        curves="results/tables/curves.parquet",
    output:
        pdf="results/figures/curves_{target}.pdf",
        png="results/figures/curves_{target}.png",
    log:
        "logs/plot_curves/{target}.log",
    benchmark:
        "logs/benchmarks/plot_curves/{target}.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        order=[c["test"] for c in config["comparisons"]]
        + [c["reference"] for c in config["comparisons"]],
    script:
        "../scripts/plot_curves.py"


rule plot_residuals:
    input:
        wells="results/tables/wells.parquet",
        curves="results/tables/curves.parquet",
    output:
        pdf="results/figures/residuals_{target}.pdf",
        png="results/figures/residuals_{target}.png",
    log:
        "logs/plot_residuals/{target}.log",
    benchmark:
        "logs/benchmarks/plot_residuals/{target}.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        order=[c["test"] for c in config["comparisons"]]
        + [c["reference"] for c in config["comparisons"]],
    script:
        "../scripts/plot_residuals.py"
