"""Per-curve fits on the well table: the pipeline's ``fit_curves`` stage.

A curve is one product × lot × target × stage × cryo × batch; its points are
the non-excluded ``sample`` wells (every replicate well, not means).

Per-curve outputs (``curves.csv``): 4PL parameters; ``et50`` with its 95 %
Wald CI (log scale, t-quantile); ``et_at_50``, the E:T at which the fitted
curve reaches 50 % lysis (null with flag ``never_reaches_50`` when it does not
within the tested E:T range); ``emax`` = fitted top; ``auc`` = trapezoid of the
mean % lysis per E:T over log2(E:T), in %·log2(E:T) units.

Flags (``;``-separated in CSV, a list in Parquet):

* ``few_points`` — fewer than 4 distinct E:T or 5 points; not fitted.
* ``no_usable_points`` — every well of the curve is excluded; not fitted.
* ``not_converged`` — the optimiser stopped without a finite solution/covariance.
* ``et50_above_range`` / ``et50_below_range`` — et50 outside the tested E:T.
* ``never_reaches_50`` — the fitted curve does not cross 50 % within the tested E:T.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.fit.fourpl import FourPLFit, fit_4pl, predict

#: Columns that define a curve.
CURVE_KEYS = ("product", "lot", "target", "stage", "cryo", "batch")
#: Columns of ``curves.csv`` in order.
CURVE_COLUMNS = (
    "curve_id",
    *CURVE_KEYS,
    "readout",
    "model",
    "bottom",
    "top",
    "hill",
    "et50",
    "et50_lower",
    "et50_upper",
    "log_et50_se",
    "et_at_50",
    "emax",
    "auc",
    "n_points",
    "n_et",
    "et_min",
    "et_max",
    "rss",
    "df_resid",
    "converged",
    "flags",
    "plate_ids",
)
_FLOATS = (
    "bottom",
    "top",
    "hill",
    "et50",
    "et50_lower",
    "et50_upper",
    "log_et50_se",
    "et_at_50",
    "emax",
    "auc",
    "et_min",
    "et_max",
    "rss",
)


def curve_id_expr() -> pl.Expr:
    """``curve_id``: the curve keys joined with ``|`` (``-`` for an unset key)."""
    return pl.concat_str(
        [pl.col(k).cast(pl.String).fill_null("-") for k in CURVE_KEYS], separator="|"
    ).alias("curve_id")


def curve_points(wells: pl.DataFrame) -> pl.DataFrame:
    """Sample wells with ``curve_id``, after checks that stop on a curve that cannot be one.

    Refused: a curve whose wells come from plates with different readouts, a
    curve with a single E:T (no titration: usually an ``et_ratio`` missing from
    the layout), and a curve without any numeric reading (all overflow).
    """
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
    for row in per_curve.iter_rows(named=True):
        where = f"curve {row['curve_id']} (plates {row['plates']})"
        if row["n_readouts"] > 1:
            raise KillcurveInputError(
                f"{where}: its wells have different readouts. Give the plates different "
                "batch values, or fix the samplesheet's readout column."
            )
        if row["n_et"] < 2:
            raise KillcurveInputError(
                f"{where}: every well has E:T {row['et']:g}, so there is no titration to fit. "
                "Check the layout's et_ratio blocks for this product and lot."
            )
        if row["n_numeric"] == 0:
            raise KillcurveInputError(
                f"{where}: no well has a numeric reading (all overflow or missing). "
                "Re-read the plate with a lower gain, or exclude the curve from the layout."
            )
    return samples


def auc_log2(x: np.ndarray, y: np.ndarray) -> float:
    """Trapezoid area of mean ``y`` per distinct ``x`` over log2(x); NaN with < 2 levels.

    >>> auc_log2(np.array([1.0, 2.0, 4.0, 4.0]), np.array([0.0, 10.0, 20.0, 40.0]))
    25.0
    """
    levels = np.unique(x)
    if len(levels) < 2:
        return float("nan")
    means = np.array([y[x == v].mean() for v in levels])
    return float(np.trapezoid(means, np.log2(levels)))


def _fit_one(x: np.ndarray, y: np.ndarray) -> dict[str, object]:
    """Fit one curve; return the ``curves.csv`` fields that depend on the fit."""
    out: dict[str, object] = dict.fromkeys(_FLOATS, float("nan"))
    flags: list[str] = []
    out.update(n_points=len(x), n_et=len(np.unique(x)), df_resid=None, converged=False)
    if len(x) == 0:
        out["flags"] = ["no_usable_points"]
        return out
    out.update(et_min=float(x.min()), et_max=float(x.max()), auc=auc_log2(x, y))
    if len(np.unique(x)) < 4 or len(x) < 5:
        out["flags"] = ["few_points"]
        return out
    fit: FourPLFit = fit_4pl(x, y)
    lower, upper = fit.et50_ci()
    et_at_50 = fit.x_at(50.0)
    if not (x.min() <= et_at_50 <= x.max()):
        et_at_50 = float("nan")
        flags.append("never_reaches_50")
    if not fit.converged:
        flags.insert(0, "not_converged")
    if fit.et50 > x.max():
        flags.append("et50_above_range")
    if fit.et50 < x.min():
        flags.append("et50_below_range")
    out.update(
        bottom=fit.bottom,
        top=fit.top,
        hill=fit.hill,
        et50=fit.et50,
        et50_lower=lower,
        et50_upper=upper,
        log_et50_se=fit.log_et50_se,
        et_at_50=et_at_50,
        emax=fit.top,
        rss=fit.rss,
        df_resid=fit.df_resid,
        converged=fit.converged,
        flags=flags,
    )
    return out


def fit_curves(wells: pl.DataFrame, model: str = "4pl") -> pl.DataFrame:
    """Fit every curve of the well table; one row per curve (``curves.csv`` columns)."""
    if model != "4pl":
        raise KillcurveInputError(f"config key fit.model: unknown model {model!r}; available: 4pl.")
    points = curve_points(wells)
    rows = []
    for key, group in points.group_by(["curve_id", *CURVE_KEYS], maintain_order=True):
        used = group.filter(~pl.col("excluded") & pl.col("pct_lysis").is_not_null())
        fields = _fit_one(used["et_ratio"].to_numpy(), used["pct_lysis"].to_numpy())
        rows.append(
            {
                **dict(zip(["curve_id", *CURVE_KEYS], key, strict=True)),
                "readout": group["readout"][0],
                "model": model,
                "plate_ids": ";".join(sorted(group["plate_id"].unique().to_list())),
                **fields,
            }
        )
    schema = {c: pl.String for c in ("curve_id", *CURVE_KEYS, "readout", "model", "plate_ids")}
    schema.update({c: pl.Float64 for c in _FLOATS})
    schema.update(
        n_points=pl.Int64,
        n_et=pl.Int64,
        df_resid=pl.Int64,
        converged=pl.Boolean,
        flags=pl.List(pl.String),
    )
    curves = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return (
        curves.with_columns(pl.col(_FLOATS).fill_nan(None)).select(CURVE_COLUMNS).sort("curve_id")
    )


def curve_grid(curves: pl.DataFrame, n: int = 101) -> pl.DataFrame:
    """Fitted 4PL values on a log-spaced E:T grid over each curve's tested range (for figures)."""
    frames = []
    for row in curves.filter(pl.col("et50").is_not_null()).iter_rows(named=True):
        x = np.geomspace(row["et_min"], row["et_max"], n)
        theta = np.array([row["bottom"], row["top"], np.log(row["et50"]), row["hill"]])
        frames.append(
            pl.DataFrame(
                {"curve_id": row["curve_id"], "et_ratio": x, "pct_lysis": predict(theta, x)}
            )
        )
    schema = {"curve_id": pl.String, "et_ratio": pl.Float64, "pct_lysis": pl.Float64}
    grid = pl.concat(frames) if frames else pl.DataFrame(schema=schema)
    return grid.join(curves.select("curve_id", *CURVE_KEYS), on="curve_id")


def curve_residuals(wells: pl.DataFrame, curves: pl.DataFrame) -> pl.DataFrame:
    """Fitted value and residual (observed − fitted, % lysis units) of every well used in a fit.

    Columns: the curve keys, ``curve_id``, ``plate_id``, ``well``, ``et_ratio``,
    ``pct_lysis``, ``fitted``, ``residual``. Curves without an et50 have no rows.
    """
    params = curves.filter(pl.col("et50").is_not_null()).select(
        "curve_id", "bottom", "top", "et50", "hill"
    )
    used = curve_points(wells).filter(~pl.col("excluded") & pl.col("pct_lysis").is_not_null())
    fitted = pl.col("bottom") + (pl.col("top") - pl.col("bottom")) / (
        1.0 + (pl.col("et50") / pl.col("et_ratio")) ** pl.col("hill")
    )
    return (
        used.join(params, on="curve_id")
        .with_columns(fitted.alias("fitted"))
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
