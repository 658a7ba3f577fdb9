"""Human-facing tables: censored values as >x / <x."""

from __future__ import annotations

import polars as pl

from killcurve.report.tables import censored_curves


def test_censored_et50_and_et_at_50_are_shown_as_bounds() -> None:
    curves = pl.DataFrame(
        {
            "et50": [3.14159, 80.0, 0.1, 12.0],
            "et_at_50": [3.5, None, None, None],
            "et_min": [0.3125] * 4,
            "et_max": [40.0] * 4,
            "top": [90.0, 45.0, 95.0, 30.0],
            "bottom": [0.0, 0.0, 60.0, 0.0],
            "flags": [[], ["et50_above_range", "never_reaches_50"],
                      ["et50_below_range", "never_reaches_50"], ["never_reaches_50"]],
        }
    )  # fmt: skip
    out = censored_curves(curves)
    assert out["et50_text"].to_list() == ["3.14", ">40", "<0.3125", "12"]
    assert out["et_at_50_text"].to_list() == ["3.5", ">40", "<0.3125", ">40"]
