"""Relative potency of a test product against a reference from their E:T kill curves.

Within one group (one target; stages, cryo states, lots and days may be
pooled), the wells of the two products are fitted with the 4PL on the E:T
axis, ``y = bottom + (top − bottom)/(1 + (et50/x)^hill)`` (y % lysis, x E:T).
A *curve* is one ``curve_id`` (product × lot × target × stage × cryo ×
batch; else the lot, else the product): lots and days shift a curve along
the E:T axis, so every curve keeps its own et50 in both fits, and the shape
parameters are what parallelism is about. With n wells, k_T + k_R curves:

* **Constrained (parallel) fit**: bottom, top and hill common to all curves,
  one ln et50 per curve (:func:`killcurve.fit.shared.fit_global`); residual
  df n − 3 − k_T − k_R.
* **Unconstrained fit**: the same fit per product (each product its own
  bottom, top and hill; one ln et50 per curve), with one residual variance for
  both, s² = (RSS_T + RSS_R)/(df_T + df_R) (each product's J′J covariance is
  rescaled to it); residual df n − 6 − k_T − k_R.
* **F test of parallelism** (extra sum of squares,
  :func:`killcurve.fit.comparison.f_test`):
  ``F = ((RSS_c − RSS_u)/3)/(RSS_u/df_u)`` on (3, df_u) df; reported as
  ``f_parallel_p`` (information only: the decision is by equivalence).
* **Parallelism by equivalence** (USP <1032> style): from the unconstrained
  fit, two-sided (1 − 2α) confidence intervals (α = 0.05: 90 % intervals,
  i.e. two one-sided tests at 5 % each) of hill_T/hill_R (formed on
  ln(hill_T/hill_R) by the delta method and exponentiated), top_T − top_R and
  bottom_T − bottom_R (% lysis), each estimate ± t(1 − α, df_u)·SE.
  ``equivalent`` when every interval lies inside its margin
  (:class:`ParallelismMargins`: hill ratio 0.8–1.25, top and bottom ±15 %
  lysis by default), ``not_equivalent`` otherwise, ``not_assessed`` when a fit
  fails (not converged, no residual df or no finite covariance).

**Blocks** (``blocks``, e.g. ``("readout",)`` or ``("readout", "batch")``): curves
read with different readouts or on different days need not share their
asymptotes. With B ≥ 2 blocks in the group (USP <1034> block-specific
asymptotes), the constrained fit has bottom_b and top_b per block, a common
hill and one ln et50 per curve (residual df n − 1 − 2B − k_T − k_R); the
unconstrained fit gives each product its own hill and its own bottom and top
per block, and equivalence is required on the hill ratio and on the top and
bottom differences of every block that holds both products
(``top_difference[<block>]``). A group of one block is fitted exactly as above.

With one curve per product this is the classic two-curve parallel-line fit.
The log potency ratio δ is a contrast c′θ of the curves' ln et50
(:func:`block_contrast`): the coefficient of the test indicator in the OLS
regression of the per-curve ln et50 on block fixed effects + test indicator,
i.e. Σ_b w_b·(mean ln et50_T,b − mean ln et50_R,b) with w_b ∝
n_T,b·n_R,b/(n_T,b + n_R,b), Var δ = c′Vc from the fit's covariance V. A
block holding one product only gets weight 0 (noted); with no block holding
both, no potency. With one block δ = mean ln et50_T − mean ln et50_R: each
product's et50 is the geometric mean over its curves. "ln et50_T" and
"ln et50_R" below are the two halves of c (test curves, reference curves),
each a weighted mean with weights summing to 1.

**Potency ratio** ρ = et50_T/et50_R from the constrained fit (below 1: the
test product reaches half-maximal lysis at a lower E:T, i.e. it is more
potent), only when parallelism is ``equivalent``. Two 95 % intervals, t
quantile on the constrained fit's residual df:

* ``parallel_line_delta``: the log ratio is a *difference* of two linear
  combinations of parameters, d = ln et50_T − ln et50_R, so its variance is
  exact in the linearised model, Var d = V_TT + V_RR − 2V_TR (V_TT, V_RR, V_TR
  the variances and covariance of the two products' mean ln et50); interval
  exp(d ± t·SE(d)). Fieller's theorem applied to this quantity is the
  degenerate case of a ratio whose denominator is a known constant (d/1,
  Var(1) = 0, so g = 0) and gives exactly this Wald interval: nothing new.
* ``parallel_line_fieller``: Fieller's theorem for the genuine ratio of the two
  natural-scale estimates, ρ = a/b with a = et50_T, b = et50_R and their
  covariance D·V·D, D = diag(a, b) (first order). The limits are the roots of
  (a − ρb)² = t²(Var a − 2ρ·Cov(a, b) + ρ²·Var b)
  (:func:`killcurve.stats.pla.fieller_interval`), unbounded (null) when
  g = t²·Var b/b² ≥ 1. It accounts for the uncertainty of the denominator
  and is asymmetric around ρ; both intervals agree to first order in the
  relative standard errors (they coincide as SE(ln et50) → 0), and differ
  when the et50 are poorly determined. In the linear parallel-line assay
  (:mod:`killcurve.stats.pla`) the ratio Fieller is applied to is
  (intercept difference)/(common slope); here the common slope is inside the
  4PL and the horizontal shift is a parameter of its own.

Each interval's ``p_value`` tests ρ = 1: delta, t = d/SE(d); Fieller,
t = (a − b)/SE(a − b) on the natural scale (so its interval excludes 1 exactly
when p < 0.05). Both intervals are within-assay: the tested lots' et50 are
fixed parameters, so the intervals do not include lot-to-lot sampling
variation (for that, see the mixed model of :mod:`killcurve.stats.mixed`).

**Weights.** When the points carry ``lysis_scale`` (the curves were fitted with
``fit.weighting: signal``), every fit here weighs each well by 1/scale²
(:mod:`killcurve.fit.weighting`), so the shared and per-product fits use the
same variance model as the curves.

**When parallelism is not equivalent** (or not assessed), the potency rows keep
a null estimate and a note, and the fallback rows are: ``et50_ratio_separate``
(et50_T/et50_R from the per-product fits, delta interval on the log scale,
``separate_fits_delta``; not a potency ratio: the curves differ in shape) and
``lysis_difference_at_et`` (mean % lysis test − reference at each E:T, Welch's
t-test and interval, ``welch_t``; the unit is the curve mean when both
products have ≥ 2 curves at that E:T, otherwise the well).
:func:`similarity_note` words the failing criteria for the rows of the caller.

**Combined potency** (groups of ≥ 2 blocks): each block holding both products
also gets its own :func:`relative_potency` (one block: its own parallel fit
and similarity check); the delta estimates (ln ratio M_i, SE_i, df_i) of the
blocks whose similarity is shown are combined by
:func:`killcurve.stats.combination.combine_log_potencies` with W_i = 1/SE_i²
(Ph. Eur. 5.3 §6.2: weighted, or semi-weighted when the χ² homogeneity test
has p < 0.05; one estimate: itself) into a ``potency_ratio`` row with method
``combined_weighted``, ``combined_semi_weighted`` or ``combined_single``; the
blocks left out (similarity not shown) are counted in its notes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from killcurve.errors import KillcurveInputError
from killcurve.fit.comparison import FTest, f_test
from killcurve.fit.engine import FitResult
from killcurve.fit.inference import covariance
from killcurve.fit.shared import block_param, fit_global
from killcurve.fit.weighting import point_scales
from killcurve.stats.combination import combine_log_potencies
from killcurve.stats.logscale import exp_ratio
from killcurve.stats.pla import fieller_interval

Array = np.ndarray

#: Fewest distinct E:T levels a curve needs to enter the fits.
MIN_LEVELS = 3
#: Columns of the result table, in order.
COLUMNS = {
    "metric": pl.String,
    "et_ratio": pl.Float64,
    "estimate": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "p_value": pl.Float64,
    "method": pl.String,
    "parallelism": pl.String,
    "f_parallel_p": pl.Float64,
    "notes": pl.String,
}
#: Columns of :attr:`PotencyResult.parallelism`.
PARALLELISM_SCHEMA = {
    "parameter": pl.String,
    "estimate": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "margin_lower": pl.Float64,
    "margin_upper": pl.Float64,
    "within": pl.Boolean,
}


@dataclass(frozen=True)
class ParallelismMargins:
    """Equivalence margins for parallelism, and α of each one-sided test.

    ``hill_ratio``: hill_T/hill_R (dimensionless); ``top_difference`` and
    ``bottom_difference``: |T − R| in % lysis. Intervals are two-sided
    1 − 2α (α = 0.05: 90 %).
    """

    hill_ratio: tuple[float, float] = (0.8, 1.25)
    top_difference: float = 15.0
    bottom_difference: float = 15.0
    alpha: float = 0.05

    @classmethod
    def from_config(
        cls, margins: Mapping[str, Any], key: str = "potency.margins"
    ) -> ParallelismMargins:
        """Margins from a config mapping (missing keys: defaults); ``key`` names it in errors."""
        base = cls()
        try:
            hill = tuple(float(v) for v in margins.get("hill_ratio", base.hill_ratio))
            out = cls(
                hill_ratio=(hill[0], hill[1]),
                top_difference=float(margins.get("top_difference", base.top_difference)),
                bottom_difference=float(margins.get("bottom_difference", base.bottom_difference)),
                alpha=float(margins.get("alpha", base.alpha)),
            )
        except (TypeError, ValueError, IndexError) as err:
            raise KillcurveInputError(
                f"config key {key}: {err}. Give hill_ratio as [lower, upper] and the other "
                "margins as numbers."
            ) from None
        lo, hi = out.hill_ratio
        if not (0 < lo < 1 < hi) or out.top_difference <= 0 or out.bottom_difference <= 0:
            raise KillcurveInputError(
                f"config key {key}: hill_ratio needs 0 < lower < 1 < upper and the differences "
                f"must be positive (got {out.hill_ratio}, {out.top_difference}, "
                f"{out.bottom_difference})."
            )
        if not 0 < out.alpha < 0.5:
            raise KillcurveInputError(f"config key {key}.alpha: {out.alpha} is not in (0, 0.5).")
        return out


@dataclass(frozen=True)
class PotencyResult:
    """Relative potency of one group.

    ``table``: the tidy result (columns :data:`COLUMNS`, see the module
    docstring). ``parallelism``: one row per shape parameter (``hill_ratio``,
    ``top_difference``, ``bottom_difference``) with ``estimate``, ``lower``,
    ``upper`` (1 − 2α interval), ``margin_lower``, ``margin_upper``,
    ``within``. ``status``: ``equivalent``, ``not_equivalent`` or
    ``not_assessed``. ``f_parallel``: the F test of the constrained against the
    unconstrained fit. ``constrained``, ``unconstrained``: the fits.
    ``log_ratio``: (δ, SE(δ), residual df) of the delta row, None without a
    potency ratio.
    """

    table: pl.DataFrame
    parallelism: pl.DataFrame
    status: str
    f_parallel: FTest
    constrained: FitResult
    unconstrained: dict[str, FitResult]
    notes: list[str] = field(default_factory=list)
    log_ratio: tuple[float, float, float] | None = None


def _points(
    points: pl.DataFrame, test: str, reference: str, blocks: Sequence[str] = ()
) -> pl.DataFrame:
    """The usable points of the two products, with ``curve`` (curve_id, lot or product) and
    ``block`` (the ``blocks`` columns joined with ``|``; ``-`` without any) columns."""
    missing = [c for c in ("product", "et_ratio", "pct_lysis") if c not in points.columns]
    if missing:
        raise KillcurveInputError(
            f"potency points: column(s) {', '.join(missing)} missing; columns present: "
            f"{', '.join(points.columns)}. Pass the sample wells with product, et_ratio, pct_lysis."
        )
    present = set(points["product"].cast(pl.String).unique().to_list())
    for role, name in (("test", test), ("reference", reference)):
        if name not in present:
            raise KillcurveInputError(
                f"potency: {role} product {name!r} has no points in this group; products "
                f"present: {', '.join(sorted(map(str, present))) or 'none'}."
            )
    if test == reference:
        raise KillcurveInputError(f"potency: test and reference are both {test!r}.")
    source = next((c for c in ("curve_id", "lot") if c in points.columns), "product")
    curve = pl.col(source).cast(pl.String)
    if source == "lot":  # lot names need not be unique across products
        curve = pl.concat_str([pl.col("product").cast(pl.String), curve], separator="|")
    scale = [pl.col("lysis_scale").cast(pl.Float64)] if "lysis_scale" in points.columns else []
    out = points.select(
        pl.col("product").cast(pl.String),
        curve.fill_null("-").alias("curve"),
        block_expr(blocks, points.columns),
        pl.col("et_ratio").cast(pl.Float64),
        pl.col("pct_lysis").cast(pl.Float64),
        *scale,
    ).filter(
        pl.col("product").is_in([test, reference])
        & pl.col("et_ratio").is_finite()
        & (pl.col("et_ratio") > 0)
        & pl.col("pct_lysis").is_finite()
    )
    split = (
        out.group_by("curve")
        .agg(pl.col("block").unique().sort())
        .filter(pl.col("block").list.len() > 1)
    )
    if split.height:
        raise KillcurveInputError(
            f"potency: curve {split['curve'][0]} spans the blocks "
            f"{', '.join(split['block'][0])} ({', '.join(blocks)}); a curve must lie in one "
            "block: give its wells one readout and batch."
        )
    return out


def block_expr(blocks: Sequence[str], columns: Sequence[str]) -> pl.Expr:
    """``block``: the ``blocks`` columns present in ``columns`` joined with ``|`` (else ``-``)."""
    present = [c for c in blocks if c in columns]
    if not present:
        return pl.lit("-").alias("block")
    return pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("-") for c in present], separator="|"
    ).alias("block")


def _weights(points: pl.DataFrame) -> Array | None:
    """The points' ``weight`` column (1/scale², :mod:`killcurve.fit.weighting`) or None."""
    return points["weight"].to_numpy() if "weight" in points.columns else None


def _usable(fit: FitResult, cov: Array) -> bool:
    """The fit converged with positive residual df and a finite covariance."""
    return bool(fit.converged[0] and fit.df_resid[0] > 0 and np.all(np.isfinite(cov)))


@dataclass(frozen=True)
class Contrast:
    """The common log potency ratio δ as weights on the curves' ln et50.

    δ = Σ test[c]·ln et50_c − Σ reference[c]·ln et50_c: the coefficient of the
    test indicator in the OLS regression of the curves' ln et50 on block fixed
    effects and the indicator (module docstring), which is the weighted mean
    of the within-block differences of mean ln et50, weights
    h_b = n_Tb·n_Rb/(n_Tb + n_Rb) normalised to sum 1. ``both``: blocks holding
    both products (they inform δ); ``lonely``: block -> the one product of a
    block that holds only one (weight 0).
    """

    test: dict[str, float]
    reference: dict[str, float]
    both: list[str]
    lonely: dict[str, str]


def block_contrast(
    curves: Mapping[str, Sequence[str]], block_of: Mapping[str, str], test: str, reference: str
) -> Contrast:
    """The :class:`Contrast` of δ for ``curves`` (product -> curve labels) in their blocks.

    >>> c = block_contrast({"T": ["t1", "t2"], "R": ["r1"]}, {"t1": "A", "t2": "A", "r1": "A"},
    ...                    "T", "R")
    >>> c.test, c.reference
    ({'t1': 0.5, 't2': 0.5}, {'r1': 1.0})
    """
    per_block: dict[str, dict[str, list[str]]] = {}
    for product in (test, reference):
        for curve in curves[product]:
            per_block.setdefault(block_of[curve], {test: [], reference: []})[product].append(curve)
    both = sorted(b for b, held in per_block.items() if held[test] and held[reference])
    lonely = {
        b: test if held[test] else reference
        for b, held in sorted(per_block.items())
        if b not in both
    }
    h = {
        b: len(per_block[b][test])
        * len(per_block[b][reference])
        / (len(per_block[b][test]) + len(per_block[b][reference]))
        for b in both
    }
    total = sum(h.values())
    weights: dict[str, dict[str, float]] = {test: {}, reference: {}}
    for b in both:
        for product in (test, reference):
            of_block = per_block[b][product]
            weights[product].update(dict.fromkeys(of_block, h[b] / total * (1.0 / len(of_block))))
    return Contrast(weights[test], weights[reference], both, lonely)


def _log_et50_weights(fit: FitResult, weights: Mapping[str, float]) -> Array:
    """L (p,) with L·θ = Σ weights[c]·ln et50_c in ``fit``."""
    out = np.zeros(len(fit.model.params))
    for curve, w in weights.items():
        out[fit.model.params.index(f"log_et50[{curve}]")] = w
    return out


def _parallelism(
    fits: Mapping[str, FitResult],
    covs: Mapping[str, Array],
    df: float,
    test: str,
    reference: str,
    margins: ParallelismMargins,
    blocks: Sequence[str] | None = None,
) -> pl.DataFrame:
    """1 − 2α intervals of hill ratio, top and bottom differences against their margins.

    ``blocks``: with block-specific asymptotes, the blocks holding both products;
    each gets its own ``top_difference[<block>]`` and ``bottom_difference[<block>]``.
    """
    t = float(stats.t.ppf(1.0 - margins.alpha, df))

    def value(name: str, product: str) -> tuple[float, float]:
        i = fits[product].model.params.index(name)
        return float(fits[product].theta[i, 0]), float(covs[product][i, i])

    rows = []
    for block in blocks if blocks is not None else [None]:
        for name, margin in (
            ("top", margins.top_difference),
            ("bottom", margins.bottom_difference),
        ):
            param = name if block is None else block_param(name, block)
            (a, va), (b, vb) = value(param, test), value(param, reference)
            est, se = a - b, math.sqrt(va + vb)
            label = f"{name}_difference" + ("" if block is None else f"[{block}]")
            rows.append((label, est, est - t * se, est + t * se, -margin, margin))
    (h_t, v_t), (h_r, v_r) = value("hill", test), value("hill", reference)
    lo_m, hi_m = margins.hill_ratio
    if h_t / h_r > 0:
        se = math.sqrt(v_t / h_t**2 + v_r / h_r**2)
        log_ratio = math.log(h_t / h_r)
        ci = (exp_ratio(log_ratio - t * se), exp_ratio(log_ratio + t * se))
        rows.append(("hill_ratio", h_t / h_r, *ci, lo_m, hi_m))
    else:  # opposite directions: no ratio interval, never equivalent
        rows.append(("hill_ratio", h_t / h_r, None, None, lo_m, hi_m))
    frame = pl.DataFrame(
        rows,
        schema=["parameter", "estimate", "lower", "upper", "margin_lower", "margin_upper"],
        orient="row",
    )
    within = (pl.col("lower") >= pl.col("margin_lower")) & (
        pl.col("upper") <= pl.col("margin_upper")
    )
    return frame.with_columns(within=within.fill_null(False)).sort("parameter")


def similarity_note(parallelism: pl.DataFrame, status: str, alpha: float = 0.05) -> str:
    """``similarity not shown: hill ratio 1.9 (90 % CI 1.4–2.6) outside 0.8–1.25; …``.

    The failing criteria of ``parallelism`` (a :attr:`PotencyResult.parallelism`
    frame) with their 1 − 2α intervals; for ``not_assessed``, why.
    """
    if status == "not_assessed" or parallelism.height == 0:
        return "similarity not shown: not assessed (the per-product fits failed)"
    level = f"{100 * (1 - 2 * alpha):g} %"
    parts = []
    for row in parallelism.filter(~pl.col("within")).iter_rows(named=True):
        name = row["parameter"].replace("_", " ").replace("[", " in ").replace("]", "")
        est, lo, hi = row["estimate"], row["lower"], row["upper"]
        margins = (row["margin_lower"], row["margin_upper"])
        ci = (
            "no interval"
            if lo is None
            else f"{level} CI {_limit(lo, margins)}–{_limit(hi, margins)}"
        )
        parts.append(
            f"{name} {est:.3g} ({ci}) outside {row['margin_lower']:g}–{row['margin_upper']:g}"
        )
    return "similarity not shown: " + "; ".join(parts)


def _limit(value: float, margins: tuple[float, float]) -> str:
    """A confidence limit to 3 significant digits, or more where 3 would print a margin it
    lies beyond (0.7996 is ``0.7996``, not ``0.8``, against a margin of 0.8).

    >>> _limit(0.7996, (0.8, 1.25)), _limit(1.0893, (0.8, 1.25)), _limit(-15.02, (-15, 15))
    ('0.7996', '1.09', '-15.02')
    """
    for digits in range(3, 8):
        text = f"{value:.{digits}g}"
        if all(float(text) != m or value == m for m in margins):
            return text
    return f"{value:.8g}"


def _row(metric: str, method: str, **values: Any) -> dict[str, Any]:
    return {"metric": metric, "method": method, **values}


def _potency_rows(
    fit: FitResult, cov: Array, contrast: Contrast, k: str, level: float
) -> tuple[list[dict[str, Any]], tuple[float, float, float]]:
    """Delta and Fieller rows of δ (:class:`Contrast`), constrained fit; and (δ, SE(δ), df)."""
    df = float(fit.df_resid[0])
    t = float(stats.t.ppf(0.5 + level / 2.0, df))
    w_t, w_r = _log_et50_weights(fit, contrast.test), _log_et50_weights(fit, contrast.reference)
    theta = fit.theta[:, 0]
    lt, lr = float(w_t @ theta), float(w_r @ theta)
    v_tt, v_rr, v_tr = float(w_t @ cov @ w_t), float(w_r @ cov @ w_r), float(w_t @ cov @ w_r)
    d = lt - lr
    se = math.sqrt(v_tt + v_rr - 2.0 * v_tr)
    p_delta = float(2.0 * stats.t.sf(abs(d) / se, df)) if se > 0 else None
    delta = _row(
        "potency_ratio",
        "parallel_line_delta",
        estimate=exp_ratio(d),
        lower=exp_ratio(d - t * se),
        upper=exp_ratio(d + t * se),
        p_value=p_delta,
        notes=f"{k}; ln ratio {d:.4g} ± t({df:g})·{se:.3g}",
    )
    a, b = exp_ratio(lt), exp_ratio(lr)
    var_a, var_b, cov_ab = a * a * v_tt, b * b * v_rr, a * b * v_tr
    lo, hi, g = fieller_interval(a, b, var_a, var_b, cov_ab, t)
    se_diff = math.sqrt(var_a + var_b - 2.0 * cov_ab)
    p_fieller = float(2.0 * stats.t.sf(abs(a - b) / se_diff, df)) if se_diff > 0 else None
    note = f"{k}; Fieller g = {g:.3g}" + ("" if g < 1 else "; g ≥ 1: limits unbounded")
    fieller = _row(
        "potency_ratio",
        "parallel_line_fieller",
        estimate=a / b,
        lower=lo if math.isfinite(lo) else None,
        upper=hi if math.isfinite(hi) else None,
        p_value=p_fieller,
        notes=note,
    )
    return [delta, fieller], (d, se, df)


def _separate_rows(
    fits: Mapping[str, FitResult],
    covs: Mapping[str, Array],
    df: float,
    contrast: Contrast,
    test: str,
    reference: str,
    level: float,
) -> list[dict[str, Any]]:
    """et50_T/et50_R (the contrast δ) from the per-product fits, delta interval on the log scale."""
    t = float(stats.t.ppf(0.5 + level / 2.0, df))
    means, variances = [], []
    for product, weights in ((test, contrast.test), (reference, contrast.reference)):
        w = _log_et50_weights(fits[product], weights)
        means.append(float(w @ fits[product].theta[:, 0]))
        variances.append(float(w @ covs[product] @ w))
    d, se = means[0] - means[1], math.sqrt(sum(variances))
    return [
        _row(
            "et50_ratio_separate",
            "separate_fits_delta",
            estimate=exp_ratio(d),
            lower=exp_ratio(d - t * se),
            upper=exp_ratio(d + t * se),
            p_value=float(2.0 * stats.t.sf(abs(d) / se, df)) if se > 0 else None,
            notes="curves not parallel: ratio of separately fitted et50, not a potency ratio",
        )
    ]


def _welch_rows(
    data: pl.DataFrame, test: str, reference: str, level: float
) -> list[dict[str, Any]]:
    """Mean % lysis test − reference at each E:T with Welch's t interval and p-value."""
    rows = []
    for et in sorted(set(data["et_ratio"].to_list())):
        at = data.filter(pl.col("et_ratio") == et)
        by_curve = (
            at.group_by("product", "curve").agg(pl.col("pct_lysis").mean()).sort("product", "curve")
        )
        n_curves = [by_curve.filter(pl.col("product") == p).height for p in (test, reference)]
        source, unit = (by_curve, "curve means") if min(n_curves) >= 2 else (at, "wells")
        a = source.filter(pl.col("product") == test)["pct_lysis"].to_numpy()
        b = source.filter(pl.col("product") == reference)["pct_lysis"].to_numpy()
        row = _row("lysis_difference_at_et", "welch_t", et_ratio=et)
        note = f"unit: {unit}, n = {len(a)} vs {len(b)}"
        if len(a) < 2 or len(b) < 2:
            rows.append({**row, "notes": note + "; fewer than 2 values in an arm: not tested"})
            continue
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        diff, se = float(a.mean() - b.mean()), math.sqrt(va + vb)
        if se == 0:
            rows.append({**row, "estimate": diff, "notes": note + "; no variation: not tested"})
            continue
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
        t = float(stats.t.ppf(0.5 + level / 2.0, df))
        rows.append(
            {
                **row,
                "estimate": diff,
                "lower": diff - t * se,
                "upper": diff + t * se,
                "p_value": float(2.0 * stats.t.sf(abs(diff) / se, df)),
                "notes": note + f", Welch df {df:.3g}",
            }
        )
    return rows


def _fits(
    fitted: pl.DataFrame, test: str, reference: str, block_of: Mapping[str, str] | None
) -> tuple[FitResult, Array, dict[str, FitResult], dict[str, Array]]:
    """Constrained fit (its covariance) and the per-product fits (covariances on the pooled s²).

    Without ``block_of`` (one block): bottom, top, hill common to all curves, one
    ln et50 per curve; per product the same. With ``block_of`` (curve -> block):
    bottom and top per block, hill common; per product bottom and top per block
    and its own hill.
    """
    blocked: dict[str, Any] = (
        {"shared": ("hill",), "block_shared": ("bottom", "top"), "blocks": block_of}
        if block_of is not None
        else {}
    )
    x, y = fitted["et_ratio"].to_numpy(), fitted["pct_lysis"].to_numpy()
    constrained = fit_global(x, y, fitted["curve"].to_numpy(), weights=_weights(fitted), **blocked)
    unconstrained, covs_u = {}, {}
    for product in (test, reference):
        part = fitted.filter(pl.col("product") == product)
        unconstrained[product] = fit_global(
            part["et_ratio"].to_numpy(), part["pct_lysis"].to_numpy(), part["curve"].to_numpy(),
            weights=_weights(part), **blocked,
        )  # fmt: skip
        covs_u[product] = covariance(unconstrained[product])[0]
    return constrained, covariance(constrained)[0], unconstrained, covs_u


def relative_potency(
    points: pl.DataFrame,
    test: str,
    reference: str,
    margins: ParallelismMargins | None = None,
    level: float = 0.95,
    blocks: Sequence[str] = (),
) -> PotencyResult:
    """Relative potency et50_T/et50_R of one group of points, with the parallelism assessment.

    ``points``: one row per well of one target/stage/cryo, columns ``product``,
    ``et_ratio`` (E:T, > 0), ``pct_lysis`` (%), optionally ``curve_id`` or
    ``lot`` (the unit of the per-E:T fallback) and the ``blocks`` columns
    (e.g. ``("readout",)``: wells of each readout have their own asymptotes).
    Points with a missing or non-positive E:T or a missing % lysis are left
    out. Methods: see the module docstring.

    >>> x = np.repeat(40.0 * 2.0 ** -np.arange(8), 3)
    >>> curve = lambda et50: 1.0 + 89.0 / (1.0 + (et50 / x) ** 1.3)
    >>> pts = pl.DataFrame({"product": ["T"] * 24 + ["R"] * 24,
    ...                     "et_ratio": np.tile(x, 2), "pct_lysis": np.r_[curve(2.0), curve(4.0)]})
    >>> res = relative_potency(pts, "T", "R")
    >>> res.status, round(res.table["estimate"][0], 6)
    ('equivalent', 0.5)
    """
    margins = margins or ParallelismMargins()
    data = _points(points, test, reference, blocks)
    levels = data.group_by("curve").agg(pl.col("et_ratio").n_unique().alias("k"))
    short = levels.filter(pl.col("k") < MIN_LEVELS)["curve"].sort().to_list()
    fitted = data.filter(~pl.col("curve").is_in(short))
    curves = {
        p: sorted(set(fitted.filter(pl.col("product") == p)["curve"])) for p in (test, reference)
    }
    for product, kept in curves.items():
        if not kept:
            raise KillcurveInputError(
                f"potency: no curve of {product!r} in this group has ≥ {MIN_LEVELS} E:T levels "
                f"with usable wells (curves: {', '.join(short)})."
            )
    block_of = dict(fitted.select("curve", "block").unique().iter_rows())
    multi = len(set(block_of.values())) > 1
    contrast = block_contrast(curves, block_of, test, reference)
    scale = point_scales(fitted, "curve")
    if scale is not None:
        fitted = fitted.with_columns((1.0 / scale**2).alias("weight"))
    constrained, cov_c, unconstrained, covs_u = _fits(
        fitted, test, reference, block_of if multi else None
    )
    ok_c = _usable(constrained, cov_c)
    ok_u = all(_usable(unconstrained[p], covs_u[p]) for p in (test, reference))
    rss_u = sum(float(f.rss[0]) for f in unconstrained.values())
    df_u = float(sum(f.df_resid[0] for f in unconstrained.values()))
    if ok_u:  # one residual variance for both products: s² = (RSS_T + RSS_R)/(df_T + df_R)
        covs_u = {p: c * (rss_u / df_u) / unconstrained[p].sigma2[0] for p, c in covs_u.items()}
    f_par = f_test(constrained.rss, constrained.df_resid, np.array([rss_u]), np.array([df_u]))
    f_p = float(f_par.p_value[0]) if ok_c and ok_u and np.isfinite(f_par.p_value[0]) else None
    notes = (
        [f"left out of the fits (< {MIN_LEVELS} E:T levels): {', '.join(short)}"] if short else []
    )
    if multi:
        notes.append(
            f"{len(set(block_of.values()))} blocks ({', '.join(blocks)}): bottom and top per "
            "block, common hill"
        )
    notes += [
        f"block {b} holds only {p}: it does not inform the potency ratio"
        for b, p in contrast.lonely.items()
    ]
    if not contrast.both:
        parallelism = pl.DataFrame(schema=PARALLELISM_SCHEMA)
        status = "not_assessed"
        notes.append("no block holds both products: their asymptotes cannot be compared")
    elif ok_u:
        parallelism = _parallelism(
            unconstrained, covs_u, df_u, test, reference, margins,
            contrast.both if multi else None,
        )  # fmt: skip
        status = "equivalent" if parallelism["within"].all() else "not_equivalent"
    else:
        parallelism = pl.DataFrame(schema=PARALLELISM_SCHEMA)
        status = "not_assessed"
        notes.append("per-product fit failed (not converged or no finite covariance)")
    if status == "not_equivalent":
        outside = parallelism.filter(~pl.col("within"))["parameter"].to_list()
        notes.append(f"outside the equivalence margins: {', '.join(outside)}")
    delta: tuple[float, float, float] | None = None
    if status == "equivalent" and ok_c:
        k = f"{len(curves[test])} + {len(curves[reference])} curves"
        found, delta = _potency_rows(constrained, cov_c, contrast, k, level)
        rows = [{**row, "notes": "; ".join([row["notes"], *notes])} for row in found]
    else:
        if status == "equivalent":
            notes.append("constrained fit failed (not converged or no finite covariance)")
        reason = "not computed: parallelism " + status + ("; " + "; ".join(notes) if notes else "")
        rows = [
            _row("potency_ratio", method, notes=reason)
            for method in ("parallel_line_delta", "parallel_line_fieller")
        ]
        if ok_u and contrast.both:
            rows += _separate_rows(unconstrained, covs_u, df_u, contrast, test, reference, level)
        pooled = f"pooled over the blocks {', '.join(sorted(set(block_of.values())))}"
        rows += [
            {**row, "notes": f"{row['notes']}; {pooled}"} if multi else row
            for row in _welch_rows(data, test, reference, level)
        ]
    if multi:
        rows.append(_combined_row(points, test, reference, margins, level, blocks, contrast.both))
    table = pl.DataFrame(
        [{"parallelism": status, **row, "f_parallel_p": f_p} for row in rows], schema=COLUMNS
    )
    return PotencyResult(
        table=table,
        parallelism=parallelism,
        status=status,
        f_parallel=f_par,
        constrained=constrained,
        unconstrained=unconstrained,
        notes=notes,
        log_ratio=delta,
    )


def _combined_row(
    points: pl.DataFrame,
    test: str,
    reference: str,
    margins: ParallelismMargins,
    level: float,
    blocks: Sequence[str],
    both: Sequence[str],
) -> dict[str, Any]:
    """``potency_ratio`` by ``combined_<method>``: one potency per block, combined.

    Each block holding both products gets its own :func:`relative_potency` (its
    own parallel fit and similarity check); the delta estimates (ln ratio, SE,
    df) of the blocks whose similarity is shown are combined by
    :func:`killcurve.stats.combination.combine_log_potencies` with W = 1/SE²
    (= 4t²/(U − L)², Ph. Eur. 5.3 eq. 6.2.1-1, on the delta interval).
    """
    key = block_expr(blocks, points.columns)
    estimates, left_out = [], []
    for block in both:
        part = points.filter(key == block)
        try:
            res = relative_potency(part, test, reference, margins=margins, level=level)
        except KillcurveInputError as err:
            left_out.append(f"{block} ({err})")
            continue
        if res.log_ratio is None:
            left_out.append(f"{block} (parallelism {res.status})")
        else:
            estimates.append((block, *res.log_ratio))
    notes = [f"one potency per block ({', '.join(blocks)}), each its own parallel fit"]
    if left_out:
        notes.append(
            f"{len(left_out)} of {len(both)} blocks left out (similarity not shown): "
            + ", ".join(left_out)
        )
    if not estimates:
        why = "no block with similarity shown" if both else "no block holds both products"
        return _row(
            "potency_ratio",
            "combined_weighted",
            parallelism="not_equivalent" if left_out else "not_assessed",
            notes=f"not computed: {why}; " + "; ".join(notes),
        )
    m = [e[1] for e in estimates]
    comb = combine_log_potencies(
        m, [1.0 / e[2] ** 2 for e in estimates], [e[3] for e in estimates], level=level
    )
    p = float(2.0 * stats.t.sf(abs(comb.log_estimate) / comb.se, comb.df))
    parts = ", ".join(f"{b} {exp_ratio(d):.4g}" for b, d, _, _ in estimates)
    notes.append(f"n = {comb.n} estimates ({parts})")
    if comb.chi2 is not None:
        notes.append(f"homogeneity χ² = {comb.chi2:.3g} on {comb.n - 1} df, p = {comb.chi2_p:.3g}")
    if comb.method == "semi_weighted":
        notes.append(f"between-block variance (ln scale) {comb.between_variance:.3g}")
    notes.append(f"t on {comb.df:g} df")
    return _row(
        "potency_ratio",
        f"combined_{comb.method}",
        estimate=comb.estimate,
        lower=comb.lower,
        upper=comb.upper,
        p_value=p,
        parallelism="equivalent",
        notes="; ".join(notes),
    )
