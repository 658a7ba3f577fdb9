"""Comparing a test product with a reference product, per group of curves: ``comparisons.csv``.

For each configured comparison and each combination of its ``by`` columns
(a *group*), the table has these rows (ratios test/reference: below 1 the
test product reaches the same lysis at a lower E:T, i.e. it is more potent):

1. ``et50_ratio`` from the fitted curves, each converged curve with an et50
   one observation of ln et50 (``parallelism`` = ``not_assessed``):

   * ``welch_t_log_et50`` (≥ 2 curves per product): ratio = exp(mean ln et50
     test − mean ln et50 reference); 95 % CI and two-sided p from Welch's
     t-test on ln et50 (statsmodels ``CompareMeans``, unequal variances).
   * ``wald_log_et50`` (1 curve in an arm): the difference of ln et50 with
     SE = √(SE_test² + SE_ref²) from the fits' J′J standard errors; normal
     quantile and p-value. Curve-level SEs ignore lot-to-lot variation: read
     it as a within-assay comparison.

2. Relative potency from the wells of the group
   (:func:`killcurve.stats.potency.relative_potency`: constrained global 4PL
   with a common hill, bottom and top per block of the comparison's
   ``blocks`` columns (default ``readout``; one block: common bottom and top)
   and one et50 per curve; potency = the block-fixed-effect contrast of the
   curves' ln et50 (one block: ratio of the products' geometric mean et50);
   parallelism by equivalence within the comparison's
   ``parallelism_margins``): ``potency_ratio`` by ``parallel_line_delta`` and
   ``parallel_line_fieller`` when ``parallelism`` = ``equivalent``, else the
   same two rows with a null estimate and the labelled fallbacks
   ``et50_ratio_separate`` (``separate_fits_delta``),
   ``lysis_difference_at_<e>`` (``welch_t``, one row per E:T e, % lysis) and
   ``auc_difference`` (``welch_t_auc``: mean curve AUC test − reference,
   Welch's t on the group's curves); the group's et50-based rows
   (:data:`ET50_METRICS`) then take its ``parallelism`` and a note
   "similarity not shown: …" with the failing criteria and their intervals.
   Groups of ≥ 2 blocks add a ``potency_ratio`` row ``combined_<method>``:
   one potency per block, combined (Ph. Eur. 5.3 §6.2). The tested lots' et50
   are fixed parameters: the interval is within-assay and does not carry
   lot-to-lot sampling variation. A group spanning several targets gets the
   two potency rows with a note and no estimate. Only the wells of curves with
   a usable et50 enter these fits: a curve whose verdict is not in
   ``fit.verdict.use`` (or withheld by ``fit.withhold``) is left out and
   counted in the notes.

3. ``et50_ratio`` by ``mixedlm_log_et50`` when each product has ≥ 2 lots in the
   group: :func:`killcurve.stats.mixed.fit_mixed`, ln et50 ~ product (+ the
   curve keys target/stage/cryo that vary within the group, as additive
   factors), random lot intercept and, with ≥ 2 assay days, a crossed ``batch``
   variance component; t interval on (lots − 2) df. The model formula and the
   variance components (SD on the ln scale) are written in ``notes``. This is
   the row that carries lot-to-lot variation.

``p_adjusted``: within each family of rows of one comparison sharing
``metric`` and ``method`` (the groups), by the comparison's
``multiplicity`` (:mod:`killcurve.stats.multiplicity`; default Holm).
``n_test``/``n_reference``: curves of each product behind the row;
``n_lots``: lots of both products; ``n_plates``: plates. Groups lacking usable
data get rows with a null estimate and a note saying why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from killcurve.errors import KillcurveInputError
from killcurve.fit.curve_table import CURVE_KEYS, curve_id_expr
from killcurve.stats.mixed import fit_mixed
from killcurve.stats.multiplicity import METHODS, adjust_table
from killcurve.stats.potency import ParallelismMargins, relative_potency, similarity_note

#: Columns a comparison may group by.
BY_COLUMNS = ("target", "stage", "cryo", "batch")
#: Columns of ``comparisons.csv`` after the ``by`` columns.
RESULT_COLUMNS = {
    "test": pl.String,
    "reference": pl.String,
    "metric": pl.String,
    "estimate": pl.Float64,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "p_value": pl.Float64,
    "p_adjusted": pl.Float64,
    "method": pl.String,
    "parallelism": pl.String,
    "n_test": pl.Int64,
    "n_reference": pl.Int64,
    "n_lots": pl.Int64,
    "n_plates": pl.Int64,
    "notes": pl.String,
}
#: Well columns whose combinations may form the blocks of a potency fit (``blocks``).
BLOCK_COLUMNS = ("readout", "batch")
#: Blocks of a comparison without ``blocks`` in its config: one per readout.
DEFAULT_BLOCKS = ("readout",)
#: Rows that compare et50 and take the group's similarity verdict when it is not shown.
ET50_METRICS = ("et50_ratio", "et50_ratio_separate")
#: Curve keys that, varying inside a group, enter the mixed model as additive factors.
ADJUST_COLUMNS = ("target", "stage", "cryo")


def check_comparisons(comparisons: Sequence[dict[str, Any]], products: Sequence[str]) -> None:
    """Stop on a product no curve has, an unknown ``by`` column or multiplicity, bad margins."""
    known = sorted(set(products))
    for i, comp in enumerate(comparisons):
        for role in ("test", "reference"):
            if comp[role] not in known:
                raise KillcurveInputError(
                    f"config key comparisons[{i}].{role} ({comp['name']}): product "
                    f"{comp[role]!r} is not in any layout. Products found: {', '.join(known)}."
                )
        for column in comp.get("by", []):
            if column not in BY_COLUMNS:
                raise KillcurveInputError(
                    f"config key comparisons[{i}].by ({comp['name']}): unknown column "
                    f"{column!r}. Group by any of: {', '.join(BY_COLUMNS)}."
                )
        blocks = comp.get("blocks", DEFAULT_BLOCKS)
        if isinstance(blocks, str) or any(c not in BLOCK_COLUMNS for c in blocks):
            raise KillcurveInputError(
                f"config key comparisons[{i}].blocks ({comp['name']}): {blocks!r}; give a list "
                f"of {', '.join(BLOCK_COLUMNS)} (default [readout])."
            )
        if comp.get("multiplicity", "holm") not in METHODS:
            raise KillcurveInputError(
                f"config key comparisons[{i}].multiplicity ({comp['name']}): "
                f"{comp['multiplicity']!r}; use one of {', '.join(METHODS)}."
            )
        _margins(comp, i)


def _margins(comp: dict[str, Any], i: int) -> ParallelismMargins:
    return ParallelismMargins.from_config(
        comp.get("parallelism_margins") or {}, f"comparisons[{i}].parallelism_margins"
    )


def _counts(frame: pl.DataFrame, test: str, reference: str, plates: pl.Expr) -> dict[str, int]:
    """n_test, n_reference (curves), n_lots (lots of both), n_plates of a frame of curves/wells."""
    curve = curve_id_expr()
    return {
        "n_test": frame.filter(pl.col("product") == test).select(curve.n_unique()).item(),
        "n_reference": frame.filter(pl.col("product") == reference).select(curve.n_unique()).item(),
        "n_lots": frame.select(pl.col("lot").n_unique()).item() if frame.height else 0,
        "n_plates": frame.select(plates.drop_nulls().n_unique()).item() if frame.height else 0,
    }


def _et50_row(test: pl.DataFrame, ref: pl.DataFrame, level: float) -> dict[str, Any]:
    """Ratio of et50 test/reference with CI and p-value from the group's curves."""
    a = np.log(test["et50"].to_numpy())
    b = np.log(ref["et50"].to_numpy())
    out: dict[str, Any] = {"metric": "et50_ratio", "parallelism": "not_assessed", "notes": ""}
    if len(a) == 0 or len(b) == 0:
        missing = "test" if len(a) == 0 else "reference"
        out.update(
            method="none",
            notes=f"no {missing} curve with a usable et50 (converged, verdict in fit.verdict.use)",
        )
        return out
    diff = float(a.mean() - b.mean())
    if len(a) >= 2 and len(b) >= 2:
        cm = CompareMeans(DescrStatsW(a), DescrStatsW(b))
        lo, hi = cm.tconfint_diff(alpha=1 - level, usevar="unequal")
        p = cm.ttest_ind(usevar="unequal")[1]
        method = "welch_t_log_et50"
    else:
        se = float(
            np.sqrt(
                np.sum(test["log_et50_se"].to_numpy() ** 2) / len(a) ** 2
                + np.sum(ref["log_et50_se"].to_numpy() ** 2) / len(b) ** 2
            )
        )
        z = stats.norm.ppf(0.5 + level / 2)
        lo, hi = diff - z * se, diff + z * se
        p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else float("nan")
        method = "wald_log_et50"
    out.update(
        estimate=np.exp(diff), lower=np.exp(lo), upper=np.exp(hi), p_value=float(p), method=method
    )
    return out


def _potency_rows(
    wells: pl.DataFrame,
    test: str,
    reference: str,
    margins: ParallelismMargins,
    level: float,
    blocks: Sequence[str] = DEFAULT_BLOCKS,
) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """Potency (or fallback) rows of one group from its sample wells, and, where similarity
    was assessed and not shown, (parallelism status, "similarity not shown: …" note)."""
    counts = _counts(wells, test, reference, pl.col("plate_id"))
    blank = [
        {"metric": "potency_ratio", "method": m, "parallelism": "not_assessed", **counts}
        for m in ("parallel_line_delta", "parallel_line_fieller")
    ]
    if "target" in wells.columns and wells["target"].n_unique() > 1:
        targets = ", ".join(sorted(map(str, wells["target"].unique())))
        note = f"not computed: the group spans several target {targets}; add target to its by"
        return [{**row, "notes": note} for row in blank], None
    missing = [
        p for p in (test, reference) if counts["n_test" if p == test else "n_reference"] == 0
    ]
    if missing:
        note = f"not computed: no usable well of {', '.join(missing)} in this group"
        return [{**row, "notes": note} for row in blank], None
    try:
        result = relative_potency(
            wells.with_columns(curve_id_expr()),
            test,
            reference,
            margins=margins,
            level=level,
            blocks=blocks,
        )
    except KillcurveInputError as err:
        return [{**row, "notes": f"not computed: {err}"} for row in blank], None
    f_p = result.table["f_parallel_p"][0]
    extra = f"{wells.height} wells, one et50 per curve (within-assay interval)" + (
        f"; F-test of parallelism p = {f_p:.3g}" if f_p is not None else ""
    )
    rows = []
    for row in result.table.iter_rows(named=True):
        metric = row["metric"]
        if metric == "lysis_difference_at_et":
            metric = f"lysis_difference_at_{row['et_ratio']:g}"
        notes = "; ".join(filter(None, [row["notes"], extra]))
        rows.append(
            {
                **{k: row[k] for k in ("estimate", "lower", "upper", "p_value", "method")},
                "metric": metric,
                "parallelism": row["parallelism"],
                **counts,
                "notes": notes,
            }
        )
    if result.status == "equivalent":
        return rows, None
    return rows, (result.status, similarity_note(result.parallelism, result.status, margins.alpha))


def _used_potency_rows(
    comp: dict[str, Any], i: int, group: pl.DataFrame, sample: pl.DataFrame, level: float
) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
    """:func:`_potency_rows` of the wells of the group's curves with a usable et50 (``group``).

    A curve whose verdict is not in ``fit.verdict.use`` (or withheld by ``fit.withhold``) has
    no et50 to use in a ratio, so its wells stay out of the parallel-line fits; the notes count
    it. The model-free ``lysis_difference_at_<e>`` rows compare every well of the group: where
    curves were left out and the fits of the used ones show no similarity, they come from all
    the group's wells.
    """
    test, reference = comp["test"], comp["reference"]
    blocks = comp.get("blocks", DEFAULT_BLOCKS)
    margins = _margins(comp, i)
    marked = sample.with_columns(curve_id_expr())
    used = marked.filter(pl.col("curve_id").is_in(group["curve_id"].implode()))
    left_out = marked["curve_id"].n_unique() - used["curve_id"].n_unique()
    rows, similarity = _potency_rows(used, test, reference, margins, level, blocks)
    if not left_out:
        return rows, similarity
    note = (
        f"{left_out} curve{'s' if left_out > 1 else ''} without a usable et50 (verdict or "
        "fit.withhold) left out of the parallel-line fits"
    )
    rows = [{**r, "notes": "; ".join(filter(None, [r["notes"], note]))} for r in rows]
    if any(r["metric"] == "potency_ratio" and r["parallelism"] == "equivalent" for r in rows):
        return rows, similarity
    every, _ = _potency_rows(sample, test, reference, margins, level, blocks)
    free = [r for r in every if r["metric"].startswith("lysis_difference_at_")]
    kept = [r for r in rows if not r["metric"].startswith("lysis_difference_at_")]
    return kept + free, similarity


def _auc_row(curves: pl.DataFrame, test: str, reference: str, level: float) -> dict[str, Any]:
    """``auc_difference``: mean AUC test − reference over the group's curves, Welch's t.

    AUC is the curves' model-free ``auc`` (trapezoid of mean % lysis over log2 E:T,
    %·log2 units); every curve with a finite AUC, fitted or not, is one observation.
    """
    row: dict[str, Any] = {"metric": "auc_difference", "method": "welch_t_auc"}
    finite = curves.filter(pl.col("auc").is_not_null() & pl.col("auc").is_finite())
    a = finite.filter(pl.col("product") == test)["auc"].to_numpy()
    b = finite.filter(pl.col("product") == reference)["auc"].to_numpy()
    notes = [f"unit: curves, n = {len(a)} vs {len(b)}"]
    ranges = finite.select("et_min", "et_max").unique()
    if ranges.height > 1:
        notes.append("the curves' tested E:T ranges differ: their AUC spans differ")
    if len(a) < 2 or len(b) < 2:
        return {**row, "notes": "; ".join([*notes, "fewer than 2 curves in an arm: not tested"])}
    values, note = welch_difference(a, b, level)
    return {**row, **values, "notes": "; ".join([*notes, note])}


def welch_difference(a: np.ndarray, b: np.ndarray, level: float) -> tuple[dict[str, float], str]:
    """Mean a − b with Welch's t interval at ``level`` and two-sided p (≥ 2 values in each),
    as result columns, and the note saying its df (or that equal values cannot be tested).

    SE = √(s_a²/n_a + s_b²/n_b), Welch–Satterthwaite df.

    >>> values, note = welch_difference(np.array([1.0, 3.0]), np.array([0.0, 2.0]), 0.95)
    >>> values["estimate"], note
    (1.0, 'Welch df 2')
    """
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff, se = float(a.mean() - b.mean()), float(np.sqrt(va + vb))
    if se == 0:
        return {"estimate": diff}, "no variation: not tested"
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = float(stats.t.ppf(0.5 + level / 2.0, df))
    return {
        "estimate": diff,
        "lower": diff - t * se,
        "upper": diff + t * se,
        "p_value": float(2.0 * stats.t.sf(abs(diff) / se, df)),
    }, f"Welch df {df:.3g}"


def _without_et50(
    rows: list[dict[str, Any]], test_curves: pl.DataFrame, ref_curves: pl.DataFrame
) -> list[dict[str, Any]]:
    """Potency rows with the model-based ratios emptied when a product has no curve with an et50.

    When every curve of a product is unfitted or had its et50 withheld (``fit.withhold``, e.g.
    no upper plateau), a pooled fit of its wells cannot locate a half-maximal point either; the
    model-free ``lysis_difference_at_<e>`` rows stay.
    """
    empty = [p for p, c in (("test", test_curves), ("reference", ref_curves)) if c.height == 0]
    if not empty:
        return rows
    note = f"not computed: no {' or '.join(empty)} curve with an et50 (see the curves' flags)"
    blank = dict.fromkeys(("estimate", "lower", "upper", "p_value"))
    return [
        {**row, **blank, "notes": note}
        if row["metric"] in ("potency_ratio", "et50_ratio_separate")
        else row
        for row in rows
    ]


def _mixed_row(
    curves: pl.DataFrame,
    test: str,
    reference: str,
    by: Sequence[str],
    level: float,
    covariates: Sequence[str] = (),
) -> dict[str, Any]:
    """ln et50 ~ product (+ covariates) mixed model of the group's curves (lot, day random)."""
    adjust = [*(c for c in ADJUST_COLUMNS if c not in by), *covariates]
    row: dict[str, Any] = {
        "metric": "et50_ratio",
        "method": "mixedlm_log_et50",
        "parallelism": "not_assessed",
        **_counts(curves, test, reference, pl.col("plate_ids").str.split(";").explode()),
    }
    try:
        fit = fit_mixed(curves, reference=reference, adjust=adjust, level=level)
    except KillcurveInputError as err:
        return {**row, "notes": f"not fitted: {err}"}
    ratio = fit.ratios.filter(pl.col("product") == test).row(0, named=True)
    sds = ", ".join(f"{c} {s:.3g}" for c, s in fit.variance.select("component", "sd").iter_rows())
    notes = [
        fit.formula,
        f"SD (ln scale): {sds}",
        f"t interval on {ratio['df']:g} df" if ratio["df"] else "normal interval",
        *fit.notes,
    ]
    if not fit.converged:
        notes.append("MixedLM did not converge")
    return {
        **row,
        **{k: ratio[k] for k in ("estimate", "lower", "upper", "p_value")},
        "notes": "; ".join(notes),
    }


def _group_mask(key: dict[str, Any]) -> pl.Expr:
    if not key:
        return pl.lit(True)
    return pl.all_horizontal([pl.col(k).cast(pl.String).eq_missing(v) for k, v in key.items()])


def _sample_wells(wells: pl.DataFrame, products: Sequence[str]) -> pl.DataFrame:
    """Non-excluded sample wells of ``products`` with a % lysis and a positive E:T."""
    missing = [pl.lit(None, pl.String).alias(c) for c in CURVE_KEYS if c not in wells.columns]
    return (
        wells.with_columns(missing)
        .filter(
            (pl.col("role") == "sample")
            & ~pl.col("excluded").fill_null(False)
            & pl.col("pct_lysis").is_not_null()
            & pl.col("pct_lysis").is_finite()
            & (pl.col("et_ratio") > 0)
            & pl.col("product").is_in(list(products))
        )
        .with_columns(pl.col(c).cast(pl.String) for c in CURVE_KEYS)
    )


def curve_covariates(wells: pl.DataFrame | None, columns: Sequence[str]) -> pl.DataFrame:
    """One value per curve of each covariate column of the sample wells (``curve_id`` + columns).

    Stops naming the config key when a column is not in the well table or takes
    two values within one curve (a covariate describes the whole curve, e.g. a
    donor's genotype).
    """
    key = "config key comparisons[].covariates"
    if wells is None:
        raise KillcurveInputError(f"{key}: covariates need the well table (wells.parquet).")
    absent = [c for c in columns if c not in wells.columns]
    if absent:
        raise KillcurveInputError(
            f"{key}: {', '.join(absent)} not a well column; add it to the samplesheet or the "
            "layouts (samplesheet columns are carried onto every well of the plate)."
        )
    samples = wells.filter(pl.col("role") == "sample").with_columns(curve_id_expr())
    values = samples.group_by("curve_id").agg(
        *(pl.col(c).cast(pl.String).drop_nulls().unique().alias(c) for c in columns)
    )
    for column in columns:
        two = values.filter(pl.col(column).list.len() > 1)
        if two.height:
            raise KillcurveInputError(
                f"{key}: {column} takes the values {', '.join(sorted(two[column][0]))} within "
                f"curve {two['curve_id'][0]}; a covariate needs one value per curve."
            )
    return values.with_columns(pl.col(c).list.first() for c in columns)


#: ``memo(name, parts, make)``: the rows of one comparison group, from a cache keyed by
#: ``parts`` (the group's tables and settings) under ``name``, or ``make()``'s.
GroupMemo = Callable[[str, Sequence[pl.DataFrame | str], Callable[[], list[dict]]], list[dict]]


def _group_rows(
    comp: dict[str, Any],
    i: int,
    group: pl.DataFrame,
    sample: pl.DataFrame | None,
    level: float,
    all_curves: pl.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """The rows of one group of comparison ``comp`` (number ``i``): its et50 ratio, potency
    (from the group's ``sample`` wells, when given) and mixed-model rows.

    ``group``: the group's usable curves of the comparison's two products;
    ``all_curves``: all its curves of the two products (the AUC row's, default ``group``).
    Where similarity was assessed and not shown, the et50-based rows with an
    estimate carry the group's ``parallelism`` and the "similarity not shown"
    note, and an ``auc_difference`` row is added.
    """
    test, reference, by = comp["test"], comp["reference"], list(comp.get("by", []))
    test_curves = group.filter(pl.col("product") == test)
    ref_curves = group.filter(pl.col("product") == reference)
    found = [
        {
            **_et50_row(test_curves, ref_curves, level),
            **_counts(group, test, reference, pl.col("plate_ids").str.split(";").explode()),
        }
    ]
    similarity = None
    if sample is not None:
        potency, similarity = _used_potency_rows(comp, i, group, sample, level)
        found += _without_et50(potency, test_curves, ref_curves)
    lots = [frame["lot"].drop_nulls().n_unique() for frame in (test_curves, ref_curves)]
    if min(lots) >= 2:
        pair_curves = pl.concat([test_curves, ref_curves])
        found.append(
            _mixed_row(pair_curves, test, reference, by, level, comp.get("covariates", []))
        )
    if similarity is None:
        return found
    status, note = similarity
    curves = all_curves if all_curves is not None else group
    auc = {
        **_auc_row(curves, test, reference, level),
        "parallelism": status,
        **_counts(curves, test, reference, pl.col("plate_ids").str.split(";").explode()),
    }
    return [
        {**row, "parallelism": status, "notes": "; ".join(filter(None, [note, row["notes"]]))}
        if row["metric"] in ET50_METRICS and row.get("estimate") is not None
        else row
        for row in found
    ] + [auc]


def compare_products(
    curves: pl.DataFrame,
    comparisons: Sequence[dict[str, Any]],
    wells: pl.DataFrame | None = None,
    level: float = 0.95,
    memo: GroupMemo | None = None,
) -> pl.DataFrame:
    """``comparisons.csv``: per comparison × ``by`` group, the rows of the module docstring.

    ``curves``: the curve table (``curves.parquet``); ``wells``: the well
    table (``wells.parquet``), needed for the potency rows (without it they
    are left out). The ``by`` columns of all comparisons appear as columns
    (null where a comparison does not group by them). ``memo`` (see
    :data:`GroupMemo`) lets a caller reuse the rows of groups whose curves and
    wells are unchanged; each group's rows depend only on those, the
    comparison's settings and ``level``.
    """
    check_comparisons(comparisons, curves["product"].unique().to_list())
    covariates = sorted({c for comp in comparisons for c in comp.get("covariates", [])})
    if covariates:
        curves = curves.join(curve_covariates(wells, covariates), on="curve_id", how="left")
    usable = curves.filter(pl.col("converged") & pl.col("et50").is_not_null())
    by_all = [c for c in BY_COLUMNS if any(c in comp.get("by", []) for comp in comparisons)]
    rows = []
    for i, comp in enumerate(comparisons):
        by = list(comp.get("by", []))
        test, reference = comp["test"], comp["reference"]
        pair = curves.filter(pl.col("product").is_in([test, reference]))
        groups = pair.select(by).unique().sort(by, nulls_last=True) if by else pl.DataFrame([{}])
        sample = _sample_wells(wells, [test, reference]) if wells is not None else None
        for key in groups.iter_rows(named=True):
            group = usable.filter(_group_mask(key) & pl.col("product").is_in([test, reference]))
            wells_of = sample.filter(_group_mask(key)) if sample is not None else None
            every = pair.filter(_group_mask(key))

            def make(
                comp=comp, i=i, group=group, wells_of=wells_of, every=every
            ) -> list[dict[str, Any]]:
                return _group_rows(comp, i, group, wells_of, level, every)

            if memo is None:
                found = make()
            else:
                settings = json.dumps([comp, i, level, key], sort_keys=True, default=str)
                parts = [group, every, wells_of if wells_of is not None else "no wells", settings]
                found = memo(f"{comp['name']} {key}", parts, make)
            base = {"comparison": comp["name"], **dict.fromkeys(by_all), **key}
            rows += [{**base, "test": test, "reference": reference, **r} for r in found]
    schema = {"comparison": pl.String, **dict.fromkeys(by_all, pl.String), **RESULT_COLUMNS}
    table = pl.DataFrame(rows, schema=schema).with_columns(pl.col(pl.Float64).fill_nan(None))
    methods = {comp["name"]: comp.get("multiplicity", "holm") for comp in comparisons}
    return adjust_table(table, methods).select("comparison", *by_all, *RESULT_COLUMNS)


__all__ = ["BY_COLUMNS", "CURVE_KEYS", "check_comparisons", "compare_products"]
