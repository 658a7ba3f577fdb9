"""The preferred ratio of each comparison group, as the forest plot and the report show it.

Each comparison × group (its ``by`` columns: target, stage, cryo, batch) gets
one row, the first usable estimate in :data:`METHOD_ORDER`: the et50 ratio of
the mixed model with a lot random intercept (the only interval that carries
lot-to-lot variation: 96–97 % coverage of the true ratio in
benchmarks/potency_coverage.py, against under 20 % for the within-assay
parallel-line intervals), then the parallel-line potency ratio where the curves
are parallel (``potency_ratio``, only filled when parallelism is
``equivalent``), then Welch's t on ln et50, Wald from the fits, separate fits.

Kept apart from :mod:`killcurve.figures.forest` so that the report and the figure pack
pick the rows without importing plotnine and pandas (0.5 s of start-up per job).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

#: (metric, method) in order of preference for a group's plotted row.
METHOD_ORDER = (
    ("et50_ratio", "mixedlm_log_et50"),
    ("potency_ratio", "parallel_line_fieller"),
    ("potency_ratio", "parallel_line_delta"),
    ("et50_ratio", "welch_t_log_et50"),
    ("et50_ratio", "wald_log_et50"),
    ("et50_ratio_separate", "separate_fits_delta"),
)
#: Legend text of each plotted metric.
METRIC_LABELS = {
    "potency_ratio": "potency ratio (parallel curves)",
    "et50_ratio": "et50 ratio",
    "et50_ratio_separate": "et50 ratio (non-parallel curves)",
}
#: Columns that may name a comparison's group, in label order.
GROUP_COLUMNS = ("target", "stage", "cryo", "batch")


def _text(value: float | None) -> str:
    """A ratio to 2 significant digits (``0.31``, ``1.0``, ``12``), ``–`` when missing.

    >>> _text(0.6), _text(1.0), _text(0.0934), _text(12.4)
    ('0.60', '1.0', '0.093', '12')
    """
    if value is None:
        return "–"
    return f"{value:.0f}" if value >= 10 else f"{value:#.2g}".rstrip(".")


def forest_rows(
    comparisons: pl.DataFrame,
    stages: Sequence[str] = (),
    name50: str = "et50",
    curves: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per comparison × group: the preferred usable ratio with its interval.

    A row is usable when estimate, lower and upper are all present and positive
    and its (metric, method) is in :data:`METHOD_ORDER`. Adds ``group`` (the
    group's values joined by `` · ``, ``all`` when pooled), ``label`` (group,
    estimate and interval) and ``metric_label``. Groups with no usable row are
    left out. Columns a table lacks (``method``, ``by`` columns) count as empty.
    ``metric_label`` names the half-maximal point as the study's axis does (``name50``:
    ``et50`` on the E:T axis, ``ec50`` on a concentration axis). ``similarity`` (``shown``,
    ``not shown``, ``not assessed``) says whether the group's curves were shown parallel
    (:func:`_similarity`); a row without shown similarity says so in its ``label``: its ratio
    compares et50s of curves whose shapes may differ, not potency. With ``curves`` (the
    curve table, internal names), a group some of whose curves had their et50 withheld by
    their verdict says how many in its ``label`` (:func:`withheld_text`).
    Rows are sorted by comparison and group, stages in the order of ``stages``
    (the config's process order; other stages after them, by name).

    >>> table = pl.DataFrame({"comparison": ["c", "c"], "target": ["K562", "K562"],
    ...     "test": "A", "reference": "B", "metric": ["et50_ratio", "potency_ratio"],
    ...     "method": ["welch_t_log_et50", "parallel_line_delta"],
    ...     "estimate": [0.8, 0.5], "lower": [0.6, 0.4], "upper": [1.1, 0.62],
    ...     "parallelism": ["not_assessed", "equivalent"]})
    >>> forest_rows(table).select("metric", "estimate", "label", "similarity").row(0)
    ('potency_ratio', 0.5, 'K562   0.50 (0.40–0.62)', 'shown')
    """
    by = [c for c in GROUP_COLUMNS if c in comparisons.columns]
    if "method" not in comparisons.columns:
        comparisons = comparisons.with_columns(pl.lit(None, pl.String).alias("method"))
    ranks = pl.DataFrame(
        [(metric, method, i) for i, (metric, method) in enumerate(METHOD_ORDER)],
        schema={"metric": pl.String, "method": pl.String, "_rank": pl.Int64},
        orient="row",
    )
    # A CSV column with no value at all reads as text: numbers are cast, not assumed.
    numeric = [
        c
        for c in ("estimate", "lower", "upper", "p_value", "p_adjusted")
        if c in comparisons.columns
    ]
    comparisons = comparisons.with_columns(pl.col(numeric).cast(pl.Float64, strict=False))
    positive = [pl.col(c).is_not_null() & (pl.col(c) > 0) for c in ("estimate", "lower", "upper")]
    keys = ["comparison", *by]
    best = (
        comparisons.with_columns(pl.col(by).cast(pl.String))
        .filter(pl.all_horizontal(positive))
        .join(ranks, on=["metric", "method"], how="inner")
        .sort("_rank", maintain_order=True)
        .group_by(keys, maintain_order=True)
        .first()
        .drop("_rank")
        .join(_similarity(comparisons, keys), on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("similarity").fill_null("not assessed"))
    )
    if "stage" in by:
        rank = {name: i for i, name in enumerate(stages)}
        best = best.with_columns(
            pl.col("stage")
            .replace_strict(rank, default=len(rank), return_dtype=pl.Int64)
            .alias("_stage")
        )
    order = [c if c != "stage" else "_stage" for c in keys] + (["stage"] if "stage" in by else [])
    best = best.sort(order, nulls_last=True).drop("_stage", strict=False)
    group = (
        [
            " · ".join(str(v) for v in values if v is not None) or "all"
            for values in best.select(by).iter_rows()
        ]
        if by
        else ["all"] * best.height
    )
    withheld = [withheld_text(curves, row, reasons=False) for row in best.iter_rows(named=True)]
    label = [
        f"{g}   {_text(e)} ({_text(lo)}–{_text(hi)})"
        + ("" if similar == "shown" else f"   similarity {similar}")
        + (f"   {held}" if held else "")
        for g, (e, lo, hi, similar), held in zip(
            group,
            best.select("estimate", "lower", "upper", "similarity").iter_rows(),
            withheld,
            strict=True,
        )
    ]
    return best.with_columns(
        pl.Series("group", group, pl.String),
        pl.Series("label", label, pl.String),
        pl.col("metric")
        .replace_strict(METRIC_LABELS, return_dtype=pl.String)
        .str.replace("et50", name50, literal=True)
        .alias("metric_label"),
    )


#: ``parallelism`` of a group's parallel-line potency row -> the forest's ``similarity``.
SIMILARITY = {"equivalent": "shown", "not_equivalent": "not shown"}


def _similarity(comparisons: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """Per comparison group (``keys``): ``similarity`` (``shown``, ``not shown`` or ``not
    assessed``) from its ``potency_ratio``/``parallel_line_delta`` row's ``parallelism``
    (equivalence of the curves' shapes, USP <1032>). Which criterion failed is in the notes
    of the group's et50 rows (:mod:`killcurve.stats.compare`), the rows the forest picks."""
    if "parallelism" not in comparisons.columns:
        return pl.DataFrame(schema={k: pl.String for k in keys} | {"similarity": pl.String})
    return (
        comparisons.filter(
            (pl.col("metric") == "potency_ratio") & (pl.col("method") == "parallel_line_delta")
        )
        .select(
            *(pl.col(k).cast(pl.String) for k in keys),
            pl.col("parallelism")
            .replace_strict(SIMILARITY, default="not assessed", return_dtype=pl.String)
            .alias("similarity"),
        )
        .unique(keys, keep="first", maintain_order=True)
    )


def withheld_text(curves: pl.DataFrame | None, row: Mapping[str, Any], reasons: bool = True) -> str:
    """``2 of 8 curves withheld (top not reached 2)``: the curves of the row's group (its two
    products, and its target, stage, cryo and batch where the row names them) whose verdict
    kept their et50 out of the ratios (``verdict`` set, et50 empty), with the reasons counted
    (``reasons``); empty when none was withheld or the curves carry no verdict."""
    if curves is None or "verdict" not in curves.columns or not curves.height:
        return ""
    mask = pl.col("product").is_in([row["test"], row["reference"]])
    for column in ("target", "stage", "cryo", "batch"):
        if row.get(column) is not None and column in curves.columns:
            mask &= pl.col(column).cast(pl.String) == str(row[column])
    group = curves.filter(mask)
    withheld = group.filter(pl.col("et50").is_null() & pl.col("verdict").is_not_null())
    if not withheld.height:
        return ""
    counted: dict[str, int] = {}
    if "verdict_reasons" in withheld.columns:
        for listed in withheld["verdict_reasons"].to_list():
            for reason in listed or []:
                counted[reason] = counted.get(reason, 0) + 1
    why = ", ".join(f"{r.replace('_', ' ')} {n}" for r, n in counted.items()) if reasons else ""
    return f"{withheld.height} of {group.height} curves withheld" + (f" ({why})" if why else "")
