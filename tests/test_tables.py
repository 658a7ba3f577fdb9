"""Human-facing tables: censored values as >x / <x."""

from __future__ import annotations

import polars as pl

from killcurve.report.tables import censored_curves


def test_censored_et50_and_et_at_50_are_shown_as_bounds() -> None:
    # row 5: no upper plateau (top emptied, top_not_estimable) and still below 50 % at 40
    curves = pl.DataFrame(
        {
            "et50": [3.14159, 80.0, None, 12.0, None],
            "et50_bound": [None, ">40", "<0.3125", None, None],
            "et_at_50": [3.5, None, None, None, None],
            "et_min": [0.3125] * 5,
            "et_max": [40.0] * 5,
            "top": [90.0, 45.0, 95.0, 30.0, None],
            "bottom": [0.0, 0.0, 60.0, 0.0, 1.0],
            "flags": [[], ["et50_above_range", "never_reaches_50"],
                      ["et50_below_range", "never_reaches_50"], ["never_reaches_50"],
                      ["top_not_reached", "never_reaches_50", "top_not_estimable"]],
        }
    )  # fmt: skip
    out = censored_curves(curves)
    assert out["et50_text"].to_list() == ["3.14", ">40", "<0.3125", "12", ""]
    assert out["et_at_50_text"].to_list() == ["3.5", ">40", "<0.3125", ">40", ">40"]
