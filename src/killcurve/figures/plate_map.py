"""Plate maps: the raw signal and the % lysis of every used well, excluded wells crossed out.

Drawn with matplotlib directly, not plotnine: a study of 1,000 plates needs
1,000 maps, and building a ggplot costs about a second per plate where a
pair of ``pcolormesh`` panels costs a few tens of milliseconds. Fonts and
colours follow :mod:`killcurve.figures.theme`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.figure import Figure

from killcurve.plate import plate_shape, row_index, row_letter

#: Marker per layout role drawn on each well.
ROLE_MARKERS = {
    "sample": "o",
    "target_only": "s",
    "max_lysis": "^",
    "background": "D",
    "effector_only": "v",
    "volume_correction": "P",
}


def _grid(plate: pl.DataFrame, value: str, shape: tuple[int, int]) -> np.ndarray:
    grid = np.full(shape, np.nan)
    vals = plate[value].cast(pl.Float64).fill_null(np.nan).to_numpy()
    grid[plate["r"].to_numpy() - 1, plate["col"].to_numpy() - 1] = vals
    return grid


def draw_plate_map(wells: pl.DataFrame, plate_id: str, qc_reasons: str = "") -> Figure:
    """Two panels for one plate: signal (viridis) and % lysis (magma, 0–100 %)."""
    plate = wells.filter(pl.col("plate_id") == plate_id).with_columns(
        row_index(pl.col("row")).alias("r")
    )
    r, c = plate["r"].to_numpy(), plate["col"].to_numpy()
    shape = plate_shape(r, c)
    readout = plate["readout"][0]
    with plt.rc_context({"font.family": "DejaVu Sans", "font.size": 7, "pdf.fonttype": 42}):
        # Fixed axes positions (figure fractions): a layout engine costs more than the drawing.
        fig = plt.figure(figsize=(7.2, 6.4))
        axes = [fig.add_axes((0.06, 0.53, 0.62, 0.40)), fig.add_axes((0.06, 0.05, 0.62, 0.40))]
        bars = [fig.add_axes((0.70, 0.56, 0.015, 0.34)), fig.add_axes((0.70, 0.08, 0.015, 0.34))]
        panels = (
            ("signal", f"{plate_id} ({readout}): signal", "viridis", None),
            ("pct_lysis", f"{plate_id}: specific lysis (%)", "magma", (0.0, 100.0)),
        )
        for ax, bar, (value, title, cmap, limits) in zip(axes, bars, panels, strict=True):
            grid = _grid(plate, value, shape)
            norm = matplotlib.colors.Normalize(*limits) if limits else None
            cmap_obj = matplotlib.colormaps[cmap].with_extremes(bad="#DDDDDD")
            mesh = ax.imshow(
                np.ma.masked_invalid(grid),
                cmap=cmap_obj,
                norm=norm,
                extent=(0.5, shape[1] + 0.5, shape[0] + 0.5, 0.5),
                interpolation="nearest",
                aspect="equal",
            )
            ax.set_xticks(np.arange(1.5, shape[1]), minor=True)
            ax.set_yticks(np.arange(1.5, shape[0]), minor=True)
            ax.grid(which="minor", color="white", linewidth=0.6)
            ax.tick_params(which="minor", length=0)
            fig.colorbar(mesh, cax=bar)
            for role, marker in ROLE_MARKERS.items():
                sel = plate["role"].to_numpy() == role
                if sel.any():
                    ax.scatter(c[sel], r[sel], marker=marker, s=10, facecolors="none",
                               edgecolors="#333333", linewidths=0.5, label=role)  # fmt: skip
            excluded = plate["excluded"].to_numpy()
            if excluded.any():
                ax.scatter(c[excluded], r[excluded], marker="x", s=40, color="#D00000",
                           linewidths=1.2, label="excluded")  # fmt: skip
            ax.set_xlim(0.5, shape[1] + 0.5)
            ax.set_ylim(shape[0] + 0.5, 0.5)
            ax.set_xticks(range(1, shape[1] + 1))
            ax.set_yticks(range(1, shape[0] + 1), [row_letter(i) for i in range(shape[0])])
            ax.set_aspect("equal")
            ax.set_title(title, loc="left")
            ax.tick_params(length=0)
        axes[0].legend(loc="upper left", bbox_to_anchor=(1.3, 1.0), frameon=False, fontsize=6)
        if qc_reasons:
            fig.suptitle(f"QC failed: {qc_reasons}", color="#B00000", fontsize=7, x=0.01, ha="left")
    return fig
