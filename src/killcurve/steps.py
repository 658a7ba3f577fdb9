"""The pipeline's stages as file-to-file functions, one per Snakemake rule.

Each takes paths and plain values (no Snakemake objects), so the same stage
runs from a notebook or a test: ``workflow/scripts/*.py`` only adapt
``snakemake.input``/``output``/``params`` to these calls. Outputs are written
to a temporary name and renamed, so a failed stage leaves no partial file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import polars as pl

from killcurve.assay.lysis import compute_lysis
from killcurve.assay.qc import QcThresholds, exclude_failed_plates, plate_qc
from killcurve.errors import KillcurveInputError
from killcurve.fit.curves import (
    CURVE_KEYS,
    FitOptions,
    curve_grid,
    curve_residuals,
    fit_curves,
    model_label,
)
from killcurve.io.exclusions import apply_exclusions, read_exclusions
from killcurve.io.samplesheet import check_files, read_samplesheet
from killcurve.stats.compare import compare_products
from killcurve.wells import load_wells


def target_slug(target: str) -> str:
    """File-name-safe form of a target name: ``SHP-77`` stays, ``B cell/x`` → ``B_cell_x``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", target).strip("_") or "target"


def _partial(path: Path) -> Path:
    """Temporary name beside ``path`` (same suffix, so writers pick the same format)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.partial{path.suffix}")


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = _partial(path)
    write(tmp)
    os.replace(tmp, path)


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """CSV for people: list columns joined with ``;``, floats at full precision."""
    flat = frame.with_columns(
        pl.col(c).list.join(";") for c, t in frame.schema.items() if t == pl.List(pl.String)
    )
    _atomic(path, lambda p: flat.write_csv(p))


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Parquet for data, zstd-compressed, without row-group statistics (stable bytes)."""
    _atomic(path, lambda p: frame.write_parquet(p, compression="zstd", statistics=False))


def collect_wells(
    samplesheet: Path,
    study_dir: Path,
    wells_out: Path,
    qc_out: Path,
    qc: dict[str, Any],
    exclusions: Path | None = None,
) -> None:
    """Read plates, apply exclusions, compute % lysis and QC; write wells and plate QC tables."""
    sheet = read_samplesheet(samplesheet)
    check_files(sheet, study_dir)
    wells = load_wells(sheet, study_dir)
    if exclusions is not None:
        wells = apply_exclusions(wells, read_exclusions(exclusions), str(exclusions))
    wells = compute_lysis(wells)
    limits = {f.name: qc[f.name] for f in fields(QcThresholds) if f.name in qc}
    table = plate_qc(wells, QcThresholds(**limits))
    if qc.get("exclude_failed_plates", True):
        wells = exclude_failed_plates(wells, table)
    write_parquet(wells, wells_out)
    write_csv(table, qc_out)


def fit(wells: Path, fit_config: dict[str, Any], csv_out: Path, parquet_out: Path) -> None:
    """Fit every curve with the ``fit`` config section; write ``curves.csv`` and ``.parquet``."""
    curves = fit_curves(pl.read_parquet(wells), FitOptions.from_config(fit_config))
    write_parquet(curves, parquet_out)
    write_csv(curves, csv_out)


def compare(curves: Path, comparisons: Sequence[dict[str, Any]], csv_out: Path) -> None:
    """Run the configured comparisons; write ``comparisons.csv``."""
    write_csv(compare_products(pl.read_parquet(curves), comparisons), csv_out)


def trend(curves: Path, stages: Sequence[str], csv_out: Path) -> None:
    """Potency trend across the configured process stages; write ``stage_trend.csv``."""
    from killcurve.stats.trend import stage_trend

    write_csv(stage_trend(pl.read_parquet(curves), stages), csv_out)


def retention(curves: Path, thaw: dict[str, Any], csv_out: Path) -> None:
    """Killing retained after thaw, paired by lot; write ``thaw_retention.csv``."""
    from killcurve.stats.thaw import thaw_retention

    table = thaw_retention(
        pl.read_parquet(curves), thaw["pre"], thaw["post"], thaw.get("reference_et")
    )
    write_csv(table, csv_out)


def plot_curves(
    wells: Path, curves: Path, slug: str, pdf: Path, png: Path, order: Sequence[str]
) -> None:
    """Lysis-vs-E:T figure of the target whose :func:`target_slug` is ``slug``."""
    from killcurve.figures.curves import plot_target_curves, replicate_means
    from killcurve.figures.save import save_figure
    from killcurve.figures.theme import DOUBLE_COLUMN_IN, product_colours

    well_table = pl.read_parquet(wells)
    fits = pl.read_parquet(curves)
    targets = {target_slug(t): t for t in fits["target"].unique().to_list()}
    target = targets[slug]
    colours = product_colours(fits["product"].unique().to_list(), order)
    label = model_label(fits["model"][0])
    means = replicate_means(well_table)
    plot = plot_target_curves(means, curve_grid(fits), target, colours, order, label)
    n_panels = fits.filter(pl.col("target") == target).select("stage", "cryo").n_unique()
    height = 3.0 if n_panels <= 3 else 3.0 * ((n_panels + 2) // 3)
    tmp_pdf, tmp_png = _partial(pdf), _partial(png)
    save_figure(plot, tmp_pdf, tmp_png, DOUBLE_COLUMN_IN, height)
    os.replace(tmp_pdf, pdf)
    os.replace(tmp_png, png)


def plot_residuals(
    wells: Path, curves: Path, slug: str, pdf: Path, png: Path, order: Sequence[str]
) -> None:
    """Residual-diagnostics figure of the target whose :func:`target_slug` is ``slug``."""
    from killcurve.figures.residuals import plot_residuals as residual_plot
    from killcurve.figures.save import save_figure
    from killcurve.figures.theme import DOUBLE_COLUMN_IN, product_colours

    fits = pl.read_parquet(curves)
    target = {target_slug(t): t for t in fits["target"].unique().to_list()}[slug]
    residuals = curve_residuals(pl.read_parquet(wells), fits)
    colours = product_colours(fits["product"].unique().to_list(), order)
    n_panels = fits.filter(pl.col("target") == target).select("stage", "cryo").n_unique()
    height = 3.0 if n_panels <= 3 else 3.0 * ((n_panels + 2) // 3)
    tmp_pdf, tmp_png = _partial(pdf), _partial(png)
    save_figure(
        residual_plot(residuals, target, colours, order, model_label(fits["model"][0])),
        tmp_pdf,
        tmp_png,
        DOUBLE_COLUMN_IN,
        height,
    )
    os.replace(tmp_pdf, pdf)
    os.replace(tmp_png, png)


def plot_plate_maps(wells: Path, qc: Path, png_dir: Path, pdf: Path, dpi: int = 150) -> None:
    """Plate maps of every plate: one PNG each in ``png_dir`` and all pages in one PDF."""
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from killcurve.figures.plate_map import draw_plate_map
    from killcurve.figures.save import PDF_METADATA, PNG_METADATA

    table = pl.read_parquet(wells)
    reasons = pl.read_csv(qc, infer_schema_length=None).select(
        "plate_id", pl.col("reasons").fill_null("")
    )
    tmp_dir = _partial(Path(png_dir))
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp_pdf = _partial(pdf)
    with (
        matplotlib.rc_context({"pdf.fonttype": 42}),
        PdfPages(tmp_pdf, metadata=PDF_METADATA) as pages,
    ):
        for plate, why in reasons.iter_rows():
            figure = draw_plate_map(table, plate, why)
            figure.savefig(tmp_dir / f"{plate}.png", dpi=dpi, metadata=PNG_METADATA)
            pages.savefig(figure)
            plt.close(figure)
    if Path(png_dir).exists():
        shutil.rmtree(png_dir)
    os.replace(tmp_dir, png_dir)
    os.replace(tmp_pdf, pdf)


def numbered_figures(
    curves: Path, wells: Path, figure_dir: Path, provenance: Path, captions: Path | None
) -> list[Any]:
    """The run's figures numbered and captioned from the captions file."""
    from killcurve.report.captions import load_captions, number_figures

    record = json.loads(Path(provenance).read_text())
    return number_figures(
        load_captions(captions),
        pl.read_parquet(curves),
        pl.read_parquet(wells, columns=["plate_id", "role", "target", "excluded"]),
        Path(figure_dir),
        record["provenance_id"],
        target_slug,
    )


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
) -> None:
    """Write the self-contained HTML report, figures numbered and captioned as in the pack."""
    from killcurve.report.html import Figure, render_report
    from killcurve.report.methods import methods
    from killcurve.report.provenance import provenance_table

    fits = pl.read_parquet(curves)
    qc_table = pl.read_csv(qc, infer_schema_length=None)
    reasons = dict(zip(qc_table["plate_id"], qc_table["reasons"].fill_null(""), strict=True))
    entries = numbered_figures(curves, wells, figure_dir, provenance, captions)
    items, maps = [], []
    for entry in entries:
        label = f"Figure {entry.number}"
        if entry.png is not None:
            items.append(Figure(entry.png, label, f"{entry.title}. {entry.caption}"))
            continue
        for png in sorted((Path(figure_dir) / "plates").glob("*.png")):
            qc_text = reasons.get(png.stem) or "passed"
            maps.append(Figure(png, f"{label}, plate {png.stem}", f"{entry.title}. QC: {qc_text}."))
    page = render_report(
        study,
        qc_table,
        fits,
        pl.read_csv(comparisons, infer_schema_length=None),
        items,
        maps,
        methods(fits),
        provenance_table(json.loads(Path(provenance).read_text())),
    )
    _atomic(html_out, lambda p: p.write_text(page, encoding="utf-8"))


def figure_pack(
    study: str,
    curves: Path,
    wells: Path,
    figure_dir: Path,
    provenance: Path,
    pdf_out: Path,
    captions: Path | None = None,
) -> None:
    """``figure_pack.pdf``: contents page, then every figure in order with its caption."""
    from killcurve.report.pack import build_pack

    entries = numbered_figures(curves, wells, figure_dir, provenance, captions)
    key = json.loads(Path(provenance).read_text())["provenance_id"]
    _atomic(pdf_out, lambda p: build_pack(entries, study, p, key))


def workbook(qc: Path, curves: Path, comparisons: Path, xlsx_out: Path) -> None:
    """``killcurve_tables.xlsx``: plate QC, curves (censored values as >x/<x), comparisons."""
    from killcurve.report.tables import censored_curves, write_workbook

    fits = censored_curves(pl.read_parquet(curves))
    human = fits.select(
        "curve_id", *CURVE_KEYS, "readout", pl.col("et50_text").alias("et50"), "et50_lower",
        "et50_upper", pl.col("et_at_50_text").alias("et_at_50"), "emax", "hill", "auc",
        "n_points", "converged", "flags", "plate_ids",
    )  # fmt: skip
    tables = {
        "plate_qc": pl.read_csv(qc, infer_schema_length=None),
        "curves": human,
        "comparisons": pl.read_csv(comparisons, infer_schema_length=None),
    }
    _atomic(xlsx_out, lambda p: write_workbook(tables, p))


def write_provenance(
    inputs: Sequence[Path], config: dict[str, Any], code_dir: Path, json_out: Path
) -> None:
    """Write ``provenance.json`` (input hashes, config, versions, commit, provenance id)."""
    from killcurve.report.provenance import build_provenance

    record = build_provenance(inputs, config, code_dir)
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    _atomic(json_out, lambda p: p.write_text(text, encoding="utf-8"))


def run(step: Callable[..., None], log: Path | None = None, **kwargs: Any) -> None:
    """Run a stage; on bad input print the message (no traceback) and exit with status 1."""
    try:
        step(**kwargs)
    except KillcurveInputError as err:
        message = f"killcurve: error: {err}\n"
        if log is not None:
            Path(log).parent.mkdir(parents=True, exist_ok=True)
            Path(log).write_text(message)
        sys.stderr.write(message)
        raise SystemExit(1) from None
