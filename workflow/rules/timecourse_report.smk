# A study whose plates are all time-resolved: report.html is the section "Killing over time",
# its QC at the configured times and the provenance (killcurve.pipeline.timecourse.report_page).


rule render_timecourse_report:
    input:
        metrics=TIMECOURSE_TABLES["metrics"],
        comparisons=TIMECOURSE_TABLES["comparisons"],
        curves=TIMECOURSE_TABLES["curves"],
        qc=TIMECOURSE_TABLES["qc"],
        figures=TIMECOURSE_FIGURE_FILES,
        provenance="results/provenance.json",
    output:
        html="results/report.html",
    log:
        "logs/render_timecourse_report.log",
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        study=config["study"],
        captions=config.get("captions", ""),
        config=TIMECOURSE_CONFIG,
    script:
        "../scripts/render_timecourse_report.py"
