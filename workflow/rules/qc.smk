rule plot_plate_maps:
    input:
        wells="results/tables/wells.parquet",
        qc="results/tables/plate_qc.csv",
    output:
        png=directory("results/figures/plates"),
        pdf="results/figures/plate_maps.pdf",
    log:
        "logs/plot_plate_maps.log",
    benchmark:
        "logs/benchmarks/plot_plate_maps.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
    script:
        "../scripts/plot_plate_maps.py"
