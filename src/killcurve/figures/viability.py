"""Viability and viable-cell recovery after thaw: lots, product mean ± CI, acceptance lines.

From ``viability.csv`` (one row per product × lot × time point: the lot's mean
over replicate counts) and ``viability_products.csv`` (per product × time
point: mean over lots and its t confidence interval). Two panels, viability (%)
and recovery (% of the viable cells frozen), against hours after thaw; the
products side by side at each time point; dashed lines at the acceptance
limits ``min_viability_pct`` and ``min_recovery_pct`` (none when not checked).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import polars as pl
from plotnine import (
    aes,
    facet_wrap,
    geom_errorbar,
    geom_hline,
    geom_point,
    ggplot,
    labs,
    position_dodge,
    scale_colour_manual,
)

from killcurve.figures.theme import theme_killcurve

#: Panel title per measure.
PANELS = {
    "viability_pct": "viability (% viable of counted cells)",
    "recovery_pct": "recovery (% of viable cells frozen)",
}


def _time_label(hours: pl.Expr) -> pl.Expr:
    return pl.format(
        "{} h", hours.cast(pl.Float64).round(2).cast(pl.String).str.replace(r"\.0$", "")
    )


def viability_long(lots: pl.DataFrame, products: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lot points and product summaries in long form: one row per measure.

    Lots: ``product``, ``lot``, ``timepoint_h``, ``time`` (``24 h``), ``measure``
    (a :data:`PANELS` title), ``value`` (%). Products: the same keys with
    ``mean``, ``ci_low``, ``ci_high`` (%; the interval null for one lot).

    >>> lots = pl.DataFrame({"product": "A", "lot": ["1", "2"], "timepoint_h": [0.0, 0.0],
    ...     "viability_pct_mean": [80.0, 90.0], "recovery_pct_mean": [60.0, 70.0]})
    >>> products = pl.DataFrame({"product": "A", "timepoint_h": [0.0],
    ...     "viability_pct_mean": [85.0], "viability_pct_ci_low": [20.0],
    ...     "viability_pct_ci_high": [150.0], "recovery_pct_mean": [65.0],
    ...     "recovery_pct_ci_low": [1.0], "recovery_pct_ci_high": [129.0]})
    >>> points, means = viability_long(lots, products)
    >>> points.select("lot", "time", "value").rows()[:2], means["mean"].to_list()
    ([('1', '0 h', 80.0), ('2', '0 h', 90.0)], [85.0, 65.0])
    """
    point_frames, mean_frames = [], []
    for name, title in PANELS.items():
        point_frames.append(
            lots.select(
                "product",
                "lot",
                pl.col("timepoint_h").cast(pl.Float64),
                pl.lit(title).alias("measure"),
                pl.col(f"{name}_mean").cast(pl.Float64).alias("value"),
            )
        )
        mean_frames.append(
            products.select(
                "product",
                pl.col("timepoint_h").cast(pl.Float64),
                pl.lit(title).alias("measure"),
                *(
                    pl.col(f"{name}_{stat}").cast(pl.Float64).alias(stat)
                    for stat in ("mean", "ci_low", "ci_high")
                ),
            )
        )
    points = pl.concat(point_frames).with_columns(_time_label(pl.col("timepoint_h")).alias("time"))
    means = pl.concat(mean_frames).with_columns(_time_label(pl.col("timepoint_h")).alias("time"))
    return points, means


def plot_viability(
    lots: pl.DataFrame,
    products: pl.DataFrame,
    colours: dict[str, str],
    order: Sequence[str] = (),
    min_viability_pct: float | None = None,
    min_recovery_pct: float | None = None,
) -> ggplot:
    """Per-lot viability and recovery (small points), product mean ± CI (large point, bar)."""
    points, means = viability_long(lots, products)
    times = points.select("timepoint_h", "time").unique().sort("timepoint_h")["time"].to_list()
    limits = pl.DataFrame(
        {
            "measure": [PANELS["viability_pct"], PANELS["recovery_pct"]],
            "limit": [min_viability_pct, min_recovery_pct],
        },
        schema={"measure": pl.String, "limit": pl.Float64},
    ).drop_nulls()
    frames = []
    for frame in (points, means):
        data = frame.to_pandas()
        data["time"] = pd.Categorical(data["time"], categories=times)
        data["measure"] = pd.Categorical(data["measure"], categories=list(PANELS.values()))
        frames.append(data)
    point_frame, mean_frame = frames
    dodge = position_dodge(width=0.5)
    plot = (
        ggplot()
        + geom_point(
            point_frame,
            aes("time", "value", colour="product"),
            position=position_dodge(width=0.5),
            size=1.0,
            alpha=0.6,
        )
        + geom_errorbar(
            mean_frame.dropna(subset=["ci_low"]),
            aes("time", ymin="ci_low", ymax="ci_high", colour="product"),
            position=dodge,
            width=0.2,
            size=0.5,
        )
        + geom_point(
            mean_frame, aes("time", "mean", colour="product"), position=dodge, size=2.4, shape="D"
        )
        + scale_colour_manual(values=colours, breaks=[p for p in order if p in colours] or None)
        + facet_wrap("measure", scales="free_y")
        + labs(
            x="time after thaw",
            y="% (see panel)",
            colour="product",
            title="After thaw: lots (small points), product mean (diamond) ± CI; "
            "dashed: acceptance limit",
        )
        + theme_killcurve()
    )
    if limits.height:
        data = limits.to_pandas()
        data["measure"] = pd.Categorical(data["measure"], categories=list(PANELS.values()))
        plot += geom_hline(data, aes(yintercept="limit"), linetype="dashed", colour="#B00000",
                           size=0.4)  # fmt: skip
    return plot
