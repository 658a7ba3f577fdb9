"""Time-resolved plates: addition, normalisation, % lysis per time point and metrics against
a study whose % lysis is known exactly (tests/timecourse/known.py), computed by hand here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from killcurve.assay import timecourse as tc
from killcurve.errors import KillcurveInputError
from killcurve.fit import kinetics
from killcurve.fit.curves import FitOptions, fit_curves
from killcurve.io.samplesheet import read_samplesheet
from killcurve.pipeline.timecourse import timecourse_tables
from killcurve.study.timecourse import load_points

from . import known

#: Hours after addition of the sweeps from the addition on (addition at sweep 4.0 h).
T_AFTER = [0.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]


def points_of(study: Path) -> pl.DataFrame:
    return load_points(read_samplesheet(study / "config/plates.tsv"), study)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return known.write_study(tmp_path, {"P1": ("A", "L1")})


def test_addition_from_the_pause_and_lysis_at_every_time_point(study: Path) -> None:
    points = points_of(study)
    # the 3 h pause after the 4 h sweep marks the addition; t = hours after it
    assert points["addition_h"].unique().to_list() == [4.0]
    after = points.filter(pl.col("t_h") >= 0)
    assert sorted(after["t_h"].unique().to_list()) == T_AFTER
    assert (
        points.filter(pl.col("t_h") < 0)["pct_lysis"].null_count() == 4 * 18  # 4 sweeps × 18 wells
    )  # 4 sweeps × 21 wells
    # B1: seed 1.05, E:T 20 (30 %/h, capped at 90 %); at 7 h since the first sweep (t = 3 h)
    # CI = 1.05 · 1.35 · (1 − 0.9) = 0.14175, at addition 1.05 · 1.2 = 1.26:
    # nCI = 0.1125; targets alone nCI = 1.35/1.2 = 1.125; % lysis = 100 (1 − 0.1125/1.125) = 90
    b1 = after.filter((pl.col("well") == "B1") & (pl.col("t_h") == 3.0)).row(0, named=True)
    assert b1["signal"] == pytest.approx(0.14175, rel=1e-9)
    assert b1["norm_signal"] == pytest.approx(0.1125, rel=1e-9)
    assert b1["pct_lysis"] == pytest.approx(90.0, abs=1e-9)
    # every sample well: L(t) = min(90, rate · t) exactly
    samples = after.filter(pl.col("role") == "sample")
    rates = samples["et_ratio"].replace_strict(known.RATES, return_dtype=pl.Float64)
    expected = np.minimum(90.0, rates.to_numpy() * samples["t_h"].to_numpy())
    assert np.allclose(samples["pct_lysis"].to_numpy(), expected, atol=1e-9)
    # targets alone average 0 %; each well at addition is normalised to 1
    assert after.filter(pl.col("t_h") == 0)["norm_signal"].to_list() == pytest.approx(
        [1.0] * after.filter(pl.col("t_h") == 0).height
    )


def test_metrics_by_hand(study: Path) -> None:
    m = kinetics.metrics(points_of(study), [2.0, 5.0]).sort("et_ratio")
    assert m["et_ratio"].to_list() == [1.25, 2.5, 5.0, 10.0, 20.0]
    assert m["n_wells"].to_list() == [3] * 5
    # t50: linear between sweeps: E:T 20 0 → 90 over 0–3 h: 50/90·3 = 1.6667 h; E:T 10
    # 0 → 60: 2.5 h; E:T 5 48 (4 h) → 60 (5 h): 4 + 2/12; E:T 2.5 48 (6 h) → 56 (7 h): 6.25;
    # E:T 1.25 reaches 30 % only: censored at the last time point, 10 h.
    assert m["t50_h"].to_list()[1:] == pytest.approx([6.25, 4 + 2 / 12, 2.5, 5 / 3])
    assert m["t50_h"][0] is None and m["t50_bound"].to_list() == [">10.0", *[None] * 4]
    # AUC (trapezoid over 0, 3, 4, …, 10 h): E:T 10: (0+60)/2·3 + (60+80)/2 + (80+90)/2 + 5·90
    # = 695; E:T 20: 135 + 7·90 = 765; E:T 5: 54+42+54+66+78+87+90+90 = 561 (%·h)
    assert m["auc_pct_h"].to_list()[2:] == pytest.approx([561.0, 695.0, 765.0])
    # at 2 h: linear between 0 and 3 h: E:T 10 → 40, E:T 20 → 60; at 5 h E:T 5 → 60
    assert m["pct_lysis_at_2h"].to_list()[3:] == pytest.approx([40.0, 60.0])
    assert m["pct_lysis_at_5h"][2] == pytest.approx(60.0)
    assert m["sd_at_5h"].to_list() == pytest.approx([0.0] * 5, abs=1e-9)
    assert m["t_last_h"].unique().to_list() == [10.0]
    assert m["curve_id"].unique().to_list() == ["A|L1|SHP-77|-|fresh|B1"]


def test_an_overflow_read_leaves_only_that_time_point_out(study: Path) -> None:
    data = study / "config/data/P1.csv"
    # C1 (E:T 10) at 9 h since the first sweep (5 h after addition) overflows
    data.write_text(data.read_text().replace("\nC1,9,", "\nC1,9,OVRFLW\nX", 1).replace(
        "\nX", "\n#", 1))  # fmt: skip
    text = data.read_text().splitlines()
    data.write_text("\n".join(line for line in text if not line.startswith("#")) + "\n")
    points = points_of(study)
    c1 = points.filter((pl.col("well") == "C1") & (pl.col("t_h") == 5.0)).row(0, named=True)
    assert (c1["flag"], c1["excluded"], c1["exclusion_reason"]) == ("overflow", True, "overflow")
    assert c1["pct_lysis"] is None
    # at 5 h C1 is interpolated between its 4 h (80 %) and 6 h (90 %) reads: 85 %
    at5 = tc.well_values_at(points, 5.0)
    c1_at5 = at5.filter(pl.col("well") == "C1").row(0, named=True)
    assert (c1_at5["pct_lysis"], c1_at5["excluded"]) == (pytest.approx(85.0), False)
    # the group mean at 5 h takes C1 interpolated from its neighbours: (85 + 90 + 90)/3
    curves = kinetics.mean_curves(points).filter(
        (pl.col("et_ratio") == 10.0) & (pl.col("t_h") == 5.0)
    )
    assert curves["mean"].to_list() == pytest.approx([265 / 3])
    assert curves["n"].to_list() == [3]


def test_release_readout_uses_each_time_points_controls(tmp_path: Path) -> None:
    study = known.write_study(tmp_path, {"R1": ("A", "L1")}, readout="release", addition="4 h")
    points = points_of(study).filter(pl.col("t_h") >= 0)
    # no normalisation for a death signal: norm_signal is the reading
    assert (points["norm_signal"] == points["signal"]).all()
    # D2 (E:T 5) at 7 h: T = 107, S = 107 + 893 · 0.36 = 428.48 → 100 (S − T)/(M − T) = 36
    d2 = points.filter((pl.col("well") == "D2") & (pl.col("t_h") == 3.0)).row(0, named=True)
    assert d2["signal"] == pytest.approx(428.48)
    assert d2["pct_lysis"] == pytest.approx(36.0, abs=1e-9)
    assert points.filter(pl.col("role") == "max_lysis")["pct_lysis"].to_list() == pytest.approx(
        [100.0] * 27
    )


def test_plates_read_at_other_times_join_one_mean_curve(tmp_path: Path) -> None:
    study = known.write_study(tmp_path, {"P1": ("A", "L1"), "P2": ("A", "L1")})
    # P2 read at other times after the pause (t = 0, 3.5, 4.5, … 10.5 h after addition): its
    # wells are interpolated onto P1's times; L is linear between P2's reads (the E:T 10 cap
    # at 4.5 h is a P2 read), so the interpolated values are L exactly
    later = np.concatenate([known.SWEEPS[:5], known.SWEEPS[5:] + 0.5])
    (study / "config/data/P2.csv").write_text(known.plate_csv(sweeps=later))
    points = points_of(study)
    assert points.filter(pl.col("plate_id") == "P2")["t_h"].max() == 10.5
    curve = kinetics.mean_curves(points).filter(pl.col("et_ratio") == 10.0)
    # both plates follow the same L(t after addition): the mean is L on P1's grid, 6 wells
    assert curve["t_h"].to_list() == T_AFTER
    assert curve["mean"].to_list() == pytest.approx([min(90.0, 20 * t) for t in T_AFTER])
    assert curve["n"].to_list() == [6] * len(T_AFTER)
    metrics = kinetics.metrics(points, [2.0])
    assert metrics.filter(pl.col("et_ratio") == 10.0)["plate_ids"].to_list() == ["P1;P2"]


def test_curves_at_each_time_are_the_endpoint_fits_of_the_wells_at_that_time(
    tmp_path: Path,
) -> None:
    study = known.write_study(
        tmp_path, {"P1": ("A", "L1"), "P2": ("B", "L2")}, config_extra="  level_pct: 40\n"
    )
    config = yaml.safe_load((study / "config/config.yaml").read_text())
    tables = timecourse_tables(study, config)
    curves = tables["curves"]
    assert sorted(curves["t_h"].unique().to_list()) == [2.0, 5.0]
    assert {"verdict", "verdict_reasons", "et50", "flags"} <= set(curves.columns)
    at5 = tc.well_values_at(tables["timecourse"], 5.0)
    direct = fit_curves(at5, FitOptions()).sort("curve_id")
    mine = curves.filter(pl.col("t_h") == 5.0).drop("t_h").sort("curve_id")
    assert mine.select("curve_id", "et50", "top", "hill").equals(
        direct.select("curve_id", "et50", "top", "hill")
    )
    # level_pct 40: E:T 10 crosses 40 % at 2.0 h (0 → 60 over 0–3 h)
    metrics = tables["metrics"].filter(pl.col("et_ratio") == 10.0)
    assert metrics["t50_h"].to_list() == pytest.approx([2.0, 2.0])
    # the two products kill alike: t50 ratio 1 at every E:T that crosses 40 %, one curve each
    t50 = tables["comparisons"].filter(pl.col("metric") == "t50_ratio")
    assert sorted(t50["et_ratio"].to_list()) == [1.25, 2.5, 5.0, 10.0, 20.0]
    reached = t50.filter(pl.col("estimate").is_not_null())
    assert reached["estimate"].to_list() == pytest.approx([1.0] * 4)
    assert set(reached["method"].to_list()) == {"ratio_of_t50"}
    et50 = tables["comparisons"].filter(pl.col("metric") == "et50_ratio")
    assert sorted(et50["t_h"].unique().to_list()) == [2.0, 5.0]
    # QC at each configured time per plate
    # QC at each configured time per plate, from the read nearest it (2 h → the 3 h read)
    assert tables["qc"].select("plate_id", "t_h", "read_t_h").rows() == [
        ("P1", 2.0, 3.0), ("P1", 5.0, 5.0), ("P2", 2.0, 3.0), ("P2", 5.0, 5.0)
    ]  # fmt: skip


def test_untitrated_conditions_get_metrics_and_no_curve(tmp_path: Path) -> None:
    study = known.write_study(tmp_path, {"P1": ("A", "L1")})
    layout = study / "config/layouts/P1.toml"
    layout.write_text(layout.read_text().replace("et_ratio = 20\n", ""))
    points = points_of(study)
    untitrated = kinetics.metrics(points, [2.0]).filter(pl.col("et_ratio").is_null())
    assert untitrated["t50_h"].to_list() == pytest.approx([5 / 3])
    config = yaml.safe_load((study / "config/config.yaml").read_text())
    curves = timecourse_tables(study, config)["curves"]
    assert curves["n_et"].max() == 4  # the untitrated wells are not on any curve


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("addition", "pause"), None),
        (("addition", "2.5 h"), None),
        (("addition", "99 h"), "addition 99 h is outside the reads"),
        (("addition", "soon"), "does not match"),
    ],
)
def test_addition_choices(tmp_path: Path, edit: tuple[str, str], message: str | None) -> None:
    study = known.write_study(tmp_path, {"P1": ("A", "L1")}, addition=edit[1])
    if message == "does not match":  # the schema refuses it before the run (workflow)
        from killcurve.config import samplesheet_errors

        sheet = read_samplesheet(study / "config/plates.tsv")
        assert "column addition" in samplesheet_errors(sheet.iter_rows(named=True), "s")[0]
        return
    if message:
        with pytest.raises(KillcurveInputError, match=message):
            points_of(study)
        return
    points = points_of(study)
    expected = 4.0 if edit[1] == "pause" else 2.0  # last sweep at or before 2.5 h
    assert points["addition_h"].unique().to_list() == [expected]


def test_no_pause_and_an_endpoint_file_are_refused(tmp_path: Path) -> None:
    study = known.write_study(tmp_path, {"P1": ("A", "L1")})
    even = known.plate_csv(sweeps=np.arange(0.0, 13.0))
    (study / "config/data/P1.csv").write_text(even)
    with pytest.raises(KillcurveInputError, match="plate P1: addition is 'pause' but no pause"):
        points_of(study)
    one = "\n".join(line for line in even.splitlines() if line.split(",")[1] in ("time_h", "0"))
    (study / "config/data/P1.csv").write_text(one + "\n")
    with pytest.raises(KillcurveInputError, match=r"plate P1: time is 'all'.*one time point"):
        points_of(study)


def test_a_well_without_a_reading_at_addition_is_excluded_whole(study: Path) -> None:
    data = study / "config/data/P1.csv"
    data.write_text(data.read_text().replace("\nB2,4,", "\nB2,4,0\n#", 1))
    data.write_text(
        "\n".join(line for line in data.read_text().splitlines() if not line.startswith("#")) + "\n"
    )
    points = points_of(study)
    b2 = points.filter(pl.col("well") == "B2")
    assert b2["excluded"].all()
    assert set(b2["exclusion_reason"].to_list()) == {tc.NO_BASELINE}
    assert kinetics.metrics(points, [2.0]).filter(pl.col("et_ratio") == 20.0)["n_wells"][0] == 2


def test_check_reads_time_resolved_plates_and_their_products(tmp_path: Path) -> None:
    from killcurve.pipeline.check import check_study

    study = known.write_study(tmp_path, {"P1": ("A", "L1"), "P2": ("B", "L2")})
    result = check_study(study)
    assert result.ok, result.problems
    assert "time-resolved plates: 2 of 2 read, 26 time points" in result.summary
    (study / "config/data/P2.csv").write_text(known.plate_csv().replace("\nC2,7,", "\nC2,7,x", 1))
    result = check_study(study)
    assert [p for p in result.problems if "plate P2 well C2 (sample) at 7 h" in p]
