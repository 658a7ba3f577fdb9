"""Pre- vs post-thaw paired plot: each lot's value before freezing and after thaw.

Built from the lot rows (``level`` = ``lot``) of ``thaw_retention.csv`` for one
metric: ``pre`` and ``post`` are the lot's geometric-mean value in each state
(et50 in E:T units for ``et50_fold_change``, fitted % lysis at the reference
E:T for ``lysis_retention_at_<e>``). Within each target · stage panel, every
product has its two states side by side on the x axis, a line joining a lot's
pre and post values.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import polars as pl
from mizani.breaks import breaks_log
from plotnine import (
    aes,
    facet_wrap,
    geom_path,
    geom_point,
    ggplot,
    labs,
    scale_colour_manual,
    scale_y_continuous,
    scale_y_log10,
)

from killcurve.figures.curves import UNSET
from killcurve.figures.paths import broken_paths
from killcurve.figures.theme import theme_killcurve

#: y-axis label per retention metric (``lysis_retention_at_*`` by prefix).
AXIS = {
    "et50_fold_change": "et50 (E:T at half-maximal lysis, log scale)",
    "auc_retention": "AUC of % lysis over log2 E:T (%·log2 units)",
    "lysis_retention_at_": "fitted specific lysis at E:T {e}:1 (%)",
}


def axis_label(metric: str) -> str:
    """The y-axis label of a retention metric, e.g. ``fitted specific lysis at E:T 10:1 (%)``."""
    if metric.startswith("lysis_retention_at_"):
        return AXIS["lysis_retention_at_"].format(e=metric.removeprefix("lysis_retention_at_"))
    return AXIS[metric]


def paired_lots(
    retention: pl.DataFrame, metric: str, pre: str = "fresh", post: str = "post_thaw"
) -> pl.DataFrame:
    """Long table of the lots with both states: one row per product × target × stage × lot × state.

    Columns ``product``, ``target``, ``stage``, ``lot``, ``state`` (``pre`` or
    ``post`` renamed to the config's cryo values), ``value``, ``x``
    (``<product>\\n<state>``, the plotted category) and ``panel``.

    >>> table = pl.DataFrame({"product": "A", "target": "K562", "stage": "bulk",
    ...     "metric": "et50_fold_change", "level": ["product", "lot"], "lot": [None, "L1"],
    ...     "pre": [2.0, 2.0], "post": [3.0, 3.0]})
    >>> paired_lots(table, "et50_fold_change").select("lot", "state", "value").rows()
    [('L1', 'fresh', 2.0), ('L1', 'post_thaw', 3.0)]
    """
    lots = retention.filter(
        (pl.col("level") == "lot")
        & (pl.col("metric") == metric)
        & pl.col("pre").is_not_null()
        & pl.col("post").is_not_null()
    ).with_columns(pl.col("stage").cast(pl.String))
    long = lots.unpivot(
        index=["product", "target", "stage", "lot"],
        on=["pre", "post"],
        variable_name="state",
        value_name="value",
    ).with_columns(pl.col("state").replace_strict({"pre": pre, "post": post}))
    return long.with_columns(
        pl.concat_str([pl.col("product"), pl.col("state")], separator="\n").alias("x"),
        pl.concat_str([pl.col("target"), pl.col("stage").fill_null(UNSET)], separator=" · ").alias(
            "panel"
        ),
    ).sort("product", "target", "stage", "lot", pl.col("state") == post, nulls_last=True)


def plot_thaw(
    retention: pl.DataFrame,
    colours: dict[str, str],
    order: Sequence[str] = (),
    metric: str = "et50_fold_change",
    pre: str = "fresh",
    post: str = "post_thaw",
) -> ggplot:
    """Each lot's ``metric`` value before freezing and after thaw, joined by a line."""
    long = paired_lots(retention, metric, pre, post)
    products = [p for p in order if p in set(long["product"].to_list())]
    products += sorted(set(long["product"].to_list()) - set(products))
    lines = long.with_columns(
        pl.concat_str([pl.col("product"), pl.col("lot")], separator=" ").alias("line")
    )
    levels = [f"{p}\n{s}" for p in products for s in (pre, post)]
    frame, paths = (
        f.to_pandas() for f in (lines, broken_paths(lines, ["panel", "product"], "line", "value"))
    )
    for data in (frame, paths):
        data["x"] = pd.Categorical(data["x"], categories=levels)
    return (
        ggplot(frame, aes("x", "value", colour="product"))
        + geom_path(paths, aes(group="product"), size=0.5, alpha=0.8)
        + geom_point(size=1.6)
        + (
            scale_y_log10(breaks=breaks_log(n=6))
            if metric == "et50_fold_change"
            else scale_y_continuous()
        )
        + scale_colour_manual(values=colours, breaks=[p for p in order if p in colours] or None)
        + facet_wrap("panel", scales="free_y")
        + labs(
            x="",
            y=axis_label(metric),
            colour="product",
            title=f"Before freezing ({pre}) and after thaw ({post}): one line per lot",
        )
        + theme_killcurve()
    )
