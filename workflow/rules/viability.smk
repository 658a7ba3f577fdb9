# Viability and recovery after thaw (config key `viability`; no rule when it is absent).
# The counter files are read from the viability samplesheet when the workflow is parsed, so
# they are inputs of the rule: editing a counter file reruns it.
from killcurve.viability.counts import read_viability_sheet

VIABILITY_TABLES = []
# The viability samplesheet and the counter files it names (for provenance.json).
VIABILITY_INPUTS = []

if "viability" in config:
    VIABILITY_TABLES = [
        "results/tables/viability.csv",
        "results/tables/viability_products.csv",
    ]
    try:
        viability_sheet = read_viability_sheet(
            Path(config["viability"]["samplesheet"]), STUDY_DIR
        )
    except KillcurveInputError as err:
        settle_startup_failure(STUDY_DIR, str(err))
        raise WorkflowError(f"killcurve: {err}") from None
    VIABILITY_INPUTS = [
        config["viability"]["samplesheet"],
        *sorted(set(viability_sheet["file"].to_list())),
    ]

    rule assess_viability:
        input:
            sheet=VIABILITY_INPUTS[0],
            counts=VIABILITY_INPUTS[1:],
        output:
            lots="results/tables/viability.csv",
            products="results/tables/viability_products.csv",
        log:
            "logs/assess_viability.log",
        benchmark:
            "logs/benchmarks/assess_viability.tsv"
        conda:
            "../envs/killcurve.yaml"
        params:
            code=CODE_VERSION,
            min_viability_pct=config["viability"]["min_viability_pct"],
            min_recovery_pct=config["viability"]["min_recovery_pct"],
            ci_level=config["viability"]["ci_level"],
        script:
            "../scripts/viability.py"
