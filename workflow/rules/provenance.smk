# The plate files are hashed by their chunk jobs (results/chunks/*.inputs.json; time-resolved
# plates by their own jobs, results/timecourse/*.inputs.json): naming all of them here made Snakemake check 2,000 more inputs in every run of a 1,000-plate study, and stat
# them again at each scheduling round while this job waited (snakemake/snakemake#3955).
rule write_provenance:
    input:
        sheet=config["plates"],
        chunks=expand("results/chunks/{chunk}.inputs.json", chunk=CHUNKS)
        + [f"results/timecourse/{plate}.inputs.json" for plate in COURSE_PLATES],
        exclusions=exclusion_sheet,
        # the viability samplesheet and counter files (viability.smk)
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
