"""Tables for people: censored values as ``>x``/``<x`` and an Excel workbook, one sheet per table.

A curve whose et50 lies beyond the tested E:T range has no measured et50: the
human-facing tables show its ``et50_bound`` (:func:`killcurve.fit.verdict.et50_bound`),
``>40`` (above the highest E:T tested) or ``<0.31`` (below the lowest), instead of a
number (the extrapolated et50 stays in ``curves.csv``/``curves.parquet`` for the record
when the curve's verdict is used, ``fit.verdict.use``). Likewise ``et_at_50`` is ``>x``
when the fitted curve stays below 50 % lysis up to the highest E:T (also when its top is
not estimable: still rising there).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import xlsxwriter

from killcurve.report.finite import finite_frame, finite_or_none

#: Fixed workbook creation date so that identical inputs give identical bytes.
WORKBOOK_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def sig(value: float | None, digits: int = 3) -> str:
    """Text of ``value`` to ``digits`` significant digits; empty for null, NaN and inf.

    >>> sig(12.3456), sig(0.031249), sig(None), sig(float("inf"))
    ('12.3', '0.0312', '', '')
    """
    value = finite_or_none(value)
    return "" if value is None else f"{value:.{digits}g}"


def _text(column: str, digits: int = 3) -> pl.Expr:
    return (
        pl.col(column)
        .map_elements(lambda v: sig(v, digits), return_dtype=pl.String, skip_nulls=True)
        .fill_null("")
    )


def censored_curves(curves: pl.DataFrame) -> pl.DataFrame:
    """``curves`` plus text columns ``et50_text``, ``et_at_50_text`` (``>x``/``<x`` if censored)."""
    never = pl.col("flags").list.contains("never_reaches_50")
    return curves.with_columns(
        pl.coalesce(pl.col("et50_bound"), _text("et50")).alias("et50_text"),
        pl.when(never & (pl.col("bottom") > 50))
        .then(pl.lit("<") + _text("et_min", 6))
        .when(never & ((pl.col("top") < 50) | pl.col("top").is_null()))
        .then(pl.lit(">") + _text("et_max", 6))
        .otherwise(_text("et_at_50"))
        .alias("et_at_50_text"),
    )


def write_workbook(tables: dict[str, pl.DataFrame], path: Path) -> None:
    """One sheet per table: bold frozen header, autofit widths, lists joined with ``;``; NaN
    and inf cells empty, the reason in the row (:func:`killcurve.report.finite.finite_frame`)."""
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": WORKBOOK_DATE, "author": "killcurve"})
    for name, frame in tables.items():
        frame = finite_frame(frame)
        flat = frame.with_columns(
            pl.col(c).list.join("; ") for c, t in frame.schema.items() if t == pl.List(pl.String)
        )
        flat.write_excel(
            workbook=workbook,
            worksheet=name[:31],
            autofit=True,
            freeze_panes=(1, 0),
            header_format={"bold": True, "bg_color": "#EEEEEE"},
            float_precision=4,
        )
    workbook.close()
