"""The per-target figures' data: the residual figure's smoothing line
(:func:`killcurve.figures.residuals.lowess_lines`) and the frames handed to plotnine."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from killcurve.figures.frames import plot_frame
from killcurve.figures.residuals import LOWESS_SPAN, lowess_lines

ET = 40.0 * 2.0 ** -np.arange(8)


def _frame(residual: np.ndarray, panel: str = "d14 · fresh", product: str = "A") -> pl.DataFrame:
    x = np.repeat(ET, len(residual) // len(ET))
    return pl.DataFrame({"panel": panel, "product": product, "et_ratio": x, "residual": residual})


def test_a_straight_line_in_log_x_is_returned_exactly() -> None:
    # Local linear fits reproduce a line: residual = 1 + 2·log10(x) at every E:T, e.g.
    # x = 40: 1 + 2 × 1.60206 = 4.20412; x = 0.3125: 1 + 2 × (−0.50515) = −0.01030.
    x = np.repeat(ET, 3)
    lines = lowess_lines(_frame(1.0 + 2.0 * np.log10(x)))
    assert lines.height == 8  # one vertex per distinct E:T, not per well
    assert lines["et_ratio"].to_numpy() == pytest.approx(np.sort(ET), rel=1e-12)
    assert lines.sort("et_ratio")["residual"].to_list() == pytest.approx(
        (1.0 + 2.0 * np.log10(np.sort(ET))).tolist(), abs=1e-9
    )
    assert lines["residual"].max() == pytest.approx(4.20412, abs=1e-5)


def test_matches_statsmodels_lowess_per_panel_and_product() -> None:
    # The reference is what geom_smooth(method="lowess") computed: statsmodels' lowess on
    # log10 x over all of a group's wells with frac = 0.75 (plotnine's default span).
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    groups = [("p1", "A"), ("p1", "B"), ("p2", "A")]
    frame = pl.concat([_frame(rng.normal(0, 5, 24), p, q) for p, q in groups])
    lines = lowess_lines(frame.sample(fraction=1.0, shuffle=True, seed=3))
    assert LOWESS_SPAN == 0.75
    for panel, product in groups:
        wells = frame.filter((pl.col("panel") == panel) & (pl.col("product") == product))
        order = np.argsort(wells["et_ratio"].to_numpy(), kind="stable")
        x = np.log10(wells["et_ratio"].to_numpy()[order])
        y = wells["residual"].to_numpy()[order]
        reference = sm.nonparametric.lowess(y, x, frac=0.75, is_sorted=True)
        expected = dict(zip(np.round(reference[:, 0], 12), reference[:, 1], strict=False))
        got = lines.filter((pl.col("panel") == panel) & (pl.col("product") == product))
        assert got.height == 8
        for et, value in got.select("et_ratio", "residual").iter_rows():
            assert value == pytest.approx(expected[round(np.log10(et), 12)], abs=1e-9)


def test_a_group_at_one_x_gets_no_line() -> None:
    one_level = pl.DataFrame(
        {"panel": "p", "product": "A", "et_ratio": [10.0] * 3, "residual": [1.0, -1.0, 0.5]}
    )
    assert lowess_lines(one_level).height == 0
    assert lowess_lines(one_level).columns == ["panel", "product", "et_ratio", "residual"]


def test_plot_frame_hands_text_as_python_strings_and_draws_the_same_figure() -> None:
    from io import BytesIO

    import numpy as np
    from PIL import Image
    from plotnine import aes, facet_wrap, geom_point, ggplot, theme

    rng = np.random.default_rng(1)
    frame = _frame(rng.normal(0, 5, 48), "p1", "A").vstack(_frame(rng.normal(0, 5, 48), "p2", "B"))
    frame = frame.with_columns(pl.lit(None, pl.String).alias("note"))
    converted = plot_frame(frame)
    assert converted["product"].dtype == object and converted["note"].dtype == object
    assert converted["et_ratio"].dtype == np.float64
    assert converted["product"].tolist() == frame["product"].to_list()
    assert converted["note"].isna().all()

    def pixels(data: object) -> np.ndarray:
        plot = (
            ggplot(data, aes("et_ratio", "residual", colour="product"))
            + geom_point()
            + facet_wrap("panel")
            + theme(figure_size=(4, 2), dpi=100)
        )
        buffer = BytesIO()
        plot.save(buffer, format="png", verbose=False)
        return np.asarray(Image.open(buffer))

    assert (pixels(converted) == pixels(frame.to_pandas())).all()
