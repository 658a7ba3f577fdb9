"""Per-curve fits on the well table: the pipeline's ``fit_curves`` stage.

A curve is one product × lot × target × stage × cryo × batch; its points are
the non-excluded ``sample`` wells (every replicate well, not means). All
curves are fitted at once by the batched engine (:mod:`killcurve.fit.engine`)
with the model of ``fit.model`` (:mod:`killcurve.fit.models`: ``4pl``,
``3pl``, ``5pl``, ``exponential``), parameters in ``fit.fixed`` held.

Per-curve outputs (``curves.csv``, every column documented in config/README.md):
parameters with standard errors (convention ``fit.se``: ``jtj`` =
s²(J′J)⁻¹, ``hessian`` = s²H⁻¹; s² = RSS/(n − p)); ``et50`` with its Wald CI
(formed on ln et50 with the t quantile on the residual df) and its
profile-likelihood CI; optional percentile-bootstrap CI; ``et_at_50``, the
E:T at which the fitted curve reaches 50 % lysis (null with flag
``never_reaches_50`` when it does not within the tested range); ``emax`` =
fitted response as E:T → ∞; lytic units ``lu<p>`` (exponential model);
``auc`` = trapezoid of the mean % lysis per E:T over log2(E:T), in
%·log2(E:T) units (model-free, so it exists for unfitted curves too); RSS,
residual df and AICc.

Flags (``;``-separated in CSV, a list in Parquet): those of
:data:`killcurve.fit.flags.FLAGS`, then

* ``never_reaches_50``: the fitted curve does not cross 50 % within the tested E:T.
* ``no_usable_points``: every well of the curve is excluded; not fitted.

A curve with fewer distinct E:T than free parameters, or no more points than
free parameters, is not fitted and carries ``few_points``. ``max_mean_lysis`` is the
highest mean % lysis over the curve's tested E:T (model-free).

Every curve gets a ``verdict`` and ``verdict_reasons`` (:mod:`killcurve.fit.verdict`,
config ``fit.verdict``) and ``et50_bound`` (``>x``/``<x`` when et50 lies beyond the tested
range). A curve whose verdict is not in ``fit.verdict.use`` (default: only ``valid``), or
that carries a flag listed in ``fit.withhold``, keeps its parameters but has its et50, every
et50 interval and its lytic units emptied (:func:`withhold_et50`): the verdict reasons and
flags say why.
A curve without an upper plateau (``top_not_reached``) has ``top``, ``top_se`` and ``emax``
emptied and the flag ``top_not_estimable`` (:func:`hide_top`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.fit.curve_table import CURVE_KEYS, PARAM_COLUMNS, curve_points
from killcurve.fit.engine import FitResult, fit_batch
from killcurve.fit.flags import FLAGS, Thresholds, flag_curves, flag_lists
from killcurve.fit.inference import (
    Kind,
    bootstrap_intervals,
    et_range,
    lytic_units,
    profile_interval,
    summarise,
)
from killcurve.fit.models import MODELS, Model, get_model, internal_value, natural_names
from killcurve.fit.verdict import VerdictRules, et50_bound, judge
from killcurve.fit.weighting import point_scales, with_fit_weights
from killcurve.study.axis import ET50_COLUMNS

#: Flags of ``curves.csv`` in report order.
CURVE_FLAGS = (*FLAGS, "never_reaches_50", "no_usable_points")
#: Flags whose curves get no et50 by default (``fit.withhold``): none, every estimate shown.
WITHHOLD_DEFAULT: tuple[str, ...] = ()


@dataclass(frozen=True)
class FitOptions:
    """The ``fit`` section of the config (see config/README.md)."""

    model: str = "4pl"
    fixed: Mapping[str, float] = field(default_factory=dict)
    se: Kind = "jtj"
    ci_level: float = 0.95
    profile: bool = True
    bootstrap: int = 0
    bootstrap_method: str = "residual"
    seed: int = 1
    lu_percents: tuple[float, ...] = (20.0, 30.0)
    targets_per_well: float = 1.0e4
    thresholds: Thresholds = field(default_factory=Thresholds)
    withhold: tuple[str, ...] = ()
    weighting: str = "none"
    verdict: VerdictRules = field(default_factory=VerdictRules)

    @classmethod
    def from_config(cls, fit: Mapping[str, object]) -> FitOptions:
        """Options from the validated ``fit`` config section (defaults filled by the schema)."""
        model = str(fit.get("model", "4pl"))
        if model not in MODELS:
            raise KillcurveInputError(
                f"config key fit.model: unknown model {model!r}; available: {', '.join(MODELS)}."
            )
        fixed = {str(k): float(v) for k, v in dict(fit.get("fixed") or {}).items()}
        for name in fixed:
            try:
                internal_value(get_model(model), name, 1.0)
            except KeyError:
                raise KillcurveInputError(
                    f"config key fit.fixed.{name}: model {model} has no parameter {name!r}; "
                    f"its parameters are {', '.join(natural_names(get_model(model)))}."
                ) from None
        boot = dict(fit.get("bootstrap") or {})
        flags = dict(fit.get("flags") or {})
        th = Thresholds()
        thresholds = Thresholds(
            flat_p=float(flags.get("flat_p", th.flat_p)),
            hill_range=tuple(flags.get("hill_range", th.hill_range)),  # type: ignore[arg-type]
            ci_factor=float(flags.get("ci_factor", th.ci_factor)),
            top_fraction=float(flags.get("top_fraction", th.top_fraction)),
            min_levels=int(flags.get("min_levels", th.min_levels)),
            negative_lysis=float(flags.get("negative_lysis", th.negative_lysis)),
            min_plateau_levels=int(flags.get("min_plateau_levels", th.min_plateau_levels)),
        )
        withhold = tuple(str(f) for f in fit.get("withhold", WITHHOLD_DEFAULT))  # type: ignore[union-attr]
        unknown = [f for f in withhold if f not in CURVE_FLAGS]
        if unknown:
            raise KillcurveInputError(
                f"config key fit.withhold: unknown flag(s) {', '.join(unknown)}; "
                f"flags are {', '.join(CURVE_FLAGS)}."
            )
        return cls(
            model=model,
            fixed=fixed,
            se=str(fit.get("se", "jtj")),  # type: ignore[arg-type]
            ci_level=float(fit.get("ci_level", 0.95)),
            profile=bool(fit.get("profile", True)),
            bootstrap=int(boot.get("n", 0)),
            bootstrap_method=str(boot.get("method", "residual")),
            seed=int(boot.get("seed", 1)),
            lu_percents=tuple(float(p) for p in fit.get("lu_percents", (20, 30))),  # type: ignore[union-attr]
            targets_per_well=float(fit.get("targets_per_well", 1.0e4)),
            thresholds=thresholds,
            withhold=withhold,
            weighting=str(fit.get("weighting", "none")),
            verdict=VerdictRules.from_config(
                fit.get("verdict"),  # type: ignore[arg-type]
                CURVE_FLAGS,
            ),
        )

    @property
    def lu_columns(self) -> tuple[str, ...]:
        """``lu<p>``, ``lu<p>_lower``, ``lu<p>_upper`` for every configured percentage."""
        return tuple(
            f"lu{p:g}{suffix}" for p in self.lu_percents for suffix in ("", "_lower", "_upper")
        )


#: Float columns of ``curves.csv`` before the lytic units, in order.
_FLOATS = (
    "bottom",
    "bottom_se",
    "top",
    "top_se",
    "hill",
    "hill_se",
    "asymmetry",
    "rate_k",
    *ET50_COLUMNS,
    "et_at_50",
    "emax",
    "auc",
    "max_mean_lysis",
)
_FIT_FLOATS = ("et_min", "et_max", "rss", "aicc")


def curve_columns(options: FitOptions | None = None) -> tuple[str, ...]:
    """Columns of ``curves.csv`` in order."""
    options = options or FitOptions()
    return (
        "curve_id",
        *CURVE_KEYS,
        "readout",
        "model",
        "se_convention",
        "weighting",
        "ci_level",
        *_FLOATS[: _FLOATS.index("et_at_50")],
        "et50_bound",
        *_FLOATS[_FLOATS.index("et_at_50") :],
        *options.lu_columns,
        "n_points",
        "n_et",
        *_FIT_FLOATS,
        "df_resid",
        "converged",
        "fit_method",
        "flags",
        "verdict",
        "verdict_reasons",
        "plate_ids",
    )


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


def _data_summary(points: pl.DataFrame) -> pl.DataFrame:
    """Per curve: readout, plates, points used, distinct E:T, tested range and data AUC."""
    used = points.filter(~pl.col("excluded") & pl.col("pct_lysis").is_not_null())
    levels = (
        used.group_by("curve_id", "et_ratio")
        .agg(pl.col("pct_lysis").mean().alias("mean"))
        .sort("curve_id", "et_ratio")
        .with_columns(pl.col("et_ratio").log(2).alias("u"))
        .with_columns(
            (
                (pl.col("u") - pl.col("u").shift(1).over("curve_id"))
                * (pl.col("mean") + pl.col("mean").shift(1).over("curve_id"))
                / 2.0
            ).alias("piece")
        )
        .group_by("curve_id")
        .agg(
            pl.when(pl.len() >= 2).then(pl.col("piece").sum()).alias("auc"),
            pl.len().alias("n_et"),
            pl.col("mean").max().alias("max_mean_lysis"),
        )
    )
    per_curve = points.group_by("curve_id", *CURVE_KEYS).agg(
        pl.col("readout").first(),
        pl.col("plate_id").unique().sort().str.join(";").alias("plate_ids"),
        (~pl.col("excluded") & pl.col("pct_lysis").is_not_null()).sum().alias("n_points"),
    )
    ranges = used.group_by("curve_id").agg(
        pl.col("et_ratio").min().alias("et_min"), pl.col("et_ratio").max().alias("et_max")
    )
    return (
        per_curve.join(levels, on="curve_id", how="left")
        .join(ranges, on="curve_id", how="left")
        .with_columns(pl.col("n_et").fill_null(0).cast(pl.Int64), pl.col("n_points").cast(pl.Int64))
        .sort("curve_id")
    )


def _fit_table(result: FitResult, options: FitOptions) -> pl.DataFrame:
    """One row per fitted curve: estimates, intervals, flags (``curves.csv`` fit columns)."""
    model = result.model
    summary = summarise(result, kind=options.se, level=options.ci_level)
    params = natural_names(model)
    cols: dict[str, object] = {"curve_id": result.groups.astype(str)}
    for name in params:
        column = PARAM_COLUMNS[name]
        cols[column] = summary[name]
        if column in ("bottom", "top", "hill"):
            free = result.free[model.index(name)]
            cols[f"{column}_se"] = summary[f"{name}_se"] if free else np.nan
    profile = None
    if "et50" in params:
        j = model.index("et50")
        cols["et50_lower"], cols["et50_upper"] = summary["et50_lower"], summary["et50_upper"]
        se_log = summary["et50_se"] / summary["et50"]
        cols["log_et50_se"] = np.where(result.free[j], se_log, np.nan)
        if result.free[j] and result.converged.any():
            lo, hi = et_range(result)
            th = options.thresholds
            limits = (np.log(lo / th.ci_factor), np.log(hi * th.ci_factor))
            profile = profile_interval(result, "et50", options.ci_level, limits=limits)
            if options.profile:
                cols["et50_profile_lower"] = profile.lower
                cols["et50_profile_upper"] = profile.upper
        if options.bootstrap > 0:
            boot = bootstrap_intervals(
                result, options.bootstrap, options.bootstrap_method, options.seed, options.ci_level
            )
            cols["et50_boot_lower"], cols["et50_boot_upper"] = boot["et50"]
    if model.name == "exponential":
        for name, iv in lytic_units(
            result, options.lu_percents, options.targets_per_well, options.se, options.ci_level
        ).items():
            cols[name], cols[f"{name}_lower"], cols[f"{name}_upper"] = (
                iv.estimate,
                iv.lower,
                iv.upper,
            )
    cols["et_at_50"] = summary.get("et_at_50", np.full(result.data.n_curves, np.nan))
    cols["emax"] = summary["emax"]
    cols.update(
        rss=result.rss,
        aicc=summary["aicc"],
        df_resid=result.df_resid.astype(np.int64),
        converged=result.converged.astype(bool),
        fit_method=result.method.astype(str),
    )
    flags = flag_curves(result, options.thresholds, profile)
    flags["never_reaches_50"] = ~np.isfinite(np.asarray(cols["et_at_50"], dtype=float))
    cols["flags"] = flag_lists(flags, CURVE_FLAGS)
    return pl.DataFrame(cols)


def fit_curves(wells: pl.DataFrame, options: FitOptions | None = None) -> pl.DataFrame:
    """Fit every curve of the well table at once; one row per curve (``curves.csv`` columns)."""
    options = options or FitOptions()
    model: Model = get_model(options.model)
    points = curve_points(with_fit_weights(wells, options.weighting))
    meta = _data_summary(points)
    n_free = len(model.params) - len({*model.fixed, *options.fixed})
    fittable = meta.filter((pl.col("n_et") >= n_free) & (pl.col("n_points") > n_free))
    used = (
        points.filter(~pl.col("excluded") & pl.col("pct_lysis").is_not_null())
        .join(fittable.select("curve_id"), on="curve_id")
        .sort("curve_id", "et_ratio")
    )
    schema = dict.fromkeys(curve_columns(options), pl.Float64)
    schema.update(
        {
            c: pl.String
            for c in (
                "curve_id",
                *CURVE_KEYS,
                "readout",
                "model",
                "se_convention",
                "weighting",
                "et50_bound",
                "verdict",
            )
        }
    )
    schema.update(
        n_points=pl.Int64,
        n_et=pl.Int64,
        df_resid=pl.Int64,
        converged=pl.Boolean,
        fit_method=pl.String,
        flags=pl.List(pl.String),
        verdict_reasons=pl.List(pl.String),
        plate_ids=pl.String,
    )
    if used.height:
        scale = point_scales(used)
        result = fit_batch(
            used["et_ratio"].to_numpy(),
            used["pct_lysis"].to_numpy(),
            used["curve_id"].to_numpy(),
            model,
            fixed=dict(options.fixed),
            weights=None if scale is None else 1.0 / scale.to_numpy() ** 2,
        )
        fits = _fit_table(result, options)
    else:
        fits = pl.DataFrame(
            schema={
                "curve_id": pl.String,
                "flags": pl.List(pl.String),
                "converged": pl.Boolean,
                "fit_method": pl.String,
            }
        )
    unfitted = pl.when(pl.col("n_points") == 0).then(pl.lit(["no_usable_points"]))
    curves = meta.join(fits, on="curve_id", how="left").with_columns(
        pl.lit(options.model).alias("model"),
        pl.lit(options.se).alias("se_convention"),
        pl.lit(options.weighting).alias("weighting"),
        pl.lit(options.ci_level).alias("ci_level"),
        pl.coalesce("flags", unfitted.otherwise(pl.lit(["few_points"]))).alias("flags"),
        pl.col("converged").fill_null(False),
        pl.col("fit_method").fill_null("none"),
    )
    judged = ("verdict", "verdict_reasons", "et50_bound")
    for column, dtype in schema.items():
        if column not in curves.columns and column not in judged:
            curves = curves.with_columns(pl.lit(None, dtype).alias(column))
    floats = [c for c, t in schema.items() if t == pl.Float64]
    curves = curves.with_columns(
        pl.col(c).cast(t) for c, t in schema.items() if c not in judged
    ).with_columns(pl.col(floats).fill_nan(None))
    curves = et50_bound(judge(curves, options.verdict, CURVE_FLAGS))
    curves = hide_top(curves).select(list(schema)).sort("curve_id")
    return withhold_et50(curves, options.withhold, options.verdict.use, options.lu_columns)


#: Columns a curve without an upper plateau leaves empty (flag ``top_not_estimable``).
TOP_COLUMNS = ("top", "top_se", "emax")


def hide_top(curves: pl.DataFrame) -> pl.DataFrame:
    """Curves with :data:`TOP_COLUMNS` emptied where the data show no upper plateau.

    A curve flagged ``top_not_reached`` covers 80 % of its fitted span at too few tested
    levels (``fit.flags``): its top (and emax, the response as x → ∞) is extrapolated, often far
    beyond 100 % (5317 % on a real ADCC curve still rising at the highest concentration).
    Following :mod:`killcurve.report.finite`, the cells are empty and ``flags`` gains
    ``top_not_estimable``; what the data do say is ``max_mean_lysis`` (top ≥ it, up to noise).
    A curve without top gets no fitted line, residuals or fitted lysis at a reference x.
    """
    hide = pl.col("flags").list.contains("top_not_reached").fill_null(False)
    return curves.with_columns(
        *(pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in TOP_COLUMNS),
        pl.when(hide)
        .then(pl.col("flags").list.concat(pl.lit(["top_not_estimable"])))
        .otherwise(pl.col("flags"))
        .alias("flags"),
    )


def withhold_et50(
    curves: pl.DataFrame,
    flags: tuple[str, ...],
    use: tuple[str, ...] | None = None,
    potency: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Curves with :data:`ET50_COLUMNS` emptied where a flag of ``flags`` is set, or (when
    ``use`` is given) where ``verdict`` is not in ``use`` (``fit.verdict.use``); the columns
    ``potency`` (the lytic units of the exponential model) are emptied with them.

    A curve that does not converge (its optimum may lie at infinity) or whose
    upper plateau the data do not show has no half-maximal point to report: its
    et50 is a number the data do not determine. Its flags and verdict say why it is empty.
    """
    hide = pl.lit(False)
    if flags:
        hide = pl.col("flags").list.set_intersection(pl.lit(list(flags))).list.len() > 0
    if use is not None:
        hide = hide | ~pl.col("verdict").is_in(list(use))
    elif not flags:
        return curves
    return curves.with_columns(
        pl.when(hide).then(None).otherwise(pl.col(c)).alias(c) for c in (*ET50_COLUMNS, *potency)
    )
