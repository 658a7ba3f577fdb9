"""The pipeline's stages as file-to-file functions, one per Snakemake rule.

Each takes paths and plain values (no Snakemake objects), so the same stage
runs from a notebook or a test: ``workflow/scripts/*.py`` only adapt
``snakemake.input``/``output``/``params`` to these calls. Outputs are written
to a temporary name and renamed, so a failed stage leaves no partial file.

The functions live in one module per stage (``wells``, ``curves``, ``statistics``,
``target_figures``, ``plate_maps``, ``dossier``, ``report``; shared helpers in ``step``); this
module is the one import path for ``workflow/scripts/*.py``.
"""

from killcurve.pipeline.curves import PRODUCTS_FILE, fit, read_points, study_products, write_targets
from killcurve.pipeline.dossier import dossier_tables, numbered_figures, plot_dossier
from killcurve.pipeline.plate_maps import plot_chunk_maps, plot_plate_maps
from killcurve.pipeline.report import (
    figure_pack,
    max_plate_maps,
    report,
    workbook,
    write_provenance,
)
from killcurve.pipeline.statistics import compare, retention, statistics, trend, viability
from killcurve.pipeline.step import (
    DOSSIER_TABLES,
    optional_tables,
    run,
    timecourse_inputs,
    write_csv,
    write_parquet,
)
from killcurve.pipeline.target_figures import (
    TargetData,
    plot_curves,
    plot_residuals,
    plot_target_figures,
)
from killcurve.pipeline.wells import collect_chunk, collect_wells, merge_wells

__all__ = [
    "DOSSIER_TABLES",
    "PRODUCTS_FILE",
    "TargetData",
    "collect_chunk",
    "collect_wells",
    "compare",
    "dossier_tables",
    "figure_pack",
    "fit",
    "max_plate_maps",
    "merge_wells",
    "numbered_figures",
    "optional_tables",
    "plot_chunk_maps",
    "plot_curves",
    "plot_dossier",
    "plot_plate_maps",
    "plot_residuals",
    "plot_target_figures",
    "read_points",
    "report",
    "retention",
    "run",
    "statistics",
    "study_products",
    "timecourse_inputs",
    "trend",
    "viability",
    "workbook",
    "write_csv",
    "write_parquet",
    "write_provenance",
    "write_targets",
]
