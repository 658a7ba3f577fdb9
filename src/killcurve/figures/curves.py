"""Lysis against E:T with fitted curves, one figure per target."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from plotnine import (
    aes,
    annotate,
    facet_wrap,
    geom_errorbar,
    geom_path,
    geom_point,
    ggplot,
    labs,
    scale_colour_manual,
    scale_x_log10,
)

from killcurve.figures.frames import plot_frame
from killcurve.figures.paths import broken_paths
from killcurve.figures.theme import theme_killcurve

#: Most lots per target that get a point shape each.
MAX_LOT_SHAPES = 6
#: Facet label used when a curve has no stage or cryo value.
UNSET = "-"


def replicate_means(wells: pl.DataFrame) -> pl.DataFrame:
    """Mean and SD of % lysis per curve and E:T over non-excluded sample wells."""
    return (
        wells.filter((pl.col("role") == "sample") & ~pl.col("excluded"))
        .group_by("product", "lot", "target", "stage", "cryo", "batch", "et_ratio")
        .agg(
            pl.col("pct_lysis").mean().alias("mean"),
            pl.col("pct_lysis").std().fill_null(0.0).alias("sd"),
            pl.len().alias("n"),
        )
        .sort("product", "lot", "target", "stage", "cryo", "batch", "et_ratio", nulls_last=True)
    )


def by_product(curves: pl.DataFrame) -> bool:
    """Whether a target's figure gets one panel per product instead of per stage · cryo.

    ``curves``: the target's curves. True when they share one stage · cryo state but
    hold several products and more lots than get a point shape: e.g. 22 donors × 6
    antibodies of an ADCC study, unreadable on one panel.
    """
    return (
        curves.select("stage", "cryo").n_unique() == 1
        and curves["product"].n_unique() > 1
        and curves["lot"].n_unique() > MAX_LOT_SHAPES
    )


def _panel(frame: pl.DataFrame, per_product: bool = False) -> pl.DataFrame:
    state = pl.concat_str(
        [pl.col("stage").fill_null(UNSET), pl.col("cryo").fill_null(UNSET)], separator=" · "
    )
    return frame.with_columns(
        (pl.col("product") if per_product else state).alias("panel"),
        pl.concat_str([pl.col("product"), pl.col("lot")], separator=" ").alias("curve"),
    )


def plot_target_curves(
    means: pl.DataFrame,
    grid: pl.DataFrame,
    target: str,
    colours: dict[str, str],
    order: Sequence[str] = (),
    model: str = "4PL",
    x_label: str = "E:T ratio (effector:target, log scale)",
    x_short: str = "E:T",
    per_product: bool = False,
) -> ggplot:
    """% lysis (mean ± SD of replicate wells) and the fitted ``model`` per lot vs x (log axis).

    x is the titrated variable in the wells' ``et_ratio`` column (E:T, or a
    concentration moved there by :meth:`killcurve.study.axis.Axis.points`), titled
    ``x_label``, called ``x_short`` in the title. One panel per stage · cryo
    state (per product with ``per_product``, see :func:`by_product`); colour =
    product, one line per lot.
    """
    pts = plot_frame(_panel(means.filter(pl.col("target") == target), per_product))
    lines = plot_frame(
        broken_paths(
            _panel(grid.filter(pl.col("target") == target), per_product).sort("et_ratio"),
            ["panel", "product"],
            "curve",
            "pct_lysis",
        )
    )
    plot = ggplot()
    if len(lines):
        plot += geom_path(
            lines, aes("et_ratio", "pct_lysis", colour="product", group="product"), size=0.5
        )
    if len(pts):
        plot += geom_errorbar(
            pts, aes("et_ratio", ymin="mean - sd", ymax="mean + sd", colour="product"),
            width=0.05, size=0.3,
        )  # fmt: skip
        # A shape per lot reads well for a few lots; beyond MAX_LOT_SHAPES colour alone.
        by_lot = pts["lot"].nunique() <= MAX_LOT_SHAPES
        if by_lot:
            plot += geom_point(
                pts, aes("et_ratio", "mean", colour="product", shape="lot"), size=1.3
            )
            plot += labs(shape="lot")
        else:
            plot += geom_point(pts, aes("et_ratio", "mean", colour="product"), size=1.3)
        plot += facet_wrap("panel")
    else:
        plot += annotate(
            "text", x=1.0, y=50.0, label="no usable wells: all excluded (see plate QC)"
        )
    return (
        plot
        + scale_x_log10()
        + scale_colour_manual(values=colours, breaks=[p for p in order if p in colours] or None)
        + labs(
            x=x_label,
            y="specific lysis (%)",
            colour="product",
            title=(
                f"{target}: % lysis vs {x_short}, {model} fit per lot (points: mean ± SD of wells)"
            ),
        )
        + theme_killcurve()
    )
