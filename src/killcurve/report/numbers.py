"""Numbers and p-values as the report writes them: significant digits, percentages, hours, CIs."""

from __future__ import annotations

from killcurve.report.finite import finite_or_none

#: Wording of a multiplicity adjustment.
ADJUSTMENT_WORDS = {"holm": "Holm", "bonferroni": "Bonferroni", "fdr_bh": "BH-FDR"}


def num(value: float | None, digits: int = 2) -> str:
    """A number to ``digits`` significant digits, trailing zeros kept, no exponent.

    >>> num(0.30583), num(1.0), num(0.6), num(12.4), num(116.06, 3), num(None)
    ('0.31', '1.0', '0.60', '12', '116', '–')
    >>> num(float("inf")), num(float("nan"))
    ('–', '–')
    """
    value = finite_or_none(value)
    if value is None:
        return "–"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:.0f}"
    return f"{value:#.{digits}g}".rstrip(".")


def hours(value: float) -> str:
    """Hours after thaw as written on the axis: ``0 h``, ``24 h``, ``4.5 h``."""
    return f"{value:g} h"


def pct(value: float | None) -> str:
    """A percentage to one decimal: ``91.4 %``."""
    return "–" if value is None else f"{value:.1f} %"


def p_text(p: float | None, adjusted: str | None = None) -> str:
    """``p = 0.0015``, ``p < 0.001`` or ``Holm-adjusted p = 0.03``; empty when p is missing.

    >>> p_text(0.00146, "holm"), p_text(0.0000375), p_text(None)
    ('Holm-adjusted p = 0.0015', 'p < 0.001', '')
    """
    if p is None:
        return ""
    name = f"{ADJUSTMENT_WORDS.get(adjusted, adjusted)}-adjusted p" if adjusted else "p"
    return f"{name} < 0.001" if p < 0.001 else f"{name} = {num(p)}"


def _interval(lower: float | None, upper: float | None, level: float = 95) -> str:
    return f"{level:g} % CI {num(lower)}–{num(upper)}" if lower is not None else "no interval"
