"""Rule functions of the study statistics: comparisons, stage trend, thaw retention, viability."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from killcurve.pipeline.curves import read_points
from killcurve.pipeline.step import write_csv
from killcurve.study.axis import read_curves


def compare(
    curves: Path,
    comparisons: Sequence[dict[str, Any]],
    csv_out: Path,
    wells: Path | None = None,
    cache: Path | None = None,
) -> None:
    """Run the configured comparisons; write ``comparisons.csv``.

    ``wells`` (``wells.parquet``) feeds the relative-potency rows; without it
    only the curve-level rows (et50 ratio, mixed model) are written. With
    ``cache`` (a directory), the rows of a group whose curves and wells did not
    change are reused (:func:`killcurve.common.memo.memo_json`).
    """
    # Imported here: statsmodels' formula API adds 0.4 s to every other stage's start-up.
    from killcurve.stats.compare import compare_products

    fits, axis = read_curves(curves)
    well_table = read_points(wells, axis) if wells is not None else None
    if well_table is not None and "signal" in fits.get_column("weighting", default=pl.Series()):
        # the potency fits weigh the wells as the curves were fitted (fit.weighting)
        from killcurve.fit.weighting import with_fit_weights

        well_table = with_fit_weights(well_table, "signal")
    memo = _group_memo(Path(cache) / "comparisons") if cache is not None else None
    table = compare_products(fits, comparisons, well_table, memo=memo)
    write_csv(axis.public_table(table), csv_out)


def _group_memo(folder: Path) -> Any:
    """A :data:`killcurve.stats.compare.GroupMemo` keeping one entry per group in ``folder``."""
    import hashlib

    from killcurve.common.memo import memo_json, memo_key

    def memo(name: str, parts: Sequence[Any], make: Callable[[], list[dict]]) -> list[dict]:
        entry = folder / hashlib.sha256(name.encode()).hexdigest()[:16]
        return memo_json(entry, memo_key(parts), make)

    return memo


def trend(curves: Path, stages: Sequence[str], csv_out: Path) -> None:
    """Potency trend across the configured process stages; write ``stage_trend.csv``."""
    from killcurve.stats.trend import stage_trend

    fits, axis = read_curves(curves)
    write_csv(axis.public_table(stage_trend(fits, stages)), csv_out)


def retention(curves: Path, thaw: dict[str, Any], csv_out: Path) -> None:
    """Killing retained after thaw, paired by lot; write ``thaw_retention.csv``."""
    from killcurve.stats.thaw import thaw_retention

    fits, axis = read_curves(curves)
    table = thaw_retention(fits, thaw["pre"], thaw["post"], thaw.get("reference_et"))
    write_csv(axis.public_table(table), csv_out)


def statistics(
    curves: Path,
    comparisons: Sequence[dict[str, Any]],
    stages: Sequence[str],
    thaw: dict[str, Any],
    comparisons_out: Path,
    trend_out: Path,
    retention_out: Path,
    wells: Path | None = None,
    cache: Path | None = None,
) -> None:
    """The study-level tables in one process: ``comparisons.csv`` (:func:`compare`, with
    ``wells`` and ``cache``), ``stage_trend.csv`` (:func:`trend`) and
    ``thaw_retention.csv`` (:func:`retention`)."""
    compare(curves, comparisons, comparisons_out, wells, cache)
    trend(curves, stages, trend_out)
    retention(curves, thaw, retention_out)


def viability(
    samplesheet: Path,
    study_dir: Path,
    lots_out: Path,
    products_out: Path,
    min_viability_pct: float | None = 70.0,
    min_recovery_pct: float | None = 50.0,
    ci_level: float = 0.95,
) -> None:
    """Viability and recovery after thaw from the counter files the viability samplesheet names.

    Writes ``viability.csv`` (per product × lot × time point, with pass/fail
    against the two limits, in %; None: not checked) and
    ``viability_products.csv`` (per product × time point across lots, ``ci_level`` t interval).
    """
    from killcurve.viability.counts import load_viability_counts
    from killcurve.viability.lots import lot_viability, product_viability

    counts = load_viability_counts(samplesheet, study_dir)
    lots = lot_viability(
        counts,
        min_viability_pct=min_viability_pct,
        min_recovery_pct=min_recovery_pct,
        source=f"viability samplesheet {samplesheet}",
    )
    write_csv(lots, lots_out)
    write_csv(product_viability(lots, ci_level), products_out)
