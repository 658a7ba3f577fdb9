"""Rule functions drawing the plate maps, per chunk and for the whole study."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from killcurve.pipeline.step import _atomic, _partial


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
    (:func:`killcurve.common.memo.memoised`): after one plate of a chunk changed, its map is the
    only one drawn (~0.1 CPU-s a page; a whole chunk of 50 costs ~5 s).

    The one-page PDFs are written in ``png_dir/.pages.partial/``, removed before returning:
    the callers' ``png_dir`` is a temporary folder itself, so what a killed job leaves is
    removed with it (:func:`killcurve.pipeline.recovery.recover_interrupted_run`), never in the
    system's temporary folder, where nothing would remove it.
    """
    import matplotlib
    from matplotlib.image import imsave

    from killcurve.common.memo import memo_key, memoised, style_digest
    from killcurve.figures.pdf_pages import join_pages, reused_font_subsets
    from killcurve.figures.plate_map import MAP_RC, PlateMapCanvas, plate_map_data
    from killcurve.figures.save import PDF_METADATA, PNG_METADATA

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
    see :mod:`killcurve.study.chunks`), or the study excludes other wells than its chunk's map
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
