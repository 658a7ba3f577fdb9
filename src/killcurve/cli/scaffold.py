"""``killcurve new-batch DIR``: a study directory to fill in, with every file commented."""

from __future__ import annotations

from pathlib import Path

from killcurve.errors import KillcurveInputError

CONFIG = """\
# killcurve study configuration. Every key: config/README.md of the killcurve repository.
# Check the study with `killcurve check .` and run it with
#   snakemake -s <killcurve>/Snakefile --cores 2 --directory .
study: "New study"
# Samplesheet: one row per plate (tab-separated; paths relative to this directory).
plates: config/plates.tsv
# Wells removed by hand (plate_id, well, reason, who); delete the key if unused.
exclusions: config/exclusions.tsv
# Products to compare: et50 ratio test/reference per group of the `by` columns
# (any of target, stage, cryo, batch). Product names as in the layouts.
comparisons:
  - name: test_vs_reference
    test: PRODUCT-A
    reference: PRODUCT-B
    by: [target, cryo]
fit:
  model: 4pl
  # weighting: signal          # weighted least squares: each well weighs 1/scale², scale =
  #                            # the SD of its % lysis per unit CV of the reading
  # outliers: {method: rout}   # ROUT at Q = 1 %, residuals scaled by the same SD
# The report's answers: which questions (any of nonspecific, specific, viability, thaw),
# the targets killed without a specific receptor, the antigen named in question 2.
# report:
#   questions: [specific]
#   nonspecific_targets: [K562]
#   antigen: DLL3
# Time-resolved plates (samplesheet time = all, e.g. impedance or Incucyte): % lysis at
# these hours after effector addition, E:T curves fitted and compared there; t50 = first
# crossing of level_pct.
# timecourse:
#   times_h: [24, 48, 72]
#   level_pct: 50
qc:
  min_z_prime: 0.5            # Z′ between target_only and max_lysis/background
  max_control_cv_pct: 20      # %
  min_signal_to_background: 2
  max_spontaneous_pct: 30     # release/ldh: spontaneous as % of maximum
  position_alpha: 0.01        # Holm-adjusted p for control row/column/edge effects
  position_min_effect_pct: 10 # % of the control mean
  exclude_failed_plates: true
"""

#: Samplesheet rows as comments: an endpoint plate, then a time-resolved one (time = all keeps
#: every time point; addition = pause, a time such as 24 h, or empty for the first read).
PLATES = "\t".join(
    ("plate_id", "file", "format", "layout", "readout", "batch", "assay_date", "time", "addition")
) + "\n" + "".join(
    "# " + "\t".join(row) + "\n"
    for row in (
        ("P01", "config/data/P01.csv", "grid_csv", "config/layouts/example_96well.toml",
         "luciferase", "B1", "2026-01-31", "", ""),
        ("T01", "config/data/T01.xlsx", "xcelligence_rtca", "config/layouts/example_96well.toml",
         "impedance", "B1", "2026-01-31", "all", "pause"),
    )
)  # fmt: skip

EXCLUSIONS = """\
plate_id\twell\treason\twho
"""

LAYOUT = """\
# Example 96-well layout (wellmap TOML, https://wellmap.readthedocs.io). Copy it per plate
# design and edit. Fields: role (every used well); for samples product, lot, target,
# et_ratio (10 = 10:1), and optionally stage and cryo (fresh or post_thaw).
# Fields the same for the whole plate (e.g. target, cryo) may instead be samplesheet columns.

[expt]
target = "TARGET-LINE"
cryo = "fresh"

# Rows A–C: product A, rows D–F: product B, E:T 40:1 (column 1) down to 0.3125:1 (column 8).
[block.8x3.A1]
role = "sample"
product = "PRODUCT-A"
lot = "A-L01"

[block.8x3.D1]
role = "sample"
product = "PRODUCT-B"
lot = "B-L01"

[block.1x6.A1]
et_ratio = 40
[block.1x6.A2]
et_ratio = 20
[block.1x6.A3]
et_ratio = 10
[block.1x6.A4]
et_ratio = 5
[block.1x6.A5]
et_ratio = 2.5
[block.1x6.A6]
et_ratio = 1.25
[block.1x6.A7]
et_ratio = 0.625
[block.1x6.A8]
et_ratio = 0.3125

# Controls: targets alone (spontaneous / full signal), detergent-lysed targets, medium only.
[block.2x6.A9]
role = "target_only"

[block.2x6.A11]
role = "max_lysis"

[block.6x1.G1]
role = "background"
"""

DATA_README = """\
Put the plate-reader exports here (one file per plate, or a multi-plate file with
plate_index/read columns in the samplesheet). Raw files are never modified by killcurve.
"""

FILES = {
    "config/config.yaml": CONFIG,
    "config/plates.tsv": PLATES,
    "config/exclusions.tsv": EXCLUSIONS,
    "config/layouts/example_96well.toml": LAYOUT,
    "config/data/README.txt": DATA_README,
}


def new_batch(directory: Path) -> list[Path]:
    """Write a commented study skeleton into ``directory``; refuse to overwrite a study."""
    directory = Path(directory)
    if (directory / "config").exists():
        raise KillcurveInputError(
            f"{directory / 'config'} already exists: new-batch never overwrites a study. "
            "Choose a new directory."
        )
    written = []
    for relative, text in FILES.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
