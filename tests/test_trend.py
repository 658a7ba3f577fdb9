"""Stage trend of potency against known answers."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from killcurve.stats.trend import TREND_COLUMNS, stage_trend

STAGES = ["d14", "d21", "harvest"]


def _curves(et50: dict[tuple[str, str], float], product: str = "A") -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"product": product, "lot": lot, "target": "K562", "stage": stage, "cryo": "fresh",
             "et50": value, "converged": True}
            for (lot, stage), value in et50.items()
        ]
    )  # fmt: skip


def test_one_lot_ols_slope_by_hand() -> None:
    # ln et50 = ln 8, ln 4, ln 2 at scores 0, 1, 2: exact halving per stage.
    table = stage_trend(
        _curves({("L1", "d14"): 8.0, ("L1", "d21"): 4.0, ("L1", "harvest"): 2.0}), STAGES
    )
    assert table.columns == list(TREND_COLUMNS)
    row = table.row(0, named=True)
    assert row["method"] == "ols" and row["n_stages"] == 3 and row["n_curves"] == 3
    assert row["estimate"] == pytest.approx(0.5)


def test_noisy_ols_interval_matches_textbook_regression() -> None:
    x = np.array([0, 1, 2, 0, 1, 2], dtype=float)
    y = np.array([2.1, 1.4, 0.8, 1.9, 1.5, 0.6])
    frame = pl.DataFrame(
        {"product": "A", "lot": "L1", "target": "K562", "stage": [STAGES[int(i)] for i in x],
         "cryo": "fresh", "et50": np.exp(y), "converged": True}
    )  # fmt: skip
    row = stage_trend(frame, STAGES).row(0, named=True)
    slope, _, _, p, se = stats.linregress(x, y)
    q = stats.t.ppf(0.975, 4)
    assert row["estimate"] == pytest.approx(np.exp(slope))
    assert row["lower"] == pytest.approx(np.exp(slope - q * se))
    assert row["p_value"] == pytest.approx(p)


def test_mixed_model_removes_lot_offsets() -> None:
    # Three lots, each 3-fold apart in general potency, all halving per stage (plus small noise):
    # the lot intercepts must not leak into the slope.
    rng = np.random.default_rng(5)
    et50 = {
        (lot, stage): base * 0.5**i * np.exp(rng.normal(0, 0.02))
        for lot, base in (("L1", 1.0), ("L2", 3.0), ("L3", 9.0))
        for i, stage in enumerate(STAGES)
    }
    row = stage_trend(_curves(et50), STAGES).row(0, named=True)
    assert row["method"] == "mixedlm_lot" and "random intercept per lot" in row["formula"]
    assert row["estimate"] == pytest.approx(0.5, rel=0.03)
    assert row["lower"] < 0.5 < row["upper"]
    assert row["upper"] / row["lower"] < 1.2


def test_unlisted_stages_are_left_out_and_counted() -> None:
    frame = _curves({("L1", "d14"): 8.0, ("L1", "d21"): 4.0, ("L1", "bulk"): 1.0})
    row = stage_trend(frame, ["d14", "d21"]).row(0, named=True)
    assert row["n_curves"] == 2 and "1 curves at stages not in" in row["notes"]
    assert row["estimate"] == pytest.approx(0.5) and row["lower"] is None
    assert "no residual df" in row["notes"]
    assert stage_trend(frame, ["d14"]).height == 0


def test_a_singular_lot_model_falls_back_to_ols_with_a_note() -> None:
    """Found by the whole-study generator (seed 1, studies 92-95): three lots, one of them at
    two stages; REML put the lot variance at zero and statsmodels' inversion of the singular
    information matrix raised LinAlgError, stopping the statistics step."""
    et50 = {("L1", "bulk"): 0.16779969514390067, ("L1", "d14"): 0.3489490794749248,
            ("L2", "d14"): 0.35039692342393175, ("L3", "d14"): 0.006900757407736441}  # fmt: skip
    curves = pl.DataFrame(
        [
            {"curve_id": f"P|{lot}|T|{stage}|post_thaw|R1", "product": "P", "lot": lot,
             "target": "T", "stage": stage, "cryo": "post_thaw", "batch": "R1", "et50": e,
             "converged": True}
            for (lot, stage), e in et50.items()
        ]
    )  # fmt: skip
    row = stage_trend(curves, ["bulk", "d14"]).row(0, named=True)
    assert row["method"] == "ols"
    assert row["notes"].startswith("the lot mixed model could not be fitted")
    # OLS of ln et50 on the stage score (0 bulk, 1 d14) by hand: slope = mean(d14) − bulk
    d14 = [math.log(et50[k]) for k in (("L1", "d14"), ("L2", "d14"), ("L3", "d14"))]
    slope = sum(d14) / 3 - math.log(et50[("L1", "bulk")])
    assert row["estimate"] == pytest.approx(math.exp(slope), rel=1e-9)
