"""The pipeline's stages as file-to-file functions, one per Snakemake rule.

Each takes paths and plain values (no Snakemake objects), so the same stage
runs from a notebook or a test: ``workflow/scripts/*.py`` only adapt
``snakemake.input``/``output``/``params`` to these calls. Outputs are written
to a temporary name and renamed, so a failed stage leaves no partial file.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from killcurve.axis import Axis, fixed_et, read_curves
from killcurve.errors import KillcurveInputError
from killcurve.io.exclusions import read_exclusions
from killcurve.io.samplesheet import check_files, read_samplesheet
from killcurve.naming import target_slug

if TYPE_CHECKING:
    import numpy as np

    from killcurve.report.captions import FigureEntry
    from killcurve.report.html import PlateMaps


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
    """CSV for people: list columns joined with ``;``, floats at full precision, no NaN or
    inf (:func:`killcurve.report.finite.finite_frame`)."""
    from killcurve.report.finite import finite_frame

    frame = finite_frame(frame)
    flat = frame.with_columns(
        pl.col(c).list.join(";") for c, t in frame.schema.items() if t == pl.List(pl.String)
    )
    _atomic(path, lambda p: flat.write_csv(p))


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Parquet for data, zstd-compressed, without row-group statistics (stable bytes); no NaN
    or inf (:func:`killcurve.report.finite.finite_frame`)."""
    from killcurve.report.finite import finite_frame

    frame = finite_frame(frame)
    _atomic(path, lambda p: frame.write_parquet(p, compression="zstd", statistics=False))


def _thresholds(qc: dict[str, Any]) -> Any:
    """The QC limits (:class:`killcurve.assay.qc.QcThresholds`) among the config's ``qc`` keys."""
    from killcurve.assay.qc import QcThresholds

    return QcThresholds(**{f.name: qc[f.name] for f in fields(QcThresholds) if f.name in qc})


def collect_wells(
    samplesheet: Path,
    study_dir: Path,
    wells_out: Path,
    qc_out: Path,
    qc: dict[str, Any],
    exclusions: Path | None = None,
    fit_config: dict[str, Any] | None = None,
    axis: dict[str, Any] | None = None,
) -> None:
    """Read plates, apply exclusions, compute % lysis and QC; write wells and plate QC tables.

    The whole study in one process, as one chunk (the workflow runs :func:`collect_chunk`
    per chunk and :func:`merge_wells`; both give the same tables).
    """
    from killcurve.chunks import chunk_tables, merge_chunks

    sheet = read_samplesheet(samplesheet)
    check_files(sheet, study_dir)
    excl = read_exclusions(exclusions) if exclusions is not None else None
    limits = _thresholds(qc)
    wells, table = chunk_tables(sheet, study_dir, limits, excl, str(exclusions))
    wells, table = merge_chunks(
        [wells], [table], limits, qc.get("exclude_failed_plates", True), excl, str(exclusions)
    )
    write_parquet(_with_outliers(wells, fit_config, axis), wells_out)
    write_csv(table, qc_out)


def collect_chunk(
    plates: Sequence[dict[str, str | None]],
    study_dir: Path,
    wells_out: Path,
    qc_out: Path,
    qc: dict[str, Any],
    exclusions: Path | None = None,
    cache: Path | None = None,
    hashes_out: Path | None = None,
) -> None:
    """Wells with % lysis and plate QC of some samplesheet rows (``plates``: one dict per
    row); written as Parquet for :func:`merge_wells` and the chunk's plate maps. ``cache``:
    where unchanged layouts are reused from (:func:`killcurve.io.layout.read_layout`).
    ``hashes_out``: a JSON object of the rows' export and layout files (as the sheet names
    them) → SHA-256, for ``provenance.json`` (:func:`write_provenance`), so that a changed
    plate is hashed again by its chunk alone."""
    from killcurve.chunks import chunk_tables
    from killcurve.report.provenance import sha256

    sheet = pl.DataFrame(list(plates), schema=dict.fromkeys(plates[0], pl.String))
    excl = read_exclusions(exclusions) if exclusions is not None else None
    limits = _thresholds(qc)
    wells, table = chunk_tables(sheet, study_dir, limits, excl, str(exclusions), cache)
    write_parquet(wells, wells_out)
    write_parquet(table, qc_out)
    if hashes_out is not None:
        files = sorted({row[column] for row in plates for column in ("file", "layout")})
        digests = {f: sha256(Path(study_dir) / f) for f in files}
        text = json.dumps(digests, indent=1) + "\n"
        _atomic(hashes_out, lambda p: p.write_text(text, encoding="utf-8"))


def merge_wells(
    chunk_wells: Sequence[Path],
    chunk_qc: Sequence[Path],
    wells_out: Path,
    qc_out: Path,
    qc: dict[str, Any],
    exclusions: Path | None = None,
    fit_config: dict[str, Any] | None = None,
    axis: dict[str, Any] | None = None,
) -> None:
    """``wells.parquet`` and ``plate_qc.csv`` of the study from its chunks' tables.

    ``axis``: the config key ``axis`` (ROUT tests each curve on its x)."""
    from killcurve.chunks import merge_chunks

    excl = read_exclusions(exclusions) if exclusions is not None else None
    wells, table = merge_chunks(
        [pl.read_parquet(p) for p in chunk_wells],
        [pl.read_parquet(p) for p in chunk_qc],
        _thresholds(qc),
        qc.get("exclude_failed_plates", True),
        excl,
        str(exclusions),
    )
    write_parquet(_with_outliers(wells, fit_config, axis), wells_out)
    write_csv(table, qc_out)


def _with_outliers(
    wells: pl.DataFrame, fit_config: dict[str, Any] | None, axis: dict[str, Any] | None = None
) -> pl.DataFrame:
    """The well table with ROUT outliers marked when ``fit.outliers.method`` is ``rout``,
    each curve tested on its axis' x (config key ``axis``)."""
    outliers = dict((fit_config or {}).get("outliers") or {})
    if outliers.get("method", "none") != "rout":
        return wells
    from killcurve.fit.curves import FitOptions
    from killcurve.fit.outliers import mark_outliers

    return mark_outliers(
        wells,
        FitOptions.from_config(fit_config or {}),
        float(outliers.get("q", 0.01)),
        str(outliers.get("weighting", "signal")),
        Axis.from_config(axis).column,
    )


def read_points(path: Path, axis: Axis) -> pl.DataFrame:
    """``wells.parquet`` with the axis variable as x (internal column ``et_ratio``)."""
    return axis.points(pl.read_parquet(path))


def fit(
    wells: Path,
    fit_config: dict[str, Any],
    csv_out: Path,
    parquet_out: Path,
    axis: dict[str, Any] | None = None,
    targets_out: Path | None = None,
) -> None:
    """Fit every curve with the ``fit`` config section; write ``curves.csv`` and ``.parquet``.

    ``axis``: the config key ``axis`` (titrated variable and unit; absent: E:T).
    ``targets_out``: a directory to write each target's tables into (:func:`write_targets`).
    """
    from killcurve.fit.curve_table import curve_id_expr
    from killcurve.fit.curves import FitOptions, fit_curves

    titration = Axis.from_config(axis)
    raw = pl.read_parquet(wells)
    points = titration.points(raw)
    curves = fit_curves(points, FitOptions.from_config(fit_config))
    if titration.is_concentration:
        curves = titration.public_curves(curves, fixed_et(points, curve_id_expr()))
    write_parquet(curves, parquet_out)
    write_csv(curves, csv_out)
    if targets_out is not None:
        write_targets(curves, raw, targets_out)


#: The study's products, one per line, in :func:`write_targets`' directory.
PRODUCTS_FILE = "products.txt"


def study_products(curves: pl.DataFrame, products: Path | None = None) -> list[str]:
    """The study's products, sorted: those listed in ``products`` (a :data:`PRODUCTS_FILE`)
    when given, else those of ``curves`` (the study's curve table)."""
    if products is None:
        return sorted(curves["product"].unique().to_list())
    return sorted(n for n in Path(products).read_text(encoding="utf-8").splitlines() if n)


def write_targets(curves: pl.DataFrame, wells: pl.DataFrame, out_dir: Path) -> None:
    """What each target's figures are drawn from, one target at a time, in ``out_dir``:
    ``<slug>.curves.parquet`` (its rows of ``curves.parquet``), ``<slug>.wells.parquet`` (its
    rows of ``wells.parquet``; :func:`target_slug`) and :data:`PRODUCTS_FILE` (colours).

    A target whose rows did not change gets the same bytes again, and Snakemake, which
    compares the checksums of inputs under 1 MB before it reruns a job whose inputs are
    newer, then leaves that target's figure job out (in a one-plate rerun of 1,000 plates,
    three of four targets). The directory appears whole or not at all.
    """
    tmp = _partial(Path(out_dir))
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for target in sorted(curves["target"].unique().to_list()):
        slug = target_slug(target)
        write_parquet(curves.filter(pl.col("target") == target), tmp / f"{slug}.curves.parquet")
        write_parquet(wells.filter(pl.col("target") == target), tmp / f"{slug}.wells.parquet")
    products = study_products(curves)
    (tmp / PRODUCTS_FILE).write_text("".join(f"{p}\n" for p in products), encoding="utf-8")
    if Path(out_dir).exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)


def compare(
    curves: Path,
    comparisons: Sequence[dict[str, Any]],
    csv_out: Path,
    wells: Path | None = None,
    cache: Path | None = None,
) -> None:
    """Run the configured comparisons; write ``comparisons.csv``.

    ``wells`` (``wells.parquet``) feeds the relative-potency rows; without it
    only the curve-level rows (et50 ratio, mixed model) are written. With
    ``cache`` (a directory), the rows of a group whose curves and wells did not
    change are reused (:func:`killcurve.memo.memo_json`).
    """
    # Imported here: statsmodels' formula API adds 0.4 s to every other stage's start-up.
    from killcurve.stats.compare import compare_products

    fits, axis = read_curves(curves)
    well_table = read_points(wells, axis) if wells is not None else None
    if well_table is not None and "signal" in fits.get_column("weighting", default=pl.Series()):
        # the potency fits weigh the wells as the curves were fitted (fit.weighting)
        from killcurve.fit.weighting import with_fit_weights

        well_table = with_fit_weights(well_table, "signal")
    memo = _group_memo(Path(cache) / "comparisons") if cache is not None else None
    table = compare_products(fits, comparisons, well_table, memo=memo)
    write_csv(axis.public_table(table), csv_out)


def _group_memo(folder: Path) -> Any:
    """A :data:`killcurve.stats.compare.GroupMemo` keeping one entry per group in ``folder``."""
    import hashlib

    from killcurve.memo import memo_json, memo_key

    def memo(name: str, parts: Sequence[Any], make: Callable[[], list[dict]]) -> list[dict]:
        entry = folder / hashlib.sha256(name.encode()).hexdigest()[:16]
        return memo_json(entry, memo_key(parts), make)

    return memo


def trend(curves: Path, stages: Sequence[str], csv_out: Path) -> None:
    """Potency trend across the configured process stages; write ``stage_trend.csv``."""
    from killcurve.stats.trend import stage_trend

    fits, axis = read_curves(curves)
    write_csv(axis.public_table(stage_trend(fits, stages)), csv_out)


def retention(curves: Path, thaw: dict[str, Any], csv_out: Path) -> None:
    """Killing retained after thaw, paired by lot; write ``thaw_retention.csv``."""
    from killcurve.stats.thaw import thaw_retention

    fits, axis = read_curves(curves)
    table = thaw_retention(fits, thaw["pre"], thaw["post"], thaw.get("reference_et"))
    write_csv(axis.public_table(table), csv_out)


def statistics(
    curves: Path,
    comparisons: Sequence[dict[str, Any]],
    stages: Sequence[str],
    thaw: dict[str, Any],
    comparisons_out: Path,
    trend_out: Path,
    retention_out: Path,
    wells: Path | None = None,
    cache: Path | None = None,
) -> None:
    """The study-level tables in one process: ``comparisons.csv`` (:func:`compare`, with
    ``wells`` and ``cache``), ``stage_trend.csv`` (:func:`trend`) and
    ``thaw_retention.csv`` (:func:`retention`)."""
    compare(curves, comparisons, comparisons_out, wells, cache)
    trend(curves, stages, trend_out)
    retention(curves, thaw, retention_out)


def viability(
    samplesheet: Path,
    study_dir: Path,
    lots_out: Path,
    products_out: Path,
    min_viability_pct: float | None = 70.0,
    min_recovery_pct: float | None = 50.0,
    ci_level: float = 0.95,
) -> None:
    """Viability and recovery after thaw from the counter files the viability samplesheet names.

    Writes ``viability.csv`` (per product × lot × time point, with pass/fail
    against the two limits, in %; None: not checked) and
    ``viability_products.csv`` (per product × time point across lots, ``ci_level`` t interval).
    """
    from killcurve.viability import lot_viability, product_viability
    from killcurve.viability_table import load_viability_counts

    counts = load_viability_counts(samplesheet, study_dir)
    lots = lot_viability(
        counts,
        min_viability_pct=min_viability_pct,
        min_recovery_pct=min_recovery_pct,
        source=f"viability samplesheet {samplesheet}",
    )
    write_csv(lots, lots_out)
    write_csv(product_viability(lots, ci_level), products_out)


@dataclass(frozen=True)
class TargetData:
    """What a target's two figures are drawn from, read once: the study's products (colours)
    and model, the axis, the target's own curves and wells."""

    products: tuple[str, ...]
    model: str
    axis: Axis
    target: str
    curves: pl.DataFrame
    points: pl.DataFrame

    @classmethod
    def read(cls, wells: Path, curves: Path, slug: str, products: Path | None = None) -> TargetData:
        """The target whose :func:`target_slug` is ``slug`` from the study's tables, or from
        its own (:func:`write_targets`) with the study's ``products`` file."""
        fits, axis = read_curves(curves)
        target = {target_slug(t): t for t in fits["target"].unique().to_list()}.get(slug)
        if target is None:
            raise KillcurveInputError(
                f"{curves}: no target named {slug!r} (as a file name) among the fitted curves. "
                "Run the workflow again so that the figures follow the current curves."
            )
        of_target = pl.col("target") == target
        return cls(
            tuple(study_products(fits, products)),
            fits["model"][0],
            axis,
            target,
            fits.filter(of_target),
            read_points(wells, axis).filter(of_target),
        )

    def memo_parts(self, slug: str, order: Sequence[str]) -> list[pl.DataFrame | str]:
        """Everything the figures depend on (:func:`killcurve.memo.memo_key`): the target's
        curves and points, the study's products (colours), model, axis, product order."""
        return [
            self.curves,
            self.points,
            "\n".join(self.products),
            self.model,
            f"{self.axis.variable} {self.axis.unit}",
            "\n".join(order),
            slug,
        ]


def _panel_height(n_panels: int) -> float:
    """Figure height (inches) for ``n_panels`` facets in rows of three."""
    return 3.0 if n_panels <= 3 else 3.0 * ((n_panels + 2) // 3)


def _save(plot: Any, pdf: Path, png: Path, height: float, cache: Path | None) -> None:
    """Write ``plot`` double-column wide, ``height`` inches high, into ``pdf`` and ``png``
    (:func:`killcurve.figures.save.save_figure`; each file appears whole or not at all).
    With ``cache`` (a directory), also the report's screen-size copy of the PNG, from the
    pixels at hand (:func:`_screen_copy`), and the PDF's font subsets are reused from
    ``cache/fonts`` (:func:`killcurve.figures.pdf_pages.reused_font_subsets`)."""
    from killcurve.figures.pdf_pages import reused_font_subsets
    from killcurve.figures.save import save_figure
    from killcurve.figures.theme import DOUBLE_COLUMN_IN

    tmp_pdf, tmp_png = _partial(pdf), _partial(png)
    with reused_font_subsets(cache):
        pixels = save_figure(plot, tmp_pdf, tmp_png, DOUBLE_COLUMN_IN, height)
    os.replace(tmp_pdf, pdf)
    os.replace(tmp_png, png)
    if cache is not None:
        _screen_copy(png, cache, pixels)


def plot_curves(
    data: TargetData, pdf: Path, png: Path, order: Sequence[str], cache: Path | None = None
) -> None:
    """Lysis-vs-E:T figure of one target (:func:`killcurve.figures.curves.plot_target_curves`);
    ``cache``: see :func:`_save`."""
    from killcurve.figures.curves import by_product, plot_target_curves, replicate_means
    from killcurve.figures.theme import product_colours
    from killcurve.fit.curve_table import curve_grid, model_label

    colours = product_colours(list(data.products), order)
    per_product = by_product(data.curves)
    plot = plot_target_curves(
        replicate_means(data.points), curve_grid(data.curves), data.target, colours, order,
        model_label(data.model), data.axis.label, data.axis.short, per_product,
    )  # fmt: skip
    panels = ["product"] if per_product else ["stage", "cryo"]
    _save(plot, pdf, png, _panel_height(data.curves.select(panels).n_unique()), cache)


def plot_residuals(
    data: TargetData, pdf: Path, png: Path, order: Sequence[str], cache: Path | None = None
) -> None:
    """Residual-diagnostics figure of one target (:mod:`killcurve.figures.residuals`);
    ``cache``: see :func:`_save`."""
    from killcurve.figures.residuals import plot_residuals as residual_plot
    from killcurve.figures.theme import product_colours
    from killcurve.fit.curve_table import curve_residuals, model_label

    residuals = curve_residuals(data.points, data.curves)
    colours = product_colours(list(data.products), order)
    model = model_label(data.model)
    plot = residual_plot(residuals, data.target, colours, order, model, data.axis.label)
    _save(plot, pdf, png, _panel_height(data.curves.select("stage", "cryo").n_unique()), cache)


def plot_target_figures(
    wells: Path,
    curves: Path,
    slug: str,
    curves_pdf: Path,
    curves_png: Path,
    residuals_pdf: Path,
    residuals_png: Path,
    order: Sequence[str],
    cache: Path | None = None,
    products: Path | None = None,
) -> bool:
    """Both figures of the target whose :func:`target_slug` is ``slug``, in one process (one
    import of plotnine, the tables read once): lysis vs E:T (:func:`plot_curves`) and
    residuals (:func:`plot_residuals`). ``wells`` and ``curves``: the study's tables, or
    the target's own with the study's ``products`` (:func:`write_targets`).

    With ``cache`` (a directory), figures drawn from the same data as last time are
    copied from it (:func:`killcurve.memo.memoised`); returns True when they were.
    """
    data = TargetData.read(wells, curves, slug, products)

    def make() -> None:
        plot_curves(data, curves_pdf, curves_png, order, cache)
        plot_residuals(data, residuals_pdf, residuals_png, order, cache)

    if cache is None:
        make()
        return False
    from killcurve.memo import memo_key, memoised, style_digest

    outputs = {
        "curves.pdf": curves_pdf,
        "curves.png": curves_png,
        "residuals.pdf": residuals_pdf,
        "residuals.png": residuals_png,
    }
    key = memo_key([*data.memo_parts(slug, order), style_digest()])
    reused = memoised(Path(cache) / "target_figures" / slug, key, outputs, make)
    if reused:
        sys.stderr.write(f"killcurve: figures of target {slug} unchanged, copied from {cache}\n")
    return reused


def _draw_maps(
    wells: pl.DataFrame,
    reasons: Sequence[tuple[str, str]],
    png_dir: Path,
    dpi: int,
    cache: Path | None = None,
) -> bytes:
    """Plate maps of the ``(plate_id, QC reasons)`` listed: a PNG each in ``png_dir`` (which
    must exist) and one PDF of all of them, in that order, returned as bytes.

    Each map is drawn as a one-page PDF (each font subset made once per glyph set) and the
    pages are joined with their fonts, markers and colour bars stored once
    (:mod:`killcurve.figures.pdf_pages`). With ``cache`` (a directory), a plate's PNG and
    page drawn from the same wells, reasons and dpi as last time are copied from it
    (:func:`killcurve.memo.memoised`): after one plate of a chunk changed, its map is the
    only one drawn (~0.1 CPU-s a page; a whole chunk of 50 costs ~5 s).

    The one-page PDFs are written in ``png_dir/.pages.partial/``, removed before returning:
    the callers' ``png_dir`` is a temporary folder itself, so what a killed job leaves is
    removed with it (:func:`killcurve.recovery.recover_interrupted_run`), never in the
    system's temporary folder, where nothing would remove it.
    """
    import matplotlib
    from matplotlib.image import imsave

    from killcurve.figures.pdf_pages import join_pages, reused_font_subsets
    from killcurve.figures.plate_map import MAP_RC, PlateMapCanvas, plate_map_data
    from killcurve.figures.save import PDF_METADATA, PNG_METADATA
    from killcurve.memo import memo_key, memoised, style_digest

    plates = wells.partition_by("plate_id", as_dict=True, maintain_order=True)
    style = style_digest() if cache is not None else ""  # the settings outside MAP_RC
    canvases: dict[tuple[int, int], PlateMapCanvas] = {}
    folder = Path(png_dir) / ".pages.partial"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    try:
        with matplotlib.rc_context(MAP_RC), reused_font_subsets(cache):
            pages = []
            for plate, why in reasons:
                png, page = png_dir / f"{plate}.png", folder / f"{len(pages)}.pdf"
                pages.append(page)

                def draw(
                    plate: str = plate, why: str = why, png: Path = png, page: Path = page
                ) -> None:
                    data = plate_map_data(plates[(plate,)], why)
                    canvas = canvases.get(data.shape) or canvases.setdefault(
                        data.shape, PlateMapCanvas(data.shape)
                    )
                    figure = canvas.show(data)
                    # The PNG savefig would write, from the canvas's faster (blitted) rendering.
                    imsave(png, canvas.pixels(dpi), format="png", dpi=dpi, metadata=PNG_METADATA)
                    figure.savefig(page, format="pdf", metadata=PDF_METADATA)

                if cache is None:
                    draw()
                else:
                    key = memo_key([plates[(plate,)], why, str(dpi), plate, style])
                    outputs = {"map.png": png, "map.pdf": page}
                    memoised(Path(cache) / "plate_maps" / plate, key, outputs, draw)
            for canvas in canvases.values():
                canvas.close()
            joined = join_pages(pages)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return joined


def _map_reasons(qc: pl.DataFrame) -> list[tuple[str, str]]:
    """(plate_id, QC reasons or "") of every plate, in the QC table's order."""
    return list(qc.select("plate_id", pl.col("reasons").fill_null("")).iter_rows())


def _chunk_map_wells(wells: pl.DataFrame, qc: pl.DataFrame, exclude_failed: bool) -> pl.DataFrame:
    """The wells a chunk's maps show: its wells, failed plates' (``qc``) sample wells
    excluded when ``exclude_failed``."""
    from killcurve.assay.qc import exclude_failed_plates

    return exclude_failed_plates(wells, qc) if exclude_failed else wells


def plot_chunk_maps(
    wells: Path,
    qc: Path,
    png_dir: Path,
    pdf: Path,
    exclude_failed: bool = True,
    dpi: int = 150,
    cache: Path | None = None,
) -> None:
    """Plate maps of one chunk's plates (from :func:`collect_chunk`'s tables; failed plates'
    sample wells crossed out when ``exclude_failed``): a PNG each in ``png_dir``, one PDF.
    ``cache``: where unchanged plates' maps (PNG, PDF page) are reused from (:func:`_draw_maps`)."""
    qc_table = pl.read_parquet(qc)
    table = _chunk_map_wells(pl.read_parquet(wells), qc_table, exclude_failed)
    tmp_dir = _partial(Path(png_dir))
    if tmp_dir.exists():
        shutil.rmtree(tmp_dir)
    tmp_dir.mkdir(parents=True)
    pages = _draw_maps(table, _map_reasons(qc_table), tmp_dir, dpi, cache)
    _atomic(pdf, lambda p: p.write_bytes(pages))
    if Path(png_dir).exists():
        shutil.rmtree(png_dir)
    os.replace(tmp_dir, png_dir)


def plot_plate_maps(
    chunk_pngs: Sequence[Path],
    chunk_pdfs: Sequence[Path],
    chunk_qc: Sequence[Path],
    wells: Path,
    qc: Path,
    png_dir: Path,
    pdf: Path,
    dpi: int = 150,
    chunk_wells: Sequence[Path] = (),
    exclude_failed: bool = True,
) -> None:
    """Plate maps of every plate: one PNG each in ``png_dir`` and all pages, in plate order,
    in one PDF, gathered from the chunks' maps (:func:`plot_chunk_maps`).

    A plate is drawn again from the study's ``wells`` when its map would differ from its
    chunk's: its QC reasons in the study (``qc``) differ (duplicated data across chunks,
    see :mod:`killcurve.chunks`), or the study excludes other wells than its chunk's map
    crossed out (ROUT outliers, marked after the merge; the chunk's map drew
    ``chunk_wells`` with failed plates' samples excluded when ``exclude_failed``).
    """
    import io

    import pikepdf

    from killcurve.figures.pdf_pages import share_resources

    final = _map_reasons(pl.read_csv(qc, infer_schema_length=None))
    chunk_tables = [pl.read_parquet(chunk) for chunk in chunk_qc]
    source: dict[str, tuple[Path, Any, str]] = {}
    opened = []
    for png, chunk_pdf, chunk in zip(chunk_pngs, chunk_pdfs, chunk_tables, strict=True):
        opened.append(pikepdf.open(chunk_pdf))
        for page, (plate, why) in zip(opened[-1].pages, _map_reasons(chunk), strict=True):
            source[plate] = (Path(png), page, why)
    tmp_dir = _partial(Path(png_dir))
    if tmp_dir.exists():
        shutil.rmtree(tmp_dir)
    tmp_dir.mkdir(parents=True)
    moved = _exclusions_moved(wells, chunk_wells, chunk_tables, exclude_failed)
    stale = [(plate, why) for plate, why in final if source[plate][2] != why or plate in moved]
    if stale:
        table = pl.scan_parquet(wells).filter(pl.col("plate_id").is_in([p for p, _ in stale]))
        opened.append(pikepdf.open(io.BytesIO(_draw_maps(table.collect(), stale, tmp_dir, dpi))))
        for (plate, why), page in zip(stale, opened[-1].pages, strict=True):
            source[plate] = (tmp_dir, page, why)
    # qpdf (pikepdf) copies the pages with the resources they share once per source file:
    # 0.5 s for 1,000 plates, where pypdf's object-by-object clone took 8 s.
    merged = pikepdf.new()
    for plate, _ in final:
        folder, page, _ = source[plate]
        if folder != tmp_dir:
            shutil.copyfile(folder / f"{plate}.png", tmp_dir / f"{plate}.png")
        merged.pages.append(page)
    share_resources(merged)  # one font, marker and colour bar for all chunks' pages
    merged.docinfo["/Producer"] = "killcurve"
    _atomic(pdf, lambda p: merged.save(p, deterministic_id=True))
    for document in (merged, *opened):
        document.close()
    if Path(png_dir).exists():
        shutil.rmtree(png_dir)
    os.replace(tmp_dir, png_dir)


def _exclusions_moved(
    wells: Path, chunk_wells: Sequence[Path], chunk_qc: Sequence[pl.DataFrame], exclude_failed: bool
) -> set[str]:
    """Plates whose excluded wells in the study table differ from those their chunk's map
    crossed out (:func:`_chunk_map_wells` of each chunk's wells and QC table)."""
    if not chunk_wells:
        return set()
    keys = ["plate_id", "row", "col"]
    drawn = [
        _chunk_map_wells(pl.read_parquet(path), table, exclude_failed).select(*keys, "excluded")
        for path, table in zip(chunk_wells, chunk_qc, strict=True)
    ]
    study = pl.read_parquet(wells, columns=[*keys, "excluded"])
    both = study.join(pl.concat(drawn), on=keys, how="full", suffix="_drawn", coalesce=True)
    differs = both.filter(pl.col("excluded").ne_missing(pl.col("excluded_drawn")))
    return set(differs["plate_id"].to_list())


def _read_optional(path: Path | None) -> pl.DataFrame | None:
    """A CSV table, or None when ``path`` is None (the run has no such table)."""
    return pl.read_csv(path, infer_schema_length=None) if path is not None else None


def _read_result(path: Path | None, axis: Axis) -> pl.DataFrame | None:
    """A result CSV (comparisons, trend, retention) with internal et50 names; None: absent."""
    table = _read_optional(path)
    return axis.internal_table(table) if table is not None else None


def dossier_tables(curves: Path | None, tables: dict[str, Path | None]) -> Any:
    """The tables of the report's answers (:class:`killcurve.report.summary.Tables`).

    ``tables`` maps ``comparisons``, ``trend``, ``retention``, ``viability_lots`` and
    ``viability_products`` to their CSV files; a missing key or None: no such table.
    ``curves`` None: an empty curve table on the E:T axis (for the viability tables alone).
    """
    from killcurve.report.summary import Tables

    fits, axis = read_curves(curves) if curves is not None else (pl.DataFrame(), Axis())
    results = {n: _read_result(tables.get(n), axis) for n in ("comparisons", "trend", "retention")}
    counts = {n: _read_optional(tables.get(n)) for n in ("viability_lots", "viability_products")}
    return Tables(fits, **results, **counts, axis=axis)


def plot_dossier(
    figure: str,
    curves: Path | None,
    tables: dict[str, Path | None],
    pdf: Path,
    png: Path,
    order: Sequence[str],
    settings: dict[str, Any],
    cache: Path | None = None,
    products: Path | None = None,
) -> bool:
    """One dossier figure (``stages``, ``forest``, ``viability`` or ``thaw``), PDF and PNG.

    ``settings``: the study config's ``stages``, ``thaw``, ``comparisons``,
    ``viability`` and ``report`` keys (:meth:`killcurve.report.summary.Settings.from_config`).
    The products (colours) are those of ``curves``, or listed in ``products``
    (:func:`write_targets`): the viability figure needs no curves then (None).
    With ``cache`` (a directory), a figure drawn from the same table rows, colours and
    settings as last time is copied from it (:mod:`killcurve.memo`); returns True then.
    """
    from killcurve.report.summary import DOSSIER_FIGURES, Settings

    if figure not in DOSSIER_FIGURES:
        raise KillcurveInputError(f"plot_dossier: unknown figure {figure!r}.")
    if curves is None and (figure != "viability" or products is None):
        raise KillcurveInputError(f"plot_dossier: the {figure} figure needs the fitted curves.")
    data = dossier_tables(curves, tables)
    config = Settings.from_config(settings)
    product_names = study_products(data.curves, products)

    def make() -> None:
        from killcurve.figures.theme import product_colours

        colours = product_colours(product_names, order)
        _draw_dossier(figure, data, config, colours, order, pdf, png, cache)

    if cache is None:
        make()
        return False
    from killcurve.memo import memo_key, memoised, style_digest

    # The rows each figure draws (the stages figure: the curves' stage, lot and et50 columns,
    # which stage_lots averages; read here without importing the plotting modules).
    stage_columns = ["product", "lot", "target", "cryo", "stage", "et50", "converged"]
    drawn_from = {
        "forest": lambda: [data.comparisons],
        "stages": lambda: [data.curves.select(stage_columns)],
        "thaw": lambda: [data.retention],
        "viability": lambda: [data.viability_lots, data.viability_products],
    }[figure]()
    key = memo_key(
        [
            *(t if t is not None else "absent" for t in drawn_from),
            figure,
            json.dumps([settings, product_names, list(order)], sort_keys=True, default=str),
            style_digest(),
        ]
    )
    return memoised(
        Path(cache) / "dossier" / figure, key, {"figure.pdf": pdf, "figure.png": png}, make
    )


def _draw_dossier(
    figure: str,
    data: Any,
    config: Any,
    colours: dict[str, str],
    order: Sequence[str],
    pdf: Path,
    png: Path,
    cache: Path | None = None,
) -> None:
    """Draw dossier ``figure`` from ``data`` (:func:`dossier_tables`) into ``pdf`` and ``png``;
    ``cache``: see :func:`_save`."""
    from killcurve.figures.forest import plot_forest
    from killcurve.figures.stages import plot_stages, stage_lots
    from killcurve.figures.thaw import paired_lots, plot_thaw
    from killcurve.figures.viability import plot_viability
    from killcurve.stats.ratios import forest_rows

    def rows_of(panels: int, per_row: int = 3) -> int:
        return max(1, (panels + per_row - 1) // per_row)

    if figure == "forest":
        rows = forest_rows(data.comparisons, config.stages)
        plot = plot_forest(data.comparisons, colours, order, config.stages)
        height = 1.4 + 0.26 * rows.height + 0.25 * rows["comparison"].n_unique()
    elif figure == "stages":
        panels = stage_lots(data.curves, config.stages)["panel"].n_unique()
        plot = plot_stages(data.curves, config.stages, colours, order)
        height = 0.8 + 2.6 * rows_of(panels)
    elif figure == "thaw":
        panels = paired_lots(data.retention, "et50_fold_change", config.pre, config.post)
        plot = plot_thaw(
            data.retention, colours, order, "et50_fold_change", config.pre, config.post
        )
        height = 0.8 + 2.4 * rows_of(panels["panel"].n_unique(), 2)
    elif figure == "viability":
        plot = plot_viability(
            data.viability_lots, data.viability_products, colours, order,
            config.min_viability_pct, config.min_recovery_pct,
        )  # fmt: skip
        height = 3.2
    _save(plot, pdf, png, height, cache)


def numbered_figures(
    curves: Path,
    wells: Path,
    figure_dir: Path,
    provenance: Path,
    captions: Path | None,
    tables: dict[str, Path | None] | None = None,
    settings: dict[str, Any] | None = None,
) -> list[Any]:
    """The run's figures numbered and captioned from the captions file.

    Dossier figures are included when :func:`killcurve.report.summary.available_figures`
    says the run made them (``tables`` and ``settings`` as for :func:`plot_dossier`).
    """
    from killcurve.report.captions import load_captions, number_figures
    from killcurve.report.summary import Settings, available_figures, caption_values

    record = json.loads(Path(provenance).read_text())
    data = dossier_tables(curves, tables or {})
    config = Settings.from_config(settings or {})
    made = available_figures(data.curves, config)
    values = caption_values(data, config)
    entries = number_figures(
        load_captions(captions),
        data.curves,
        pl.read_parquet(wells, columns=["plate_id", "role", "target", "excluded"]),
        Path(figure_dir),
        record["provenance_id"],
        target_slug,
        {k: v for k, v in values.items() if made.get(k, "") is None},
    )
    return [
        replace(e, title=data.axis.text(e.title), caption=data.axis.text(e.caption))
        for e in entries
    ]


def _screen_copy(png: Path, cache: Path, pixels: np.ndarray | None = None) -> Path:
    """``png`` scaled for the report (:func:`killcurve.report.html.screen_png`), in ``cache``.

    Decoding, resampling and encoding a 600 dpi PNG costs ~0.6 s; the copy is remade
    only when the PNG's bytes change (:func:`killcurve.memo.memoised`). ``pixels``: the
    PNG's RGBA pixels when at hand (the figure jobs, which so make the copies the report
    then finds), to scale instead of decoding the PNG: the same bytes either way.
    """
    from killcurve.memo import memo_key, memoised
    from killcurve.report.html import MAX_WIDTH_PX, scaled_png, screen_png
    from killcurve.report.provenance import sha256

    def scaled() -> bytes:
        if pixels is None or pixels.shape[1] <= MAX_WIDTH_PX:
            return screen_png(png)
        from PIL import Image

        return scaled_png(Image.fromarray(pixels, "RGBA"))

    out = Path(cache) / "screen" / Path(png).name
    key = memo_key([sha256(Path(png)), str(MAX_WIDTH_PX)])
    entry = out.with_name(f"{Path(png).stem}.entry")
    memoised(
        entry, key, {"screen.png": out}, lambda: _atomic(out, lambda p: p.write_bytes(scaled()))
    )
    return out


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
) -> None:
    """Write the self-contained HTML report: answers first, figures numbered as in the pack.

    ``tables``: the optional tables (``trend``, ``retention``, ``viability_lots``,
    ``viability_products``) as for :func:`plot_dossier`; ``settings`` likewise. With
    ``cache`` (a directory), each figure's screen-size copy is made once per PNG content
    (:func:`_screen_copy`). ``outliers``: the config's ``fit.outliers``, for the methods.
    """
    from killcurve.report.html import Figure, PlateMaps, Section, render_report
    from killcurve.report.methods import methods
    from killcurve.report.provenance import provenance_table
    from killcurve.report.summary import DOSSIER_FIGURES, Settings, answers, available_figures

    tables = {**(tables or {}), "comparisons": comparisons}
    data = dossier_tables(curves, tables)
    config = Settings.from_config(settings or {})
    qc_table = pl.read_csv(qc, infer_schema_length=None)
    entries = numbered_figures(curves, wells, figure_dir, provenance, captions, tables, settings)
    items, maps, dossier = [], PlateMaps(), {}
    for entry in entries:
        label = f"Figure {entry.number}"
        shown = _screen_copy(entry.png, cache) if cache and entry.png is not None else entry.png
        if entry.id in DOSSIER_FIGURES:
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
            for m in methods(data.curves, outliers, _n_outliers(wells))
        ),
        provenance_table(json.loads(Path(provenance).read_text())),
        section,
        text,
        data.axis.with_units,
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
    tables: dict[str, Path | None] | None = None,
    settings: dict[str, Any] | None = None,
    cache: Path | None = None,
) -> None:
    """``figure_pack.pdf``: contents page, then every figure in order with its caption.
    ``cache``: where caption pages are reused from (:func:`killcurve.report.pack.build_pack`)."""
    from killcurve.report.pack import build_pack

    entries = numbered_figures(curves, wells, figure_dir, provenance, captions, tables, settings)
    key = json.loads(Path(provenance).read_text())["provenance_id"]
    limit = max_plate_maps(settings)
    _atomic(pdf_out, lambda p: build_pack(entries, study, p, key, cache, limit))


def workbook(
    qc: Path,
    curves: Path,
    comparisons: Path,
    xlsx_out: Path,
    tables: dict[str, Path | None] | None = None,
) -> None:
    """``killcurve_tables.xlsx``: plate QC, curves (censored values as >x/<x), comparisons.

    Then one sheet per optional table present in ``tables``: ``stage_trend``
    (key ``trend``), ``thaw_retention`` (``retention``), ``viability``
    (``viability_lots``), ``viability_products``.
    """
    from killcurve.fit.curve_table import CURVE_KEYS
    from killcurve.report.tables import censored_curves, write_workbook

    internal, axis = read_curves(curves)
    fits = censored_curves(internal)
    human = fits.select(
        "curve_id", *CURVE_KEYS, "readout", pl.col("et50_text").alias("et50"), "et50_lower",
        "et50_upper", pl.col("et_at_50_text").alias("et_at_50"), "emax", "hill", "auc",
        "n_points", "converged", "flags", "plate_ids",
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


#: Optional study-level tables the dossier figures, report, pack and workbook read.
DOSSIER_TABLES = ("comparisons", "trend", "retention", "viability_lots", "viability_products")


def optional_tables(inputs: Any) -> dict[str, Path | None]:
    """Each of :data:`DOSSIER_TABLES` as a path from a rule's ``input``; None when absent/empty."""

    def first(name: str) -> Path | None:
        files = inputs.get(name, [])
        files = [files] if isinstance(files, str) else list(files)
        return Path(files[0]) if files else None

    return {name: first(name) for name in DOSSIER_TABLES}


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
