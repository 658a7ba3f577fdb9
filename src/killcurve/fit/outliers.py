"""Marking outlier wells in the well table (config ``fit.outliers``).

With ``fit.outliers.method: rout``, every curve's usable sample wells (not
excluded, % lysis computed) are fitted with the configured model and fixed
parameters by the ROUT procedure of :func:`killcurve.fit.robust.rout_outliers`
(robust Lorentzian fit, robust SD of the residuals, Benjamini–Hochberg at false
discovery rate ``q``, default 1 %). With ``weighting: signal`` (the default)
each well's residual is scaled by the SD its % lysis has under constant-CV noise
of the reading (:func:`killcurve.assay.lysis.lysis_scale_expr`): % lysis from a
release readout is noisiest at high lysis, from a luciferase readout at low
lysis, and unscaled ROUT takes that ordinary spread for outliers. A curve with a
well of no scale (flow, precomputed readouts) is tested unweighted. The wells it
calls outliers stay in
``wells.parquet`` with ``excluded = true`` and ``outlier`` added to
``exclusion_reason``; the curve fit then leaves them out. Nothing is deleted.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from killcurve.fit.curve_table import curve_points
from killcurve.fit.curves import FitOptions
from killcurve.fit.robust import rout_outliers
from killcurve.fit.weighting import point_scales, with_fit_weights

#: Exclusion reason of a well ROUT calls an outlier.
OUTLIER_REASON = "outlier"


def outlier_wells(
    wells: pl.DataFrame,
    options: FitOptions,
    q: float = 0.01,
    weighting: str = "signal",
    x: str = "et_ratio",
) -> pl.DataFrame:
    """``plate_id``, ``well`` of the usable sample wells that ROUT calls outliers at FDR ``q``.

    ``wells``: the well table with its control wells (their means give each well's scale).
    ``x``: the well column titrated (``et_ratio``, or ``concentration`` on that axis).
    """
    if x != "et_ratio":
        wells = wells.with_columns(pl.col(x).cast(pl.Float64).alias("et_ratio"))
    points = (
        curve_points(with_fit_weights(wells, weighting))
        .filter(~pl.col("excluded") & pl.col("pct_lysis").is_not_null())
        .sort("curve_id", "et_ratio", "plate_id", "well")
    )
    if points.height == 0:
        return pl.DataFrame(schema={"plate_id": pl.String, "well": pl.String})
    scale = point_scales(points)
    mask = rout_outliers(
        points["et_ratio"].to_numpy(),
        points["pct_lysis"].to_numpy(),
        points["curve_id"].to_numpy(),
        options.model,
        q=q,
        fixed=dict(options.fixed),
        scale=None if scale is None else scale.to_numpy(),
    )
    return points.filter(pl.Series(np.asarray(mask, dtype=bool))).select(
        pl.col("plate_id").cast(pl.String), pl.col("well").cast(pl.String)
    )


def mark_outliers(
    wells: pl.DataFrame,
    options: FitOptions,
    q: float = 0.01,
    weighting: str = "signal",
    x: str = "et_ratio",
) -> pl.DataFrame:
    """The well table with ROUT outliers marked excluded, reason ``outlier`` (``; ``-joined).

    ``x``: the well column titrated (:func:`outlier_wells`).
    """
    hits = outlier_wells(wells, options, q, weighting, x).with_columns(
        pl.lit(True).alias("_outlier")
    )
    marked = wells.join(hits, on=["plate_id", "well"], how="left").with_columns(
        pl.col("_outlier").fill_null(False)
    )
    return marked.with_columns(
        pl.when(~pl.col("_outlier"))
        .then(pl.col("exclusion_reason"))
        .when(pl.col("exclusion_reason").is_null())
        .then(pl.lit(OUTLIER_REASON))
        .otherwise(pl.concat_str(["exclusion_reason", pl.lit(OUTLIER_REASON)], separator="; "))
        .alias("exclusion_reason"),
        (pl.col("excluded") | pl.col("_outlier")).alias("excluded"),
    ).drop("_outlier")
