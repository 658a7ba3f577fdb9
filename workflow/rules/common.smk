from pathlib import Path

from snakemake.exceptions import WorkflowError

import killcurve
from killcurve.config import samplesheet_errors
from killcurve.errors import KillcurveInputError
from killcurve.io.samplesheet import check_files, is_time_resolved, read_samplesheet
from killcurve.common.memo import CACHE
from killcurve.pipeline.run_status import settle_startup_failure
from killcurve.pipeline.recovery import recover_interrupted_run
from killcurve.report.provenance import git_commit
from killcurve.study.naming import target_slug
from killcurve.report.summary import Settings, available_figures

STUDY_DIR = Path(".").resolve()
# Every rule carries the code version as a parameter, so that outputs made by other
# killcurve code are remade (Snakemake reruns a job whose params changed).
CODE_VERSION = f"{killcurve.__version__}+{git_commit(Path(workflow.basedir))}"

for line in recover_interrupted_run(STUDY_DIR):
    logger.warning(f"killcurve: removed {line} left by an interrupted run")

try:
    samples = read_samplesheet(Path(config["plates"]))
    check_files(samples, STUDY_DIR)
except KillcurveInputError as err:
    settle_startup_failure(STUDY_DIR, str(err))
    raise WorkflowError(f"killcurve: {err}") from None

# The samplesheet's rows against workflow/schemas/plates.schema.yaml (as snakemake's
# validate would, without its pandas conversion).
sheet_errors = samplesheet_errors(samples.iter_rows(named=True), config["plates"])
if sheet_errors:
    settle_startup_failure(STUDY_DIR, "\n".join(sheet_errors))
    raise WorkflowError("killcurve: " + "\n".join(sheet_errors))

# Time-resolved plates (samplesheet time = all) go to rules/timecourse.smk, one job each;
# `samples` keeps the endpoint plates (rules/wells.smk). A study may have either or both.
time_resolved = is_time_resolved(samples)
COURSE_PLATES = {
    row["plate_id"]: row for row in samples.filter(time_resolved).to_dicts()
}
samples = samples.filter(~time_resolved)
ENDPOINT = samples.height > 0
# The config keys the time-resolved tables and their report section depend on.
TIMECOURSE_CONFIG = {
    key: config.get(key) for key in ("timecourse", "fit", "axis", "comparisons", "qc")
}
# Chunks of endpoint plates (rules/wells.smk sets them when the study has endpoint plates).
CHUNKS = {}
ENDPOINT_OUTPUTS = (
    [
        "results/tables/wells.parquet",
        "results/tables/plate_qc.csv",
        "results/tables/curves.csv",
        "results/tables/comparisons.csv",
        "results/tables/stage_trend.csv",
        "results/tables/thaw_retention.csv",
        "results/figures/plate_maps.pdf",
        "results/tables/killcurve_tables.xlsx",
        "results/figures/figure_pack.pdf",
    ]
    if ENDPOINT
    else []
)
# What the time-resolved plates give: tables (results/tables/timecourse*) and two figures.
TIMECOURSE_TABLES = (
    {
        "points": "results/tables/timecourse.parquet",
        "metrics": "results/tables/timecourse_metrics.parquet",
        "metrics_csv": "results/tables/timecourse_metrics.csv",
        "curves": "results/tables/timecourse_curves.parquet",
        "curves_csv": "results/tables/timecourse_curves.csv",
        "comparisons": "results/tables/timecourse_comparisons.csv",
        "qc": "results/tables/timecourse_qc.csv",
    }
    if COURSE_PLATES
    else {}
)
TIMECOURSE_FIGURE_FILES = (
    [
        f"results/figures/timecourse_{kind}.{ext}"
        for kind in ("killing", "et50")
        for ext in ("pdf", "png")
    ]
    if COURSE_PLATES
    else []
)
TIMECOURSE_OUTPUTS = [*TIMECOURSE_TABLES.values(), *TIMECOURSE_FIGURE_FILES]


def exclusion_sheet(wildcards):
    """The manual exclusions sheet, when the config names one."""
    return [config["exclusions"]] if config.get("exclusions") else []


def curve_figures(wildcards):
    """The per-target figures (curves, residuals), known once the curves are fitted."""
    import polars as pl

    curves = pl.read_parquet(checkpoints.fit_curves.get().output.parquet)
    return [
        f"results/figures/{kind}_{target_slug(t)}.{ext}"
        for kind in ("curves", "residuals")
        for t in sorted(curves["target"].unique().to_list())
        for ext in ("png", "pdf")
    ]


# Outputs of jobs whose data did not change are reused from here (killcurve.common.memo);
# safe to delete.
MEMO_CACHE = str(CACHE)


wildcard_constraints:
    target=r"[A-Za-z0-9._-]+",


# The config keys the answers and dossier figures read (`report` is optional).
DOSSIER_SETTINGS = {
    key: config.get(key)
    for key in ("stages", "thaw", "comparisons", "viability", "report")
}
PRODUCT_ORDER = [c["test"] for c in config["comparisons"]] + [
    c["reference"] for c in config["comparisons"]
]
VIABILITY_LOTS = ["results/tables/viability.csv"] if config.get("viability") else []
VIABILITY_PRODUCTS = (
    ["results/tables/viability_products.csv"] if config.get("viability") else []
)


def dossier_figures(wildcards):
    """The dossier figures this study makes, known once the curves are fitted."""
    # light: polars only, unlike pipeline.steps
    from killcurve.study.axis import read_curves

    curves, _ = read_curves(checkpoints.fit_curves.get().output.parquet)
    made = available_figures(curves, Settings.from_config(DOSSIER_SETTINGS))
    return [
        f"results/figures/{name}.{ext}"
        for name, why in made.items()
        if why is None
        for ext in ("pdf", "png")
    ]
