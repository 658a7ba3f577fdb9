"""Forest plot of the test/reference ratios of ``comparisons.csv``, one row per group.

Each comparison × group gets one row, its preferred ratio
(:func:`killcurve.stats.ratios.forest_rows`, which says which and why).
The point is the ratio test/reference, the bar its interval (lower, upper) as
the table gives it; the x axis is logarithmic with a line at
1 (no difference). Below 1: the test product needs fewer effectors per target
for half-maximal lysis (more potent).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import pandas as pd
import polars as pl
from mizani.breaks import breaks_log
from plotnine import (
    aes,
    annotate,
    element_blank,
    element_text,
    facet_grid,
    geom_errorbarh,
    geom_point,
    geom_vline,
    ggplot,
    guides,
    labs,
    scale_colour_manual,
    scale_shape_manual,
    scale_x_log10,
    theme,
)

from killcurve.figures.theme import theme_killcurve
from killcurve.stats.ratios import GROUP_COLUMNS, METRIC_LABELS, forest_rows


def _panel_labels(rows: pl.DataFrame) -> list[str]:
    """Strip text per row: the grouping of its comparison (``by target ·\ncryo``).

    The pair ``test vs reference`` leads when the table compares several pairs.
    """
    by = [c for c in GROUP_COLUMNS if c in rows.columns]
    used = {
        name: [c for c in by if group[c].is_not_null().any()]
        for (name,), group in rows.group_by("comparison", maintain_order=True)
    }
    several = rows.select("test", "reference").n_unique() > 1
    labels = []
    for name, test, reference in rows.select("comparison", "test", "reference").iter_rows():
        text = (
            "\n".join(textwrap.wrap("by " + " · ".join(used[name]), 12)) if used[name] else "pooled"
        )
        labels.append(f"{test} vs\n{reference}\n{text}" if several else text)
    return labels


def _no_estimate() -> ggplot:
    """The forest plot of a study where no comparison group has an estimate: says so."""
    message = "No comparison group has an estimate: see the notes column of comparisons.csv."
    return (
        ggplot()
        + annotate("text", x=0, y=0, label=message, size=9)
        + labs(x="", y="", title="Ratio test/reference per group")
        + theme_killcurve()
        + theme(axis_text=element_blank(), axis_ticks=element_blank())
    )


def plot_forest(
    comparisons: pl.DataFrame,
    colours: dict[str, str],
    order: Sequence[str] = (),
    stages: Sequence[str] = (),
    name50: str = "et50",
    curves: pl.DataFrame | None = None,
) -> ggplot:
    """Forest plot: ratio test/reference with interval per comparison group (log x axis).

    One panel per comparison (strip: its grouping), one row per group labelled
    with estimate and interval (and, as :func:`forest_rows` says, whether similarity was
    shown and how many of the group's ``curves`` their verdict withheld); colour = test
    product, shape = metric.
    """
    rows = forest_rows(comparisons, stages, name50, curves)
    if rows.height == 0:
        return _no_estimate()
    frame = rows.to_pandas()
    frame["panel"] = _panel_labels(rows)
    # Rows top-to-bottom in table order: a discrete y axis draws its first level at the bottom.
    levels = list(reversed(rows["label"].unique(maintain_order=True).to_list()))
    frame["label"] = pd.Categorical(frame["label"], categories=levels)
    frame["panel"] = pd.Categorical(frame["panel"], categories=list(dict.fromkeys(frame["panel"])))
    labels = [label.replace("et50", name50) for label in METRIC_LABELS.values()]
    shapes = dict(zip(labels, ("o", "s", "^"), strict=True))
    pairs = rows.select("test", "reference").unique(maintain_order=True)
    title = "Ratio test/reference per group (bars: confidence interval)"
    if pairs.height == 1:
        title = f"{pairs['test'][0]} / {pairs['reference'][0]}: ratio per group (bars: CI)"
    return (
        ggplot(frame, aes(x="estimate", y="label", colour="test", shape="metric_label"))
        + geom_vline(xintercept=1, colour="#777777", linetype="dashed", size=0.4)
        + geom_errorbarh(aes(xmin="lower", xmax="upper"), height=0.25, size=0.5)
        + geom_point(size=2)
        + scale_x_log10(breaks=breaks_log(n=6))
        + scale_colour_manual(values=colours, breaks=[p for p in order if p in colours] or None)
        + scale_shape_manual(values=shapes)
        + facet_grid("panel ~ .", scales="free_y", space="free_y")
        + labs(
            x="ratio test/reference (log scale; below 1: test product more potent)",
            y="",
            colour="test product",
            shape="",
            title=title,
        )
        + theme_killcurve()
        + theme(strip_text_y=element_text(angle=0))
        + (guides(colour="none") if rows["test"].n_unique() == 1 else guides())
    )
