"""Time-resolved impedance killing: % cytolysis by hand on real exports, metrics on known curves."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from killcurve.assay import timecourse as tc
from killcurve.cli.main import main
from killcurve.cli.timecourse import run_timecourse
from killcurve.errors import KillcurveInputError
from killcurve.figures.timecourse import plot_timecourse
from killcurve.io.rtca import annotate_layout, read_rtca

from .conftest import REPO
from .test_rtca import MAPPING, P1, P2, write_rtca


@pytest.fixture(scope="module")
def real() -> pl.DataFrame:
    """Both CARRGODEX plates, annotated with the example study's mapping (plates P1, P2)."""
    if not (P1.is_file() and P2.is_file()):
        pytest.skip(f"reference data {P1.parent} is absent (../shared beside the checkout)")
    frames = []
    for plate, path in (("P1", P1), ("P2", P2)):
        export = read_rtca(path)
        wells = annotate_layout(export.layout, MAPPING, str(path))
        frames.append(export.data.join(wells, on="well").with_columns(plate=pl.lit(plate)))
    return pl.concat(frames)


def test_effector_addition_is_the_sweep_before_the_longest_pause(real: pl.DataFrame) -> None:
    # Both exports pause ~1.3 h after sweep 94: P1 'Cell Index at: 23:48:00' → 25:04:58,
    # P2 23:47:51 → 25:04:25 (the seeding pause 0:15 → 1:17 is shorter).
    found = tc.addition_sweeps(real, {"P1": None, "P2": None}).sort("plate")
    assert found["addition_sweep"].to_list() == [94, 94]
    assert found["addition_h"].to_list() == pytest.approx([23.8, 23 + 47 / 60 + 51 / 3600])
    # Configured: the last sweep at or before the time (P2 sweep 95 is 25:04:25 = 25.074 h,
    # sweep 96 is after 25.1 h).
    given = tc.addition_sweeps(real, {"P1": 24.0, "P2": 25.1}).sort("plate")
    assert given["addition_sweep"].to_list() == [94, 95]


def test_pct_cytolysis_by_hand_on_the_real_exports(real: pl.DataFrame) -> None:
    additions = tc.addition_sweeps(real, {"P1": None, "P2": None})
    timecourse = tc.pct_cytolysis(tc.normalise(real, additions))
    # P1 well B1 (PBT1 + 2,500 CAR-T, E:T 1:4, no dexamethasone) at sweep 300
    # ('Cell Index at: 76:21:21', t = 76.355833 − 23.8 = 52.555833 h after addition).
    # CI from the sheet (sweep 94 → sweep 300): B1 0.7688 → 0.2815; target-alone A1
    # 0.7527 → 2.3739, A2 0.8044 → 2.6468.
    #   nCI_B1 = 0.2815/0.7688 = 0.366155;  nCI_A1 = 2.3739/0.7527 = 3.153846;
    #   nCI_A2 = 2.6468/0.8044 = 3.290403;  mean target-alone = 3.222124
    #   % cytolysis = 100 × (1 − 0.366155/3.222124) = 88.6362 %
    # P2 well G12 (PBT4 + 2,500 CAR-T + dexamethasone 1 µg/mL) at sweep 300
    # ('Cell Index at: 76:21:44', t = 76.362222 − 23.7975 = 52.564722 h): G12 0.4646 → 0.1046;
    # target-alone with the same dose H11 0.5093 → 1.6789, H12 0.5711 → 1.7583.
    #   nCI_G12 = 0.225140;  nCI_H11 = 3.296485;  nCI_H12 = 3.078795;  mean = 3.187640
    #   % cytolysis = 100 × (1 − 0.225140/3.187640) = 92.9371 %
    at = timecourse.filter(pl.col("sweep") == 300)
    b1 = at.filter((pl.col("plate") == "P1") & (pl.col("well") == "B1")).row(0, named=True)
    g12 = at.filter((pl.col("plate") == "P2") & (pl.col("well") == "G12")).row(0, named=True)
    assert b1["t_h"] == pytest.approx(52.555833, abs=1e-6)
    assert b1["nci_target_alone"] == pytest.approx(3.222124, abs=1e-6)
    assert b1["pct_cytolysis"] == pytest.approx(88.6362, abs=1e-4)
    assert g12["t_h"] == pytest.approx(52.564722, abs=1e-6)
    assert g12["pct_cytolysis"] == pytest.approx(92.9371, abs=1e-4)
    # The same number asked for "at 52.555833 h" (a sweep time: interpolation is exact there).
    values = tc.well_values_at(timecourse.filter(pl.col("plate") == "P1"), b1["t_h"])
    assert values.filter(pl.col("well") == "B1")["pct_cytolysis"][0] == pytest.approx(
        88.6362, abs=1e-4
    )
    # Before addition there is no % cytolysis; at addition nCI = 1 in every well.
    assert timecourse.filter(pl.col("t_h") < 0)["pct_cytolysis"].null_count() > 0
    assert timecourse.filter(pl.col("t_h") == 0)["nci"].unique().to_list() == [1.0]


def known_course() -> pl.DataFrame:
    """Sweeps every 0.5 h up to 10 h, a 2 h pause, then hourly up to t = 100 h after addition.

    Target-alone wells grow, nCI_TA(t) = 1 + 0.01 t; group "fast" (E:T 1) has
    nCI = nCI_TA × (1 − t/100), so % cytolysis = t exactly; group "slow" (E:T 0.1) has
    % cytolysis = 0.4 t. Wells differ in CI at addition (normalisation removes it).
    """
    pre = np.arange(0.0, 10.01, 0.5)
    post = np.arange(2.0, 100.01, 1.0)
    time_h = np.concatenate([pre, 10.0 + post])
    t = np.clip(time_h - 10.0, 0.0, None)
    wells = {  # well: (role, et_ratio, CI at addition, fraction killed per % of t)
        "A1": ("target_only", 0.0, 2.0, 0.0),
        "A2": ("target_only", 0.0, 1.0, 0.0),
        "B1": ("sample", 1.0, 1.5, 1.0),
        "B2": ("sample", 1.0, 3.0, 1.0),
        "C1": ("sample", 0.1, 1.0, 0.4),
        "C2": ("sample", 0.1, 0.5, 0.4),
    }
    rows = []
    for well, (role, et, ci0, rate) in wells.items():
        ci = ci0 * (1 + 0.01 * t) * (1 - rate * t / 100)
        for sweep, (hours, value) in enumerate(zip(time_h, ci, strict=True), start=1):
            rows.append(
                {"plate": "P", "sweep": sweep, "time_h": float(hours), "well": well,
                 "cell_index": float(value), "target": "T", "role": role,
                 "effector": None if role == "target_only" else "CAR", "et_ratio": et,
                 "treatment": "none", "treatment_conc": 0.0}
            )  # fmt: skip
    return pl.DataFrame(rows, infer_schema_length=None)


def test_metrics_on_known_curves() -> None:
    data = known_course()
    additions = tc.addition_sweeps(data, {"P": None})
    assert additions.row(0, named=True)["addition_h"] == 10.0  # last sweep before the 2 h pause
    course = tc.pct_cytolysis(tc.normalise(data, additions))
    metrics = tc.metrics(course, [24, 37.5, 150]).sort("et_ratio")
    slow, fast = metrics.row(0, named=True), metrics.row(1, named=True)
    # fast: % cytolysis = t → 24 % at 24 h, 37.5 % at 37.5 h (between sweeps 37 and 38 h),
    # null beyond the last sweep (100 h); t50 = 50 h; AUC = ∫₀¹⁰⁰ t dt = 100²/2 = 5000 %·h
    # (the trapezoid rule is exact on a straight line, also across the 0 → 2 h first step).
    assert fast["pct_cytolysis_at_24h"] == pytest.approx(24.0)
    assert fast["pct_cytolysis_at_37.5h"] == pytest.approx(37.5)
    assert fast["pct_cytolysis_at_150h"] is None
    assert fast["sd_at_24h"] == pytest.approx(0.0, abs=1e-9)
    assert (fast["t50_h"], fast["t50_censored"], fast["t50_text"]) == (
        pytest.approx(50.0),
        False,
        "50",
    )
    assert fast["auc_pct_h"] == pytest.approx(5000.0)
    assert (fast["n_wells"], fast["t_last_h"]) == (2, 100.0)
    # slow: 0.4 t → 9.6 % at 24 h; tops out at 40 % < 50 %: t50 censored at t_last = 100 h;
    # AUC = 0.4 × 5000 = 2000 %·h.
    assert slow["pct_cytolysis_at_24h"] == pytest.approx(9.6)
    assert (slow["t50_h"], slow["t50_censored"], slow["t50_text"]) == (None, True, ">100")
    assert slow["auc_pct_h"] == pytest.approx(2000.0)


def test_crossing_and_interpolation_by_hand() -> None:
    t = np.array([0.0, 3.0, 6.0, 9.0])
    y = np.array([-5.0, 30.0, 70.0, 40.0])
    # First crossing between 3 h (30 %) and 6 h (70 %): 3 + (50 − 30) × 3/(70 − 30) = 4.5 h.
    assert tc.crossing_time(t, y) == pytest.approx(4.5)
    # At 7 h: 70 + (40 − 70) × (7 − 6)/3 = 60 %.
    assert tc.value_at(t, y, 7.0) == pytest.approx(60.0)
    # Trapezoids: 3 × (−5 + 30)/2 + 3 × (30 + 70)/2 + 3 × (70 + 40)/2 = 37.5 + 150 + 165.
    assert tc.auc(t, y) == pytest.approx(352.5)


def test_welch_t_at_a_configured_time() -> None:
    rows = []
    for well, et, value in (
        ("B1", 1.0, 60.0),
        ("B2", 1.0, 64.0),
        ("C1", 0.5, 40.0),
        ("C2", 0.5, 42.0),
    ):
        for sweep, (t, y) in enumerate(((0.0, 0.0), (20.0, 2 * value)), start=1):
            rows.append(
                {"plate": "P", "target": "T", "effector": "CAR", "et_ratio": et,
                 "treatment": "none", "treatment_conc": 0.0, "well": well, "role": "sample",
                 "sweep": sweep, "t_h": t, "pct_cytolysis": y}
            )  # fmt: skip
    out = tc.compare_at(pl.DataFrame(rows), "et", 10.0, "et_ratio", 0.5, ["target"])
    row = out.row(0, named=True)
    # At 10 h each well is half-way to 2 × value: test [60, 64], reference [40, 42].
    # Means 62 and 41; variances 8 and 2; SE = √(8/2 + 2/2) = √5;
    # t = 21/√5 = 9.39149; Welch df = (4 + 1)²/(4²/1 + 1²/1) = 25/17 = 1.47059.
    assert (row["level"], row["reference"], row["n_test"], row["n_ref"]) == ("1.0", "0.5", 2, 2)
    assert row["difference"] == pytest.approx(21.0)
    assert row["t"] == pytest.approx(21 / math.sqrt(5))
    assert row["df"] == pytest.approx(25 / 17)
    assert 0.01 < row["p"] < 0.05 and row["p_holm"] == row["p"]


def test_bad_time_courses_say_what_and_where() -> None:
    with pytest.raises(KillcurveInputError, match=r"plate P2: no pause.*effector_addition_h"):
        tc.detect_addition([0.0, 1.0, 2.0, 3.0, 4.0], "plate P2")
    data = known_course()
    additions = tc.addition_sweeps(data, {"P": None})
    no_alone = tc.normalise(data.filter(pl.col("role") == "sample"), additions)
    with pytest.raises(KillcurveInputError, match=r"plate P well B1: no target-alone well"):
        tc.pct_cytolysis(no_alone)
    with pytest.raises(KillcurveInputError, match=r"effector_addition_h = 500 h is outside"):
        tc.addition_sweeps(data, {"P": 500.0})


def test_figure_panels_and_bands() -> None:
    data = known_course()
    course = tc.pct_cytolysis(tc.normalise(data, tc.addition_sweeps(data, {"P": None})))
    curves = tc.group_curves(course)
    plot = plot_timecourse(curves, "ng/mL")
    frame = plot.data
    assert list(frame["E:T"].cat.categories) == ["1:1", "1:10"]
    assert list(frame["panel"].cat.categories) == ["none"]
    fast = frame[frame["E:T"] == "1:1"]
    assert np.allclose(fast["mean"], fast["t_h"])  # % cytolysis = t on the known curve
    assert np.allclose(fast["high"] - fast["low"], 0.0)  # identical wells: SD 0
    assert plot.labels.x == "time after effector addition (h)"


def _small_study(tmp_path: Path) -> Path:
    study = tmp_path / "study"
    (study / "config").mkdir(parents=True)
    times = ["0:00:00", "1:00:00", "2:00:00", "5:00:00", "6:00:00", "7:00:00"]
    write_rtca(
        study / "plate.xlsx",
        times,
        {  # target alone flat at 1; E:T 1:2 wells lose 40 % and 80 % by 2 h after addition
            "A1": [0, 1, 1, 1, 1, 1], "A2": [0, 2, 2, 2, 2, 2],
            "B1": [0, 1, 1, 0.8, 0.7, 0.6], "B2": [0, 2, 2, 1.2, 0.8, 0.4],
        },
        {"A1": "T1(0)", "A2": "T1(0)", "B1": "T1(0)\nCAR(5000)", "B2": "T1(0)\nCAR(5000)"},
    )  # fmt: skip
    config = {
        "study": "small",
        "timecourse": {
            "exports": [{"plate": "P1", "path": "plate.xlsx"}],
            "layout": {"targets": ["T1"], "effectors": {"CAR": "car"}, "target_cells": 10000},
            "times_h": [1.5],
        },
    }
    (study / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return study


def test_cli_writes_tables_figures_and_section(tmp_path: Path) -> None:
    study = _small_study(tmp_path)
    assert main(["timecourse", str(study)]) == 0
    out = study / "results"
    with (out / "tables" / "timecourse_metrics.csv").open() as handle:
        (row,) = csv.DictReader(handle)
    # Addition detected at 2:00:00 (before the 3 h pause). Mean % cytolysis of B1, B2:
    # t = 3 h: (20 + 40)/2 = 30; t = 4 h: (30 + 60)/2 = 45; t = 5 h: (40 + 80)/2 = 60.
    # At 1.5 h: (0 + 30)/2 = 15 (halfway between sweeps t = 0 and 3). t50: 4 + 5 × 1/15 = 4.333.
    # AUC = 3 × 15 + (30 + 45)/2 + (45 + 60)/2 = 45 + 37.5 + 52.5 = 135 %·h.
    assert float(row["pct_cytolysis_at_1.5h"]) == pytest.approx(15.0)
    assert float(row["t50_h"]) == pytest.approx(4 + 1 / 3)
    assert float(row["auc_pct_h"]) == pytest.approx(135.0)
    assert float(row["addition_h"]) == 2.0 and row["et_ratio"] == "0.5"
    course = pl.read_parquet(out / "tables" / "timecourse.parquet")
    assert course.height == 6 * 4 and {"nci", "pct_cytolysis"} <= set(course.columns)
    assert (out / "figures" / "timecourse.pdf").stat().st_size > 0
    page = (out / "timecourse.html").read_text()
    assert "Time-resolved killing" in page and "data:image/png;base64," in page


def test_cli_reports_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = _small_study(tmp_path)
    (study / "config" / "config.yaml").write_text("study: x\ntimecourse:\n  exports: []\n")
    assert main(["timecourse", str(study)]) == 1
    assert "config key timecourse.layout is required" in capsys.readouterr().err


@pytest.mark.workflow
def test_real_study_end_to_end(real: pl.DataFrame, tmp_path: Path) -> None:
    example = REPO / "examples" / "xcelligence_carrgodex"
    config = yaml.safe_load((example / "config" / "config.yaml").read_text())
    for export in config["timecourse"]["exports"]:
        export["path"] = str((example / export["path"]).resolve())
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    paths = run_timecourse(tmp_path)
    metrics = pl.read_csv(paths["metrics"])
    # 4 lines × 3 E:T × 6 dexamethasone doses; every group of duplicate wells.
    assert metrics.height == 72 and metrics["n_wells"].unique().to_list() == [2]
    b1 = metrics.filter(
        (pl.col("target") == "PBT1")
        & (pl.col("et_ratio") == 0.25)
        & (pl.col("treatment_conc") == 0)
    ).row(0, named=True)
    assert 85.0 < b1["pct_cytolysis_at_48h"] < 86.0 and 32.0 < b1["t50_h"] < 33.5
    comparisons = pl.read_csv(paths["comparisons"])
    assert comparisons.height == 2 * 24 + 5 * 12
