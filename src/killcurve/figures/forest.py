"""Forest plot of the test/reference ratios of ``comparisons.csv``, one row per group.

Each comparison × group (its ``by`` columns: target, stage, cryo, batch) gets
one row, the first usable estimate in :data:`METHOD_ORDER`: the et50 ratio of
the mixed model with a lot random intercept (the only interval that carries
lot-to-lot variation: 96–97 % coverage of the true ratio in
benchmarks/potency_coverage.py, against under 20 % for the within-assay
parallel-line intervals), then the parallel-line potency ratio where the curves
are parallel (``potency_ratio``, only filled when parallelism is
``equivalent``), then Welch's t on ln et50, Wald from the fits, separate fits.
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

#: (metric, method) in order of preference for a group's plotted row.
METHOD_ORDER = (
    ("et50_ratio", "mixedlm_log_et50"),
    ("potency_ratio", "parallel_line_fieller"),
    ("potency_ratio", "parallel_line_delta"),
    ("et50_ratio", "welch_t_log_et50"),
    ("et50_ratio", "wald_log_et50"),
    ("et50_ratio_separate", "separate_fits_delta"),
)
#: Legend text of each plotted metric.
METRIC_LABELS = {
    "potency_ratio": "potency ratio (parallel curves)",
    "et50_ratio": "et50 ratio",
    "et50_ratio_separate": "et50 ratio (non-parallel curves)",
}
#: Columns that may name a comparison's group, in label order.
GROUP_COLUMNS = ("target", "stage", "cryo", "batch")


def _text(value: float | None) -> str:
    """A ratio to 2 significant digits (``0.31``, ``1.0``, ``12``), ``–`` when missing.

    >>> _text(0.6), _text(1.0), _text(0.0934), _text(12.4)
    ('0.60', '1.0', '0.093', '12')
    """
    if value is None:
        return "–"
    return f"{value:.0f}" if value >= 10 else f"{value:#.2g}".rstrip(".")


def forest_rows(comparisons: pl.DataFrame, stages: Sequence[str] = ()) -> pl.DataFrame:
    """One row per comparison × group: the preferred usable ratio with its interval.

    A row is usable when estimate, lower and upper are all present and positive
    and its (metric, method) is in :data:`METHOD_ORDER`. Adds ``group`` (the
    group's values joined by `` · ``, ``all`` when pooled), ``label`` (group,
    estimate and interval) and ``metric_label``. Groups with no usable row are
    left out. Columns a table lacks (``method``, ``by`` columns) count as empty.
    Rows are sorted by comparison and group, stages in the order of ``stages``
    (the config's process order; other stages after them, by name).

    >>> table = pl.DataFrame({"comparison": ["c", "c"], "target": ["K562", "K562"],
    ...     "test": "A", "reference": "B", "metric": ["et50_ratio", "potency_ratio"],
    ...     "method": ["welch_t_log_et50", "parallel_line_delta"],
    ...     "estimate": [0.8, 0.5], "lower": [0.6, 0.4], "upper": [1.1, 0.62]})
    >>> forest_rows(table).select("metric", "estimate", "label").row(0)
    ('potency_ratio', 0.5, 'K562   0.50 (0.40–0.62)')
    """
    by = [c for c in GROUP_COLUMNS if c in comparisons.columns]
    if "method" not in comparisons.columns:
        comparisons = comparisons.with_columns(pl.lit(None, pl.String).alias("method"))
    ranks = pl.DataFrame(
        [(metric, method, i) for i, (metric, method) in enumerate(METHOD_ORDER)],
        schema={"metric": pl.String, "method": pl.String, "_rank": pl.Int64},
        orient="row",
    )
    # A CSV column with no value at all reads as text: numbers are cast, not assumed.
    numeric = [
        c
        for c in ("estimate", "lower", "upper", "p_value", "p_adjusted")
        if c in comparisons.columns
    ]
    comparisons = comparisons.with_columns(pl.col(numeric).cast(pl.Float64, strict=False))
    positive = [pl.col(c).is_not_null() & (pl.col(c) > 0) for c in ("estimate", "lower", "upper")]
    keys = ["comparison", *by]
    best = (
        comparisons.with_columns(pl.col(by).cast(pl.String))
        .filter(pl.all_horizontal(positive))
        .join(ranks, on=["metric", "method"], how="inner")
        .sort("_rank", maintain_order=True)
        .group_by(keys, maintain_order=True)
        .first()
        .drop("_rank")
    )
    if "stage" in by:
        rank = {name: i for i, name in enumerate(stages)}
        best = best.with_columns(
            pl.col("stage")
            .replace_strict(rank, default=len(rank), return_dtype=pl.Int64)
            .alias("_stage")
        )
    order = [c if c != "stage" else "_stage" for c in keys] + (["stage"] if "stage" in by else [])
    best = best.sort(order, nulls_last=True).drop("_stage", strict=False)
    group = (
        [
            " · ".join(str(v) for v in values if v is not None) or "all"
            for values in best.select(by).iter_rows()
        ]
        if by
        else ["all"] * best.height
    )
    label = [
        f"{g}   {_text(e)} ({_text(lo)}–{_text(hi)})"
        for g, (e, lo, hi) in zip(
            group, best.select("estimate", "lower", "upper").iter_rows(), strict=True
        )
    ]
    return best.with_columns(
        pl.Series("group", group, pl.String),
        pl.Series("label", label, pl.String),
        pl.col("metric")
        .replace_strict(METRIC_LABELS, return_dtype=pl.String)
        .alias("metric_label"),
    )


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
) -> ggplot:
    """Forest plot: ratio test/reference with interval per comparison group (log x axis).

    One panel per comparison (strip: its grouping), one row per group labelled
    with estimate and interval; colour = test product, shape = metric.
    """
    rows = forest_rows(comparisons, stages)
    if rows.height == 0:
        return _no_estimate()
    frame = rows.to_pandas()
    frame["panel"] = _panel_labels(rows)
    # Rows top-to-bottom in table order: a discrete y axis draws its first level at the bottom.
    levels = list(reversed(rows["label"].unique(maintain_order=True).to_list()))
    frame["label"] = pd.Categorical(frame["label"], categories=levels)
    frame["panel"] = pd.Categorical(frame["panel"], categories=list(dict.fromkeys(frame["panel"])))
    shapes = dict(zip(METRIC_LABELS.values(), ("o", "s", "^"), strict=True))
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
