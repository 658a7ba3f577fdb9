"""Rule functions of the time-resolved stage: plates over time, metrics, curves at each time,
comparisons and QC (``results/tables/timecourse*``).

Each time-resolved plate is read by a job of its own (:func:`collect_plate`), so that a changed
plate re-reads only itself; :func:`analyse` merges them and writes the study's tables.
:func:`timecourse_tables` does all of it in memory (tests, ``killcurve check``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from killcurve.assay import timecourse as tc
from killcurve.fit import kinetics
from killcurve.pipeline.step import _thresholds, write_csv, write_parquet
from killcurve.study.axis import Axis, fixed_et

#: Tallest time-resolved figure (inches): a study of many targets × stages gets smaller panels.
MAX_HEIGHT_IN = 22.0
#: Defaults of the config section ``timecourse`` (workflow/schemas/config.schema.yaml).
DEFAULTS: dict[str, Any] = {"times_h": [24, 48, 72], "level_pct": 50}


def settings(config: dict[str, Any]) -> dict[str, Any]:
    """The config's ``timecourse`` section with its defaults."""
    return DEFAULTS | dict(config.get("timecourse") or {})


def _x_column(points: pl.DataFrame, axis: Axis) -> str:
    return axis.column if axis.column in points.columns else "et_ratio"


def fit_at_times(
    at_times: dict[float, pl.DataFrame],
    fit_config: dict[str, Any],
    axis: Axis,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Curves fitted at each time (``timecourse_curves``, public names, ``t_h`` after
    ``curve_id``) and the wells they were fitted on (internal x, with ``t_h``).

    ``at_times`` maps each T to the wells' % lysis at T
    (:func:`killcurve.assay.timecourse.well_values_at`), fitted like an endpoint plate with
    :func:`killcurve.fit.curves.fit_curves`: same model, flags, verdicts. Sample wells without
    x (untitrated time courses) are left out.
    """
    from killcurve.fit.curve_table import curve_id_expr
    from killcurve.fit.curves import FitOptions, fit_curves

    options = FitOptions.from_config(fit_config)
    curves, wells = [], []
    for at, values in at_times.items():
        x = _x_column(values, axis)
        at_t = values.filter((pl.col("role") != "sample") | pl.col(x).is_not_null())
        if at_t.filter(pl.col("role") == "sample").height == 0:
            continue
        at_points = axis.points(at_t)
        fitted = fit_curves(at_points, options)
        if axis.is_concentration:
            fitted = axis.public_curves(fitted, fixed_et(at_points, curve_id_expr()))
        curves.append(fitted.with_columns(pl.lit(float(at)).alias("t_h")))
        wells.append(at_points.with_columns(pl.lit(float(at)).alias("t_h")))
    if not curves:
        return pl.DataFrame(), pl.DataFrame()
    table = pl.concat(curves, how="diagonal_relaxed")
    order = ["curve_id", "t_h", *(c for c in table.columns if c not in ("curve_id", "t_h"))]
    return table.select(order), pl.concat(wells, how="diagonal_relaxed")


def compare_over_time(
    curves: pl.DataFrame,
    wells: pl.DataFrame,
    metrics: pl.DataFrame,
    comparisons: Sequence[dict[str, Any]],
    axis: Axis,
) -> pl.DataFrame:
    """``timecourse_comparisons``: the endpoint comparison rows of the curves at each time
    (``t_h`` set), then the t50 and AUC rows per titration level
    (:mod:`killcurve.stats.timecourse`); ``p_adjusted`` over the whole table per
    comparison × metric × method."""
    from killcurve.stats.compare import BY_COLUMNS, RESULT_COLUMNS, compare_products
    from killcurve.stats.multiplicity import adjust_table
    from killcurve.stats.timecourse import metric_rows

    products = set(metrics["product"].drop_nulls().to_list()) if metrics.height else set()
    usable = [c for c in comparisons if {c["test"], c["reference"]} <= products]
    by_all = [c for c in BY_COLUMNS if any(c in comp.get("by", []) for comp in usable)]
    x = [c for c in ("et_ratio", "concentration") if c in metrics.columns]
    schema = {"comparison": pl.String, **dict.fromkeys(by_all, pl.String), "t_h": pl.Float64}
    schema |= {c: pl.Float64 for c in x} | RESULT_COLUMNS
    parts = [pl.DataFrame(schema=schema)]
    if curves.height:
        internal = axis.internal_curves(curves)
        for (at,), fitted in internal.group_by("t_h", maintain_order=True):
            if fitted["product"].n_unique() < 2 or not usable:
                continue
            found = compare_products(
                fitted.drop("t_h"), usable, wells.filter(pl.col("t_h") == at).drop("t_h")
            )
            parts.append(found.with_columns(pl.lit(at).alias("t_h")))
    rows = metric_rows(metrics, usable, by_all)
    if rows:
        parts.append(pl.DataFrame(rows, schema={k: schema[k] for k in rows[0]} | schema))
    table = pl.concat(parts, how="diagonal_relaxed").select(list(schema))
    table = table.with_columns(pl.col(pl.Float64).fill_nan(None))
    methods = {comp["name"]: comp.get("multiplicity", "holm") for comp in usable}
    return axis.public_table(adjust_table(table, methods))


def qc_at_times(points: pl.DataFrame, times_h: Sequence[float], qc: dict[str, Any]) -> pl.DataFrame:
    """Plate QC (``plate_qc.csv`` columns, :func:`killcurve.assay.qc.plate_qc`) of each plate at
    the time point nearest each T: ``t_h`` = T and ``read_t_h`` = that time point's t (h after
    addition) after ``plate_id``."""
    from killcurve.assay.qc import QC_COLUMNS, plate_qc

    chosen = tc.nearest_points(points, times_h)
    parts = []
    for (at,), picks in chosen.group_by("at_h", maintain_order=True):
        rows = points.join(picks.drop("at_h", "read_t_h"), on=["plate_id", "cycle"])
        table = plate_qc(
            tc.as_time_point_plates(rows).with_columns(pl.col("course_plate").alias("plate_id")),
            _thresholds(qc),
        )
        read = picks.select("plate_id", "read_t_h")
        parts.append(table.with_columns(pl.lit(float(at)).alias("t_h")).join(read, on="plate_id"))
    if not parts:
        return pl.DataFrame(schema={"plate_id": pl.String, "t_h": pl.Float64})
    table = pl.concat(parts, how="diagonal_relaxed")
    others = (c for c in QC_COLUMNS if c != "plate_id")
    return table.select("plate_id", "t_h", "read_t_h", *others).sort("plate_id", "t_h")


def analyse_points(points: pl.DataFrame, config: dict[str, Any]) -> dict[str, pl.DataFrame]:
    """Metrics, curves at each time, comparisons and QC of the time-resolved well table."""
    course = settings(config)
    times = [float(t) for t in course["times_h"]]
    axis = Axis.from_config(config.get("axis"))
    at_times = {at: tc.well_values_at(points, at) for at in times}
    metrics = kinetics.metrics(points, times, float(course["level_pct"]), at_times)
    curves, wells = fit_at_times(at_times, config.get("fit") or {}, axis)
    comparisons = compare_over_time(curves, wells, metrics, config.get("comparisons") or [], axis)
    return {
        "metrics": metrics,
        "curves": curves,
        "comparisons": comparisons,
        "qc": qc_at_times(points, times, config.get("qc") or {}),
    }


def timecourse_tables(study_dir: Path, config: dict[str, Any]) -> dict[str, pl.DataFrame]:
    """Every time-resolved table of a study, in memory: ``timecourse`` (the well table over
    time), ``metrics``, ``curves``, ``comparisons``, ``qc``. ``config``: the study's parsed
    config (defaults are filled in as the workflow does)."""
    from killcurve.config import config_errors
    from killcurve.errors import KillcurveInputError
    from killcurve.io.exclusions import read_exclusions
    from killcurve.io.samplesheet import is_time_resolved, read_samplesheet
    from killcurve.study.timecourse import load_points

    config = dict(config)
    errors = config_errors(config)
    if errors:
        raise KillcurveInputError("config: " + "; ".join(errors))
    study_dir = Path(study_dir)
    sheet = read_samplesheet(study_dir / config["plates"])
    rows = sheet.filter(is_time_resolved(sheet))
    if rows.height == 0:
        raise KillcurveInputError(
            f"samplesheet {config['plates']}: no time-resolved plate (time = all)."
        )
    excl = config.get("exclusions")
    exclusions = read_exclusions(study_dir / excl) if excl else None
    points = load_points(rows, study_dir, exclusions, str(excl))
    return {"timecourse": points, **analyse_points(points, config)}


def collect_plate(
    plate: dict[str, str | None],
    study_dir: Path,
    points_out: Path,
    hashes_out: Path,
    exclusions: Path | None = None,
    cache: Path | None = None,
) -> None:
    """One time-resolved plate's rows of ``timecourse.parquet`` (samplesheet row ``plate``),
    and its export and layout files → SHA-256 (JSON) for ``provenance.json``."""
    import json

    from killcurve.common.hashing import sha256
    from killcurve.io.exclusions import read_exclusions
    from killcurve.pipeline.step import _atomic
    from killcurve.study.timecourse import load_points

    sheet = pl.DataFrame([plate], schema=dict.fromkeys(plate, pl.String))
    excl = read_exclusions(exclusions) if exclusions is not None else None
    write_parquet(load_points(sheet, study_dir, excl, str(exclusions), cache), points_out)
    files = sorted({str(plate[c]) for c in ("file", "layout")})
    text = json.dumps({f: sha256(Path(study_dir) / f) for f in files}, indent=1) + "\n"
    _atomic(hashes_out, lambda p: p.write_text(text, encoding="utf-8"))


def analyse(
    plates: Sequence[Path],
    config: dict[str, Any],
    points_out: Path,
    metrics_csv: Path,
    metrics_parquet: Path,
    curves_csv: Path,
    curves_parquet: Path,
    comparisons_csv: Path,
    qc_csv: Path,
) -> None:
    """Merge the plates' rows (``timecourse.parquet``) and write the time-resolved tables."""
    from killcurve.study.timecourse import point_order

    points = pl.concat([pl.read_parquet(p) for p in plates], how="diagonal_relaxed")
    points = points.select(point_order(points.columns)).sort("plate_id", "cycle", "row", "col")
    write_parquet(points, points_out)
    tables = analyse_points(points, config)
    write_csv(tables["metrics"], metrics_csv)
    write_parquet(tables["metrics"], metrics_parquet)
    write_csv(tables["curves"], curves_csv)
    write_parquet(tables["curves"], curves_parquet)
    write_csv(tables["comparisons"], comparisons_csv)
    write_csv(tables["qc"], qc_csv)


def plot(
    points: Path,
    curves: Path,
    order: Sequence[str],
    axis: dict[str, Any],
    killing_pdf: Path,
    killing_png: Path,
    et50_pdf: Path,
    et50_png: Path,
) -> None:
    """The two time-resolved figures: % lysis over time (:func:`plot_killing`) and et50 over
    time (:func:`plot_et50`); an empty panel says so when no curve has a usable et50."""
    from killcurve.figures.save import save_figure
    from killcurve.figures.theme import DOUBLE_COLUMN_IN
    from killcurve.figures.timecourse import plot_et50, plot_killing

    titration = Axis.from_config(axis)
    table = pl.read_parquet(points)
    x = _x_column(table, titration)
    curves_over_time = kinetics.mean_curves(table)
    rows = curves_over_time.select("target", "stage", "cryo").n_unique()
    columns = max(1, curves_over_time[x].n_unique())
    save_figure(
        plot_killing(curves_over_time, x, titration.unit, order),
        killing_pdf,
        killing_png,
        width=max(DOUBLE_COLUMN_IN, 1.6 * columns),
        height=min(MAX_HEIGHT_IN, 1.2 + 1.5 * rows),
    )
    fitted = pl.read_parquet(curves)
    fitted = titration.internal_curves(fitted) if fitted.height else fitted
    if fitted.height == 0 or fitted["et50"].is_null().all():
        from plotnine import annotate, ggplot, theme_void

        empty = (
            ggplot()
            + annotate(
                "text", x=0, y=0, label=f"no curve over time has a usable {titration.name50}"
            )
            + theme_void()
        )
        save_figure(empty, et50_pdf, et50_png, width=DOUBLE_COLUMN_IN, height=2.0)
        return
    panels = fitted.select("target", "stage", "cryo").n_unique()
    save_figure(
        plot_et50(fitted, titration.name50, titration.unit, order),
        et50_pdf,
        et50_png,
        width=DOUBLE_COLUMN_IN,
        height=min(MAX_HEIGHT_IN, 1.2 + 2.0 * ((panels + 2) // 3)),
    )


def figure_values(metrics: Path, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Caption values of the time-resolved figures (``{n_plates}``, ``{n_groups}``,
    ``{times}``) from ``timecourse_metrics.parquet``; ``config``: the study config (or its
    ``timecourse`` section under that key)."""
    table = pl.read_parquet(metrics)
    plates = table["plate_ids"].str.split(";").explode().drop_nulls().n_unique()
    times = ", ".join(f"{t:g}" for t in settings(config)["times_h"])
    values = {"n_plates": plates, "n_groups": table.height, "times": times}
    from killcurve.report.timecourse import TIMECOURSE_FIGURES

    return dict.fromkeys(TIMECOURSE_FIGURES, values)


def report_page(
    study: str,
    metrics: Path,
    comparisons: Path,
    curves: Path,
    qc: Path,
    figure_dir: Path,
    provenance: Path,
    config: dict[str, Any],
    html_out: Path,
    captions: Path | None = None,
) -> None:
    """``report.html`` of a study whose plates are all time-resolved: the section ``Killing
    over time`` (figures numbered and captioned from the captions file), the QC at the
    configured times and the provenance. ``config``: the keys ``timecourse``, ``comparisons``,
    ``axis``."""
    import json

    from killcurve.fit.curve_table import model_label
    from killcurve.pipeline.report import _course_section
    from killcurve.pipeline.step import _atomic
    from killcurve.report.captions import _fill, load_captions
    from killcurve.report.finite import finite_frame
    from killcurve.report.html import Figure
    from killcurve.report.provenance import provenance_table
    from killcurve.report.timecourse import TIMECOURSE_FIGURES, render_page

    record = json.loads(Path(provenance).read_text())
    fitted = pl.read_parquet(curves)
    common = {
        "model": model_label(fitted["model"][0]) if fitted.height else "no",
        "ci_level": f"{100 * fitted['ci_level'][0]:g}" if fitted.height else "95",
        "provenance_id": record["provenance_id"],
    }
    values = figure_values(Path(metrics), config)
    axis = Axis.from_config(config.get("axis"))
    figures = []
    for spec in load_captions(captions):
        if spec["id"] in TIMECOURSE_FIGURES:
            filled = {**common, **values[spec["id"]]}
            title, caption = (
                axis.text(_fill(spec[k], filled, spec["id"])) for k in ("title", "caption")
            )
            figures.append(
                Figure(
                    Path(figure_dir) / f"{spec['id']}.png",
                    f"Figure {len(figures) + 1}",
                    f"{title}. {caption}",
                )
            )
    timecourse = {"metrics": metrics, "comparisons": comparisons, "config": config}
    page = render_page(
        study,
        finite_frame(pl.read_csv(qc, infer_schema_length=None)),
        _course_section(timecourse, figures),
        provenance_table(record),
        fitted.height,
    )
    _atomic(Path(html_out), lambda p: p.write_text(page, encoding="utf-8"))
