# Dossier figures (forest plot, process-stage panel, viability after thaw, pre vs post
# thaw); their inputs, shared with the report and figure pack, are in common.smk. A figure
# whose input the study lacks (no comparisons, stages, viability key or pre/post-thaw pairs)
# is not made: killcurve.report.summary.available_figures decides from the config and the
# fitted curves. Priority 1: before the workbook, which nothing waits for.
rule plot_forest:
    input:
        curves="results/tables/curves.parquet",
        comparisons="results/tables/comparisons.csv",
    output:
        pdf="results/figures/forest.pdf",
        png="results/figures/forest.png",
    log:
        "logs/plot_forest.log",
    benchmark:
        "logs/benchmarks/plot_forest.tsv"
    priority: 1
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        figure="forest",
        order=PRODUCT_ORDER,
        settings=DOSSIER_SETTINGS,
        cache=MEMO_CACHE,
    script:
        "../scripts/plot_dossier.py"


rule plot_stages:
    input:
        curves="results/tables/curves.parquet",
        trend="results/tables/stage_trend.csv",
    output:
        pdf="results/figures/stages.pdf",
        png="results/figures/stages.png",
    log:
        "logs/plot_stages.log",
    benchmark:
        "logs/benchmarks/plot_stages.tsv"
    priority: 1
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        figure="stages",
        order=PRODUCT_ORDER,
        settings=DOSSIER_SETTINGS,
        cache=MEMO_CACHE,
    script:
        "../scripts/plot_dossier.py"


rule plot_thaw:
    input:
        curves="results/tables/curves.parquet",
        retention="results/tables/thaw_retention.csv",
    output:
        pdf="results/figures/thaw.pdf",
        png="results/figures/thaw.png",
    log:
        "logs/plot_thaw.log",
    benchmark:
        "logs/benchmarks/plot_thaw.tsv"
    priority: 1
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        figure="thaw",
        order=PRODUCT_ORDER,
        settings=DOSSIER_SETTINGS,
        cache=MEMO_CACHE,
    script:
        "../scripts/plot_dossier.py"


# The colours need the study's products only: from the fit's per-target folder, rewritten with
# the same bytes when the products did not change, so Snakemake does not rerun this job then.
rule plot_viability:
    input:
        products="results/targets/products.txt",
        viability_lots=VIABILITY_LOTS,
        viability_products=VIABILITY_PRODUCTS,
    output:
        pdf="results/figures/viability.pdf",
        png="results/figures/viability.png",
    log:
        "logs/plot_viability.log",
    benchmark:
        "logs/benchmarks/plot_viability.tsv"
    priority: 1
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        figure="viability",
        order=PRODUCT_ORDER,
        settings=DOSSIER_SETTINGS,
        cache=MEMO_CACHE,
    script:
        "../scripts/plot_dossier.py"
