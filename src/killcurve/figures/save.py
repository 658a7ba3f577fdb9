"""Saving figures reproducibly: vector PDF and 600 dpi PNG with fixed metadata."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

if TYPE_CHECKING:
    from plotnine import ggplot
    from plotnine.composition import Compose

#: Metadata written into every figure, so two runs give identical bytes.
PDF_METADATA = {"Creator": "killcurve", "Producer": "killcurve", "CreationDate": None}
PNG_METADATA = {"Software": "killcurve"}


def save_figure(
    plot: ggplot | Compose, pdf: Path, png: Path, width: float, height: float, dpi: int = 600
) -> None:
    """Draw ``plot`` once at ``width`` × ``height`` inches; write a PDF and a PNG at ``dpi``.

    Fonts are embedded in the PDF as TrueType (Type 42), not converted to paths.
    """
    # Imported here: the plate maps and the figure pack use only the metadata above, and
    # plotnine costs them 0.7 s of start-up each.
    from plotnine import theme

    sized = plot + theme(figure_size=(width, height), dpi=dpi)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        figure = sized.draw()
        figure.savefig(pdf, format="pdf", metadata=PDF_METADATA)
        figure.savefig(png, format="png", dpi=dpi, metadata=PNG_METADATA)
    matplotlib.pyplot.close(figure)
