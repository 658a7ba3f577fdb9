"""Multiplicity control of the p-values in a comparison table.

A *family* is the set of rows of one comparison that share ``metric`` and
``method``: the same question asked of every group (target, stage, cryo, …).
Within each family the non-null p-values are adjusted with statsmodels
``multipletests`` by the comparison's method:

* ``holm`` (default): Holm's step-down; controls the family-wise error rate.
  With p₍₁₎ ≤ … ≤ p₍ₘ₎, p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎).
* ``bonferroni``: p̃ = min(1, m·p).
* ``fdr_bh``: Benjamini–Hochberg; controls the false-discovery rate.
  p̃₍ᵢ₎ = min_{j ≥ i} min(1, m·p₍ⱼ₎/j).
* ``none``: p̃ = p.

m counts the rows of the family that have a p-value; rows without one keep
a null ``p_adjusted``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from statsmodels.stats.multitest import multipletests

#: Accepted ``multiplicity`` values of a comparison.
METHODS = ("holm", "bonferroni", "fdr_bh", "none")


def adjust(p: Sequence[float | None], method: str = "holm") -> list[float | None]:
    """Adjusted p-values of one family; None stays None.

    >>> adjust([0.01, 0.04, None, 0.03])  # Holm: 3·0.01, max(2·0.03, 0.03), max(1·0.04, 0.06)
    [0.03, 0.06, None, 0.06]
    """
    if method not in METHODS:
        raise ValueError(f"multiplicity method {method!r}: use one of {', '.join(METHODS)}")
    values = np.array([np.nan if v is None else v for v in p], dtype=float)
    present = np.isfinite(values)
    out: list[float | None] = [None] * len(values)
    if not present.any():
        return out
    adjusted = values[present]
    if method != "none":
        adjusted = multipletests(adjusted, method=method)[1]
    for i, v in zip(np.flatnonzero(present), adjusted, strict=True):
        out[i] = float(v)
    return out


def adjust_table(
    table: pl.DataFrame,
    methods: Mapping[str, str],
    family: Sequence[str] = ("comparison", "metric", "method"),
) -> pl.DataFrame:
    """``table`` with ``p_adjusted`` from ``p_value`` within each ``family``.

    ``methods`` maps each comparison name to its multiplicity method (absent:
    ``holm``). Row order is kept.
    """
    indexed = table.with_row_index("_row")
    parts = []
    for _, rows in indexed.group_by(list(family), maintain_order=True):
        method = methods.get(rows["comparison"][0], "holm")
        adjusted = adjust(rows["p_value"].to_list(), method)
        parts.append(
            rows.select("_row").with_columns(p_adjusted=pl.Series(adjusted, dtype=pl.Float64))
        )
    schema = {"_row": pl.UInt32, "p_adjusted": pl.Float64}
    adjusted = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return (
        indexed.drop("p_adjusted", strict=False)
        .join(adjusted, on="_row", how="left")
        .sort("_row")
        .drop("_row")
    )
