"""``killcurve timecourse STUDY_DIR``: time-resolved impedance killing from RTCA exports.

Reads ``STUDY_DIR/config/config.yaml`` (key ``timecourse``, see docs/timecourse.md), every
xCELLigence RTCA export it lists, and writes into ``STUDY_DIR/results/``:

* ``tables/timecourse.parquet`` — one row per plate, well and sweep: cell index, normalised
  cell index, matched target-alone nCI and % cytolysis;
* ``tables/timecourse_metrics.csv`` — per well group: % cytolysis at the configured times,
  time to 50 % cytolysis (censored ``>t_last``), AUC (%·h);
* ``tables/timecourse_comparisons.csv`` — Welch t tests at the configured times;
* ``figures/timecourse.pdf`` and ``.png`` — killing over time;
* ``timecourse.html`` — the report section (tables, figure, methods) as a page of its own.
"""

from __future__ import annotations

import argparse
import html
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from killcurve.assay import timecourse as tc
from killcurve.errors import KillcurveInputError
from killcurve.figures.save import save_figure
from killcurve.figures.timecourse import plot_timecourse
from killcurve.io.rtca import annotate_layout, read_rtca
from killcurve.report.html import STYLE, Figure, figure_html, table_html

#: Keys of ``timecourse`` in the study config; those without a default are required.
REQUIRED = ("exports", "layout")
DEFAULTS: dict[str, Any] = {"effector_addition_h": None, "times_h": [24, 48, 72], "comparisons": []}
COMPARISON_KEYS = ("name", "at_h", "factor", "reference", "by")

METHODS = (
    "Cell index (CI) read per well and sweep from the RTCA Excel export (sheet 'Cell Index').",
    "Effector addition: the last sweep at or before timecourse.effector_addition_h, or when not "
    "set the last sweep before the longest pause between sweeps; t = hours after that sweep.",
    "Normalised cell index nCI(t) = CI(t) / CI(t = 0), per well.",
    "% cytolysis(t) = 100 × (1 − nCI_sample(t) / mean nCI of the target-alone wells of the same "
    "plate, target, treatment and concentration at the same sweep); t ≥ 0.",
    "Per well group the wells' % cytolysis is averaged per sweep; % cytolysis at T h is "
    "interpolated linearly between the two sweeps around T; t50 is the first time the mean "
    "curve reaches 50 % (linear between sweeps), '>t_last' when it never does; AUC is the "
    "trapezoid area of the mean curve from t = 0 to the last sweep, in %·h.",
    "Comparisons: Welch's unequal-variance t test of the wells' interpolated % cytolysis at the "
    "configured time, each level against the reference level, Holm-adjusted within a comparison.",
)


def load_timecourse_config(study: Path) -> dict[str, Any]:
    """The ``timecourse`` section of ``study/config/config.yaml`` with defaults filled in."""
    path = study / "config" / "config.yaml"
    if not path.is_file():
        raise KillcurveInputError(f"{path}: not found. A study needs config/config.yaml.")
    config = yaml.safe_load(path.read_text()) or {}
    section = config.get("timecourse")
    if not isinstance(section, dict):
        raise KillcurveInputError(
            f"{path}: no 'timecourse' section. Add one (exports, layout, times_h); see "
            "docs/timecourse.md."
        )
    missing = [k for k in REQUIRED if k not in section]
    if missing:
        raise KillcurveInputError(f"{path}: config key timecourse.{missing[0]} is required.")
    for i, export in enumerate(section["exports"]):
        if not isinstance(export, dict) or not {"plate", "path"} <= set(export):
            raise KillcurveInputError(
                f"{path}: config key timecourse.exports[{i}] needs 'plate' and 'path'."
            )
    for key in ("targets", "target_cells"):
        if key not in section["layout"]:
            raise KillcurveInputError(f"{path}: config key timecourse.layout.{key} is required.")
    for i, comparison in enumerate(section.get("comparisons") or []):
        absent = [k for k in COMPARISON_KEYS if k not in comparison]
        if absent:
            raise KillcurveInputError(
                f"{path}: config key timecourse.comparisons[{i}] needs {', '.join(absent)}."
            )
    return DEFAULTS | {"study": config.get("study", study.name)} | section


def read_study(study: Path, config: dict[str, Any]) -> pl.DataFrame:
    """Every export's time course with its plate name and per-well study columns."""
    frames = []
    for export in config["exports"]:
        path = study / export["path"]
        rtca = read_rtca(path)
        wells = annotate_layout(rtca.layout, config["layout"], str(path))
        frames.append(
            rtca.data.join(wells, on="well", how="inner").with_columns(
                plate=pl.lit(str(export["plate"]))
            )
        )
    return pl.concat(frames).select("plate", pl.exclude("plate"))


def analyse(data: pl.DataFrame, config: dict[str, Any]) -> dict[str, pl.DataFrame]:
    """Time course with % cytolysis, metrics and comparisons from the annotated wells."""
    given = {str(e["plate"]): e.get("effector_addition_h") for e in config["exports"]}
    addition_h = {
        p: given[p] if given[p] is not None else config["effector_addition_h"] for p in given
    }
    additions = tc.addition_sweeps(data, addition_h)
    timecourse = tc.pct_cytolysis(tc.normalise(data, additions)).sort(
        "plate", "sweep", "row", "col"
    )
    metrics = tc.metrics(timecourse, config["times_h"]).join(
        additions.select("plate", "addition_h"), on="plate", how="left"
    )
    comparisons = [
        tc.compare_at(timecourse, c["name"], c["at_h"], c["factor"], c["reference"], c["by"])
        for c in config["comparisons"]
    ]
    return {
        "timecourse": timecourse,
        "metrics": metrics,
        "comparisons": pl.concat(comparisons, how="diagonal_relaxed")
        if comparisons
        else pl.DataFrame(),
        "curves": tc.group_curves(timecourse),
        "additions": additions,
    }


def section_html(study: str, tables: dict[str, pl.DataFrame], figure: Figure) -> str:
    """The report section: methods, effector addition per plate, metrics, comparisons, figure."""
    metrics = tables["metrics"].drop("t50_h", "t50_censored")
    return "\n".join(
        [
            f'<h2 id="timecourse">Time-resolved killing (impedance) — {html.escape(study)}</h2>',
            "<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in METHODS) + "</ul>",
            '<p class="note">Effector addition per plate (hours since the first sweep):</p>',
            table_html(tables["additions"]),
            figure_html(figure),
            '<p class="note">Metrics per well group: pct_cytolysis_at_Th = % cytolysis T h after '
            "addition (mean of wells, linear interpolation between sweeps), sd_at_Th = SD of "
            "wells; t50_text in h (censored '>t_last'); auc_pct_h in %·h from addition to "
            "t_last_h.</p>",
            table_html(metrics),
            '<h3 id="timecourse-comparisons">Comparisons (Welch t, % cytolysis at at_h)</h3>',
            '<p class="note">difference = mean_test − mean_ref in percentage points; p two-sided; '
            "p_holm Holm-adjusted within a comparison. Duplicate wells give about 1–2 df.</p>",
            table_html(tables["comparisons"]),
        ]
    )


def run_timecourse(study: Path) -> dict[str, Path]:
    """Run the whole time-course analysis of ``study``; returns the written paths by name."""
    study = Path(study)
    config = load_timecourse_config(study)
    tables = analyse(read_study(study, config), config)
    out = study / "results"
    (out / "tables").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    paths = {
        "timecourse": out / "tables" / "timecourse.parquet",
        "metrics": out / "tables" / "timecourse_metrics.csv",
        "comparisons": out / "tables" / "timecourse_comparisons.csv",
        "pdf": out / "figures" / "timecourse.pdf",
        "png": out / "figures" / "timecourse.png",
        "html": out / "timecourse.html",
    }
    tables["timecourse"].write_parquet(paths["timecourse"])
    tables["metrics"].write_csv(paths["metrics"])
    tables["comparisons"].write_csv(paths["comparisons"])
    unit = config["layout"].get("concentration_unit", "ng/mL")
    n_targets = tables["curves"]["target"].n_unique()
    plot = plot_timecourse(tables["curves"], unit)
    save_figure(plot, paths["pdf"], paths["png"], width=7.2, height=1.3 * n_targets + 1.4)
    caption = (
        "% cytolysis against matched target-alone wells over time after effector addition; "
        "line: mean of wells, band: ± SD; dashed: 50 %."
    )
    section = section_html(config["study"], tables, Figure(paths["png"], "Figure T1", caption))
    paths["html"].write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(config['study'])} — time course</title>"
        f"<style>{STYLE}</style></head><body>\n{section}\n</body></html>\n"
    )
    return paths


def _run(args: argparse.Namespace) -> int:
    for name, path in run_timecourse(args.directory).items():
        print(f"wrote {name}: {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``timecourse`` subcommand to the ``killcurve`` parser's subparsers."""
    parser = sub.add_parser(
        "timecourse", help="time-resolved impedance killing of the RTCA exports in DIR"
    )
    parser.add_argument("directory", type=Path)
    parser.set_defaults(func=_run)
