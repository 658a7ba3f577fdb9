"""What every rule function shares: atomic writes, the QC limits from the config, optional
inputs, and :func:`run`, which turns bad input into a message and exit status 1."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import polars as pl

from killcurve.errors import KillcurveInputError
from killcurve.report.finite import finite_frame
from killcurve.study.axis import Axis


def _partial(path: Path) -> Path:
    """Temporary name beside ``path`` (same suffix, so writers pick the same format)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.partial{path.suffix}")


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = _partial(path)
    write(tmp)
    os.replace(tmp, path)


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """CSV for people: list columns joined with ``;``, floats at full precision, no NaN or
    inf (:func:`killcurve.report.finite.finite_frame`)."""
    frame = finite_frame(frame)
    flat = frame.with_columns(
        pl.col(c).list.join(";") for c, t in frame.schema.items() if t == pl.List(pl.String)
    )
    _atomic(path, lambda p: flat.write_csv(p))


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    """Parquet for data, zstd-compressed, without row-group statistics (stable bytes); no NaN
    or inf (:func:`killcurve.report.finite.finite_frame`)."""
    frame = finite_frame(frame)
    _atomic(path, lambda p: frame.write_parquet(p, compression="zstd", statistics=False))


def _thresholds(qc: dict[str, Any]) -> Any:
    """The QC limits (:class:`killcurve.assay.qc.QcThresholds`) among the config's ``qc`` keys."""
    from killcurve.assay.qc import QcThresholds

    return QcThresholds(**{f.name: qc[f.name] for f in fields(QcThresholds) if f.name in qc})


def _read_optional(path: Path | None) -> pl.DataFrame | None:
    """A CSV table, or None when ``path`` is None (the run has no such table)."""
    return pl.read_csv(path, infer_schema_length=None) if path is not None else None


def _read_result(path: Path | None, axis: Axis) -> pl.DataFrame | None:
    """A result CSV (comparisons, trend, retention) with internal et50 names; None: absent."""
    table = _read_optional(path)
    return axis.internal_table(table) if table is not None else None


#: Optional study-level tables the dossier figures, report, pack and workbook read.
DOSSIER_TABLES = ("comparisons", "trend", "retention", "viability_lots", "viability_products")


def optional_tables(inputs: Any) -> dict[str, Path | None]:
    """Each of :data:`DOSSIER_TABLES` as a path from a rule's ``input``; None when absent/empty."""

    def first(name: str) -> Path | None:
        files = inputs.get(name, [])
        files = [files] if isinstance(files, str) else list(files)
        return Path(files[0]) if files else None

    return {name: first(name) for name in DOSSIER_TABLES}


def timecourse_inputs(inputs: Any, params: Any) -> dict[str, Any] | None:
    """The ``timecourse`` argument of the report and figure-pack stages from a rule's
    ``input`` (``timecourse_metrics``, ``timecourse_comparisons``) and ``params``
    (``timecourse``: the config keys it reads); None in a study without time-resolved plates.
    """
    if not params.timecourse:
        return None
    comparisons = getattr(inputs, "timecourse_comparisons", None)
    return {
        "metrics": Path(inputs.timecourse_metrics),
        "comparisons": Path(comparisons) if comparisons else None,
        "config": dict(params.timecourse),
    }


def run(step: Callable[..., None], log: Path | None = None, **kwargs: Any) -> None:
    """Run a stage; on bad input print the message (no traceback) and exit with status 1."""
    try:
        step(**kwargs)
    except KillcurveInputError as err:
        message = f"killcurve: error: {err}\n"
        if log is not None:
            Path(log).parent.mkdir(parents=True, exist_ok=True)
            Path(log).write_text(message)
        sys.stderr.write(message)
        raise SystemExit(1) from None
