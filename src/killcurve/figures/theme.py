"""The one plotnine theme and palette every killcurve figure uses.

Sizes follow journal column widths (single 3.5 in, double 7.2 in). Product
colours come from the Okabe–Ito colour-blind-safe palette and are fixed per
product name across all figures of a study.
"""

from __future__ import annotations

from collections.abc import Sequence

from plotnine import element_blank, element_rect, element_text, theme, theme_bw

#: Okabe & Ito (2008) colour-blind-safe palette, black omitted.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
#: Figure widths in inches.
SINGLE_COLUMN_IN = 3.5
DOUBLE_COLUMN_IN = 7.2


def product_colours(
    products: Sequence[str], order: Sequence[str] = (), palette: Sequence[str] = OKABE_ITO
) -> dict[str, str]:
    """Fixed colour per product from ``palette`` (cycled): products in ``order`` first, then
    the rest sorted."""
    ranked = [p for p in order if p in set(products)] + sorted(set(products) - set(order))
    return {p: palette[i % len(palette)] for i, p in enumerate(ranked)}


class theme_killcurve(theme_bw):  # plotnine themes are lower-case by convention
    """Black-and-white base with light grid, legend at the bottom, 8-pt text."""

    def __init__(self, base_size: float = 8, base_family: str | None = "DejaVu Sans") -> None:
        super().__init__(base_size=base_size, base_family=base_family)
        self += theme(
            legend_position="bottom",
            legend_title=element_text(size=base_size),
            panel_grid_minor=element_blank(),
            strip_background=element_rect(fill="#EEEEEE"),
            plot_title=element_text(size=base_size + 1, ha="left"),
        )
