"""The report's answers to the seed questions, and the dossier figures' caption values.

Four questions, worded from the study's own products and targets; ``report.questions``
chooses which of them (by id: ``nonspecific``, ``specific``, ``viability``, ``thaw``) the
report asks, and in which order:

1. non-specific killing (targets in ``report.nonspecific_targets``, default
   ``[K562]``) of the test product relative to the reference, by process stage;
2. target-specific potency (every other target; ``report.antigen`` names the
   antigen in the wording, e.g. DLL3) on each specific target;
3. viability and recovery after thaw (``viability`` tables);
4. killing retained after thaw (``thaw_retention.csv``).

Each answer is a few sentences whose numbers come from the tables
(``comparisons.csv`` rows as :func:`killcurve.stats.ratios.forest_rows`
picks them, ``stage_trend.csv``, ``thaw_retention.csv``, ``viability*.csv``)
and the number of its figure. A question the study cannot answer (no such
target, no ``viability`` key, no lot tested before and after thaw) says so
and why. Figures whose input is absent are not made:
:func:`available_figures` decides, from the config and the fitted curves, at
workflow-planning time and again when the report numbers its figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from killcurve.report.numbers import ADJUSTMENT_WORDS, _interval, hours, num, p_text, pct
from killcurve.stats.ratios import withheld_text
from killcurve.study.axis import Axis

#: The dossier figures, in the order the shipped captions number them.
DOSSIER_FIGURES = ("stages", "forest", "viability", "thaw")
#: The seed questions' ids, in the order the report asks them (``report.questions``).
QUESTIONS = ("nonspecific", "specific", "viability", "thaw")
#: Non-specific targets when ``report.nonspecific_targets`` is not given: K562, the
#: MHC class I-deficient line that NK cells kill without a specific receptor.
DEFAULT_NONSPECIFIC = ("K562",)
#: Wording of each metric of the forest rows in a sentence.
RATIO_WORDS = {
    "potency_ratio": "parallel-line potency ratio, within-assay interval",
    "et50_ratio": "et50 ratio",
    "et50_ratio_separate": "et50 ratio from separate (non-parallel) fits",
}


@dataclass(frozen=True)
class Settings:
    """What the answers need from the config (see :meth:`from_config`)."""

    stages: tuple[str, ...] = ()
    pre: str = "fresh"
    post: str = "post_thaw"
    reference_et: float | None = 10.0
    comparisons: tuple[Mapping[str, Any], ...] = ()
    viability: bool = False
    min_viability_pct: float | None = 70.0
    min_recovery_pct: float | None = 50.0
    viability_ci_level: float = 0.95
    nonspecific_targets: tuple[str, ...] = DEFAULT_NONSPECIFIC
    antigen: str | None = None
    questions: tuple[str, ...] = QUESTIONS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Settings from a study config (validated, defaults filled) or the same keys alone.

        Reads ``stages``, ``thaw``, ``comparisons``, ``viability`` and the optional
        ``report: {nonspecific_targets: [...], antigen: ..., questions: [...]}``; absent
        keys take the defaults of this class.
        """
        thaw = config.get("thaw") or {}
        viability = config.get("viability")
        report = config.get("report") or {}
        base = cls()
        return cls(
            stages=tuple(config.get("stages") or ()),
            pre=thaw.get("pre", base.pre),
            post=thaw.get("post", base.post),
            reference_et=thaw.get("reference_et", base.reference_et),
            comparisons=tuple(config.get("comparisons") or ()),
            viability=bool(viability),
            min_viability_pct=(viability or {}).get("min_viability_pct", base.min_viability_pct),
            min_recovery_pct=(viability or {}).get("min_recovery_pct", base.min_recovery_pct),
            viability_ci_level=(viability or {}).get("ci_level", base.viability_ci_level),
            nonspecific_targets=tuple(report.get("nonspecific_targets", DEFAULT_NONSPECIFIC)),
            antigen=report.get("antigen"),
            questions=tuple(report.get("questions", QUESTIONS)),
        )


@dataclass(frozen=True)
class Tables:
    """The run's tables the answers read; None where the run has no such table."""

    curves: pl.DataFrame
    comparisons: pl.DataFrame | None = None
    trend: pl.DataFrame | None = None
    retention: pl.DataFrame | None = None
    viability_lots: pl.DataFrame | None = None
    viability_products: pl.DataFrame | None = None
    axis: Axis = field(default_factory=Axis)


@dataclass(frozen=True)
class Answer:
    """One seed question: its sentences, the figure that shows it, or why it is not answered.

    ``figure``: the id of the dossier figure shown with the answer; ``also``: ids of
    figures the sentences also draw on (referred to by number).
    """

    id: str
    question: str
    sentences: list[str] = field(default_factory=list)
    figure: str | None = None
    missing: str | None = None
    also: tuple[str, ...] = ()


def _thaw_pairs(curves: pl.DataFrame, pre: str, post: str) -> pl.DataFrame:
    """Product × target × stage × lot with a converged et50 both before and after thaw."""
    return (
        curves.filter(
            pl.col("converged") & (pl.col("et50") > 0) & pl.col("cryo").is_in([pre, post])
        )
        .group_by("product", "target", "stage", "lot")
        .agg(pl.col("cryo").n_unique().alias("states"))
        .filter(pl.col("states") == 2)
    )


def available_figures(curves: pl.DataFrame, settings: Settings) -> dict[str, str | None]:
    """Per dossier figure: None when it is made, else why not (a sentence for the report).

    stages: some product × target × cryo has converged curves at ≥ 2 of the
    config's stages; forest: comparisons configured; viability: the config has
    the ``viability`` key; thaw: some lot has a converged et50 both states.
    """
    listed = curves.filter(
        pl.col("converged") & (pl.col("et50") > 0) & pl.col("stage").is_in(list(settings.stages))
    )
    staged = listed.group_by("product", "target", "cryo").agg(pl.col("stage").n_unique())
    reasons: dict[str, str | None] = {
        "stages": None
        if staged.filter(pl.col("stage") >= 2).height
        else (
            "no process stages in the config (key `stages`)"
            if not settings.stages
            else "no product has converged curves at two or more of the config's `stages`"
        ),
        "forest": None
        if settings.comparisons
        else "no comparisons in the config (key `comparisons`)",
        "viability": None
        if settings.viability
        else "no viability counts in the config (key `viability`)",
        "thaw": None
        if _thaw_pairs(curves, settings.pre, settings.post).height
        else f"no lot has a converged curve both {settings.pre} and {settings.post} "
        "(config key `thaw`, layout field `cryo`)",
    }
    return reasons


def _adjustment(settings: Settings, comparison: str) -> str:
    for comp in settings.comparisons:
        if comp.get("name") == comparison:
            return comp.get("multiplicity", "holm")
    return "holm"


def _ratio_rows(tables: Tables, targets: Sequence[str], settings: Settings) -> pl.DataFrame:
    """The forest rows (one per comparison group) of ``targets``, before thaw: comparisons in
    config order, then target, then process stage."""
    from killcurve.stats.ratios import forest_rows

    if tables.comparisons is None or tables.comparisons.is_empty():
        return pl.DataFrame()
    rows = forest_rows(tables.comparisons, settings.stages)
    if "target" not in rows.columns:
        return pl.DataFrame()
    rows = _before_thaw(rows, targets, settings)
    if rows.is_empty():
        return rows
    order = _comparison_order(settings, rows)
    score = {s: i for i, s in enumerate(settings.stages)}
    stage = (
        pl.col("stage").replace_strict(score, default=len(score), return_dtype=pl.Int64)
        if "stage" in rows.columns
        else pl.lit(0)
    )
    return (
        rows.with_columns(order.alias("_comparison"), stage.alias("_stage"))
        .sort("_comparison", "target", "_stage", maintain_order=True)
        .drop("_comparison", "_stage")
    )


def _before_thaw(rows: pl.DataFrame, targets: Sequence[str], settings: Settings) -> pl.DataFrame:
    """The comparison rows (with a ``target`` column) of ``targets`` whose group is before
    thaw (``cryo`` empty or ``settings.pre``): the groups the answers quote."""
    rows = rows.filter(pl.col("target").is_in(list(targets)))
    if "cryo" in rows.columns:
        rows = rows.filter(pl.col("cryo").is_null() | (pl.col("cryo") == settings.pre))
    return rows


def _comparison_order(settings: Settings, rows: pl.DataFrame) -> pl.Expr:
    """Each row's comparison's place in the config (comparisons not in it after, by name)."""
    names = [c.get("name") for c in settings.comparisons]
    extra = sorted(set(rows["comparison"].to_list()) - set(names))
    place = {n: i for i, n in enumerate([*names, *extra])}
    return pl.col("comparison").replace_strict(place, return_dtype=pl.Int64)


def _no_ratio_sentences(
    tables: Tables, targets: Sequence[str], settings: Settings, ratios: pl.DataFrame
) -> list[str]:
    """``deglyc vs TRA on X: no ratio (why).`` for each comparison × target of ``targets``
    with rows in ``comparisons.csv`` before thaw (:func:`_before_thaw`) but none in
    ``ratios`` (the answer's rows from :func:`_ratio_rows`: no usable ratio in any group;
    the notes of its first et50-ratio row say why), so that an answer never passes over a
    comparison in silence."""
    table = tables.comparisons
    if table is None or "target" not in table.columns:
        return []
    table = _before_thaw(table, targets, settings)
    if table.is_empty():
        return []
    have = set(ratios.select("comparison", "target").iter_rows()) if ratios.height else set()
    table = table.sort(_comparison_order(settings, table), "target", maintain_order=True)
    out = []
    for (name, target), rows in table.group_by("comparison", "target", maintain_order=True):
        if (name, target) in have:
            continue
        ratio = rows.filter(pl.col("metric") == "et50_ratio")
        notes = ratio["notes"].drop_nulls().to_list() if "notes" in ratio.columns else []
        first = rows.row(0, named=True)
        withheld = withheld_text(tables.curves, {**first, "stage": None, "batch": None})
        why = "; ".join(filter(None, [notes[0] if notes else "", withheld]))
        why = f" ({why})" if why else ""
        out.append(f"{rows['test'][0]} vs {rows['reference'][0]} on {target}: no ratio{why}.")
    return out


def _ratio_sentence(
    row: Mapping[str, Any], settings: Settings, curves: pl.DataFrame | None = None
) -> str:
    """``NEUK203-13 reached half-maximal lysis of SHP-77 at 0.31× the E:T of NEUK200-13 (…)``."""
    where = ", ".join(str(row[c]) for c in ("stage", "cryo", "batch") if row.get(c) is not None)
    adjusted = row.get("p_adjusted")
    p = (
        p_text(adjusted, _adjustment(settings, row["comparison"]))
        if adjusted is not None
        else (p_text(row.get("p_value")))
    )
    detail = "; ".join(
        filter(
            None,
            [
                RATIO_WORDS[row["metric"]],
                _interval(row["lower"], row["upper"]),
                p,
                _similar(row),
                withheld_text(curves, row),
            ],
        )
    )
    return (
        f"{row['test']} reached half-maximal lysis of {row['target']}"
        + (f" ({where})" if where else "")
        + f" at {num(row['estimate'])}× the E:T of {row['reference']} ({detail})."
    )


def _similar(row: Mapping[str, Any]) -> str:
    """What the answer says of the group's similarity (forest row column ``similarity``):
    ``similarity shown``; ``similarity not shown: hill ratio … outside …`` (the failed
    criteria, from the row's own notes, which :mod:`killcurve.stats.compare` writes on the
    et50 rows of a group without similarity); ``similarity not assessed``."""
    similarity = row.get("similarity")
    if similarity is None:
        return ""
    if similarity == "not shown":
        clauses = str(row.get("notes") or "").split("; ")
        named = [c for c in clauses if c.startswith("similarity not shown")]
        return named[0] if named else "similarity not shown"
    return f"similarity {similarity}"


def _trend_sentence(row: Mapping[str, Any]) -> str:
    method = "mixed model, random lot intercept" if row["method"] == "mixedlm_lot" else "OLS"
    detail = "; ".join(
        filter(None, [_interval(row["lower"], row["upper"]), p_text(row["p_value"]), method])
    )
    return (
        f"Along the process stages, {row['product']}'s et50 on {row['target']}"
        + (f" ({row['cryo']})" if row.get("cryo") else "")
        + f" changed {num(row['estimate'])}-fold per stage step ({detail}; "
        f"{row['n_lots']} lots, {row['n_stages']} stages)."
    )


def _retention_sentence(
    lysis: Mapping[str, Any] | None, et50: Mapping[str, Any] | None, settings: Settings
) -> str:
    """``After thaw (n = 3 lots), A on K562 (bulk) kept 0.77× its fresh specific lysis …``."""
    row = lysis if lysis is not None else et50
    assert row is not None
    where = row["target"] + (f" ({row['stage']})" if row.get("stage") else "")
    parts = []
    if lysis is not None:
        e = lysis["metric"].removeprefix("lysis_retention_at_")
        detail = "; ".join(
            filter(None, [_interval(lysis["lower"], lysis["upper"]), p_text(lysis["p_value"])])
        )
        parts.append(
            f"kept {num(lysis['estimate'])}× its {settings.pre} specific lysis at E:T {e}:1 "
            f"({pct(lysis['pre'])} → {pct(lysis['post'])}; {detail})"
        )
    if et50 is not None:
        parts.append(
            f"its et50 changed {num(et50['estimate'])}-fold ({num(et50['pre'])} → "
            f"{num(et50['post'])}; {_interval(et50['lower'], et50['upper'])})"
        )
    n = row["n_lots"]
    return (
        f"After thaw (n = {n} lot{'s' if n != 1 else ''}), {row['product']} on {where} "
        + " and ".join(parts)
        + "."
    )


def _viability_sentence(
    product: str, rows: pl.DataFrame, lots: pl.DataFrame | None, settings: Settings
) -> str:
    parts = []
    for name, words in (("viability_pct", "viability"), ("recovery_pct", "recovery")):
        values = [
            f"{pct(r[f'{name}_mean'])} at {hours(r['timepoint_h'])}"
            + (
                f" (95 % CI {num(r[f'{name}_ci_low'], 3)}–{num(r[f'{name}_ci_high'], 3)})"
                if r[f"{name}_ci_low"] is not None
                else ""
            )
            for r in rows.iter_rows(named=True)
        ]
        parts.append(f"{words} {', '.join(values)}")
    n_lots = int(rows["n_lots"].max())
    text = f"{product} ({n_lots} lot{'s' if n_lots != 1 else ''}): " + "; ".join(parts) + "."
    limits = [
        f"{words} ≥ {limit:g} %"
        for words, limit in (
            ("viability", settings.min_viability_pct),
            ("recovery", settings.min_recovery_pct),
        )
        if limit is not None
    ]
    if lots is not None and limits:
        mine = lots.filter(pl.col("product") == product)
        failed = mine.filter(~pl.col("passed"))
        text += f" {mine.height - failed.height} of {mine.height} lot × time points met " + (
            " and ".join(limits)
        )
        if failed.height:
            text += "; not met: " + "; ".join(
                f"{r['lot']} at {hours(r['timepoint_h'])} ({r['reasons']})"
                for r in failed.iter_rows(named=True)
            )
        text += "."
    return text


def _figure_ref(numbers: Mapping[str, int], *ids: str) -> str | None:
    return next((i for i in ids if i in numbers), None)


def answers(tables: Tables, settings: Settings, numbers: Mapping[str, int]) -> list[Answer]:
    """The seed questions the config asks (``settings.questions``, in its order) with their
    sentences; ``numbers``: figure id → figure number."""
    curves = tables.curves
    targets = sorted(curves["target"].unique().to_list()) if curves.height else []
    pairs = _pairs(tables, settings)
    nonspecific = [t for t in targets if t in settings.nonspecific_targets]
    specific = [t for t in targets if t not in settings.nonspecific_targets]
    antigen = f"{settings.antigen}-specific" if settings.antigen else "Target-specific"
    out = []

    q1 = Answer(
        "nonspecific",
        f"Non-specific killing ({', '.join(nonspecific) or 'no non-specific target'}): "
        f"{pairs}" + (", by process stage" if settings.stages else ""),
        figure=_figure_ref(numbers, "stages", "forest"),
        also=("forest",) if "stages" in numbers and "forest" in numbers else (),
    )
    if not nonspecific:
        q1 = Answer(
            q1.id,
            q1.question,
            missing="no target of this study is named non-specific "
            f"(config key `report.nonspecific_targets`, default {list(DEFAULT_NONSPECIFIC)}).",
        )
    else:
        rows = _ratio_rows(tables, nonspecific, settings)
        q1.sentences.extend(
            _ratio_sentence(r, settings, curves) for r in rows.iter_rows(named=True)
        )
        q1.sentences.extend(_no_ratio_sentences(tables, nonspecific, settings, rows))
        if tables.trend is not None:
            trend = tables.trend.filter(
                pl.col("target").is_in(nonspecific) & pl.col("estimate").is_not_null()
            )
            q1.sentences.extend(_trend_sentence(r) for r in trend.iter_rows(named=True))
        if not q1.sentences:
            q1 = Answer(
                q1.id,
                q1.question,
                figure=q1.figure,
                missing="no comparison or stage trend estimate for these targets.",
                also=q1.also,
            )
    out.append(q1)

    q2 = Answer(
        "specific",
        f"{antigen} potency of {pairs} on each specific target ({', '.join(specific) or 'none'})",
        figure=_figure_ref(numbers, "forest"),
    )
    rows = _ratio_rows(tables, specific, settings)
    if "stage" in rows.columns and rows.height:
        # One headline row per comparison and target: its latest process stage (or unstaged).
        score = {s: i for i, s in enumerate(settings.stages)}
        rows = (
            rows.with_columns(
                pl.col("stage")
                .replace_strict(score, default=-1, return_dtype=pl.Int64)
                .alias("_order"),
                _comparison_order(settings, rows).alias("_comparison"),
            )
            .sort("_comparison", "target", "_order", descending=[False, False, True])
            .group_by("comparison", "target", maintain_order=True)
            .first()
            .drop("_order", "_comparison")
        )
    q2.sentences.extend(_ratio_sentence(r, settings, curves) for r in rows.iter_rows(named=True))
    q2.sentences.extend(_no_ratio_sentences(tables, specific, settings, rows))
    if not q2.sentences:
        q2 = Answer(
            q2.id,
            q2.question,
            missing="no comparison estimate for a specific target "
            "(config key `comparisons`, grouped `by: [target, ...]`).",
        )
    out.append(q2)

    q3 = Answer(
        "viability",
        "Viability and viable-cell recovery after thaw",
        figure=_figure_ref(numbers, "viability"),
    )
    if tables.viability_products is None:
        q3 = Answer(
            q3.id,
            q3.question,
            missing="the config has no `viability` key (cell-counter "
            "exports after thaw), so viability and recovery were not assessed.",
        )
    else:
        summary = tables.viability_products.sort("product", "timepoint_h")
        for (product,), rows in summary.group_by("product", maintain_order=True):
            q3.sentences.append(_viability_sentence(product, rows, tables.viability_lots, settings))
    out.append(q3)

    q4 = Answer(
        "thaw",
        f"Killing retained after thaw ({settings.post} vs {settings.pre}, paired by lot)",
        figure=_figure_ref(numbers, "thaw"),
    )
    retention = tables.retention
    if retention is not None and retention.height:
        product_rows = retention.filter(
            (pl.col("level") == "product") & pl.col("estimate").is_not_null()
        )
        keys = ["product", "target", "stage"]
        for _, group in product_rows.group_by(keys, maintain_order=True):
            lysis = group.filter(pl.col("metric").str.starts_with("lysis_retention_at_"))
            et50 = group.filter(pl.col("metric") == "et50_fold_change")
            first = lysis.row(0, named=True) if lysis.height else None
            fold = et50.row(0, named=True) if et50.height else None
            if first or fold:
                q4.sentences.append(_retention_sentence(first, fold, settings))
    if not q4.sentences:
        q4 = Answer(
            q4.id,
            q4.question,
            missing=f"no lot was tested both {settings.pre} and "
            f"{settings.post} with converged curves (config key `thaw`).",
        )
    out.append(q4)
    by_id = {a.id: a for a in out}
    return [by_id[q] for q in settings.questions]


def _pairs(tables: Tables, settings: Settings) -> str:
    """The compared products for a question: ``A vs B``; ``A, C and D vs B; E vs F`` for
    several comparisons (config order, tests grouped by reference); without comparisons,
    the study's two products or ``the test product vs the reference``."""
    if not settings.comparisons:
        products = sorted(tables.curves["product"].unique().to_list())
        return " vs ".join(products) if len(products) == 2 else "the test product vs the reference"
    tests: dict[str, list[str]] = {}
    for comparison in settings.comparisons:
        named = tests.setdefault(comparison["reference"], [])
        if comparison["test"] not in named:
            named.append(comparison["test"])
    return "; ".join(f"{_listed(named)} vs {reference}" for reference, named in tests.items())


def _listed(words: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def caption_values(tables: Tables, settings: Settings) -> dict[str, dict[str, Any]]:
    """Placeholder values of each dossier figure's caption (see ``captions.yaml``)."""
    curves = tables.curves
    values: dict[str, dict[str, Any]] = {}
    listed = curves.filter(
        pl.col("converged") & (pl.col("et50") > 0) & pl.col("stage").is_in(list(settings.stages))
    ).filter(pl.col("stage").n_unique().over("product", "target", "cryo") >= 2)
    trend = tables.trend if tables.trend is not None else pl.DataFrame()
    values["stages"] = {
        "stages": " → ".join(settings.stages),
        "n_curves": listed.height,
        "n_lots": listed.select("product", "lot").n_unique(),
        "trend": " ".join(
            _trend_sentence(r) for r in trend.iter_rows(named=True) if r["estimate"] is not None
        )
        or "No stage trend was estimable.",
    }
    from killcurve.stats.ratios import forest_rows

    rows = (
        forest_rows(tables.comparisons, settings.stages)
        if tables.comparisons is not None and tables.comparisons.height
        else pl.DataFrame(
            {"comparison": [], "method": []}, schema={"comparison": pl.String, "method": pl.String}
        )
    )
    values["forest"] = {
        "n_groups": rows.height,
        "n_comparisons": rows["comparison"].n_unique(),
        "methods": ", ".join(sorted(set(rows["method"].drop_nulls().to_list()))) or "none",
        "multiplicity": ", ".join(
            sorted(
                {
                    ADJUSTMENT_WORDS.get(c.get("multiplicity", "holm"), "none")
                    for c in settings.comparisons
                }
            )
        ),
    }
    lots = tables.viability_lots
    values["viability"] = {
        "n_lots": lots.select("product", "lot").n_unique() if lots is not None else 0,
        "timepoints": ", ".join(hours(t) for t in sorted(set(lots["timepoint_h"].to_list())))
        if lots is not None
        else "",
        "min_viability_pct": "none"
        if settings.min_viability_pct is None
        else f"{settings.min_viability_pct:g}",
        "min_recovery_pct": "none"
        if settings.min_recovery_pct is None
        else f"{settings.min_recovery_pct:g}",
        "ci_level": f"{100 * settings.viability_ci_level:g}",
        "n_passed": int(lots["passed"].sum()) if lots is not None else 0,
        "n_points": lots.height if lots is not None else 0,
    }
    pairs = _thaw_pairs(curves, settings.pre, settings.post)
    retention = tables.retention if tables.retention is not None else pl.DataFrame()
    sentences = []
    if retention.height:
        fold = retention.filter(
            (pl.col("level") == "product")
            & (pl.col("metric") == "et50_fold_change")
            & pl.col("estimate").is_not_null()
        )
        sentences = [
            f"{r['product']} on {r['target']}: et50 ×{num(r['estimate'])} "
            f"({_interval(r['lower'], r['upper'])}, n = {r['n_lots']} lots)"
            for r in fold.iter_rows(named=True)
        ]
    values["thaw"] = {
        "pre": settings.pre,
        "post": settings.post,
        "n_lots": pairs.select("product", "lot").n_unique(),
        "n_pairs": pairs.height,
        "retention": "; ".join(sentences) + "." if sentences else "No fold change estimable.",
    }
    return values
