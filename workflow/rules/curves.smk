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


# One job per target draws both of its figures: plotnine and the package are imported once.
# These are the longest jobs after the fit: run first, the short ones fill in around them.
rule plot_target_figures:
    input:
        wells="results/tables/wells.parquet",
        curves="results/tables/curves.parquet",
    output:
        curves_pdf="results/figures/curves_{target}.pdf",
        curves_png="results/figures/curves_{target}.png",
        residuals_pdf="results/figures/residuals_{target}.pdf",
        residuals_png="results/figures/residuals_{target}.png",
    log:
        "logs/plot_target_figures/{target}.log",
    benchmark:
        "logs/benchmarks/plot_target_figures/{target}.tsv"
    priority: 1
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        order=[c["test"] for c in config["comparisons"]]
        + [c["reference"] for c in config["comparisons"]],
        # Figures of a target whose data did not change are copied from here (killcurve.memo).
        cache=MEMO_CACHE,
    script:
        "../scripts/plot_target_figures.py"
