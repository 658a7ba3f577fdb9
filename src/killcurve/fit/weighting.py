"""Weights of the curve fits (config ``fit.weighting``) and the scale of ROUT's residuals.

% lysis from a reading with constant CV c has an SD of c × ``lysis_scale``
(:func:`killcurve.assay.lysis.lysis_scale_expr`, the delta method):

* ``none`` (default): every well has weight 1 (ordinary least squares);
* ``signal``: each well has weight 1/lysis_scale² (weighted least squares with
  the variance the reading's noise gives its % lysis). Weights are not
  normalised: the same CV is assumed across wells, curves and plates, so that
  shared fits over several curves weigh them consistently, and the residual
  SD s = √(RSS/df) estimates that CV (as a fraction).

A curve with a usable well of no finite positive scale (``flow``, precomputed
readouts) keeps weight 1 on every well.
"""

from __future__ import annotations

import polars as pl

from killcurve.assay.lysis import with_lysis_scale

#: The values of ``fit.weighting`` (and of ``fit.outliers.weighting``).
WEIGHTINGS = ("none", "signal")


def curve_scale_expr(curve: str = "curve_id") -> pl.Expr:
    """``lysis_scale`` where every well of the curve (column ``curve``) has a finite positive
    one, else 1.0 for the whole curve. Evaluate over the usable wells of the fit."""
    usable = (pl.col("lysis_scale").is_finite() & (pl.col("lysis_scale") > 0)).fill_null(False)
    return pl.when(usable.all().over(curve)).then(pl.col("lysis_scale")).otherwise(1.0)


def with_fit_weights(wells: pl.DataFrame, weighting: str) -> pl.DataFrame:
    """``wells`` (with control wells, for the scale) plus ``lysis_scale``; with weighting
    ``none``, ``wells`` as they are (:func:`point_scales` then gives None)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, not {weighting!r}")
    return wells if weighting == "none" else with_lysis_scale(wells)


def point_scales(points: pl.DataFrame, curve: str = "curve_id") -> pl.Series | None:
    """The scale of each usable point (rows of one or more curves, told apart by column
    ``curve``, with ``lysis_scale``) by :func:`curve_scale_expr`; None when no point is
    scaled. A fit's weights are 1/scale²."""
    if "lysis_scale" not in points.columns or points["lysis_scale"].null_count() == points.height:
        return None
    return points.select(curve_scale_expr(curve)).to_series()
