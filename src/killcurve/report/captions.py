"""Figure numbers, titles and captions from one file (``captions.yaml``), filled per figure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from killcurve.errors import KillcurveInputError
from killcurve.fit.curve_table import model_label
from killcurve.report.summary import DOSSIER_FIGURES

#: The captions shipped with killcurve.
DEFAULT_CAPTIONS = Path(__file__).with_name("captions.yaml")


@dataclass(frozen=True)
class FigureEntry:
    """One numbered figure: its files, title and filled-in caption."""

    number: int
    id: str
    title: str
    caption: str
    pdf: Path
    png: Path | None


def load_captions(path: Path | None = None) -> list[dict[str, Any]]:
    """The ``figures`` list of a captions file (the shipped one by default)."""
    path = Path(path) if path else DEFAULT_CAPTIONS
    try:
        figures = yaml.safe_load(path.read_text(encoding="utf-8"))["figures"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as err:
        raise KillcurveInputError(
            f"captions {path}: cannot be read ({err}). It needs a 'figures' list of "
            "{id, title, caption} entries; see killcurve/report/captions.yaml."
        ) from None
    return figures


def _fill(template: str, values: dict[str, Any], where: str) -> str:
    try:
        return " ".join(template.format(**values).split())
    except KeyError as err:
        raise KillcurveInputError(
            f"captions: {where} uses the unknown placeholder {err}; "
            f"known: {', '.join(sorted(values))}."
        ) from None


def number_figures(
    captions: list[dict[str, Any]],
    curves: pl.DataFrame,
    wells: pl.DataFrame,
    figure_dir: Path,
    provenance_id: str,
    slug: Any,
    dossier: Mapping[str, Mapping[str, Any]] | None = None,
    timecourse: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[FigureEntry]:
    """Number the figures of a run in caption-file order and fill their captions.

    ``slug`` maps a target name to its file-name form (:func:`killcurve.study.naming.target_slug`).
    ``dossier`` maps each dossier figure the run made (``<id>.pdf``/``.png`` in
    ``figure_dir``; ids in :data:`~killcurve.report.summary.DOSSIER_FIGURES`) to its
    caption values; a dossier figure not in it is left out, and later figures move up.
    ``timecourse`` likewise for the time-resolved figures
    (:data:`killcurve.report.timecourse.TIMECOURSE_FIGURES`), absent without time-resolved plates.
    """
    from killcurve.report.timecourse import TIMECOURSE_FIGURES

    dossier, timecourse = dossier or {}, timecourse or {}
    samples = wells.filter(pl.col("role") == "sample")
    model = model_label(curves["model"][0]) if curves.height else "no"
    level = f"{100 * curves['ci_level'][0]:g}" if curves.height else "95"
    common = {"model": model, "ci_level": level, "provenance_id": provenance_id}
    entries: list[FigureEntry] = []

    def add(spec: Mapping[str, Any], values: Mapping[str, Any], name: str, png: bool) -> None:
        """Append the next numbered entry: ``name``.pdf (and .png) in ``figure_dir``."""
        entries.append(
            FigureEntry(
                len(entries) + 1,
                spec["id"],
                _fill(spec["title"], values, spec["id"]),
                _fill(spec["caption"], values, spec["id"]),
                figure_dir / f"{name}.pdf",
                figure_dir / f"{name}.png" if png else None,
            )
        )

    for spec in captions:
        if spec.get("per") == "target":
            for target in sorted(curves["target"].unique().to_list()):
                sub = curves.filter(pl.col("target") == target)
                excluded = samples.filter((pl.col("target") == target) & pl.col("excluded"))
                values = {
                    **common, "target": target, "n_curves": sub.height,
                    "n_lots": sub.select("product", "lot").n_unique(),
                    "n_plates": len({p for ids in sub["plate_ids"] for p in ids.split(";")}),
                    "n_wells": int(sub["n_points"].sum()), "n_excluded": excluded.height,
                }  # fmt: skip
                add(spec, values, f"{spec['id']}_{slug(target)}", png=True)
        elif spec["id"] == "plate_maps":
            values = {
                **common, "n_plates": wells["plate_id"].n_unique(),
                "n_excluded": int(wells["excluded"].sum()), "target": "", "n_curves": curves.height,
                "n_lots": curves.select("product", "lot").n_unique(),
                "n_wells": samples.height,
            }  # fmt: skip
            add(spec, values, "plate_maps", png=False)
        elif spec["id"] in DOSSIER_FIGURES:
            if spec["id"] not in dossier:
                continue
            add(spec, {**common, **dossier[spec["id"]]}, spec["id"], png=True)
        elif spec["id"] in TIMECOURSE_FIGURES:
            if spec["id"] in timecourse:
                add(spec, {**common, **timecourse[spec["id"]]}, spec["id"], png=True)
        else:
            raise KillcurveInputError(
                f"captions: unknown figure id {spec['id']!r}; known: curves and residuals "
                f"(per target), plate_maps, {', '.join((*DOSSIER_FIGURES, *TIMECOURSE_FIGURES))}."
            )
    return entries
