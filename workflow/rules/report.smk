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
        timecourse_metrics=TIMECOURSE_TABLES.get("metrics_csv", []),
        timecourse_comparisons=TIMECOURSE_TABLES.get("comparisons", []),
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
        # time-resolved plates: the section "Killing over time" and its two figures
        timecourse_metrics=TIMECOURSE_TABLES.get("metrics", []),
        timecourse_comparisons=TIMECOURSE_TABLES.get("comparisons", []),
        timecourse_figures=TIMECOURSE_FIGURE_FILES,
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
        timecourse=TIMECOURSE_CONFIG if COURSE_PLATES else None,
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
        timecourse_metrics=TIMECOURSE_TABLES.get("metrics", []),
        timecourse_figures=TIMECOURSE_FIGURE_FILES,
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
        timecourse=TIMECOURSE_CONFIG if COURSE_PLATES else None,
        # caption pages drawn from the same lines as last time (killcurve.common.memo)
        cache=MEMO_CACHE,
    script:
        "../scripts/build_figure_pack.py"
