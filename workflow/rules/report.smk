rule render_report:
    input:
        qc="results/tables/plate_qc.csv",
        curves="results/tables/curves.parquet",
        comparisons="results/tables/comparisons.csv",
        figures=curve_figures,
        plate_maps=expand(
            "results/figures/plates/{plate}.png", plate=samples["plate_id"].to_list()
        ),
        sheet=config["plates"],
        files=plate_inputs,
    output:
        html="results/report.html",
    log:
        "logs/render_report.log",
    conda:
        "../envs/killcurve.yaml"
    params:
        study=config["study"],
        config=config,
    script:
        "../scripts/render_report.py"
