"""Tables handed to plotnine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    import pandas as pd


def plot_frame(frame: pl.DataFrame) -> pd.DataFrame:
    """``frame`` as pandas for plotnine, text columns as Python strings (object dtype).

    pandas 3 holds text in Arrow-backed arrays, over which plotnine's grouping
    iterates value by value: with Python strings the curves figure of a
    1,000-plate study's K562 target (11,000 points) builds in 1.8 instead of 2.3 s.
    Values are unchanged, so is the figure (pixel-identical; tested).
    """
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.to_pandas().astype(dict.fromkeys(text, object))
