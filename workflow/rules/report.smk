include: "dossier.smk"


# Priority 0 (the default, the lowest here): no job waits for the workbook, so it fills a core
# left idle, e.g. beside the figure pack at the end of a rerun.
rule write_workbook:
    input:
        qc="results/tables/plate_qc.csv",
        curves="results/tables/curves.parquet",
        comparisons="results/tables/comparisons.csv",
        trend="results/tables/stage_trend.csv",
        retention="results/tables/thaw_retention.csv",
        viability_lots=VIABILITY_LOTS,
        viability_products=VIABILITY_PRODUCTS,
    output:
        xlsx="results/tables/killcurve_tables.xlsx",
    log:
        "logs/write_workbook.log",
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
    script:
        "../scripts/write_workbook.py"


# The plate files are hashed by their chunk jobs (results/chunks/*.inputs.json): naming all of
# them here made Snakemake check 2,000 more inputs in every run of a 1,000-plate study, and stat
# them again at each scheduling round while this job waited (snakemake/snakemake#3955).
rule write_provenance:
    input:
        sheet=config["plates"],
        chunks=expand("results/chunks/{chunk}.inputs.json", chunk=CHUNKS),
        exclusions=exclusion_sheet,
        # the viability samplesheet and counter files (viability.smk, included later)
        viability=lambda w: VIABILITY_INPUTS,
    output:
        json="results/provenance.json",
    log:
        "logs/write_provenance.log",
    priority: 3
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        config=config,
        code_dir=workflow.basedir,
    script:
        "../scripts/write_provenance.py"


rule render_report:
    input:
        qc="results/tables/plate_qc.csv",
        curves="results/tables/curves.parquet",
        wells="results/tables/wells.parquet",
        comparisons="results/tables/comparisons.csv",
        trend="results/tables/stage_trend.csv",
        retention="results/tables/thaw_retention.csv",
        viability_lots=VIABILITY_LOTS,
        viability_products=VIABILITY_PRODUCTS,
        figures=curve_figures,
        dossier=dossier_figures,
        plate_maps="results/figures/plates",
        provenance="results/provenance.json",
    output:
        html="results/report.html",
    log:
        "logs/render_report.log",
    priority: 1
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        study=config["study"],
        captions=config.get("captions", ""),
        settings=DOSSIER_SETTINGS,
        outliers=config["fit"]["outliers"],
        verdict=config["fit"]["verdict"],
        # Screen-size copies of the figures, remade when a figure changes (killcurve.common.memo).
        cache=MEMO_CACHE,
    script:
        "../scripts/render_report.py"


rule build_figure_pack:
    input:
        curves="results/tables/curves.parquet",
        wells="results/tables/wells.parquet",
        comparisons="results/tables/comparisons.csv",
        trend="results/tables/stage_trend.csv",
        retention="results/tables/thaw_retention.csv",
        viability_lots=VIABILITY_LOTS,
        viability_products=VIABILITY_PRODUCTS,
        figures=curve_figures,
        dossier=dossier_figures,
        plate_maps="results/figures/plate_maps.pdf",
        provenance="results/provenance.json",
    output:
        pdf="results/figures/figure_pack.pdf",
    log:
        "logs/build_figure_pack.log",
    priority: 1
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        study=config["study"],
        captions=config.get("captions", ""),
        settings=DOSSIER_SETTINGS,
        # caption pages drawn from the same lines as last time (killcurve.common.memo)
        cache=MEMO_CACHE,
    script:
        "../scripts/build_figure_pack.py"
