"""Rule functions of the last stage: the HTML report, the figure pack, the workbook, provenance."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from killcurve.pipeline.dossier import dossier_tables, numbered_figures
from killcurve.pipeline.step import _atomic
from killcurve.pipeline.target_figures import _screen_copy
from killcurve.study.axis import read_curves

if TYPE_CHECKING:
    from killcurve.report.captions import FigureEntry
    from killcurve.report.html import PlateMaps


def _n_outliers(wells: Path) -> int:
    """Wells ROUT marked (:data:`killcurve.fit.outliers.OUTLIER_REASON` among their reasons)."""
    reason = pl.col("exclusion_reason").str.split("; ").list.contains("outlier")
    return pl.scan_parquet(wells).filter(reason).select(pl.len()).collect().item()


def max_plate_maps(settings: dict[str, Any] | None) -> int:
    """The config's ``report.max_plate_maps`` (default
    :data:`killcurve.report.html.MAX_PLATE_MAPS`)."""
    from killcurve.report.html import MAX_PLATE_MAPS

    return ((settings or {}).get("report") or {}).get("max_plate_maps", MAX_PLATE_MAPS)


def _plate_maps(
    entry: FigureEntry, label: str, qc: pl.DataFrame, wells: Path, root: Path, limit: int
) -> PlateMaps:
    """The report's plate maps (:func:`killcurve.report.html.plates_to_embed`): figures of
    the embedded ones captioned with their QC reasons, links relative to ``root`` (the
    report's folder) for the rest."""
    from killcurve.report.html import Figure, PlateMaps, plates_to_embed

    pngs = {png.stem: png for png in sorted((entry.pdf.parent / "plates").glob("*.png"))}
    reasons = dict(zip(qc["plate_id"], qc["reasons"].fill_null(""), strict=True))
    excluded = pl.scan_parquet(wells).filter(pl.col("excluded")).select("plate_id").unique()
    attention = set(excluded.collect()["plate_id"]) | set(qc.filter(~pl.col("pass"))["plate_id"])
    embedded, linked = plates_to_embed(list(pngs), attention, limit)
    return PlateMaps(
        embedded=[
            Figure(pngs[p], f"{label}, plate {p}",
                   f"{entry.title}. QC: {reasons.get(p) or 'passed'}.")
            for p in embedded
        ],
        linked=[(p, os.path.relpath(pngs[p], root)) for p in linked],
        limit=limit,
        pdf=os.path.relpath(entry.pdf, root),
    )  # fmt: skip


def report(
    study: str,
    qc: Path,
    curves: Path,
    wells: Path,
    comparisons: Path,
    figure_dir: Path,
    provenance: Path,
    html_out: Path,
    captions: Path | None = None,
    tables: dict[str, Path | None] | None = None,
    settings: dict[str, Any] | None = None,
    cache: Path | None = None,
    outliers: dict[str, Any] | None = None,
    verdict: dict[str, Any] | None = None,
    timecourse: dict[str, Any] | None = None,
) -> None:
    """Write the self-contained HTML report: answers first, figures numbered as in the pack.

    ``timecourse`` (studies with time-resolved plates): ``metrics`` and ``comparisons``
    (paths of ``timecourse_metrics.parquet`` and ``timecourse_comparisons.csv``) and ``config``
    (the config keys ``timecourse``, ``comparisons``, ``axis``) for the section
    ``Killing over time``.

    ``tables``: the optional tables (``trend``, ``retention``, ``viability_lots``,
    ``viability_products``) as for :func:`plot_dossier`; ``settings`` likewise. With
    ``cache`` (a directory), each figure's screen-size copy is made once per PNG content
    (:func:`_screen_copy`). ``outliers``, ``verdict``: the config's ``fit.outliers`` and
    ``fit.verdict``, for the methods.
    """
    from killcurve.report.html import Figure, PlateMaps, Section, render_report
    from killcurve.report.methods import methods
    from killcurve.report.provenance import provenance_table
    from killcurve.report.summary import DOSSIER_FIGURES, Settings, answers, available_figures
    from killcurve.report.timecourse import TIMECOURSE_FIGURES

    tables = {**(tables or {}), "comparisons": comparisons}
    data = dossier_tables(curves, tables)
    config = Settings.from_config(settings or {})
    qc_table = pl.read_csv(qc, infer_schema_length=None)
    entries = numbered_figures(
        curves, wells, figure_dir, provenance, captions, tables, settings,
        _course_values(timecourse),
    )  # fmt: skip
    items, maps, dossier, course = [], PlateMaps(), {}, []
    for entry in entries:
        label = f"Figure {entry.number}"
        shown = _screen_copy(entry.png, cache) if cache and entry.png is not None else entry.png
        if entry.id in TIMECOURSE_FIGURES:
            course.append(Figure(shown, label, f"{entry.title}. {entry.caption}"))
        elif entry.id in DOSSIER_FIGURES:
            dossier[entry.id] = Figure(shown, label, f"{entry.title}. {entry.caption}")
        elif entry.png is not None:
            items.append(Figure(shown, label, f"{entry.title}. {entry.caption}"))
        else:
            maps = _plate_maps(
                entry, label, qc_table, wells, Path(html_out).parent, max_plate_maps(settings)
            )
    numbers = {e.id: e.number for e in entries if e.id in dossier}
    text = data.axis.text
    section = Section(
        answers=[
            replace(a, question=text(a.question), sentences=[text(s) for s in a.sentences])
            for a in answers(data, config, numbers)
        ],
        dossier=dossier,
        absent={k: v for k, v in available_figures(data.curves, config).items() if v},
        trend=data.trend,
        retention=data.retention,
        viability_lots=data.viability_lots,
        viability_products=data.viability_products,
    )
    comparisons_table = data.comparisons if data.comparisons is not None else pl.DataFrame()
    page = render_report(
        study,
        qc_table,
        data.axis.public_names(data.curves),
        data.axis.public_table(comparisons_table),
        items,
        maps,
        tuple(
            m if m.startswith("Readout") else text(m)
            for m in methods(data.curves, outliers, _n_outliers(wells), verdict)
        ),
        provenance_table(json.loads(Path(provenance).read_text())),
        section,
        text,
        data.axis.with_units,
        _course_section(timecourse, course),
    )
    _atomic(html_out, lambda p: p.write_text(page, encoding="utf-8"))


def _course_values(timecourse: dict[str, Any] | None) -> dict[str, dict[str, Any]] | None:
    """Caption values of the time-resolved figures, None without time-resolved plates."""
    if not timecourse:
        return None
    from killcurve.pipeline.timecourse import figure_values

    return figure_values(Path(timecourse["metrics"]), timecourse["config"])


def _course_section(timecourse: dict[str, Any] | None, figures: Sequence[Any]) -> list[str]:
    """HTML parts of the section ``Killing over time`` (empty without time-resolved plates)."""
    if not timecourse:
        return []
    from killcurve.pipeline.timecourse import settings
    from killcurve.report.finite import finite_frame
    from killcurve.report.timecourse import section_html
    from killcurve.study.axis import Axis

    config = timecourse["config"]
    from killcurve.stats.compare import BY_COLUMNS

    used = {c for comp in config.get("comparisons") or [] for c in comp.get("by", [])}
    by = [c for c in BY_COLUMNS if c in used]
    axis = Axis.from_config(config.get("axis"))
    return section_html(
        finite_frame(pl.read_parquet(timecourse["metrics"])),
        finite_frame(pl.read_csv(timecourse["comparisons"], infer_schema_length=None)),
        figures,
        settings(config),
        by,
        axis.unit,
        words=axis.text,
    )


def figure_pack(
    study: str,
    curves: Path,
    wells: Path,
    figure_dir: Path,
    provenance: Path,
    pdf_out: Path,
    captions: Path | None = None,
    tables: dict[str, Path | None] | None = None,
    settings: dict[str, Any] | None = None,
    cache: Path | None = None,
    timecourse: dict[str, Any] | None = None,
) -> None:
    """``figure_pack.pdf``: contents page, then every figure in order with its caption.
    ``cache``: where caption pages are reused from (:func:`killcurve.report.pack.build_pack`);
    ``timecourse`` as for :func:`report`."""
    from killcurve.report.pack import build_pack

    entries = numbered_figures(
        curves, wells, figure_dir, provenance, captions, tables, settings,
        _course_values(timecourse),
    )  # fmt: skip
    key = json.loads(Path(provenance).read_text())["provenance_id"]
    limit = max_plate_maps(settings)
    _atomic(pdf_out, lambda p: build_pack(entries, study, p, key, cache, limit))


def workbook(
    qc: Path,
    curves: Path,
    comparisons: Path,
    xlsx_out: Path,
    tables: dict[str, Path | None] | None = None,
    timecourse: dict[str, Path] | None = None,
) -> None:
    """``killcurve_tables.xlsx``: plate QC, curves (censored values as >x/<x), comparisons.

    Then one sheet per optional table present in ``tables``: ``stage_trend``
    (key ``trend``), ``thaw_retention`` (``retention``), ``viability``
    (``viability_lots``), ``viability_products``; and with time-resolved plates the sheets
    ``timecourse_metrics`` and ``timecourse_comparisons`` (``timecourse`` keys ``metrics``,
    ``comparisons``: their CSV files).
    """
    from killcurve.fit.curve_table import CURVE_KEYS
    from killcurve.report.tables import censored_curves, write_workbook

    internal, axis = read_curves(curves)
    fits = censored_curves(internal)
    human = fits.select(
        "curve_id", *CURVE_KEYS, "readout", "verdict", pl.col("et50_text").alias("et50"),
        "et50_lower", "et50_upper", pl.col("et_at_50_text").alias("et_at_50"), "emax",
        "max_mean_lysis", "hill", "auc", "n_points", "converged", "verdict_reasons", "flags",
        "plate_ids",
    )  # fmt: skip
    human = axis.public_names(human)
    sheets = {
        "plate_qc": pl.read_csv(qc, infer_schema_length=None),
        "curves": human,
        "comparisons": pl.read_csv(comparisons, infer_schema_length=None),
    }
    optional = (
        ("stage_trend", "trend"), ("thaw_retention", "retention"),
        ("viability", "viability_lots"), ("viability_products", "viability_products"),
    )  # fmt: skip
    for sheet, key in optional:
        if (tables or {}).get(key) is not None:
            sheets[sheet] = pl.read_csv(tables[key], infer_schema_length=None)
    for key, path in (timecourse or {}).items():
        sheets[f"timecourse_{key}"] = pl.read_csv(path, infer_schema_length=None)
    _atomic(xlsx_out, lambda p: write_workbook(sheets, p))


def write_provenance(
    inputs: Sequence[Path],
    config: dict[str, Any],
    code_dir: Path,
    json_out: Path,
    chunk_hashes: Sequence[Path] = (),
) -> None:
    """Write ``provenance.json`` (input hashes, config, versions, commit, provenance id):
    ``inputs`` are hashed here, the plate files from their chunks' digests (``chunk_hashes``,
    written by :func:`collect_chunk`)."""
    from killcurve.report.provenance import build_provenance

    hashed = {k: v for p in chunk_hashes for k, v in json.loads(Path(p).read_text()).items()}
    record = build_provenance(inputs, config, code_dir, hashed)
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    _atomic(json_out, lambda p: p.write_text(text, encoding="utf-8"))
