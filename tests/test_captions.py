"""Captions from one file: numbering order and placeholder errors."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from killcurve.errors import KillcurveInputError
from killcurve.report.captions import load_captions, number_figures


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    curves = pl.DataFrame(
        {"target": ["SHP-77", "K562", "K562"], "product": ["A", "A", "B"], "lot": ["1", "1", "2"],
         "plate_ids": ["P2", "P1", "P1;P3"], "n_points": [24, 24, 23], "model": "5pl",
         "ci_level": 0.9}
    )  # fmt: skip
    wells = pl.DataFrame(
        {"plate_id": ["P1", "P1", "P2", "P3"], "role": ["sample"] * 4,
         "target": ["K562", "K562", "SHP-77", "K562"], "excluded": [True, False, False, False]}
    )  # fmt: skip
    return curves, wells


def test_figures_are_numbered_in_caption_order_per_target() -> None:
    curves, wells = _frames()
    entries = number_figures(load_captions(), curves, wells, Path("f"), "abc123", str)
    assert [(e.number, e.id, e.title) for e in entries] == [
        (1, "curves", "K562: specific lysis against E:T ratio"),
        (2, "curves", "SHP-77: specific lysis against E:T ratio"),
        (3, "residuals", "K562: residuals of the curve fits"),
        (4, "residuals", "SHP-77: residuals of the curve fits"),
        (5, "plate_maps", "Plate maps: raw signal and specific lysis per well"),
    ]
    # K562: 2 curves, lots (A,1) and (B,2), plates P1 and P3, 47 wells, 1 excluded.
    assert "2 curves from 2 lots on 2 plates, 47 wells used, 1 excluded" in entries[0].caption
    assert "5PL fit per lot" in entries[0].caption and "90 % CI" in entries[0].caption
    assert entries[0].pdf == Path("f/curves_K562.pdf")
    assert entries[2].pdf == Path("f/residuals_K562.pdf")
    assert entries[4].caption.endswith("Provenance abc123.")


def test_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    captions = tmp_path / "captions.yaml"
    captions.write_text(
        "figures:\n  - id: curves\n    per: target\n    title: '{tagret}'\n    caption: x\n"
    )
    curves, wells = _frames()
    with pytest.raises(KillcurveInputError, match="unknown placeholder 'tagret'"):
        number_figures(load_captions(captions), curves, wells, Path("f"), "abc", str)
