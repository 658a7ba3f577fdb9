"""A self-contained HTML report: tables and figures inline, no network access.

Written by the workflow's last rule (not Snakemake's ``--report``) so that it
is part of the DAG, deterministic (no timestamps) and opens offline: figures
are embedded as base64 PNG, styles are inline.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from killcurve import __version__
from killcurve.report.finite import finite_or_none
from killcurve.report.summary import Answer

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:72rem;
color:#222;line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;margin-top:2rem}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .45rem;text-align:right}
th{background:#f3f3f3}td.t{text-align:left}tr.fail td{background:#fde8e8}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85rem;color:#444}code{background:#f5f5f5;padding:0 .2rem}
.note{font-size:.85rem;color:#555}.missing{color:#8a4b00}
h3{font-size:1.05rem;margin-bottom:.3rem}ul.answer li{margin:.25rem 0}nav{margin:1rem 0}
.scroll{overflow-x:auto}th{text-align:left}
"""


@dataclass(frozen=True)
class Figure:
    """A figure for the report: PNG path, its label (``Figure 3``) and caption text."""

    png: Path
    label: str
    caption: str


#: Columns of the report's curve table (E:T axis names, or their concentration-axis names).
CURVE_TABLE = (
    "curve_id", "readout", "verdict", "et50", "ec50", "et50_lower", "ec50_lower", "et50_upper",
    "ec50_upper", "et50_bound", "ec50_bound", "et_at_50", "conc_at_50", "emax",
    "max_mean_lysis", "hill", "auc", "n_points", "converged", "verdict_reasons", "flags",
)  # fmt: skip


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        value = finite_or_none(value)
        if value is None:
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


#: Widest image embedded in the report (pixels): 600 dpi figures are scaled down to this,
#: which keeps a 7.2 in figure sharp at 250 dpi and the report a few MB.
MAX_WIDTH_PX = 1800


def screen_png(path: Path, max_width: int = MAX_WIDTH_PX) -> bytes:
    """The PNG at ``path``, scaled down to at most ``max_width`` pixels wide
    (:func:`scaled_png`); a narrower PNG as it is."""
    from PIL import Image

    with Image.open(path) as image:
        if image.width <= max_width:
            return Path(path).read_bytes()
        return scaled_png(image, max_width)


def scaled_png(image: PILImage, max_width: int = MAX_WIDTH_PX) -> bytes:
    """PNG bytes of PIL ``image`` scaled (Lanczos) to ``max_width`` pixels wide.

    An opaque image (alpha 255 everywhere, as every killcurve figure) is scaled as RGB:
    the same picture, without Pillow's premultiplied-alpha passes (0.3 instead of 0.5 s
    for a 7.2 × 6 in figure at 600 dpi) and a smaller file.
    """
    from PIL import Image

    if image.mode == "RGBA" and image.getextrema()[3] == (255, 255):
        image = image.convert("RGB")
    height = round(image.height * max_width / image.width)
    small = image.resize((max_width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG")
    return buffer.getvalue()


def figure_html(figure: Figure) -> str:
    """An inline ``<figure>`` with the PNG (see :func:`screen_png`) embedded as base64."""
    data = base64.b64encode(screen_png(figure.png)).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(figure.label)}" src="data:image/png;base64,{data}">'
        f"<figcaption><b>{html.escape(figure.label)}.</b> {html.escape(figure.caption)}"
        "</figcaption></figure>"
    )


#: Plate maps embedded in the report (and plate-map pages in the figure pack) unless the
#: config says otherwise (``report.max_plate_maps``): a map is ~100 kB as base64.
MAX_PLATE_MAPS = 24


def plates_to_embed(
    plates: Sequence[str], attention: Collection[str], limit: int = MAX_PLATE_MAPS
) -> tuple[list[str], list[str]]:
    """(plates whose map is embedded, plates whose map is linked), each in ``plates`` order.

    Up to ``limit`` plates, every map is embedded. Beyond that, only the plates in
    ``attention`` (failed QC or holding excluded wells), the first ``limit`` of them; the
    other maps are linked, which keeps a 1,000-plate report a few MB instead of ~100 MB.
    """
    if len(plates) <= limit:
        return list(plates), []
    embedded = [p for p in plates if p in attention][:limit]
    chosen = set(embedded)
    return embedded, [p for p in plates if p not in chosen]


@dataclass(frozen=True)
class PlateMaps:
    """The report's plate maps: ``embedded`` figures, (plate, href) of the ``linked`` ones,
    the ``limit`` that chose them (:func:`plates_to_embed`) and the href of the PDF of all."""

    embedded: Sequence[Figure] = ()
    linked: Sequence[tuple[str, str]] = ()
    limit: int = MAX_PLATE_MAPS
    pdf: str = "figures/plate_maps.pdf"


def plate_maps_html(maps: PlateMaps) -> list[str]:
    """The embedded plate maps, then a note with a link to each map not embedded."""
    parts = [figure_html(f) for f in maps.embedded]
    if maps.linked:
        n = len(maps.embedded) + len(maps.linked)
        links = " ".join(
            f'<a href="{html.escape(href)}">{html.escape(plate)}</a>' for plate, href in maps.linked
        )
        parts.append(
            f'<p class="note">{len(maps.embedded)} of {n} plate maps are shown above: a study '
            f"of more than {maps.limit} plates (config key report.max_plate_maps) shows only "
            "plates that failed QC or hold excluded wells, up to that many. Every map is in "
            f'<a href="{html.escape(maps.pdf)}">{html.escape(Path(maps.pdf).name)}</a>; '
            f"the other {len(maps.linked)} open from these links: {links}</p>"
        )
    return parts


@dataclass(frozen=True)
class Section:
    """The dossier part of the report: answers, their figures and the optional tables.

    ``dossier``: figure id → :class:`Figure` for the dossier figures made;
    ``absent``: figure id → why it was not made; tables None when the run has none.
    """

    answers: Sequence[Answer] = ()
    dossier: Mapping[str, Figure] = field(default_factory=dict)
    absent: Mapping[str, str] = field(default_factory=dict)
    trend: pl.DataFrame | None = None
    retention: pl.DataFrame | None = None
    viability_lots: pl.DataFrame | None = None
    viability_products: pl.DataFrame | None = None


#: Report sections by category: (category, [(anchor, heading)]).
CATEGORIES = (
    ("Answers", [("answers", "Answers")]),
    ("Comparisons", [("comparisons", "Comparisons"), ("stage-trend", "Stage trend"),
                     ("thaw-retention", "Thaw retention")]),
    ("Curves", [("curves", "Curves")]),
    ("Viability", [("viability", "Viability after thaw")]),
    ("QC", [("qc", "Plate QC")]),
    ("Methods", [("methods", "Methods"), ("provenance", "Provenance")]),
)  # fmt: skip
#: What each dossier figure shows, for the list of figures not made.
FIGURE_NAMES = {
    "stages": "process-stage panel",
    "forest": "forest plot of ratios",
    "viability": "viability and recovery after thaw",
    "thaw": "pre- vs post-thaw paired plot",
}


#: The category of the time-resolved section, placed after Viability when the study has one.
OVER_TIME = ("Over time", [("over-time", "Killing over time")])


def _nav(over_time: bool = False) -> str:
    """Links to every section, grouped by category (a one-section category: just its link)."""
    groups = []
    categories = list(CATEGORIES)
    if over_time:
        categories.insert(4, OVER_TIME)
    for cat, items in categories:
        links = ", ".join(f'<a href="#{a}">{html.escape(h)}</a>' for a, h in items)
        groups.append(
            links if [h for _, h in items] == [cat] else f"<b>{html.escape(cat)}</b>: {links}"
        )
    return f'<nav class="note">{" · ".join(groups)}</nav>'


def answers_html(section: Section) -> list[str]:
    """The Answers section: each question, its sentences and its figure (once per figure)."""
    parts = ['<h2 id="answers">Answers</h2>']
    if not section.answers:
        parts.append('<p class="note">No question is asked of this study (config key '
                     "report.questions is empty).</p>")  # fmt: skip
    shown: set[str] = set()
    for i, answer in enumerate(section.answers, start=1):
        parts.append(
            f'<h3 id="answer-{html.escape(answer.id)}">{i}. {html.escape(answer.question)}</h3>'
        )
        if answer.missing:
            parts.append(f'<p class="missing">Not answered: {html.escape(answer.missing)}</p>')
        else:
            items = "".join(f"<li>{html.escape(s)}</li>" for s in answer.sentences)
            parts.append(f'<ul class="answer">{items}</ul>')
        refs = [section.dossier[k].label for k in answer.also if k in section.dossier]
        if refs:
            parts.append(f'<p class="note">Also shown in {html.escape(", ".join(refs))}.</p>')
        figure = section.dossier.get(answer.figure) if answer.figure else None
        if figure is None:
            continue
        if answer.figure in shown:
            parts.append(f'<p class="note">See {html.escape(figure.label)} above.</p>')
        else:
            parts.append(figure_html(figure))
            shown.add(answer.figure)
    extra = [f for k, f in section.dossier.items() if k not in shown]
    parts.extend(figure_html(f) for f in extra)
    if section.absent:
        items = "".join(
            f"<li>{html.escape(FIGURE_NAMES.get(k, k))}: {html.escape(why)}</li>"
            for k, why in section.absent.items()
        )
        parts.append(
            f'<p class="note">Figures not made for this study:</p><ul class="note">{items}</ul>'
        )
    return parts


def _table_or(frame: pl.DataFrame | None, empty: str, row_class: str | None = None) -> str:
    if frame is None or frame.is_empty():
        return f'<p class="note">{html.escape(empty)}</p>'
    return table_html(frame, row_class)


def dossier_tables_html(
    section: Section, words: Callable[[str], str] = str
) -> tuple[list[str], list[str]]:
    """(stage trend and thaw retention sections, viability section) of the report.

    ``words`` rewrites the fixed notes for the titration axis (as in :func:`render_report`).
    """
    retention = section.retention
    if retention is not None and "level" in retention.columns:
        retention = retention.filter(pl.col("level") == "product").drop("level", "lot")
    killing = [
        '<h2 id="stage-trend">Stage trend</h2>',
        '<p class="note">'
        + words("estimate = fold change of et50 per process-stage step (below 1: "
                "potency rises along the process), lower/upper its 95 % interval; "
                "stage_trend.csv.")
        + "</p>",
        _table_or(section.trend, "No stage trend: no product has curves at two or more of the "
                  "config's stages (config key stages)."),
        '<h2 id="thaw-retention">Thaw retention</h2>',
        '<p class="note">Per product: geometric mean over lots of post/pre-thaw ratios with '
        "95 % t interval and one-sample t-test p; the per-lot rows are in "
        "thaw_retention.csv and the workbook.</p>",
        _table_or(retention, "No thaw retention: no lot was tested before and after thaw."),
    ]  # fmt: skip
    viability = ['<h2 id="viability">Viability after thaw</h2>']
    if section.viability_lots is None:
        viability.append('<p class="note">Not assessed: the config has no viability key.</p>')
    else:
        viability += [
            '<p class="note">Per lot and time point (mean of replicate counts; failing rows '
            "shaded), then per product across lots with its t interval.</p>",
            _table_or(section.viability_lots, "No counts.", row_class="passed"),
            _table_or(section.viability_products, "No counts."),
        ]
    return killing, viability


def render_report(
    study: str,
    qc: pl.DataFrame,
    curves: pl.DataFrame,
    comparisons: pl.DataFrame,
    figures: Sequence[Figure],
    plate_maps: PlateMaps,
    methods: Sequence[str],
    provenance: dict[str, str],
    section: Section | None = None,
    words: Callable[[str], str] = str,
    units: Callable[[pl.DataFrame], pl.DataFrame] = lambda frame: frame,
    timecourse: Sequence[str] = (),
) -> str:
    """The whole report as one HTML string: answers first, then the tables and figures.

    ``timecourse``: the HTML parts of the time-resolved section
    (:func:`killcurve.report.timecourse.section_html`), after viability; empty without
    time-resolved plates.

    ``words`` rewrites fixed text for the study's titration axis
    (:meth:`killcurve.study.axis.Axis.text`); the tables come with their public column names, and
    ``units`` heads the curve table's x columns with their unit
    (:meth:`killcurve.study.axis.Axis.with_units`).
    """
    section = section or Section()
    n_fail = qc.filter(~pl.col("pass")).height
    n_flagged = curves.filter(pl.col("flags").list.len() > 0).height
    counts = dict(curves["verdict"].value_counts().iter_rows())
    verdicts = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("valid", "limited", "invalid"))
    killing, viability = dossier_tables_html(section, words)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(study)} — killcurve report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(study)}</h1>",
        f'<p class="note">killcurve {html.escape(__version__)} · {qc.height} plates '
        f"({n_fail} failed QC) · {curves.height} curves ({n_flagged} flagged; {verdicts}).</p>",
        _nav(bool(timecourse)),
        *answers_html(section),
        '<h2 id="comparisons">Comparisons</h2>',
        '<p class="note">'
        + words(
            "estimate = ratio test/reference (et50 ratio or potency ratio; below 1: "
            "the test product is more potent); lower/upper: 95 % CI; p_adjusted within each "
            "comparison and metric/method (see the comparison's multiplicity)."
        )
        + "</p>",
        table_html(comparisons),
        '<h2 id="curves">Curves</h2>',
        *(figure_html(f) for f in figures),
        table_html(units(curves.select(c for c in CURVE_TABLE if c in curves.columns))),
        *killing,
        *viability,
        *timecourse,
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
        *plate_maps_html(plate_maps),
        '<h2 id="methods">Methods</h2>',
        "<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in methods) + "</ul>",
        '<h2 id="provenance">Provenance</h2>',
        table_html(pl.DataFrame({"item": list(provenance), "value": list(provenance.values())})),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
