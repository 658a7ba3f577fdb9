rule plot_chunk_maps:
    input:
        wells="results/chunks/{chunk}.wells.parquet",
        qc="results/chunks/{chunk}.plate_qc.parquet",
    output:
        png=directory("results/chunks/{chunk}.plates"),
        pdf="results/chunks/{chunk}.plate_maps.pdf",
    log:
        "logs/plot_chunk_maps/{chunk}.log",
    benchmark:
        "logs/benchmarks/plot_chunk_maps/{chunk}.tsv"
    wildcard_constraints:
        chunk=r"\d+",
    conda:
        "../envs/killcurve.yaml"
    params:
        code=CODE_VERSION,
        exclude_failed=config["qc"].get("exclude_failed_plates", True),
        # Maps (PNG, PDF page) of plates whose wells did not change are copied from here.
        cache=MEMO_CACHE,
    script:
        "../scripts/plot_chunk_maps.py"


rule plot_plate_maps:
    input:
        png=expand("results/chunks/{chunk}.plates", chunk=CHUNKS),
        pdf=expand("results/chunks/{chunk}.plate_maps.pdf", chunk=CHUNKS),
        chunk_qc=expand("results/chunks/{chunk}.plate_qc.parquet", chunk=CHUNKS),
        # what each chunk's maps crossed out, against the study's exclusions (ROUT outliers)
        chunk_wells=expand("results/chunks/{chunk}.wells.parquet", chunk=CHUNKS),
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
        exclude_failed=config["qc"].get("exclude_failed_plates", True),
    script:
        "../scripts/plot_plate_maps.py"
