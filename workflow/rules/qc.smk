rule plot_plate_map:
    input:
        wells="results/tables/wells.parquet",
    output:
        pdf="results/figures/plates/{plate}.pdf",
        png="results/figures/plates/{plate}.png",
    log:
        "logs/plot_plate_map/{plate}.log",
    benchmark:
        "logs/benchmarks/plot_plate_map/{plate}.tsv"
    conda:
        "../envs/killcurve.yaml"
    script:
        "../scripts/plot_plate_map.py"
