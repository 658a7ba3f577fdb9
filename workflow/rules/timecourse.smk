# Time-resolved plates (samplesheet time = all): one job per plate reads every time point,
# normalises at effector addition and computes % lysis per time point, so that a changed plate
# re-reads only itself; analyse_timecourse merges them and writes metrics, the curves fitted at
# each configured time, comparisons and QC (killcurve.pipeline.timecourse).


rule collect_timecourse_plate:
    input:
        files=lambda w: [
            COURSE_PLATES[w.plate]["file"],
            COURSE_PLATES[w.plate]["layout"],
        ],
        exclusions=exclusion_sheet,
    output:
        points="results/timecourse/{plate}.parquet",
        # SHA-256 of the plate's export and layout, for provenance.json
        hashes="results/timecourse/{plate}.inputs.json",
    log:
        "logs/collect_timecourse_plate/{plate}.log",
    benchmark:
        "logs/benchmarks/collect_timecourse_plate/{plate}.tsv"
    wildcard_constraints:
        plate=r"[A-Za-z0-9_.-]+",
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        # the plate's samplesheet row: editing it reruns this plate only
        row=lambda w: COURSE_PLATES[w.plate],
        cache=MEMO_CACHE,
    script:
        "../scripts/collect_timecourse_plate.py"


rule analyse_timecourse:
    input:
        plates=expand("results/timecourse/{plate}.parquet", plate=COURSE_PLATES),
    output:
        points="results/tables/timecourse.parquet",
        metrics_csv="results/tables/timecourse_metrics.csv",
        metrics_parquet="results/tables/timecourse_metrics.parquet",
        curves_csv="results/tables/timecourse_curves.csv",
        curves_parquet="results/tables/timecourse_curves.parquet",
        comparisons="results/tables/timecourse_comparisons.csv",
        qc="results/tables/timecourse_qc.csv",
    log:
        "logs/analyse_timecourse.log",
    benchmark:
        "logs/benchmarks/analyse_timecourse.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        config=TIMECOURSE_CONFIG,
    script:
        "../scripts/analyse_timecourse.py"


rule plot_timecourse:
    input:
        points="results/tables/timecourse.parquet",
        curves="results/tables/timecourse_curves.parquet",
    output:
        killing_pdf="results/figures/timecourse_killing.pdf",
        killing_png="results/figures/timecourse_killing.png",
        et50_pdf="results/figures/timecourse_et50.pdf",
        et50_png="results/figures/timecourse_et50.png",
    log:
        "logs/plot_timecourse.log",
    benchmark:
        "logs/benchmarks/plot_timecourse.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        order=PRODUCT_ORDER,
        axis=config["axis"],
    script:
        "../scripts/plot_timecourse.py"
