"""The report's time-resolved section: its question and answers, figures, tables and methods.

Used inside the study report (studies with endpoint and time-resolved plates) and as the whole
report of a study with time-resolved plates only (:func:`render_page`).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from killcurve import __version__
from killcurve.report.numbers import num

#: Figure ids of the time-resolved figures (files ``results/figures/<id>.png``/``.pdf``).
TIMECOURSE_FIGURES = ("timecourse_killing", "timecourse_et50")
#: The question the section answers.
QUESTION = (
    "How does killing develop over time: specific killing and killing after thaw, test vs "
    "reference?"
)
#: Preferred methods of a ratio row, best first (lot-aware model, then curve-level tests).
ET50_METHODS = (
    "mixedlm_log_et50",
    "welch_t_log_et50",
    "parallel_line_delta",
    "wald_log_et50",
)
T50_METHODS = ("mixedlm_log_t50", "welch_t_log_t50", "ratio_of_t50")
#: Columns of the metrics table shown in the report (the rest are in the CSV).
METRIC_COLUMNS = ("curve_id", "readout", "et_ratio", "concentration", "n_wells", "t_last_h")


def _best(rows: pl.DataFrame, methods: Sequence[str]) -> dict[str, Any] | None:
    """The first row (by ``methods`` order) with an estimate, else the first row at all."""
    for method in methods:
        found = rows.filter((pl.col("method") == method) & pl.col("estimate").is_not_null())
        if found.height:
            return found.row(0, named=True)
    return rows.row(0, named=True) if rows.height else None


def _ratio(row: dict[str, Any]) -> str:
    """``0.52 (95 % CI 0.41–0.66, mixedlm_log_et50)`` or why there is none."""
    if row["estimate"] is None:
        first = (row.get("notes") or "not estimable").split("; ")[0]
        return f"not estimable ({first})"
    interval = (
        f"95 % CI {num(row['lower'])}–{num(row['upper'])}"
        if row["lower"] is not None and row["upper"] is not None
        else "no interval"
    )
    return f"{num(row['estimate'])} ({interval}, {row['method']})"


def _level(x: float | None, unit: str) -> str:
    from killcurve.figures.timecourse import level_label

    return level_label(x, unit)


def answer_sentences(comparisons: pl.DataFrame, by: Sequence[str], unit: str = "") -> list[str]:
    """One sentence per comparison × group: the et50 ratio at each configured time, then the
    t50 ratio at each titration level (the lot-aware row where there is one)."""
    if comparisons.is_empty():
        return []
    x = "concentration" if "concentration" in comparisons.columns else "et_ratio"
    keys = ["comparison", *(c for c in by if c in comparisons.columns)]
    sentences = []
    for key, group in comparisons.group_by(keys, maintain_order=True):
        named = dict(zip(keys, key, strict=True))
        where = " · ".join(str(v) for k, v in named.items() if k != "comparison" and v)
        head = f"{group['test'][0]} vs {group['reference'][0]}" + (f", {where}" if where else "")
        parts = []
        et50 = group.filter(pl.col("t_h").is_not_null() & pl.col("metric").is_in(
            ["et50_ratio", "potency_ratio"]
        ))  # fmt: skip
        for (at,), rows in et50.group_by("t_h", maintain_order=True):
            best = _best(rows, ET50_METHODS)
            if best is not None:
                parts.append(f"et50 ratio at {at:g} h {_ratio(best)}")
        t50 = group.filter(pl.col("metric") == "t50_ratio")
        for (level,), rows in t50.group_by(x, maintain_order=True):
            best = _best(rows, T50_METHODS)
            if best is not None:
                parts.append(f"t50 ratio at {_level(level, unit)} {_ratio(best)}")
        if parts:
            sentences.append(f"{head}: " + "; ".join(parts) + ".")
    return sentences


def methods_lines(settings: Mapping[str, Any]) -> list[str]:
    """The methods of the time-resolved analysis, with the configured times and level."""
    times = ", ".join(f"{t:g}" for t in settings["times_h"])
    level = settings["level_pct"]
    return [
        "Time-resolved plates (samplesheet time = all): every time point read; effector "
        "addition per plate from the samplesheet's addition (first read, a given time, or the "
        "last read before the longest pause); t = hours after addition.",
        "Target-cell readouts (impedance, imaging counts and confluence) are normalised per "
        "well at addition (signal(t)/signal(addition)); % lysis at each time point is the "
        "readout's endpoint formula with the same plate's controls at that time point.",
        f"Per well group (lot × titration level): mean of its wells' % lysis per time point; "
        f"% lysis at {times} h linear between points; t50 = first time the mean reaches "
        f"{level:g} % (linear between points; '>t_last' when never); AUC = trapezoid area of "
        "the mean from t = 0 to the last point (%·h).",
        f"At {times} h each well's % lysis (linear between its points) is fitted like an "
        "endpoint plate: same model, flags and verdicts (timecourse_curves.csv); products are "
        "compared at each time as the endpoint comparisons are; t50 ratios by Welch's t on ln "
        "t50 and a mixed model with a random lot intercept (censored t50 left out and "
        "counted), AUC differences by Welch's t; p-values adjusted within comparison × "
        "metric × method across times and groups.",
    ]


def section_html(
    metrics: pl.DataFrame,
    comparisons: pl.DataFrame,
    figures: Sequence[Any],
    settings: Mapping[str, Any],
    by: Sequence[str],
    unit: str = "",
    table: Callable[[pl.DataFrame], str] | None = None,
    figure: Callable[[Any], str] | None = None,
    words: Callable[[str], str] = str,
) -> list[str]:
    """HTML parts of the section ``Killing over time`` (anchor ``over-time``); ``words``
    rewrites fixed text for the titration axis (et50 → ec50 on a concentration axis)."""
    from killcurve.report.html import figure_html, table_html

    table = table or table_html
    figure = figure or figure_html
    sentences = [words(s) for s in answer_sentences(comparisons, by, unit)]
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences) or (
        "<li>No comparison has both products among the time-resolved plates.</li>"
    )
    times = [c for c in metrics.columns if c.startswith(("pct_lysis_at_", "sd_at_"))]
    shown = metrics.select(
        *(c for c in METRIC_COLUMNS if c in metrics.columns),
        *times,
        "t50_h",
        "t50_bound",
        "auc_pct_h",
    )
    return [
        '<h2 id="over-time">Killing over time</h2>',
        f"<h3>{html.escape(QUESTION)}</h3>",
        f'<ul class="answer">{items}</ul>',
        *(figure(f) for f in figures),
        '<p class="note">Per well group: % lysis at the configured times (mean of wells, SD '
        "over wells), t50 (h; '>t' when never reached) and AUC over time (%·h); "
        "timecourse_metrics.csv.</p>",
        table(shown),
        '<p class="note">'
        + html.escape(
            words(
                "Comparisons over time (timecourse_comparisons.csv): et50 rows at each time "
                "(t_h), t50 ratio and AUC difference rows per titration level."
            )
        )
        + "</p>",
        table(comparisons),
        "<h3>Methods (over time)</h3>",
        "<ul>"
        + "".join(f"<li>{html.escape(words(m))}</li>" for m in methods_lines(settings))
        + "</ul>",
    ]


def render_page(
    study: str,
    qc: pl.DataFrame,
    section: Sequence[str],
    provenance: Mapping[str, str],
    n_curves: int,
) -> str:
    """The whole report of a study whose plates are all time-resolved."""
    from killcurve.report.html import STYLE, table_html

    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                f"<title>{html.escape(study)} — killcurve report</title>",
                f"<style>{STYLE}</style></head><body>",
                f"<h1>{html.escape(study)}</h1>",
                f'<p class="note">killcurve {html.escape(__version__)} · '
                f"{qc['plate_id'].n_unique() if qc.height else 0} time-resolved plates · "
                f"{n_curves} curves fitted over time.</p>",
                *section,
                '<h2 id="qc">Plate QC at the configured times</h2>',
                table_html(qc, row_class="pass"),
                '<h2 id="provenance">Provenance</h2>',
                table_html(
                    pl.DataFrame({"item": list(provenance), "value": list(provenance.values())})
                ),
                "</body></html>",
            ]
        )
        + "\n"
    )
