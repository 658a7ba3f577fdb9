"""Non-finite numbers at the table boundary: the one place NaN and ±inf become words.

A fit or a statistic can give NaN (not estimable: a zero variance, one well) or ±inf
(no finite limit: a Wald interval exp(ln et50 ± t·SE) whose SE is huge, a ratio over
zero). Neither is a number a reader can use, Excel cannot store them, and ``inf`` in a
CSV reads as a value. Every writer (CSV and Parquet tables, the workbook, the report's
tables, captions and answers) passes its frames or numbers through here:

* a float cell holding NaN or ±inf is written empty (null);
* the row says why, in the first explanation column the table has: ``flags`` (a list)
  gains ``<column>_unbounded`` (±inf) or ``<column>_not_estimable`` (NaN); ``notes``
  or ``reasons`` (text) gain ``<column> unbounded`` / ``<column> not estimable``;
* a float inside a list column is emptied the same way (the list keeps its length).

Numbers in running text go through :func:`finite_or_none`, so a caption or an answer
shows a missing number ("–", "no interval") and never ``inf``.
"""

from __future__ import annotations

import math

import polars as pl

#: Explanation columns, in order of preference: a list of flags, or free text.
_WHY_COLUMNS = ("flags", "notes", "reasons")


def finite_or_none(value: float | None) -> float | None:
    """``value`` when it is a finite number, else None.

    >>> finite_or_none(2.5), finite_or_none(float("inf")), finite_or_none(float("nan"))
    (2.5, None, None)
    """
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _why(column: str, unbounded: bool, as_flag: bool) -> str:
    word = "unbounded" if unbounded else "not estimable"
    return f"{column}_{word.replace(' ', '_')}" if as_flag else f"{column} {word}"


def finite_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every NaN/±inf float cell empty and the row's reason recorded.

    Rules in the module docstring. A frame without NaN or inf is returned unchanged.
    """
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    float_lists = [
        c
        for c, t in frame.schema.items()
        if isinstance(t, pl.List) and t.inner is not None and t.inner.is_float()
    ]
    if not floats and not float_lists:
        return frame
    masks = frame.select(
        *(pl.col(c).is_infinite().fill_null(False).alias(f"inf:{c}") for c in floats),
        *(pl.col(c).is_nan().fill_null(False).alias(f"nan:{c}") for c in floats),
    )
    hits = [m for m in masks.columns if masks[m].any()]
    lists_bad = [c for c in float_lists if (~frame[c].explode().drop_nulls().is_finite()).any()]
    if not hits and not lists_bad:
        return frame
    why = next((c for c in _WHY_COLUMNS if c in frame.columns), None)
    out = frame.with_columns(masks.select(hits))
    if why is not None:
        as_flag = isinstance(frame.schema[why], pl.List)
        for mask in hits:
            kind, column = mask.split(":", 1)
            word = _why(column, kind == "inf", as_flag)
            out = out.with_columns(_add_reason(why, word, as_flag, pl.col(mask)))
    out = out.with_columns(
        *(
            pl.when(pl.col(c).is_finite()).then(pl.col(c)).otherwise(None).alias(c)
            for c in floats
            if f"inf:{c}" in hits or f"nan:{c}" in hits
        ),
        *(
            pl.col(c).list.eval(
                pl.when(pl.element().is_finite()).then(pl.element()).otherwise(None)
            )
            for c in lists_bad
        ),
    )
    return out.drop(hits)


def _add_reason(column: str, word: str, as_flag: bool, where: pl.Expr) -> pl.Expr:
    """``column`` with ``word`` added on the rows ``where`` is true (never twice)."""
    if as_flag:
        current = pl.col(column).fill_null(pl.lit([], dtype=pl.List(pl.String)))
        added = (
            pl.when(current.list.contains(word))
            .then(current)
            .otherwise(current.list.concat(pl.lit([word], dtype=pl.List(pl.String))))
        )
    else:
        current = pl.col(column).cast(pl.String)
        added = (
            pl.when(current.is_null() | (current == ""))
            .then(pl.lit(word))
            .when(current.str.contains(word, literal=True))
            .then(current)
            .otherwise(pl.concat_str([current, pl.lit(word)], separator="; "))
        )
    return pl.when(where).then(added).otherwise(pl.col(column)).alias(column)
