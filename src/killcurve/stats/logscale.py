"""Back from the log scale: ratios and their limits as exp of a log value.

A log interval can reach past the float range (exp(710) overflows) when the standard error
of a poorly determined ratio is huge. :func:`exp_ratio` then gives +inf (or 0 below) instead
of stopping the step with OverflowError; the table boundary
(:mod:`killcurve.report.finite`) writes such a limit empty, with ``upper unbounded`` in the
row's notes.
"""

from __future__ import annotations

import math


def exp_ratio(value: float) -> float:
    """exp(``value``); +inf where it overflows, NaN for NaN.

    >>> exp_ratio(0.0), exp_ratio(1000.0), exp_ratio(-1000.0)
    (1.0, inf, 0.0)
    """
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf
