"""Saved figures: dense point layers become images in the PDF, sparse ones stay vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from killcurve.figures.save import DENSE_MARKS, save_figure


def _images(pdf: Path) -> int:
    """Image XObjects on the PDF's first page (raster layers)."""
    resources = PdfReader(pdf).pages[0]["/Resources"]
    xobjects = resources.get("/XObject", {})
    return sum(1 for ref in xobjects.values() if ref.get_object()["/Subtype"] == "/Image")


@pytest.mark.parametrize(("n", "images"), [(DENSE_MARKS // 2, 0), (DENSE_MARKS * 2, 1)])
def test_points_are_rasterised_only_above_the_limit(tmp_path: Path, n: int, images: int) -> None:
    from plotnine import aes, geom_point, ggplot

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.uniform(size=n), "y": rng.uniform(size=n)})
    pdf, png = tmp_path / "f.pdf", tmp_path / "f.png"
    save_figure(ggplot(frame, aes("x", "y")) + geom_point(), pdf, png, 3.0, 3.0, dpi=150)
    assert _images(pdf) == images
    # The PNG is the same picture either way: 3 in at 150 dpi.
    from PIL import Image

    assert Image.open(png).size == (450, 450)
