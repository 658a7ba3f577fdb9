"""Rule functions of the curve stage: outlier marks, fitted curves and per-target tables."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from killcurve.pipeline.step import _partial, write_csv, write_parquet
from killcurve.study.axis import Axis, fixed_et
from killcurve.study.naming import target_slug


def _with_outliers(
    wells: pl.DataFrame, fit_config: dict[str, Any] | None, axis: dict[str, Any] | None = None
) -> pl.DataFrame:
    """The well table with ROUT outliers marked when ``fit.outliers.method`` is ``rout``,
    each curve tested on its axis' x (config key ``axis``)."""
    outliers = dict((fit_config or {}).get("outliers") or {})
    if outliers.get("method", "none") != "rout":
        return wells
    from killcurve.fit.curves import FitOptions
    from killcurve.fit.outliers import mark_outliers

    return mark_outliers(
        wells,
        FitOptions.from_config(fit_config or {}),
        float(outliers.get("q", 0.01)),
        str(outliers.get("weighting", "signal")),
        Axis.from_config(axis).column,
    )


def read_points(path: Path, axis: Axis) -> pl.DataFrame:
    """``wells.parquet`` with the axis variable as x (internal column ``et_ratio``)."""
    return axis.points(pl.read_parquet(path))


def fit(
    wells: Path,
    fit_config: dict[str, Any],
    csv_out: Path,
    parquet_out: Path,
    axis: dict[str, Any] | None = None,
    targets_out: Path | None = None,
) -> None:
    """Fit every curve with the ``fit`` config section; write ``curves.csv`` and ``.parquet``.

    ``axis``: the config key ``axis`` (titrated variable and unit; absent: E:T).
    ``targets_out``: a directory to write each target's tables into (:func:`write_targets`).
    """
    from killcurve.fit.curve_table import curve_id_expr
    from killcurve.fit.curves import FitOptions, fit_curves

    titration = Axis.from_config(axis)
    raw = pl.read_parquet(wells)
    points = titration.points(raw)
    curves = fit_curves(points, FitOptions.from_config(fit_config))
    if titration.is_concentration:
        curves = titration.public_curves(curves, fixed_et(points, curve_id_expr()))
    write_parquet(curves, parquet_out)
    write_csv(curves, csv_out)
    if targets_out is not None:
        write_targets(curves, raw, targets_out)


#: The study's products, one per line, in :func:`write_targets`' directory.
PRODUCTS_FILE = "products.txt"


def study_products(curves: pl.DataFrame, products: Path | None = None) -> list[str]:
    """The study's products, sorted: those listed in ``products`` (a :data:`PRODUCTS_FILE`)
    when given, else those of ``curves`` (the study's curve table)."""
    if products is None:
        return sorted(curves["product"].unique().to_list())
    return sorted(n for n in Path(products).read_text(encoding="utf-8").splitlines() if n)


def write_targets(curves: pl.DataFrame, wells: pl.DataFrame, out_dir: Path) -> None:
    """What each target's figures are drawn from, one target at a time, in ``out_dir``:
    ``<slug>.curves.parquet`` (its rows of ``curves.parquet``), ``<slug>.wells.parquet`` (its
    rows of ``wells.parquet``; :func:`target_slug`) and :data:`PRODUCTS_FILE` (colours).

    A target whose rows did not change gets the same bytes again, and Snakemake, which
    compares the checksums of inputs under 1 MB before it reruns a job whose inputs are
    newer, then leaves that target's figure job out (in a one-plate rerun of 1,000 plates,
    three of four targets). The directory appears whole or not at all.
    """
    tmp = _partial(Path(out_dir))
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for target in sorted(curves["target"].unique().to_list()):
        slug = target_slug(target)
        write_parquet(curves.filter(pl.col("target") == target), tmp / f"{slug}.curves.parquet")
        write_parquet(wells.filter(pl.col("target") == target), tmp / f"{slug}.wells.parquet")
    products = study_products(curves)
    (tmp / PRODUCTS_FILE).write_text("".join(f"{p}\n" for p in products), encoding="utf-8")
    if Path(out_dir).exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
