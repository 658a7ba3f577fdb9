rule collect_wells:
    input:
        sheet=config["plates"],
        files=plate_inputs,
        exclusions=exclusion_sheet,
    output:
        wells="results/tables/wells.parquet",
        qc="results/tables/plate_qc.csv",
    log:
        "logs/collect_wells.log",
    benchmark:
        "logs/benchmarks/collect_wells.tsv"
    conda:
        "../envs/killcurve.yaml"
    params:
        qc=config["qc"],
    script:
        "../scripts/collect_wells.py"
