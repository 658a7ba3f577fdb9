"""A self-contained HTML report: tables and figures inline, no network access.

Written by the workflow's last rule (not Snakemake's ``--report``) so that it
is part of the DAG, deterministic (no timestamps) and opens offline: figures
are embedded as base64 PNG, styles are inline.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from killcurve import __version__

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:72rem;
color:#222;line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;margin-top:2rem}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .45rem;text-align:right}
th{background:#f3f3f3}td.t{text-align:left}tr.fail td{background:#fde8e8}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85rem;color:#444}code{background:#f5f5f5;padding:0 .2rem}
.note{font-size:.85rem;color:#555}.scroll{overflow-x:auto}th{text-align:left}
"""


@dataclass(frozen=True)
class Figure:
    """A figure for the report: PNG path, its label (``Figure 3``) and caption text."""

    png: Path
    label: str
    caption: str


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.3g}" if abs(value) < 1e5 else f"{value:.4g}"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def table_html(frame: pl.DataFrame, row_class: str | None = None) -> str:
    """An HTML table of ``frame``; numbers to 3 significant digits; text left-aligned.

    ``row_class`` names a Boolean column: rows where it is false get class ``fail``.
    """
    text_cols = {c for c, t in frame.schema.items() if t in (pl.String, pl.List(pl.String))}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.iter_rows(named=True):
        cls = ' class="fail"' if row_class and row.get(row_class) is False else ""
        cells = "".join(
            f"<td{' class=t' if c in text_cols else ''}>{html.escape(_fmt(v))}</td>"
            for c, v in row.items()
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def figure_html(figure: Figure) -> str:
    """An inline ``<figure>`` with the PNG embedded as base64."""
    data = base64.b64encode(Path(figure.png).read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(figure.label)}" src="data:image/png;base64,{data}">'
        f"<figcaption><b>{html.escape(figure.label)}.</b> {html.escape(figure.caption)}"
        "</figcaption></figure>"
    )


def render_report(
    study: str,
    qc: pl.DataFrame,
    curves: pl.DataFrame,
    comparisons: pl.DataFrame,
    figures: Sequence[Figure],
    plate_maps: Sequence[Figure],
    methods: Sequence[str],
    provenance: dict[str, str],
) -> str:
    """The whole report as one HTML string."""
    n_fail = qc.filter(~pl.col("pass")).height
    n_flagged = curves.filter(pl.col("flags").list.len() > 0).height
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(study)} — killcurve report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(study)}</h1>",
        f'<p class="note">killcurve {html.escape(__version__)} · {qc.height} plates '
        f"({n_fail} failed QC) · {curves.height} curves ({n_flagged} flagged).</p>",
        '<h2 id="comparisons">Comparisons</h2>',
        '<p class="note">estimate = et50 ratio test/reference (below 1: the test product is more '
        "potent); lower/upper: 95 % CI.</p>",
        table_html(comparisons),
        '<h2 id="curves">Curves</h2>',
        *(figure_html(f) for f in figures),
        table_html(
            curves.select(
                "curve_id",
                "readout",
                "et50",
                "et50_lower",
                "et50_upper",
                "et_at_50",
                "emax",
                "hill",
                "auc",
                "n_points",
                "converged",
                "flags",
            )
        ),
        '<h2 id="qc">Plate QC</h2>',
        f'<p class="note">{n_fail} of {qc.height} plates failed QC'
        + (
            ": "
            + html.escape(", ".join(qc.filter(~pl.col("pass"))["plate_id"].to_list()))
            + ". Their sample wells are excluded from the fits (see reasons)."
            if n_fail
            else "."
        )
        + "</p>",
        table_html(qc, row_class="pass"),
        *(figure_html(f) for f in plate_maps),
        '<h2 id="methods">Methods</h2>',
        "<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in methods) + "</ul>",
        '<h2 id="provenance">Provenance</h2>',
        table_html(pl.DataFrame({"item": list(provenance), "value": list(provenance.values())})),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
