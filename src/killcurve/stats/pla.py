"""Classic parallel-line assay (European Pharmacopoeia 5.3, section 3.2) and Fieller's theorem.

Responses y (transformed: ``none``, ``log`` = ln, ``log10``, ``sqrt``,
``square``) of a standard S and test preparations T, U, … at several doses,
with x = ln(dose × dose_to_units) so that every preparation's dose is in
(assigned or assumed) potency units. By ordinary least squares, with the
design's block / row / column factors as additive effects in every model:

* s² = RSS/df of the full treatment model (one mean per preparation × dose
  cell, plus the block effects); every F test and the Fieller limits use it.
* Validity ANOVA: sequential sums of squares of the nested models
  blocks → + preparations → + common slope → + one slope per preparation →
  + one mean per cell, giving ``preparations``, ``regression`` (common
  slope), ``non_parallelism`` and ``non_linearity``; ``treatments`` is the
  full model against the blocks alone; each block factor is entered in turn
  before the treatments. F = MS/s², p = P(F(df, df_resid) > F). Rows with
  no degrees of freedom (non-linearity with two doses) are left out. For
  balanced data this is the Ph.Eur. table; for unbalanced data it is the
  "complete data" analysis of the same models.
* Potency: the common-slope model y = a_prep + b·x (+ blocks) gives, for a
  test preparation T, ln R = M = (a_T − a_S)/b, the log ratio of its true to
  its assumed potency; estimated potency = assumed potency × exp(M).
* Fieller's 95 % limits of M = m1/m2 (m1 = a_T − a_S, m2 = b) with the
  variances and covariance s²·(X′X)⁻¹ of the common-slope model and Student's
  t on the full model's residual df (:func:`fieller_interval`), exponentiated
  and multiplied by the assumed potency.

This reproduces the Ph.Eur. worked example 5.1.1 (corticotrophin, see
tests/stats/test_pla_pheur.py) to all printed digits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from killcurve.errors import KillcurveInputError

Array = np.ndarray

#: Response transformations and the domain each needs.
TRANSFORMS = {
    "none": (lambda y: y, "any value"),
    "log": (np.log, "positive values"),
    "log10": (np.log10, "positive values"),
    "sqrt": (np.sqrt, "values ≥ 0"),
    "square": (np.square, "any value"),
}


def fieller_interval(
    num: float, den: float, var_num: float, var_den: float, cov: float, t: float
) -> tuple[float, float, float]:
    """Fieller's limits of the ratio num/den of two (jointly normal) estimates.

    The limits are the roots ρ of (num − ρ·den)² = t²·(var_num − 2ρ·cov + ρ²·var_den):
    with R = num/den and g = t²·var_den/den²,

        ρ = [R − t²·cov/den² ± (t/|den|)·√(var_num − 2R·cov + R²·var_den
                                             − t²·(var_num·var_den − cov²)/den²)] / (1 − g).

    Returns (lower, upper, g). When g ≥ 1 the denominator is not significantly
    different from 0 at this t and the set is unbounded: the limits are NaN.
    With var_den = 0 (a known denominator) g = 0 and the limits are the Wald
    limits R ± t·√var_num/|den|.

    >>> lo, hi, g = fieller_interval(2.0, 4.0, 0.04, 0.0, 0.0, 2.0)
    >>> round(lo, 6), round(hi, 6), g  # 0.5 ± 2·0.2/4
    (0.4, 0.6, 0.0)
    """
    ratio = num / den
    g = t * t * var_den / (den * den)
    if not g < 1.0:
        return math.nan, math.nan, g
    inside = (
        var_num
        - 2.0 * ratio * cov
        + ratio * ratio * var_den
        - t * t * (var_num * var_den - cov * cov) / (den * den)
    )
    centre = ratio - t * t * cov / (den * den)
    half = t / abs(den) * math.sqrt(max(inside, 0.0))
    return (centre - half) / (1.0 - g), (centre + half) / (1.0 - g), g


@dataclass(frozen=True)
class PlaResult:
    """A parallel-line assay.

    ``anova``: ``source``, ``df``, ``ss``, ``ms``, ``f``, ``p_value`` (one row
    per source, then ``residual`` and ``total``). ``potency``: one row per test
    preparation: ``prep``, ``estimate``, ``lower``, ``upper`` (potency in
    ``units``: assumed potency × R), ``units``, ``ratio``, ``ratio_lower``,
    ``ratio_upper`` (R = estimated/assumed potency and its limits),
    ``log_ratio`` (M = ln R), ``g`` (Fieller's g). ``slope`` b (transformed
    response per unit ln dose), ``s2`` and ``df_resid`` of the full model.
    """

    anova: pl.DataFrame
    potency: pl.DataFrame
    slope: float
    s2: float
    df_resid: int


def _indicators(codes: Array, n_levels: int, drop_first: bool) -> Array:
    """0/1 columns (n, n_levels or n_levels − 1) of integer codes."""
    out = (codes[:, None] == np.arange(n_levels)[None, :]).astype(float)
    return out[:, 1:] if drop_first else out


def _fit(design: Array, y: Array) -> tuple[float, int]:
    """(RSS, rank) of the least-squares fit of y on the columns of ``design``."""
    coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return float(resid @ resid), int(rank)


def _check(
    data: pl.DataFrame,
    prep: str,
    dose: str,
    response: str,
    blocks: Sequence[str],
    standard: str,
    transform: str,
) -> None:
    missing = [c for c in (prep, dose, response, *blocks) if c not in data.columns]
    if missing:
        raise KillcurveInputError(
            f"parallel-line data: column(s) {', '.join(missing)} missing; columns present: "
            f"{', '.join(data.columns)}. Name the preparation, dose, response and block columns."
        )
    if transform not in TRANSFORMS:
        raise KillcurveInputError(
            f"parallel-line transform {transform!r} is unknown; use one of {', '.join(TRANSFORMS)}."
        )
    preps = data[prep].cast(pl.String).unique().to_list()
    if standard not in preps:
        raise KillcurveInputError(
            f"parallel-line data: standard preparation {standard!r} not in column {prep!r} "
            f"(found {', '.join(sorted(map(str, preps)))}). Name the standard with standard=."
        )
    if len(preps) < 2:
        raise KillcurveInputError(
            f"parallel-line data: only preparation {standard!r} in column {prep!r}; "
            "a test preparation is needed."
        )
    bad = data.filter(
        pl.col(dose).is_null() | ~pl.col(dose).is_finite() | (pl.col(dose) <= 0)
        | pl.col(response).is_null() | ~pl.col(response).is_finite()
    )  # fmt: skip
    if bad.height:
        row = bad.row(0, named=True)
        raise KillcurveInputError(
            f"parallel-line data: {bad.height} row(s) with a missing or non-positive dose or a "
            f"missing response, first {row}. Remove excluded values before the analysis."
        )
    few = data.group_by(prep).agg(pl.col(dose).n_unique().alias("n")).filter(pl.col("n") < 2)
    if few.height:
        raise KillcurveInputError(
            f"parallel-line data: preparation(s) {', '.join(map(str, few[prep].to_list()))} "
            "have fewer than 2 doses; a slope needs at least 2."
        )


def parallel_line_assay(
    data: pl.DataFrame,
    transform: str = "none",
    blocks: Sequence[str] = (),
    standard: str = "S",
    dose_to_units: Mapping[str, float] | None = None,
    assumed_potency: Mapping[str, float] | None = None,
    units: str = "",
    level: float = 0.95,
    prep: str = "prep",
    dose: str = "dose",
    response: str = "response",
) -> PlaResult:
    """Ph.Eur. 5.3 parallel-line assay of every test preparation against ``standard``.

    ``data`` has one row per response (raw, before ``transform``), with the
    preparation, the dose (a positive number in the source's scale) and the
    ``blocks`` columns (randomised block: ``["block"]``; Latin square:
    ``["row", "column"]``). ``dose_to_units`` maps a preparation to the factor
    turning its dose into assigned (standard) or assumed (test) potency units,
    pre-dilution included (default 1); ``assumed_potency`` maps a test
    preparation to its assumed potency in ``units`` (default 1: the estimate
    is then the relative potency R). Formulas: see the module docstring.

    >>> d = pl.DataFrame({
    ...     "prep": ["S"] * 4 + ["T"] * 4,
    ...     "dose": [1.0, 1.0, 2.0, 2.0] * 2,
    ...     "response": [10.0, 11.0, 20.0, 21.0, 15.0, 16.0, 25.0, 26.0],
    ... })
    >>> res = parallel_line_assay(d)
    >>> round(res.potency["ratio"][0], 6)  # T's line is S's shifted by half a dose step
    1.414214
    """
    _check(data, prep, dose, response, blocks, standard, transform)
    func, domain = TRANSFORMS[transform]
    raw = data[response].cast(pl.Float64).to_numpy()
    with np.errstate(all="ignore"):
        y = func(raw)
    if not np.all(np.isfinite(y)):
        first = int(np.flatnonzero(~np.isfinite(y))[0])
        raise KillcurveInputError(
            f"parallel-line data: transform {transform!r} needs {domain} in column "
            f"{response!r}; row {first + 1} is {raw[first]}. Choose another transform."
        )
    labels = data[prep].cast(pl.String).to_numpy()
    names = [standard, *sorted(set(labels) - {standard})]
    p_code = np.array([names.index(v) for v in labels])
    factor = np.array([float((dose_to_units or {}).get(v, 1.0)) for v in labels])
    x = np.log(data[dose].cast(pl.Float64).to_numpy() * factor)
    block_cols = [
        _indicators(codes.ravel(), int(codes.max()) + 1, drop_first=True)
        for codes in (
            np.unique(data[b].cast(pl.String).to_numpy(), return_inverse=True)[1] for b in blocks
        )
    ]
    anova = _anova(y, x, p_code, dict(zip(blocks, block_cols, strict=True)))
    residual = anova.row(by_predicate=pl.col("source") == "residual", named=True)
    s2, df_resid = float(residual["ms"]), int(residual["df"])
    design = np.hstack([_indicators(p_code, len(names), drop_first=False), x[:, None], *block_cols])
    potency, slope = _potencies(design, y, names, s2, df_resid, level)
    assumed = pl.Series([float((assumed_potency or {}).get(v, 1.0)) for v in potency["prep"]])
    potency = potency.select(
        "prep",
        (pl.col("ratio") * assumed).alias("estimate"),
        (pl.col("ratio_lower") * assumed).alias("lower"),
        (pl.col("ratio_upper") * assumed).alias("upper"),
        pl.lit(units).alias("units"),
        "ratio",
        "ratio_lower",
        "ratio_upper",
        "log_ratio",
        "g",
    )
    return PlaResult(anova=anova, potency=potency, slope=slope, s2=s2, df_resid=df_resid)


def _anova(y: Array, x: Array, p_code: Array, blocks: Mapping[str, Array]) -> pl.DataFrame:
    """Validity ANOVA from the sequential fits of the nested models (see the module docstring)."""
    n = len(y)
    prep_ind = _indicators(p_code, int(p_code.max()) + 1, drop_first=False)
    _, cell = np.unique(np.column_stack([p_code, x]), axis=0, return_inverse=True)
    cells = _indicators(cell.ravel(), int(cell.max()) + 1, drop_first=False)
    steps: list[tuple[str, Array]] = [("mean", np.ones((n, 1)))]
    for name, cols in blocks.items():
        steps.append((name, np.hstack([steps[-1][1], cols])))
    base = steps[-1][1]
    steps += [
        ("preparations", np.hstack([base, prep_ind[:, 1:]])),
        ("regression", np.hstack([base, prep_ind[:, 1:], x[:, None]])),
        ("non_parallelism", np.hstack([base, prep_ind[:, 1:], prep_ind * x[:, None]])),
        ("non_linearity", np.hstack([base[:, 1:], cells])),
    ]
    fits = [_fit(design, y) for _, design in steps]
    rss_full, rank_full = fits[-1]
    df_resid = n - rank_full
    if df_resid < 1:
        raise KillcurveInputError(
            "parallel-line data: no replicate responses, so no residual error (df = 0); "
            "each preparation × dose cell needs more than one response."
        )
    s2 = rss_full / df_resid
    ss = {name: fits[i - 1][0] - fits[i][0] for i, (name, _) in enumerate(steps) if i}
    df = {name: fits[i][1] - fits[i - 1][1] for i, (name, _) in enumerate(steps) if i}
    ss["treatments"] = fits[len(blocks)][0] - rss_full
    df["treatments"] = rank_full - fits[len(blocks)][1]
    rows = []
    for source in ("preparations", "regression", "non_parallelism", "non_linearity",
                   "treatments", *blocks):  # fmt: skip
        if df[source] < 1:
            continue
        ms = ss[source] / df[source]
        p = float(stats.f.sf(ms / s2, df[source], df_resid))
        rows.append((source, df[source], ss[source], ms, ms / s2, p))
    rows.append(("residual", df_resid, rss_full, s2, None, None))
    rows.append(("total", n - 1, fits[0][0], fits[0][0] / (n - 1), None, None))
    schema = {
        "source": pl.String,
        "df": pl.Int64,
        "ss": pl.Float64,
        "ms": pl.Float64,
        "f": pl.Float64,
        "p_value": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _potencies(
    design: Array, y: Array, names: Sequence[str], s2: float, df_resid: int, level: float
) -> tuple[pl.DataFrame, float]:
    """Relative potency R of each test preparation with Fieller limits, and the common slope.

    ``design`` holds one indicator per preparation (standard first), x, then
    the block columns: the common-slope model without a global intercept.
    """
    h = len(names)
    xtx_inv = np.linalg.pinv(design.T @ design)
    coef = xtx_inv @ design.T @ y
    cov = s2 * xtx_inv
    b = float(coef[h])
    t = float(stats.t.ppf(0.5 + level / 2.0, df_resid))
    rows = []
    for j, name in enumerate(names[1:], start=1):
        m1 = float(coef[j] - coef[0])
        var1 = float(cov[j, j] + cov[0, 0] - 2.0 * cov[0, j])
        cov12 = float(cov[j, h] - cov[0, h])
        lo, hi, g = fieller_interval(m1, b, var1, float(cov[h, h]), cov12, t)
        rows.append((name, math.exp(m1 / b), _exp(lo), _exp(hi), m1 / b, g))
    schema = {
        "prep": pl.String,
        "ratio": pl.Float64,
        "ratio_lower": pl.Float64,
        "ratio_upper": pl.Float64,
        "log_ratio": pl.Float64,
        "g": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row"), b


def _exp(value: float) -> float | None:
    """exp(value), None for NaN (an unbounded Fieller limit)."""
    return math.exp(value) if math.isfinite(value) else None
