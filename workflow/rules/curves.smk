checkpoint fit_curves:
    input:
        wells="results/tables/wells.parquet",
    output:
        csv="results/tables/curves.csv",
        parquet="results/tables/curves.parquet",
        # each target's curves and wells, the per-target figures' inputs (see below)
        targets=directory("results/targets"),
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
# These are the longest jobs after the fit (a big target's pair: 14 s at 1,000 plates, the
# statistics -> forest chain 8 s): run first, the short ones fill in around them.
# Inputs are the target's own tables, which the fit rewrites with the same bytes when the
# target's data did not change: Snakemake compares checksums of inputs under 1 MB when it
# re-plans after the checkpoint and then does not rerun that target's job.
rule plot_target_figures:
    input:
        wells="results/targets/{target}.wells.parquet",
        curves="results/targets/{target}.curves.parquet",
        products="results/targets/products.txt",
    output:
        curves_pdf="results/figures/curves_{target}.pdf",
        curves_png="results/figures/curves_{target}.png",
        residuals_pdf="results/figures/residuals_{target}.pdf",
        residuals_png="results/figures/residuals_{target}.png",
    log:
        "logs/plot_target_figures/{target}.log",
    benchmark:
        "logs/benchmarks/plot_target_figures/{target}.tsv"
    priority: 3
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        order=[c["test"] for c in config["comparisons"]]
        + [c["reference"] for c in config["comparisons"]],
        # Figures of a target whose data did not change are copied from here (killcurve.common.memo).
        cache=MEMO_CACHE,
    script:
        "../scripts/plot_target_figures.py"
