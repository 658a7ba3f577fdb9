"""Saving figures reproducibly: vector PDF and 600 dpi PNG with fixed metadata."""

from __future__ import annotations

from pathlib import Path

from plotnine import ggplot

#: Metadata written into every figure, so two runs give identical bytes.
PDF_METADATA = {"Creator": "killcurve", "Producer": "killcurve", "CreationDate": None}
PNG_METADATA = {"Software": "killcurve"}


def save_figure(
    plot: ggplot, pdf: Path, png: Path, width: float, height: float, dpi: int = 600
) -> None:
    """Write ``plot`` as a PDF (fonts embedded as Type 42) and a PNG at ``dpi``; sizes in inches."""
    import matplotlib

    with matplotlib.rc_context({"pdf.fonttype": 42, "svg.hashsalt": "killcurve"}):
        plot.save(pdf, width=width, height=height, verbose=False, metadata=PDF_METADATA)
        plot.save(png, width=width, height=height, dpi=dpi, verbose=False, metadata=PNG_METADATA)
