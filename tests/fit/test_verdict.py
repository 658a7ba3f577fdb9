"""Per-curve verdicts (fit.verdict): each rule firing and not firing, on generated curves and
on named curves of the real PRAME study (examples/luminescence_prame_nut; the real ADCC
curves are judged in tests/test_adcc.py, the bundled example's in tests/test_example.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from killcurve.errors import KillcurveInputError
from killcurve.fit.curves import FitOptions, fit_curves
from killcurve.fit.verdict import VERDICTS, VerdictRules
from killcurve.pipeline import steps

from ..test_curves import ET, four_pl, wells_for

X = np.repeat(ET, 3)  # 40 … 0.3125, 8 two-fold levels in triplicate
PRAME = Path(__file__).resolve().parents[2] / "examples" / "luminescence_prame_nut"
ALL = VerdictRules(use=VERDICTS)


def _noisy(y: np.ndarray, seed: int, sd: float = 1.5) -> np.ndarray:
    return y + np.random.default_rng(seed).normal(0.0, sd, y.size)


@pytest.fixture(scope="module")
def generated() -> pl.DataFrame:
    """One curve per rule (lot = what it is), fitted with the default rules."""
    wells = wells_for(
        {
            "good": _noisy(four_pl(X, 1.0, 85.0, 3.0, 1.3), 1),
            "weak": _noisy(four_pl(X, 0.0, 30.0, 3.0, 1.3), 2),  # real but weak: plateau 30 %
            "five": _noisy(four_pl(X, 0.0, 5.5, 3.0, 1.3), 3, sd=0.8),  # 0 → 5 % lysis
            "flat": _noisy(np.full(X.size, 30.0), 4, sd=2.0),
            "beyond": _noisy(four_pl(X, 0.0, 90.0, 60.0, 1.5), 5),  # et50 above 40
        }
    )
    three = wells_for({"three": four_pl(np.repeat(ET[:3], 2), 0.0, 80.0, 10.0, 1.0)},
                      np.repeat(ET[:3], 2))  # fmt: skip
    return fit_curves(pl.concat([wells, three]))


def _row(curves: pl.DataFrame, lot: str) -> dict:
    return curves.filter(pl.col("lot") == lot).row(0, named=True)


def test_a_good_sigmoid_is_valid_and_keeps_its_et50(generated: pl.DataFrame) -> None:
    row = _row(generated, "good")
    assert (row["verdict"], row["verdict_reasons"], row["flags"]) == ("valid", [], [])
    assert row["et50"] == pytest.approx(3.0, rel=0.1)
    assert row["et50_lower"] < 3.0 < row["et50_upper"]
    assert row["top"] == pytest.approx(85.0, abs=3.0) and row["et50_bound"] is None


def test_a_curve_rising_to_5_percent_is_invalid_a_weak_real_one_is_valid(
    generated: pl.DataFrame,
) -> None:
    five, weak = _row(generated, "five"), _row(generated, "weak")
    assert five["max_mean_lysis"] < 7.0
    assert five["verdict"] == "invalid" and five["verdict_reasons"][0] == "below_min_efficacy"
    assert five["et50"] is None and five["et50_lower"] is None and five["et50_upper"] is None
    # plateau at 30 %: never reaches 50 % lysis, but its half-span point is well determined
    assert 27.0 < weak["max_mean_lysis"] < 33.0
    assert "never_reaches_50" in weak["flags"]
    assert (weak["verdict"], weak["verdict_reasons"]) == ("valid", [])
    assert weak["et50"] == pytest.approx(3.0, rel=0.25)


def test_a_flat_curve_is_invalid(generated: pl.DataFrame) -> None:
    row = _row(generated, "flat")
    assert row["verdict"] == "invalid" and "flat" in row["verdict_reasons"]
    assert "below_min_efficacy" not in row["verdict_reasons"]  # 30 % lysis, just no dose effect
    assert row["et50"] is None
    assert "flat" not in _row(generated, "good")["verdict_reasons"]


def test_an_et50_beyond_the_range_is_limited_and_stated_as_a_bound(
    generated: pl.DataFrame,
) -> None:
    row = _row(generated, "beyond")
    assert row["verdict"] == "limited"
    assert {"et50_above_range", "top_not_reached"} <= set(row["verdict_reasons"])
    assert row["et50"] is None and row["et50_bound"] == ">40"
    # no upper plateau: top, top_se and emax are not shown as numbers
    assert row["top"] is None and row["top_se"] is None and row["emax"] is None
    assert "top_not_estimable" in row["flags"]
    # 31.7 % lysis at E:T 40 (truth): the data's lower bound of top
    assert row["max_mean_lysis"] == pytest.approx(four_pl(40.0, 0.0, 90.0, 60.0, 1.5), abs=3.0)


def test_three_levels_cannot_identify_a_4pl(generated: pl.DataFrame) -> None:
    row = _row(generated, "three")
    assert row["fit_method"] == "none" and row["verdict"] == "invalid"
    assert row["verdict_reasons"] == ["too_few_levels", "few_points"]
    assert "too_few_levels" not in _row(generated, "good")["verdict_reasons"]


def test_use_and_the_lists_are_configurable() -> None:
    wells = wells_for(
        {
            "five": _noisy(four_pl(X, 0.0, 5.5, 3.0, 1.3), 3, sd=0.8),
            "beyond": _noisy(four_pl(X, 0.0, 90.0, 60.0, 1.5), 5),
        }
    )
    options = FitOptions.from_config({"verdict": {"use": ["valid", "limited"]}})
    beyond = _row(fit_curves(wells, options), "beyond")
    assert beyond["et50"] > 40.0 and beyond["et50_bound"] == ">40"
    # min_efficacy 3 %: the 0 → 5 % curve passes that rule (and is then limited)
    low = FitOptions.from_config({"verdict": {"min_efficacy": 3, "use": list(VERDICTS)}})
    five = _row(fit_curves(wells, low), "five")
    assert "below_min_efficacy" not in five["verdict_reasons"] and five["et50"] is not None
    # every estimate shown, and fit.withhold still empties flagged curves' et50
    old = fit_curves(wells, FitOptions(verdict=ALL, withhold=("top_not_reached",)))
    assert _row(old, "beyond")["et50"] is None and _row(old, "five")["et50"] is not None
    with pytest.raises(KillcurveInputError, match=r"fit\.verdict\.limited: .*ec50_above_range"):
        FitOptions.from_config({"verdict": {"limited": ["ec50_above_range"]}})
    with pytest.raises(KillcurveInputError, match=r"fit\.verdict\.use: .*usable"):
        FitOptions.from_config({"verdict": {"use": ["usable"]}})


@pytest.fixture(scope="module")
def prame(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """The real PRAME study's curves (exponential model, two E:T per curve), default rules."""
    out = tmp_path_factory.mktemp("prame")
    config = yaml.safe_load((PRAME / "config" / "config.yaml").read_text())
    steps.collect_wells(PRAME / "config" / "plates.tsv", PRAME, out / "w.parquet",
                        out / "qc.csv", {})  # fmt: skip
    steps.fit(out / "w.parquet", config["fit"], out / "c.csv", out / "c.parquet")
    return pl.read_parquet(out / "c.parquet")


def _named(curves: pl.DataFrame, curve_id: str) -> dict:
    return curves.filter(pl.col("curve_id") == curve_id).row(0, named=True)


def test_prame_curves_each_have_a_verdict(prame: pl.DataFrame) -> None:
    # every curve has two E:T (1:1, 5:1): few_points, so none is valid
    assert prame.height == 56
    counts = dict(prame["verdict"].value_counts().iter_rows())
    assert counts == {"limited": 29, "invalid": 27}
    assert prame["verdict_reasons"].list.contains("few_points").sum() == 48


def test_prame_named_curves(prame: pl.DataFrame) -> None:
    donor = "T cells (donor not stated)"
    allo = "allogeneic T cells (donor not stated)"
    # all wells excluded (no controls on that plate): no usable points
    none = _named(prame, f"+CD3/CD28, +PDL1|{allo}|10-15|-|-|allogeneic")
    assert none["verdict_reasons"] == ["no_usable_points"] and none["verdict"] == "invalid"
    # T cells without engager on A549: survival above the tumour-only control, −22.9 % lysis
    neg = _named(prame, f"-CD3/CD28, +PDL1|{allo}|A549|-|-|allogeneic")
    assert neg["max_mean_lysis"] == pytest.approx(-22.945291, abs=1e-5)
    assert neg["verdict_reasons"] == [
        "below_min_efficacy", "not_converged", "flat", "few_points", "negative_lysis"
    ]  # fmt: skip
    # 1015 at 48 h: 45 % lysis at 5:1 (above min efficacy), but the fit runs off (top 8,524 %)
    runaway = _named(prame, f"T cells|{donor}|1015|-|-|48h")
    assert runaway["max_mean_lysis"] == pytest.approx(45.075128, abs=1e-5)
    assert runaway["verdict"] == "invalid"
    assert runaway["verdict_reasons"] == ["not_converged", "top_not_reached", "few_points"]
    assert runaway["top"] is None and "top_not_estimable" in runaway["flags"]
    # engager + T cells on 797 at 48 h: 93.5 % lysis, converged; only two E:T: limited
    strong = _named(prame, f"T cells + engager|{donor}|797|-|-|48h")
    assert strong["max_mean_lysis"] == pytest.approx(93.503648, abs=1e-5)
    assert (strong["verdict"], strong["verdict_reasons"]) == ("limited", ["few_points"])
    assert strong["top"] == pytest.approx(104.281504, abs=1e-4)
    assert strong["lu20"] is None and strong["lu20_upper"] is None  # not used: no lytic units


def test_the_methods_state_the_configured_rules() -> None:
    from killcurve.report.methods import verdict_methods

    default = verdict_methods(None)
    assert "invalid with any of no_usable_points, too_few_levels, not_converged, flat, " \
        "below_min_efficacy;" in default  # fmt: skip
    assert "below 20 %" in default and "whose verdict is valid keep an et50" in default
    text = verdict_methods({"use": ["valid", "limited"], "min_efficacy": 15, "limited": []})
    assert "below 15 %" in text and "whose verdict is valid or limited keep" in text
    assert "otherwise limited with any of none;" in text
