"""Lot-to-lot and day-to-day variation: a linear mixed model of ln et50 (or ln AUC) per curve.

Each converged curve is one observation y = ln et50 (or ln AUC, curves with
AUC ≤ 0 left out). The model (statsmodels ``MixedLM``, REML) is

    y = Xβ + u_lot + v_batch + ε,   u ~ N(0, σ²_lot), v ~ N(0, σ²_batch), ε ~ N(0, σ²),

with fixed effects ``product`` (reference level first), optionally
``product × stage`` and additive factors (e.g. ``target``, ``cryo``, or a
covariate such as a donor's FCGR3A genotype); a random intercept per lot (a lot
name names one lot: lots of different names are nested in their products, and a
lot tested with several products, e.g. one donor's NK cells with several
antibodies, makes the design *paired*); and, when the curves span ≥ 2 assay days (``batch``), a
day variance component *crossed* with lot (every lot may be assayed on every
day) — left out, with a note, when no cell of the fixed effects (e.g. product ×
cryo) holds curves of ≥ 2 days, since the day effect is then confounded with
the fixed effects. Both are fitted as variance components of a single group
(``vc_formula``), the statsmodels idiom for crossed effects.

Fixed-effect ratios: for every non-reference product P (and every stage s
when stage interacts), ratio = exp(L′β) with L the difference of the design
rows (P, s) − (reference, s), i.e. the ratio of the products' typical et50
(the et50 of an average lot on an average day); interval exp(L′β ± q·SE),
SE = √(L′ Cov(β) L), and the two-sided p-value of L′β = 0. The quantile q
is Student's t when ``df="between_lot"``, with the containment degrees of
freedom of the product effect: nested lots, df = (number of lots) − (number of
products) (the product effect is estimated from lot means); paired lots, df =
(curves) − (lots) − (fixed-effect columns that vary within a lot) (the
product effect is estimated within lots: for two products and complete pairs
this is n − 1, the paired t-test's). ``df="normal"`` gives the normal quantile
(the Wald interval statsmodels prints).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import patsy
import polars as pl
import statsmodels.formula.api as smf
from scipy import stats

from killcurve.errors import KillcurveInputError
from killcurve.stats.diagnostics import fit_notes
from killcurve.stats.logscale import exp_ratio

DfMethod = Literal["between_lot", "normal"]

#: Response columns: the model's y is the natural log of the curve column.
RESPONSES = {"et50": "log_et50", "auc": "log_auc"}


@dataclass(frozen=True)
class MixedFit:
    """A fitted mixed model of ln et50 (or ln AUC).

    ``ratios``: one row per non-reference product (× stage), columns
    ``product``, ``stage`` (null unless stage interacts), ``estimate``
    (ratio to the reference product), ``lower``, ``upper``, ``p_value``,
    ``df`` (of the quantile, null for normal). ``variance``: columns
    ``component`` (``lot``, ``batch``, ``residual``), ``variance`` and ``sd``
    (on the ln scale). ``formula``: the model as fitted, in words.
    """

    ratios: pl.DataFrame
    variance: pl.DataFrame
    formula: str
    converged: bool
    n_curves: int
    n_lots: int
    n_batches: int
    notes: list[str] = field(default_factory=list)


def _frame(
    curves: pl.DataFrame, response: str, columns: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    """The usable curves as a pandas frame with ``y``; notes on curves left out.

    Curves without a product, lot or batch are left out; an unset factor level
    (e.g. no ``stage``) becomes the level ``-``.
    """
    if response not in RESPONSES:
        raise KillcurveInputError(
            f"mixed model: response {response!r} unknown; use one of {', '.join(RESPONSES)}."
        )
    missing = [c for c in (response, *columns) if c not in curves.columns]
    if missing:
        raise KillcurveInputError(
            f"mixed model: curve column(s) {', '.join(missing)} missing; columns present: "
            f"{', '.join(curves.columns)}."
        )
    value = pl.col(response).cast(pl.Float64)
    ok = value.is_not_null() & value.is_finite() & (value > 0)
    if "converged" in curves.columns:
        ok = ok & pl.col("converged").fill_null(False)
    keys = ("product", "lot", "batch")
    used = curves.filter(ok & pl.all_horizontal(pl.col(c).is_not_null() for c in keys))
    notes = []
    if used.height < curves.height:
        notes.append(
            f"{curves.height - used.height} curve(s) left out (not converged, no positive "
            f"{response}, or a missing {'/'.join(keys)})"
        )
    data = used.select(
        value.log().alias("y"),
        *(pl.col(c).cast(pl.String).fill_null("-") for c in columns),
    ).to_pandas()
    return data, notes


def _categorical(data: pd.DataFrame, column: str, first: str | None = None) -> None:
    """Make ``column`` categorical with ``first`` (else the sorted first level) as reference."""
    levels = sorted(data[column].unique())
    if first is not None:
        levels = [first, *(v for v in levels if v != first)]
    data[column] = pd.Categorical(data[column], categories=levels)


def fit_mixed(
    curves: pl.DataFrame,
    reference: str,
    response: str = "et50",
    by_stage: bool = False,
    adjust: Sequence[str] = (),
    level: float = 0.95,
    df: DfMethod = "between_lot",
) -> MixedFit:
    """Mixed model of ln ``response`` with product fixed effects and lot/day random effects.

    ``curves``: one row per curve with ``product``, ``lot``, ``batch``,
    ``response`` (``et50`` or ``auc``), ``stage`` when ``by_stage``, the
    ``adjust`` columns, optionally ``converged``. ``reference``: the
    reference product. Needs ≥ 2 products, ≥ 3 lots and more curves than
    fixed effects + 2. Methods: see the module docstring.

    >>> rng = np.random.default_rng(3)
    >>> lots = {"A": rng.normal(0, 0.2, 4), "B": rng.normal(0, 0.2, 4)}
    >>> rows = [{"product": p, "lot": f"{p}{i}", "batch": f"d{d}",
    ...          "et50": float(np.exp(np.log(2 if p == "A" else 4) + u + rng.normal(0, 0.05)))}
    ...         for p in "AB" for i, u in enumerate(lots[p]) for d in range(2)]
    >>> fit = fit_mixed(pl.DataFrame(rows), reference="B")
    >>> fit.formula
    'log_et50 ~ product; random: lot intercept + batch variance component (crossed); MixedLM, REML'
    >>> round(fit.ratios["estimate"][0], 2)
    0.55
    """
    columns = ["product", "lot", "batch", *(["stage"] if by_stage else []), *adjust]
    data, notes = _frame(curves, response, list(dict.fromkeys(columns)))
    products = sorted(data["product"].unique())
    if reference not in products or len(products) < 2:
        raise KillcurveInputError(
            f"mixed model: needs the reference product {reference!r} and another product among "
            f"the usable curves; products present: {', '.join(products) or 'none'}."
        )
    _categorical(data, "product", reference)
    terms = ["product * stage" if by_stage else "product"]
    if by_stage:
        _categorical(data, "stage")
    for column in adjust:
        if data[column].nunique() >= 2:
            _categorical(data, column)
            if _adds_rank(data, terms, column):
                terms.append(column)
            else:
                notes.append(f"not adjusted for {column}: confounded with {' + '.join(terms)}")
    fixed = "y ~ " + " + ".join(terms)
    n_lots, n_batches = data["lot"].nunique(), data["batch"].nunique()
    vc = {"lot": "0 + C(lot)"}
    random = "lot intercept"
    cells = [c for c in dict.fromkeys(("product", "stage", *adjust)) if c in data.columns]
    if data.groupby(cells, observed=True)["batch"].nunique().max() >= 2:
        vc["batch"] = "0 + C(batch)"
        random += " + batch variance component (crossed)"
    elif n_batches >= 2:
        notes.append("no batch variance component: batch is confounded with the fixed effects")
    info = patsy.dmatrix(fixed.split("~")[1], data).design_info
    n_fixed = len(info.column_names)
    if n_lots < 3 or len(data) < n_fixed + 3:
        raise KillcurveInputError(
            f"mixed model: {len(data)} usable curve(s) from {n_lots} lot(s) for {n_fixed} fixed "
            "effects; needs ≥ 3 lots and more curves than fixed effects + 2."
        )
    if "batch" not in vc and data.groupby("lot", observed=True).size().max() == 1:
        one = (data, fixed, terms, info, reference, by_stage)
        return _one_curve_per_lot(*one, level, response, notes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = smf.mixedlm(fixed, data, groups=np.ones(len(data)), re_formula="0", vc_formula=vc)
        try:
            fit = model.fit(reml=True)
        except np.linalg.LinAlgError as err:
            raise KillcurveInputError(
                f"mixed model: the REML fit failed numerically ({err}); the curves cannot "
                "separate the product effect from the lot and batch effects."
            ) from None
    formula = f"{RESPONSES[response]} ~ {' + '.join(terms)}; random: {random}; MixedLM, REML"
    notes += fit_notes(caught, formula)
    beta, cov = fit.fe_params, fit.cov_params().loc[fit.fe_params.index, fit.fe_params.index]
    if list(beta.index) != info.column_names:  # the formula engine named the columns otherwise
        raise RuntimeError(f"fixed effects {list(beta.index)} != design {info.column_names}")
    paired = bool(data.groupby("lot", observed=True)["product"].nunique().max() >= 2)
    if paired:
        design = np.asarray(patsy.dmatrix(info, data))
        spread = pd.DataFrame(design).groupby(data["lot"].to_numpy()).std(ddof=0).fillna(0.0)
        within = int((spread.to_numpy() > 1e-12).any(axis=0).sum())
        containment = len(data) - n_lots - within
        notes.append(
            f"paired design: lots tested with several products; df = {len(data)} curves − "
            f"{n_lots} lots − {within} within-lot fixed effect(s)"
        )
    else:
        containment = n_lots - len(products)
    dof = containment if df == "between_lot" and containment > 0 else None
    ratios = _ratios(info, beta.to_numpy(), cov.to_numpy(), data, reference, by_stage, level, dof)
    names = list(model.exog_vc.names)
    variance = pl.DataFrame(
        {
            "component": [*names, "residual"],
            "variance": [*(float(v) for v in fit.vcomp), float(fit.scale)],
        }
    ).with_columns(sd=pl.col("variance").sqrt())
    return MixedFit(
        ratios=ratios,
        variance=variance,
        formula=formula,
        converged=bool(fit.converged),
        n_curves=len(data),
        n_lots=n_lots,
        n_batches=n_batches,
        notes=notes,
    )


def _one_curve_per_lot(
    data: pd.DataFrame,
    fixed: str,
    terms: Sequence[str],
    info: patsy.DesignInfo,
    reference: str,
    by_stage: bool,
    level: float,
    response: str,
    notes: list[str],
) -> MixedFit:
    """The model when every lot gives one curve and there is no day component: the lot
    intercept and the residual are one variance (REML could only split it arbitrarily, at a
    boundary where its standard errors fail), so the model is ordinary least squares,
    y = Xβ + e with Var(e) = σ²_lot + σ², and t on its residual df (n − fixed-effect columns;
    for two products, the pooled two-sample t of the lots)."""
    fit = smf.ols(fixed, data).fit()
    beta, cov = fit.params, fit.cov_params().loc[fit.params.index, fit.params.index]
    if list(beta.index) != info.column_names:
        raise RuntimeError(f"fixed effects {list(beta.index)} != design {info.column_names}")
    dof = int(fit.df_resid)
    formula = (
        f"{RESPONSES[response]} ~ {' + '.join(terms)}; one curve per lot: the lot-to-lot and "
        "residual variation are one term; OLS"
    )
    return MixedFit(
        ratios=_ratios(
            info, beta.to_numpy(), cov.to_numpy(), data, reference, by_stage, level, dof
        ),
        variance=pl.DataFrame(
            {"component": ["lot + residual"], "variance": [float(fit.scale)]}
        ).with_columns(sd=pl.col("variance").sqrt()),
        formula=formula,
        converged=True,
        n_curves=len(data),
        n_lots=int(data["lot"].nunique()),
        n_batches=int(data["batch"].nunique()),
        notes=notes,
    )


def _adds_rank(data: pd.DataFrame, terms: Sequence[str], column: str) -> bool:
    """Whether the factor ``column`` adds all its levels − 1 to the fixed-effects design of
    ``terms`` (False when it is confounded with them, e.g. every curve of one target fresh)."""
    before = np.linalg.matrix_rank(np.asarray(patsy.dmatrix(" + ".join(terms), data)))
    after = np.linalg.matrix_rank(np.asarray(patsy.dmatrix(" + ".join([*terms, column]), data)))
    return after - before == data[column].nunique() - 1


def _ratios(
    info: patsy.DesignInfo,
    beta: np.ndarray,
    cov: np.ndarray,
    data: pd.DataFrame,
    reference: str,
    by_stage: bool,
    level: float,
    dof: int | None,
) -> pl.DataFrame:
    """exp(L′β) of each product against the reference (per stage when it interacts).

    ``dof``: degrees of freedom of the t quantile, None for the normal quantile.
    """
    q = stats.t.ppf(0.5 + level / 2, dof) if dof else stats.norm.ppf(0.5 + level / 2)
    base = data.iloc[[0]].copy()
    stages = list(data["stage"].cat.categories) if by_stage else [None]
    rows = []
    for product in data["product"].cat.categories[1:]:
        for stage in stages:
            pair = pd.concat([base, base], ignore_index=True)
            pair["product"] = pd.Categorical(
                [product, reference], categories=data["product"].cat.categories
            )
            if by_stage:
                pair["stage"] = pd.Categorical([stage] * 2, categories=stages)
            (design,) = patsy.build_design_matrices([info], pair)
            contrast = np.asarray(design)[0] - np.asarray(design)[1]
            est = float(contrast @ beta)
            variance = float(contrast @ cov @ contrast)
            # a covariance that is not positive definite (a boundary fit) can give a negative
            # variance: the estimate stands, its interval and p-value are not estimable
            se = math.sqrt(variance) if variance > 0 else math.nan
            z = est / se if se > 0 else math.nan
            p = 2 * (stats.t.sf(abs(z), dof) if dof else stats.norm.sf(abs(z)))
            rows.append(
                {
                    "product": product,
                    "stage": stage,
                    "estimate": exp_ratio(est),
                    "lower": exp_ratio(est - q * se),
                    "upper": exp_ratio(est + q * se),
                    "p_value": float(p),
                    "df": float(dof) if dof else None,
                }
            )
    schema = {
        "product": pl.String,
        "stage": pl.String,
        "estimate": pl.Float64,
        "lower": pl.Float64,
        "upper": pl.Float64,
        "p_value": pl.Float64,
        "df": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)
