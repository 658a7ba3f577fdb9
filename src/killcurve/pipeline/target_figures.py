"""Rule functions drawing each target's curve and residual figures (memoised per target)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.pipeline.curves import read_points, study_products
from killcurve.pipeline.step import _atomic, _partial
from killcurve.study.axis import Axis, read_curves
from killcurve.study.naming import target_slug

if TYPE_CHECKING:
    import numpy as np


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
        """Everything the figures depend on (:func:`killcurve.common.memo.memo_key`): the target's
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
    copied from it (:func:`killcurve.common.memo.memoised`); returns True when they were.
    """
    data = TargetData.read(wells, curves, slug, products)

    def make() -> None:
        plot_curves(data, curves_pdf, curves_png, order, cache)
        plot_residuals(data, residuals_pdf, residuals_png, order, cache)

    if cache is None:
        make()
        return False
    from killcurve.common.memo import memo_key, memoised, style_digest

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


def _screen_copy(png: Path, cache: Path, pixels: np.ndarray | None = None) -> Path:
    """``png`` scaled for the report (:func:`killcurve.report.html.screen_png`), in ``cache``.

    Decoding, resampling and encoding a 600 dpi PNG costs ~0.6 s; the copy is remade
    only when the PNG's bytes change (:func:`killcurve.common.memo.memoised`). ``pixels``: the
    PNG's RGBA pixels when at hand (the figure jobs, which so make the copies the report
    then finds), to scale instead of decoding the PNG: the same bytes either way.
    """
    from killcurve.common.hashing import sha256
    from killcurve.common.memo import memo_key, memoised
    from killcurve.report.html import MAX_WIDTH_PX, scaled_png, screen_png

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
