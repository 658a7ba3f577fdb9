"""Saved figures: dense point layers become images in the PDF, sparse ones stay vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from killcurve.figures.save import DENSE_MARKS, DENSE_RASTER_DPI, save_figure


def _image_widths(pdf: Path) -> list[int]:
    """Widths (pixels) of the image XObjects on the PDF's first page (raster layers)."""
    resources = PdfReader(pdf).pages[0]["/Resources"]
    xobjects = [ref.get_object() for ref in resources.get("/XObject", {}).values()]
    return [int(x["/Width"]) for x in xobjects if x["/Subtype"] == "/Image"]


def _images(pdf: Path) -> int:
    """Image XObjects on the PDF's first page (raster layers)."""
    return len(_image_widths(pdf))


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


def test_dense_layers_are_rasterised_at_300_dpi_when_the_png_has_600(tmp_path: Path) -> None:
    from plotnine import aes, geom_point, ggplot

    rng = np.random.default_rng(2)
    # Points spread over the whole unit square: the raster spans the panel's data area.
    frame = pd.DataFrame(
        {"x": rng.uniform(size=4 * DENSE_MARKS), "y": rng.uniform(size=4 * DENSE_MARKS)}
    )
    frame.loc[:3, ["x", "y"]] = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]
    pdf, png = tmp_path / "f.pdf", tmp_path / "f.png"
    save_figure(ggplot(frame, aes("x", "y")) + geom_point(), pdf, png, 3.0, 3.0, dpi=600)
    (width,) = _image_widths(pdf)
    from PIL import Image

    assert Image.open(png).size == (1800, 1800)
    # The panel is under 3 in wide; at 300 dpi its raster is under 900 px, at 600 over.
    assert 0.5 * 900 < width < 900
    assert DENSE_RASTER_DPI == 300
