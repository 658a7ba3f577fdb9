"""Time-resolved killing: % lysis over time per titration level and product; et50 over time."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from plotnine import (
    aes,
    facet_grid,
    facet_wrap,
    geom_errorbar,
    geom_hline,
    geom_line,
    geom_point,
    geom_ribbon,
    ggplot,
    labs,
    scale_colour_manual,
    scale_fill_manual,
    scale_y_log10,
)

from killcurve.figures.frames import plot_frame
from killcurve.figures.theme import OKABE_ITO, product_colours, theme_killcurve

#: Colours for studies of more products than the Okabe–Ito palette holds (matplotlib tab20).
MANY = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
    "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
    "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
)  # fmt: skip


def colours(products: Sequence[str], order: Sequence[str] = ()) -> dict[str, str]:
    """A colour per product: the house palette (:func:`product_colours`) when it has enough,
    else 20 distinct colours (cycled beyond 20).

    >>> len(set(colours([f"p{i}" for i in range(16)]).values()))
    16
    """
    palette = OKABE_ITO if len(set(products)) <= len(OKABE_ITO) else MANY
    return product_colours(products, order, palette)


def et_label(et_ratio: float | None) -> str:
    """E:T as people write it: ``1:4`` below 1, ``5:1`` from 1 up; ``no titration`` for None.

    >>> et_label(0.25), et_label(0.05), et_label(5.0), et_label(2.5), et_label(None)
    ('1:4', '1:20', '5:1', '2.5:1', 'no titration')
    """
    if et_ratio is None:
        return "no titration"
    if et_ratio >= 1:
        return f"{et_ratio:g}:1"
    return f"1:{1 / et_ratio:.3g}"


def level_label(x: float | None, unit: str) -> str:
    """Facet label of a titration level: E:T (``unit`` empty) or ``<x> <unit>``.

    >>> level_label(10.0, ""), level_label(0.1, "ug/mL"), level_label(None, "nM")
    ('E:T 10:1', '0.1 ug/mL', 'no titration')
    """
    if x is None:
        return "no titration"
    return f"{x:g} {unit}" if unit else f"E:T {et_label(x)}"


def _panel(frame: pl.DataFrame) -> pl.Expr:
    """Row label of a panel: target · stage · cryo (the parts the frame has set)."""
    parts = [pl.col(c).fill_null("") for c in ("target", "stage", "cryo") if c in frame.columns]
    return pl.concat_str(parts, separator=" · ").str.replace_all(r"( · )+$", "").alias("panel")


def plot_killing(curves: pl.DataFrame, x: str, unit: str, order: Sequence[str] = ()) -> ggplot:
    """% lysis over time: one line per lot (mean of its wells, band ± SD), colour = product;
    panels: target · stage · cryo (rows) × titration level (columns); dashed line at 50 %.

    ``curves``: :func:`killcurve.assay.timecourse.mean_curves`; ``x`` its titration column.
    """
    levels = sorted({v for v in curves[x].to_list() if v is not None}, reverse=True)
    names = [level_label(v, unit) for v in levels] + (
        ["no titration"] if curves[x].is_null().any() else []
    )
    frame = curves.with_columns(
        _panel(curves),
        pl.col(x).map_elements(lambda v: level_label(v, unit), return_dtype=pl.String)
        .fill_null("no titration")
        .alias("level"),
        pl.concat_str([pl.col("product"), pl.col("lot").fill_null("-"), pl.col("batch")],
                      separator="|").alias("group"),
        (pl.col("mean") - pl.col("sd").fill_null(0.0)).alias("low"),
        (pl.col("mean") + pl.col("sd").fill_null(0.0)).alias("high"),
    )  # fmt: skip
    data = plot_frame(frame)
    data["level"] = data["level"].astype("category").cat.set_categories(names)
    palette = colours(frame["product"].unique().to_list(), order)
    return (
        ggplot(data, aes("t_h", "mean", group="group"))
        + geom_ribbon(aes(ymin="low", ymax="high", fill="product"), alpha=0.15)
        + geom_line(aes(colour="product"), size=0.4)
        + geom_hline(yintercept=50.0, linetype="dashed", size=0.3, colour="#555555")
        + facet_grid("panel ~ level")
        + scale_colour_manual(values=palette)
        + scale_fill_manual(values=palette)
        + labs(
            x="time after effector addition (h)",
            y="lysis (%)",
            colour="product",
            fill="product",
            title="% lysis over time (line: mean of a lot's wells, band: ± SD)",
        )
        + theme_killcurve()
    )


def plot_et50(curves: pl.DataFrame, name50: str, unit: str, order: Sequence[str] = ()) -> ggplot:
    """The half-maximal E:T (or concentration) of each lot's curve fitted at each time, with
    its interval, against time; colour = product; panels: target · stage · cryo. Curves
    without a usable et50 (verdict, censoring) are not drawn.

    ``curves``: ``timecourse_curves`` with internal names (``et50``, ``et50_lower``,
    ``et50_upper``); ``name50``/``unit`` label the axis (``et50``/E:T or ``ec50``/its unit).
    """
    usable = curves.filter(pl.col("et50").is_not_null())
    frame = usable.with_columns(
        _panel(usable),
        pl.concat_str([pl.col("product"), pl.col("lot").fill_null("-"), pl.col("batch")],
                      separator="|").alias("group"),
        pl.coalesce("et50_lower", "et50").alias("low"),
        pl.coalesce("et50_upper", "et50").alias("high"),
    )  # fmt: skip
    palette = colours(curves["product"].unique().to_list(), order)
    return (
        ggplot(plot_frame(frame), aes("t_h", "et50", group="group", colour="product"))
        + geom_errorbar(aes(ymin="low", ymax="high"), width=1.5, size=0.3)
        + geom_line(size=0.4)
        + geom_point(size=1.2)
        + facet_wrap("panel")
        + scale_y_log10()
        + scale_colour_manual(values=palette)
        + labs(
            x="time after effector addition (h)",
            y=f"{name50} ({unit or 'E:T'})",
            colour="product",
            title=f"{name50} of each lot's curve fitted at each time (bars: its interval)",
        )
        + theme_killcurve()
    )
