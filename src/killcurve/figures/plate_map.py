"""Plate maps: the raw signal and the % lysis of every used well, excluded wells crossed out."""

from __future__ import annotations

import polars as pl
from plotnine import (
    aes,
    coord_equal,
    geom_point,
    geom_tile,
    ggplot,
    labs,
    scale_fill_cmap,
    scale_shape_manual,
    scale_x_continuous,
    scale_y_reverse,
    theme,
)
from plotnine.composition import Compose

from killcurve.assay.qc import row_index
from killcurve.figures.theme import theme_killcurve

ROLE_SHAPES = {
    "sample": "o",
    "target_only": "s",
    "max_lysis": "^",
    "background": "D",
    "effector_only": "v",
    "volume_correction": "P",
}


def _panel(plate: pl.DataFrame, value: str, title: str, palette: str) -> ggplot:
    n_cols = 24 if plate["col"].max() > 12 or plate["r"].max() > 8 else 12
    n_rows = 16 if n_cols == 24 else 8
    frame = plate.to_pandas()
    crossed = plate.filter(pl.col("excluded")).to_pandas()
    return (
        ggplot(frame, aes("col", "r"))
        + geom_tile(aes(fill=value), colour="white", size=0.3)
        + geom_point(aes(shape="role"), size=1.2, fill="none", colour="#333333", stroke=0.3)
        + geom_point(crossed, aes("col", "r"), shape="x", size=3.5, colour="#D00000")
        + scale_fill_cmap(palette, na_value="#DDDDDD")
        + scale_shape_manual(values=ROLE_SHAPES)
        + scale_x_continuous(breaks=list(range(1, n_cols + 1)), limits=(0.5, n_cols + 0.5))
        + scale_y_reverse(
            breaks=list(range(1, n_rows + 1)),
            labels=[chr(64 + i) for i in range(1, n_rows + 1)],
            limits=(n_rows + 0.5, 0.5),
        )
        + coord_equal()
        + labs(x="", y="", title=title, fill="", shape="role")
        + theme_killcurve()
        + theme(legend_position="right")
    )


def plot_plate_map(wells: pl.DataFrame, plate_id: str) -> Compose:
    """Signal (left) and % lysis (right) of one plate; red × = excluded well."""
    plate = wells.filter(pl.col("plate_id") == plate_id).with_columns(
        row_index(pl.col("row")).alias("r")
    )
    readout = plate["readout"][0]
    left = _panel(plate, "signal", f"{plate_id} ({readout}): signal", "viridis")
    right = _panel(plate, "pct_lysis", f"{plate_id}: % lysis (× = excluded)", "magma")
    return left / right
