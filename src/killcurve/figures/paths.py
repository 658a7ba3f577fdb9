"""Many lines of one colour drawn as one broken path, for figures with thousands of lines."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def broken_paths(frame: pl.DataFrame, by: Sequence[str], line: str, y: str) -> pl.DataFrame:
    """``frame``'s lines joined into one path per ``by`` group, a row with ``y`` null between lines.

    plotnine draws each line group as its own matplotlib line at ~5 ms each
    (coordinate transforms through pandas), so the 1,400 curves of a 1,000-plate
    study's figure took 7 s. matplotlib breaks a line where y is NaN, so lines
    that share their aesthetics (``by``: facet panel and colour) can be drawn as
    one path: draw the result with ``geom_path(group=<one of by>)``. Rows keep
    their order within each line (sort them along x first: ``geom_path`` does not
    sort); the break row repeats the line's last row with ``y`` null, so x stays
    a valid value on any scale. No path ends in a break row (plotnine would drop
    it with a warning).

    >>> f = pl.DataFrame({"g": ["a"] * 4, "line": [1, 1, 2, 2], "x": [1, 2, 1, 2],
    ...                   "y": [1.0, 2.0, 3.0, 4.0]})
    >>> broken_paths(f, ["g"], "line", "y")["y"].to_list()
    [1.0, 2.0, None, 3.0, 4.0]
    """
    keys = [*by, line]
    rows = frame.with_columns(pl.lit(False).alias("_break"))
    breaks = (
        rows.group_by(keys, maintain_order=True)
        .last()
        .with_columns(pl.lit(None, rows.schema[y]).alias(y), pl.lit(True).alias("_break"))
    )
    joined = pl.concat([rows, breaks.select(rows.columns)]).sort(
        *keys, "_break", maintain_order=True
    )
    last = pl.int_range(pl.len()).over(by) == pl.len().over(by) - 1
    return joined.filter(~(last & pl.col("_break"))).drop("_break")
