"""Rule functions drawing the dossier figures (stages, forest, viability, thaw), numbered."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.pipeline.curves import study_products
from killcurve.pipeline.step import _read_optional, _read_result
from killcurve.pipeline.target_figures import _save
from killcurve.study.axis import Axis, read_curves
from killcurve.study.naming import target_slug


def dossier_tables(curves: Path | None, tables: dict[str, Path | None]) -> Any:
    """The tables of the report's answers (:class:`killcurve.report.summary.Tables`).

    ``tables`` maps ``comparisons``, ``trend``, ``retention``, ``viability_lots`` and
    ``viability_products`` to their CSV files; a missing key or None: no such table.
    ``curves`` None: an empty curve table on the E:T axis (for the viability tables alone).
    """
    from killcurve.report.summary import Tables

    fits, axis = read_curves(curves) if curves is not None else (pl.DataFrame(), Axis())
    results = {n: _read_result(tables.get(n), axis) for n in ("comparisons", "trend", "retention")}
    counts = {n: _read_optional(tables.get(n)) for n in ("viability_lots", "viability_products")}
    return Tables(fits, **results, **counts, axis=axis)


def plot_dossier(
    figure: str,
    curves: Path | None,
    tables: dict[str, Path | None],
    pdf: Path,
    png: Path,
    order: Sequence[str],
    settings: dict[str, Any],
    cache: Path | None = None,
    products: Path | None = None,
) -> bool:
    """One dossier figure (``stages``, ``forest``, ``viability`` or ``thaw``), PDF and PNG.

    ``settings``: the study config's ``stages``, ``thaw``, ``comparisons``,
    ``viability`` and ``report`` keys (:meth:`killcurve.report.summary.Settings.from_config`).
    The products (colours) are those of ``curves``, or listed in ``products``
    (:func:`write_targets`): the viability figure needs no curves then (None).
    With ``cache`` (a directory), a figure drawn from the same table rows, colours and
    settings as last time is copied from it (:mod:`killcurve.common.memo`); returns True then.
    """
    from killcurve.report.summary import DOSSIER_FIGURES, Settings

    if figure not in DOSSIER_FIGURES:
        raise KillcurveInputError(f"plot_dossier: unknown figure {figure!r}.")
    if curves is None and (figure != "viability" or products is None):
        raise KillcurveInputError(f"plot_dossier: the {figure} figure needs the fitted curves.")
    data = dossier_tables(curves, tables)
    config = Settings.from_config(settings)
    product_names = study_products(data.curves, products)

    def make() -> None:
        from killcurve.figures.theme import product_colours

        colours = product_colours(product_names, order)
        _draw_dossier(figure, data, config, colours, order, pdf, png, cache)

    if cache is None:
        make()
        return False
    from killcurve.common.memo import memo_key, memoised, style_digest

    # The rows each figure draws (the stages figure: the curves' stage, lot and et50 columns,
    # which stage_lots averages; read here without importing the plotting modules).
    stage_columns = ["product", "lot", "target", "cryo", "stage", "et50", "converged"]
    # the forest labels count each group's curves whose verdict withheld their et50
    verdict_columns = ["product", "target", "stage", "cryo", "batch", "et50", "verdict"]
    drawn_from = {
        "forest": lambda: [
            data.comparisons,
            data.curves.select(c for c in verdict_columns if c in data.curves.columns),
        ],
        "stages": lambda: [data.curves.select(stage_columns)],
        "thaw": lambda: [data.retention],
        "viability": lambda: [data.viability_lots, data.viability_products],
    }[figure]()
    key = memo_key(
        [
            *(t if t is not None else "absent" for t in drawn_from),
            figure,
            json.dumps([settings, product_names, list(order)], sort_keys=True, default=str),
            style_digest(),
        ]
    )
    return memoised(
        Path(cache) / "dossier" / figure, key, {"figure.pdf": pdf, "figure.png": png}, make
    )


def _draw_dossier(
    figure: str,
    data: Any,
    config: Any,
    colours: dict[str, str],
    order: Sequence[str],
    pdf: Path,
    png: Path,
    cache: Path | None = None,
) -> None:
    """Draw dossier ``figure`` from ``data`` (:func:`dossier_tables`) into ``pdf`` and ``png``;
    ``cache``: see :func:`_save`."""
    from killcurve.figures.forest import plot_forest
    from killcurve.figures.stages import plot_stages, stage_lots
    from killcurve.figures.thaw import paired_lots, plot_thaw
    from killcurve.figures.viability import plot_viability
    from killcurve.stats.ratios import forest_rows

    def rows_of(panels: int, per_row: int = 3) -> int:
        return max(1, (panels + per_row - 1) // per_row)

    if figure == "forest":
        rows = forest_rows(data.comparisons, config.stages)
        name50 = data.axis.name50
        plot = plot_forest(data.comparisons, colours, order, config.stages, name50, data.curves)
        height = 1.4 + 0.26 * rows.height + 0.25 * rows["comparison"].n_unique()
    elif figure == "stages":
        panels = stage_lots(data.curves, config.stages)["panel"].n_unique()
        plot = plot_stages(data.curves, config.stages, colours, order)
        height = 0.8 + 2.6 * rows_of(panels)
    elif figure == "thaw":
        panels = paired_lots(data.retention, "et50_fold_change", config.pre, config.post)
        plot = plot_thaw(
            data.retention, colours, order, "et50_fold_change", config.pre, config.post
        )
        height = 0.8 + 2.4 * rows_of(panels["panel"].n_unique(), 2)
    elif figure == "viability":
        plot = plot_viability(
            data.viability_lots, data.viability_products, colours, order,
            config.min_viability_pct, config.min_recovery_pct,
        )  # fmt: skip
        height = 3.2
    _save(plot, pdf, png, height, cache)


def numbered_figures(
    curves: Path,
    wells: Path,
    figure_dir: Path,
    provenance: Path,
    captions: Path | None,
    tables: dict[str, Path | None] | None = None,
    settings: dict[str, Any] | None = None,
    timecourse: dict[str, dict[str, Any]] | None = None,
) -> list[Any]:
    """The run's figures numbered and captioned from the captions file.

    Dossier figures are included when :func:`killcurve.report.summary.available_figures`
    says the run made them (``tables`` and ``settings`` as for :func:`plot_dossier`); the
    time-resolved figures with their caption values in ``timecourse``
    (:func:`killcurve.pipeline.timecourse.figure_values`).
    """
    from killcurve.report.captions import load_captions, number_figures
    from killcurve.report.summary import Settings, available_figures, caption_values

    record = json.loads(Path(provenance).read_text())
    data = dossier_tables(curves, tables or {})
    config = Settings.from_config(settings or {})
    made = available_figures(data.curves, config)
    values = caption_values(data, config)
    entries = number_figures(
        load_captions(captions),
        data.curves,
        pl.read_parquet(wells, columns=["plate_id", "role", "target", "excluded"]),
        Path(figure_dir),
        record["provenance_id"],
        target_slug,
        {k: v for k, v in values.items() if made.get(k, "") is None},
        timecourse,
    )
    return [
        replace(e, title=data.axis.text(e.title), caption=data.axis.text(e.caption))
        for e in entries
    ]
