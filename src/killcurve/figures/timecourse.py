"""Killing over time: % cytolysis (mean ± SD of wells) against hours after effector addition."""

from __future__ import annotations

import pandas as pd
import polars as pl
from plotnine import (
    aes,
    facet_grid,
    geom_hline,
    geom_line,
    geom_ribbon,
    ggplot,
    labs,
    scale_colour_manual,
    scale_fill_manual,
)

from killcurve.figures.theme import OKABE_ITO, theme_killcurve


def et_label(et_ratio: float) -> str:
    """E:T as people write it: ``1:4`` below 1, ``5:1`` from 1 up.

    >>> et_label(0.25), et_label(0.05), et_label(5.0), et_label(2.5)
    ('1:4', '1:20', '5:1', '2.5:1')
    """
    if et_ratio >= 1:
        return f"{et_ratio:g}:1"
    return f"1:{1 / et_ratio:.3g}"


def treatment_label(treatment: str, conc: float, unit: str) -> str:
    """Facet label of a treatment: ``none`` or its concentration (``0.1 ng/mL``).

    >>> treatment_label("none", 0.0, "ng/mL"), treatment_label("dex", 1000.0, "ng/mL")
    ('none', '1000 ng/mL')
    """
    return "none" if treatment == "none" else f"{conc:g} {unit}"


def plot_timecourse(curves: pl.DataFrame, unit: str) -> ggplot:
    """% cytolysis over time per well group: line = mean of wells, band = ± SD.

    ``curves`` is :func:`killcurve.assay.timecourse.group_curves` output. Panels: target (rows)
    × treatment concentration (columns, named in the title); colour = E:T. The dashed line
    marks 50 %.
    """
    frame = curves.sort("treatment_conc", "et_ratio", "sweep")
    ets = frame["et_ratio"].unique().sort(descending=True).to_list()
    treatments = frame.select("treatment", "treatment_conc").unique().sort("treatment_conc")
    facet_order = [treatment_label(t, c, unit) for t, c in treatments.iter_rows()]
    data = frame.with_columns(
        pl.col("et_ratio").map_elements(et_label, return_dtype=pl.String).alias("E:T"),
        pl.struct("treatment", "treatment_conc")
        .map_elements(
            lambda s: treatment_label(s["treatment"], s["treatment_conc"], unit),
            return_dtype=pl.String,
        )
        .alias("panel"),
        pl.concat_str("plate", "target", "effector", "et_ratio", "treatment_conc").alias("group"),
        (pl.col("mean") - pl.col("sd").fill_null(0.0)).alias("low"),
        (pl.col("mean") + pl.col("sd").fill_null(0.0)).alias("high"),
    ).to_pandas()
    names = sorted(set(frame["treatment"].to_list()) - {"none"}) or ["treatment"]
    labels = [et_label(e) for e in ets]
    data["E:T"] = pd.Categorical(data["E:T"], categories=labels)
    data["panel"] = pd.Categorical(data["panel"], categories=facet_order)
    colours = {label: OKABE_ITO[i % len(OKABE_ITO)] for i, label in enumerate(labels)}
    return (
        ggplot(data, aes("t_h", "mean", group="group"))
        + geom_ribbon(aes(ymin="low", ymax="high", fill="E:T"), alpha=0.25)
        + geom_line(aes(colour="E:T"), size=0.4)
        + geom_hline(yintercept=50.0, linetype="dashed", size=0.3, colour="#555555")
        + facet_grid("target ~ panel")
        + scale_colour_manual(values=colours)
        + scale_fill_manual(values=colours)
        + labs(
            x="time after effector addition (h)",
            y="cytolysis (%)",
            colour="E:T",
            fill="E:T",
            title=f"% cytolysis over time vs target-alone wells; columns: {', '.join(names)} "
            "(line: mean of wells, band: ± SD)",
        )
        + theme_killcurve()
    )
