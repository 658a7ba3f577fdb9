"""The curves table (``curves.csv``): what names a curve, where each model's parameters
live, and the fitted values those parameters give, for figures, statistics and reports.

Kept apart from :mod:`killcurve.fit.curves` (which fits) so that a step that only reads
fitted curves does not import the fitting engine and scipy (0.5 s of start-up per job).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.fit.models import Model, get_model, internal_value, natural_names

#: Columns that define a curve.
CURVE_KEYS = ("product", "lot", "target", "stage", "cryo", "batch")
#: Where each model's natural parameters live in ``curves.csv``.
PARAM_COLUMNS = {
    "bottom": "bottom",
    "top": "top",
    "et50": "et50",
    "hill": "hill",
    "s": "asymmetry",
    "A": "top",
    "k": "rate_k",
}
#: How figures, captions and methods name each model.
MODEL_LABELS = {"4pl": "4PL", "3pl": "3PL", "5pl": "5PL", "exponential": "exponential"}


def model_label(name: str) -> str:
    """The model's name in text: ``4PL``, ``exponential``."""
    return MODEL_LABELS.get(name, name)


def curve_id_expr() -> pl.Expr:
    """``curve_id``: the curve keys joined with ``|`` (``-`` for an unset key)."""
    return pl.concat_str(
        [pl.col(k).cast(pl.String).fill_null("-") for k in CURVE_KEYS], separator="|"
    ).alias("curve_id")


def curve_points(wells: pl.DataFrame) -> pl.DataFrame:
    """Sample wells with ``curve_id``, after checks that stop on a curve that cannot be one.

    Refused (the first of :func:`curve_problems`): a curve whose wells come from plates
    with different readouts, a curve with a single E:T (no titration: usually an
    ``et_ratio`` missing from the layout), and a curve without any numeric reading (all
    overflow).
    """
    samples = wells.filter(pl.col("role") == "sample").with_columns(curve_id_expr())
    problems = curve_problems(samples)
    if problems:
        raise KillcurveInputError(problems[0])
    return samples


def curve_problems(wells: pl.DataFrame) -> list[str]:
    """Why each curve of the well table cannot be fitted, one message per refused curve in
    ``curve_id`` order (see :func:`curve_points`, which stops at the first; ``killcurve
    check`` lists them all)."""
    samples = wells.filter(pl.col("role") == "sample").with_columns(curve_id_expr())
    per_curve = (
        samples.group_by("curve_id")
        .agg(
            pl.col("readout").n_unique().alias("n_readouts"),
            pl.col("plate_id").unique().sort().str.join(", ").alias("plates"),
            pl.col("et_ratio").n_unique().alias("n_et"),
            pl.col("et_ratio").first().alias("et"),
            pl.col("signal").is_not_null().sum().alias("n_numeric"),
        )
        .sort("curve_id")
    )
    bad = per_curve.filter(
        (pl.col("n_readouts") > 1) | (pl.col("n_et") < 2) | (pl.col("n_numeric") == 0)
    )
    problems = []
    for row in bad.iter_rows(named=True):
        where = f"curve {row['curve_id']} (plates {row['plates']})"
        if row["n_readouts"] > 1:
            problems.append(
                f"{where}: its wells have different readouts. Give the plates different "
                "batch values, or fix the samplesheet's readout column."
            )
        elif row["n_et"] < 2:
            problems.append(
                f"{where}: every well has E:T {row['et']:g}, so there is no titration to fit. "
                "Check the layout's et_ratio blocks for this product and lot."
            )
        else:
            problems.append(
                f"{where}: no well has a numeric reading (all overflow or missing). "
                "Re-read the plate with a lower gain, or exclude the curve from the layout."
            )
    return problems


def model_values(frame: pl.DataFrame, x: np.ndarray) -> np.ndarray:
    """Fitted % lysis of row i of ``frame`` (``curves.csv`` parameter columns) at ``x[i]``.

    Rows may mix models (column ``model``); rows without parameters give NaN.
    """
    out = np.full(frame.height, np.nan)
    for name in frame["model"].unique().drop_nulls().to_list():
        model = get_model(name)
        rows = np.flatnonzero((frame["model"] == name).to_numpy())
        theta = np.vstack(
            [
                _internal(model, p, frame[PARAM_COLUMNS[p]].to_numpy()[rows])
                for p in natural_names(model)
            ]
        )
        with np.errstate(all="ignore"):
            out[rows] = model.value(theta, x[rows][None, :])[0]
    return out


def _internal(model: Model, name: str, values: np.ndarray) -> np.ndarray:
    """Natural parameter values of ``name`` on the model's internal scale; fixed ones filled."""
    values = np.asarray(values, dtype=float)
    if name in model.fixed:
        values = np.where(np.isfinite(values), values, model.fixed[name])
    return np.asarray(internal_value(model, name, values)[1], dtype=float)


def curve_grid(curves: pl.DataFrame, n: int = 101) -> pl.DataFrame:
    """Fitted values on a log-spaced E:T grid over each fitted curve's tested range.

    Curves without an et50 (withheld by their verdict or ``fit.withhold``) or without a top
    (``top_not_estimable``) get no grid: their fit is not reported, so it is not drawn either.
    """
    fitted = curves.filter(pl.col("converged") & pl.col("emax").is_not_null())
    u = np.linspace(0.0, 1.0, n)
    grid = (
        fitted.select("curve_id", *CURVE_KEYS, "model", *_param_columns(curves), "et_min", "et_max")
        .with_columns(pl.lit(list(u)).alias("u"))
        .explode("u")
        .with_columns(
            (pl.col("et_min").log() + pl.col("u") * (pl.col("et_max") / pl.col("et_min")).log())
            .exp()
            .alias("et_ratio")
        )
    )
    values = model_values(grid, grid["et_ratio"].to_numpy())
    return (
        grid.with_columns(pl.Series("pct_lysis", values))
        .filter(pl.col("pct_lysis").is_finite())  # curves whose et50 was withheld: no line
        .select("curve_id", "et_ratio", "pct_lysis", *CURVE_KEYS)
    )


def _param_columns(curves: pl.DataFrame) -> list[str]:
    """The parameter columns present in ``curves``."""
    return [c for c in dict.fromkeys(PARAM_COLUMNS.values()) if c in curves.columns]


def curve_residuals(wells: pl.DataFrame, curves: pl.DataFrame) -> pl.DataFrame:
    """Fitted value and residual (observed − fitted, % lysis units) of every well used in a fit.

    Columns: the curve keys, ``curve_id``, ``plate_id``, ``well``, ``et_ratio``,
    ``pct_lysis``, ``fitted``, ``residual``. Curves that were not fitted, or whose et50
    was withheld or top not estimable, have no rows.
    """
    params = curves.filter(pl.col("converged") & pl.col("emax").is_not_null()).select(
        "curve_id", "model", *_param_columns(curves)
    )
    used = curve_points(wells).filter(~pl.col("excluded") & pl.col("pct_lysis").is_not_null())
    joined = used.join(params, on="curve_id")
    fitted = model_values(joined, joined["et_ratio"].to_numpy())
    return (
        joined.with_columns(pl.Series("fitted", fitted))
        .filter(pl.col("fitted").is_finite())  # withheld et50: the fit is not reported
        .with_columns((pl.col("pct_lysis") - pl.col("fitted")).alias("residual"))
        .select(
            *CURVE_KEYS,
            "curve_id",
            "plate_id",
            "well",
            "et_ratio",
            "pct_lysis",
            "fitted",
            "residual",
        )
    )
