"""Residual diagnostics of the curve fits, one figure per target."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from plotnine import (
    aes,
    annotate,
    facet_wrap,
    geom_hline,
    geom_line,
    geom_point,
    ggplot,
    labs,
    scale_colour_manual,
    scale_x_log10,
)

from killcurve.figures.curves import UNSET
from killcurve.figures.frames import plot_frame
from killcurve.figures.theme import theme_killcurve

#: LOWESS span: the fraction of a group's wells in each local fit (plotnine's default).
LOWESS_SPAN = 0.75


def lowess_lines(frame: pl.DataFrame, span: float = LOWESS_SPAN) -> pl.DataFrame:
    """LOWESS of residual on log10(x) per panel and product: one row per distinct x.

    ``frame``: ``panel``, ``product``, ``et_ratio`` (x > 0) and ``residual`` columns.
    statsmodels' ``lowess`` (tricube-weighted local lines over ``span`` of the group's
    wells, 3 robustness iterations), on log10 x as a log-scale axis smooths: what
    ``geom_smooth(method="lowess")`` draws, without importing ``statsmodels.api`` (0.9 s)
    and with one vertex per distinct x instead of one per well. A group with fewer than
    two distinct x gets no line.
    """
    import numpy as np
    from statsmodels.nonparametric.smoothers_lowess import lowess

    lines = []
    ordered = frame.select("panel", "product", "et_ratio", "residual").sort("et_ratio")
    for (panel, product), group in ordered.group_by("panel", "product", maintain_order=True):
        if group["et_ratio"].n_unique() < 2:
            continue
        log_x = np.log10(group["et_ratio"].to_numpy())
        fitted = lowess(group["residual"].to_numpy(), log_x, frac=span, is_sorted=True)
        lines.append(
            pl.DataFrame({"log_x": fitted[:, 0], "residual": fitted[:, 1]})
            .unique("log_x", keep="first", maintain_order=True)
            .select(
                pl.lit(panel).alias("panel"),
                pl.lit(product).alias("product"),
                (10.0 ** pl.col("log_x")).alias("et_ratio"),
                "residual",
            )
        )
    schema = {
        "panel": pl.String,
        "product": pl.String,
        "et_ratio": pl.Float64,
        "residual": pl.Float64,
    }
    return pl.concat(lines) if lines else pl.DataFrame(schema=schema)


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
    :meth:`killcurve.study.axis.Axis.points`), titled ``x_label``.

    One panel per stage · cryo state, colour = product; a LOWESS line per product
    (:func:`lowess_lines`) shows systematic lack of fit (a curve shape the model does not
    follow), the zero line none.
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
        ggplot(plot_frame(frame), aes("et_ratio", "residual", colour="product"))
        + geom_hline(yintercept=0, colour="#777777", size=0.4)
        + geom_point(size=0.9, alpha=0.7)
        + scale_x_log10()
        + scale_colour_manual(values=colours, breaks=[p for p in order if p in colours] or None)
        + facet_wrap("panel")
        + labels
        + theme_killcurve()
    )
    if frame.height >= 10:
        lines = plot_frame(lowess_lines(frame))
        plot += geom_line(lines, aes("et_ratio", "residual", colour="product"), size=0.5)
    return plot
