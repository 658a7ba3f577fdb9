"""Residual diagnostics of the curve fits, one figure per target."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from plotnine import (
    aes,
    annotate,
    facet_wrap,
    geom_hline,
    geom_point,
    geom_smooth,
    ggplot,
    labs,
    scale_colour_manual,
    scale_x_log10,
)

from killcurve.figures.curves import UNSET
from killcurve.figures.theme import theme_killcurve


def plot_residuals(
    residuals: pl.DataFrame,
    target: str,
    colours: dict[str, str],
    order: Sequence[str] = (),
    model: str = "4PL",
    x_label: str = "E:T ratio (effector:target, log scale)",
) -> ggplot:
    """Residual (observed − fitted % lysis) of every fitted well against x (log axis).

    x: the wells' ``et_ratio`` column (E:T or the concentration, see
    :meth:`killcurve.axis.Axis.points`), titled ``x_label``.

    One panel per stage · cryo state, colour = product; a loess line per product shows
    systematic lack of fit (a curve shape the model does not follow), the zero line none.
    """
    frame = residuals.filter(pl.col("target") == target).with_columns(
        pl.concat_str(
            [pl.col("stage").fill_null(UNSET), pl.col("cryo").fill_null(UNSET)], separator=" · "
        ).alias("panel")
    )
    labels = labs(
        x=x_label,
        y="residual (observed − fitted, % lysis)",
        colour="product",
        title=f"{target}: residuals of the {model} fits (one point per well)",
    )
    if frame.height == 0:
        note = annotate("text", x=1.0, y=0.0, label="no fitted curve for this target (see flags)")
        return ggplot() + note + scale_x_log10() + labels + theme_killcurve()
    plot = (
        ggplot(frame.to_pandas(), aes("et_ratio", "residual", colour="product"))
        + geom_hline(yintercept=0, colour="#777777", size=0.4)
        + geom_point(size=0.9, alpha=0.7)
        + scale_x_log10()
        + scale_colour_manual(values=colours, breaks=[p for p in order if p in colours] or None)
        + facet_wrap("panel")
        + labels
        + theme_killcurve()
    )
    if frame.height >= 10:
        plot += geom_smooth(method="lowess", se=False, size=0.5)
    return plot
