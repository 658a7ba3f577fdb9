"""Process-stage panel: et50 per lot at each manufacturing stage, per product.

Only converged curves with an et50 at a stage of the config's ``stages`` list
count. A lot tested several times at one stage (assay days) contributes the
geometric mean of its et50 there, exp(mean ln et50). One panel per target ·
cryo state with curves at ≥ 2 listed stages (the groups the stage trend fits);
the x axis follows the process order, the y axis (E:T at half-maximal lysis)
is logarithmic. Thin lines join a lot's stages; the thick line joins each
product's geometric mean over its lots.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import polars as pl
from mizani.breaks import breaks_log
from plotnine import (
    aes,
    facet_wrap,
    geom_line,
    geom_path,
    geom_point,
    ggplot,
    labs,
    scale_colour_manual,
    scale_y_log10,
)

from killcurve.figures.curves import UNSET
from killcurve.figures.paths import broken_paths
from killcurve.figures.theme import theme_killcurve


def stage_lots(curves: pl.DataFrame, stages: Sequence[str]) -> pl.DataFrame:
    """Geometric-mean et50 per product × lot × target × cryo × listed stage.

    Columns ``product``, ``lot``, ``target``, ``cryo``, ``stage``,
    ``stage_score`` (position in ``stages``), ``et50`` (E:T, geometric mean of
    the lot's curves there), ``n_curves`` and ``panel`` (``target · cryo``);
    only product × target × cryo groups with ≥ 2 stages are kept.

    >>> curves = pl.DataFrame({"product": "A", "lot": ["1", "1", "1"],
    ...     "target": "K562", "cryo": "fresh", "stage": ["d14", "d14", "d21"],
    ...     "et50": [2.0, 8.0, 4.0], "converged": True})
    >>> stage_lots(curves, ["d14", "d21"]).select("stage", "et50", "n_curves").rows()
    [('d14', 4.0, 2), ('d21', 4.0, 1)]
    """
    score = {name: i for i, name in enumerate(stages)}
    usable = curves.filter(
        pl.col("converged") & (pl.col("et50") > 0) & pl.col("stage").is_in(list(stages))
    ).with_columns(pl.col("cryo").cast(pl.String))
    lots = (
        usable.group_by("product", "lot", "target", "cryo", "stage")
        .agg(pl.col("et50").log().mean().exp(), pl.len().cast(pl.Int64).alias("n_curves"))
        .with_columns(
            pl.col("stage").replace_strict(score, return_dtype=pl.Int64).alias("stage_score"),
            pl.n_unique("stage").over("product", "target", "cryo").alias("_n_stages"),
            pl.concat_str(
                [pl.col("target"), pl.col("cryo").fill_null(UNSET)], separator=" · "
            ).alias("panel"),
        )
        .filter(pl.col("_n_stages") >= 2)
        .drop("_n_stages")
    )
    return lots.sort("product", "target", "cryo", "lot", "stage_score", nulls_last=True).select(
        "product", "lot", "target", "cryo", "stage", "stage_score", "et50", "n_curves", "panel"
    )


def plot_stages(
    curves: pl.DataFrame,
    stages: Sequence[str],
    colours: dict[str, str],
    order: Sequence[str] = (),
) -> ggplot:
    """et50 per lot (points, thin lines) and per product (thick line) along the process stages."""
    lots = stage_lots(curves, stages)
    means = (
        lots.group_by("product", "target", "cryo", "panel", "stage", "stage_score")
        .agg(pl.col("et50").log().mean().exp())
        .sort("product", "panel", "stage_score")
    )
    present = [s for s in stages if s in set(lots["stage"].to_list())]
    lot_lines = lots.with_columns(
        pl.concat_str([pl.col("product"), pl.col("lot")], separator=" ").alias("line")
    )
    # lots are sorted by stage within each lot (stage_lots), as geom_path needs.
    frames = [
        lot_lines,
        broken_paths(lot_lines, ["panel", "product"], "line", "et50"),
        means.with_columns(pl.col("product").alias("line")),
    ]
    lot_frame, lot_paths, mean_frame = (f.to_pandas() for f in frames)
    for data in (lot_frame, lot_paths, mean_frame):
        data["stage"] = pd.Categorical(data["stage"], categories=present)
    return (
        ggplot()
        + geom_path(
            lot_paths, aes("stage", "et50", colour="product", group="product"), size=0.3, alpha=0.6
        )
        + geom_point(lot_frame, aes("stage", "et50", colour="product"), size=1.2, alpha=0.8)
        + geom_line(mean_frame, aes("stage", "et50", colour="product", group="line"), size=1.1)
        + scale_y_log10(breaks=breaks_log(n=6))
        + scale_colour_manual(values=colours, breaks=[p for p in order if p in colours] or None)
        + facet_wrap("panel", scales="free_y")
        + labs(
            x="manufacturing process stage (process order)",
            y="et50 (E:T at half-maximal lysis, log scale)",
            colour="product",
            title="et50 along the process: points and thin lines per lot, thick line per product",
        )
        + theme_killcurve()
    )
