"""The simulated time-resolved impedance arm: its model, truth, exports and layouts."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from killcurve.io.layout import check_layout, read_layout
from killcurve.io.readers import read_export
from killcurve.io.samplesheet import read_samplesheet
from killcurve.simulate.design import Design
from killcurve.simulate.study import write_study
from killcurve.simulate.timecourse import (
    TimecourseDesign,
    curve_table,
    lysis,
    plate_cell_index,
    sweep_times,
    t50,
    timecourse_truth,
    write_arm,
    write_timecourse_study,
)

#: Lot effects chosen by hand (ln et50), so ratios can be worked out on paper.
LOTS = {"203-L01": 0.1, "203-L02": -0.1, "200-L01": 0.2, "200-L02": 0.0}


def test_lysis_by_hand() -> None:
    # et50(t) = 2·(1 + 12/t): at t = tau = 12 h et50 = 4, so E:T 4 gives top/2.
    assert float(lysis(12.0, 4.0, et50_inf=2.0, top=90.0, hill=1.2, tau_h=12.0)) == 45.0
    # t = 24 h: et50 = 3; 90·(4/3)^1.2 / ((4/3)^1.2 + 1) = 90·1.412302/2.412302.
    assert float(lysis(24.0, 4.0, 2.0, 90.0, 1.2, 12.0)) == pytest.approx(52.6911837, abs=1e-6)
    # No killing at or before addition.
    assert lysis(np.array([-5.0, 0.0]), 4.0, 2.0, 90.0, 1.2, 12.0).tolist() == [0.0, 0.0]


def test_t50_by_hand_and_solves_the_model() -> None:
    # top 90, h 1: k = 90/50 − 1 = 0.8; E:T 10 with et50_inf 2 reaches 10·0.8/2 = 4 → 12/(4 − 1).
    assert t50(10.0, et50_inf=2.0, top=90.0, hill=1.0, tau_h=12.0) == pytest.approx(4.0)
    # E:T 2 plateaus at 90·2/(2 + 2) = 45 % < 50 %: never.
    assert t50(2.0, 2.0, 90.0, 1.0, 12.0) is None
    truth = timecourse_truth(TimecourseDesign(lot_effects=LOTS))
    rows = truth.filter(pl.col("metric") == "t50_h")
    reached = rows.filter(pl.col("value").is_not_null())
    at = lysis(reached["value"].to_numpy(), reached["et_ratio"].to_numpy(), *_params(reached))
    assert np.abs(at - 50.0).max() < 1e-9
    # Censored rows: the model is still below 50 % at the last sweep (72.2 h after addition).
    cens = rows.filter(pl.col("value").is_null())
    assert (cens["note"] == "censored").all() and (cens["t_last_h"] == 72.2).all()
    assert (lysis(72.2, cens["et_ratio"].to_numpy(), *_params(cens)) < 50.0).all()
    # Every curve crosses at 40:1 and none at 1.25:1; 27 of the 48 curve × E:T rows cross.
    assert reached.filter(pl.col("et_ratio") == 40).height == 8
    assert cens.filter(pl.col("et_ratio") == 1.25).height == 8
    assert reached.height == 27


def _params(rows: pl.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(rows[c].to_numpy() for c in ("et50_inf", "top", "hill", "tau_h"))


def test_truth_ratios_by_hand() -> None:
    truth = timecourse_truth(TimecourseDesign(lot_effects=LOTS))
    et50 = truth.filter(pl.col("metric") == "et50_ratio").sort("cryo", "t_h")
    # Geometric means over lots: exp((0.1 − 0.1)/2 − (0.2 + 0)/2) = e^−0.1 times the typical
    # ratio 1.5/3 fresh, 1.5·1.4/(3·1.8) post-thaw; tau is shared, so it holds at every T.
    assert et50["value"].to_list() == pytest.approx(
        [0.5 * math.exp(-0.1)] * 3 + [7 / 18 * math.exp(-0.1)] * 3
    )
    assert et50["typical_value"].to_list() == pytest.approx([0.5] * 3 + [7 / 18] * 3)
    # et50(24 h) of 203-L01 fresh: 1.5·e^0.1·(1 + 36/24).
    curve = truth.filter(
        (pl.col("metric") == "et50") & (pl.col("lot") == "203-L01") & (pl.col("t_h") == 24)
    )
    assert curve.filter(pl.col("cryo") == "fresh")["value"].item() == pytest.approx(
        1.5 * math.exp(0.1) * 2.5
    )
    # t50 ratio at 40:1 fresh: geometric mean of the lots' exact t50s.
    ref = {"203": 1.5, "200": 3.0}
    t = {lot: t50(40.0, ref[lot[:3]] * math.exp(u), 92.0, 1.2, 36.0) for lot, u in LOTS.items()}
    ratio = math.sqrt(t["203-L01"] * t["203-L02"]) / math.sqrt(t["200-L01"] * t["200-L02"])
    row = truth.filter(
        (pl.col("metric") == "t50_ratio") & (pl.col("cryo") == "fresh") & (pl.col("et_ratio") == 40)
    )
    assert row["value"].item() == pytest.approx(ratio)
    # 2.5:1 fresh: only 203-L02 (u = −0.1: reaches 2.5·0.8647/1.357 = 1.59, t50 = 36/0.59 h)
    # crosses → no ratio, the censored lots named.
    row = truth.filter(
        (pl.col("metric") == "t50_ratio")
        & (pl.col("cryo") == "fresh")
        & (pl.col("et_ratio") == 2.5)
    )
    assert row["value"].item() is None
    assert row["note"].item() == "censored: 203-L01, 200-L01, 200-L02"


def test_sweeps_pause_after_addition() -> None:
    times = sweep_times(TimecourseDesign())
    # 49 sweeps 0…24 h, the 1.2 h pause, then 25.2…96.2 h (72.2 h after addition).
    assert len(times) == 192
    assert times[48] == 24.0 and times[49] == 25.2 and times[-1] == 96.2
    gaps = np.diff(times)
    assert int(np.argmax(gaps)) == 48 and gaps.max() == pytest.approx(1.2)


def test_normalising_at_addition_returns_the_model(tmp_path: Path) -> None:
    # Seeding factor on, sweep noise off: normalising at addition removes the seeding
    # factor, so 100·(1 − nS/mean nT) is L(t, e) exactly.
    design = TimecourseDesign(lot_effects=LOTS, noise_cv=0.0)
    rows = list(curve_table(design).filter(pl.col("plate_id") == "TC01").iter_rows(named=True))
    frame = plate_cell_index(design, rows, np.random.default_rng(5))
    times = sweep_times(design)
    n_wells = frame.height // len(times)
    wells = frame["well"][:n_wells].to_list()
    ci = frame["cell_index"].to_numpy().reshape(len(times), n_wells).T
    assert np.std(ci[:, 0]) > 0.01  # the seeding factor is there
    norm = ci / ci[:, [48]]  # the sweep at addition (24 h)
    target = norm[[w.endswith("7") for w in wells]].mean(axis=0)
    pct = 100.0 * (1.0 - norm / target)
    t = times - 24.0
    et = dict(zip("ABCDEF", design.et_ratios, strict=True))
    for w, well in enumerate(wells):
        col = int(well[1:])
        if col == 7:
            continue
        p = rows[(col - 1) // 3]
        want = lysis(t, et[well[0]], p["et50_inf"], p["top"], p["hill"], p["tau_h"])
        assert np.abs(pct[w] - want).max() < 1e-9, well


def test_export_reads_back(tmp_path: Path) -> None:
    design = TimecourseDesign(lot_effects=LOTS, noise_cv=0.0, seeding_cv=0.0)
    sheet, _ = write_arm(tmp_path, design)
    assert sheet["plate_id"].to_list() == ["TC01", "TC02", "TC03", "TC04"]
    assert set(sheet["time"]) == {"all"} and set(sheet["addition"]) == {"pause"}
    export = read_export(tmp_path / "config/data/TC02.csv", "cell_index_csv")
    data = export.data
    assert data["read"].n_unique() == 192
    assert data.filter(pl.col("read") == "24 h").height == 42  # 36 sample + 6 target_only
    # TC02 = NEUK200-13 fresh; B4 = lot 200-L02 (u = 0) at 20:1, sweep 49.2 h = 25.2 h after
    # addition: CI_T = 2.5/(1 + 1.5·e^(−0.04·25.2)) = 1.615590; et50 = 3·(1 + 36/25.2);
    # CI = CI_T·(1 − L/100), written to 4 decimals.
    u = (3.0 * (1 + 36 / 25.2) / 20.0) ** 1.2
    want = round(1.6155900879555527 * (1 - 0.92 / (1 + u)), 4)
    cell = data.filter((pl.col("read") == "49.2 h") & (pl.col("well") == "B4"))
    assert cell["signal"].item() == pytest.approx(want, abs=1e-12)
    target = data.filter((pl.col("read") == "49.2 h") & (pl.col("well") == "C7"))
    assert target["signal"].item() == 1.6156


def test_layouts_pass_the_layout_check(tmp_path: Path) -> None:
    write_arm(tmp_path, TimecourseDesign())
    for plate in ("TC01", "TC02", "TC03", "TC04"):
        path = tmp_path / f"config/layouts/{plate}.toml"
        layout = read_layout(path)
        check_layout(layout, f"plate {plate} layout {path}")
        counts = dict(layout.group_by("role").len().iter_rows())
        assert counts == {"sample": 36, "target_only": 6}
        samples = layout.filter(pl.col("role") == "sample")
        assert sorted(samples["et_ratio"].unique()) == [1.25, 2.5, 5, 10, 20, 40]
        assert samples["lot"].n_unique() == 2 and samples["product"].n_unique() == 1
    tc03 = read_layout(tmp_path / "config/layouts/TC03.toml")
    assert set(tc03["cryo"].drop_nulls()) == {"post_thaw"}
    assert set(tc03["product"].drop_nulls()) == {"NEUK203-13"}


def test_example_arm_shares_the_endpoint_lots(tmp_path: Path) -> None:
    truth = write_study(tmp_path, dataclasses.replace(Design(), timecourse=True))
    sheet = read_samplesheet(tmp_path / "config/plates.tsv")
    arm = sheet.filter(pl.col("time") == "all")
    assert arm["plate_id"].to_list() == ["TC01", "TC02", "TC03", "TC04"]
    assert arm["batch"].to_list() == ["B1", "B1", "B2", "B2"]
    assert sheet.filter(pl.col("time") != "all")["time"].is_null().all()
    assert "timecourse:\n  times_h: [24, 48, 72]" in (tmp_path / "config/config.yaml").read_text()
    arm_truth = pl.read_csv(tmp_path / "config/truth_timecourse.tsv", separator="\t")
    curves = arm_truth.filter(pl.col("metric") == "et50", pl.col("t_h") == 24)
    effect = dict(truth.select("lot", "lot_log_effect").unique().iter_rows())
    # et50_inf = reference value × exp(the endpoint study's lot effect) × thaw factor.
    ref = {"NEUK203-13": 1.5, "NEUK200-13": 3.0}
    thaw = Design().thaw_factor
    for row in curves.iter_rows(named=True):
        factor = thaw[row["product"]] if row["cryo"] == "post_thaw" else 1.0
        want = ref[row["product"]] * math.exp(effect[row["lot"]]) * factor
        assert row["et50_inf"] == pytest.approx(want, abs=1e-6)


def test_scaled_study_has_the_curves_asked_for(tmp_path: Path) -> None:
    truth = write_timecourse_study(tmp_path, n_curves=40, seed=3)
    curves = truth.filter(pl.col("metric") == "et50", pl.col("t_h") == 24)
    assert curves.height == 40 and curves["lot"].n_unique() == 20
    assert curves["top"].min() >= 85.0 * 0.95 and curves["top"].max() <= 96.0
    sheet = read_samplesheet(tmp_path / "config/plates.tsv")
    assert sheet.height == 20 and set(sheet["readout"]) == {"impedance"}
    again = write_timecourse_study(tmp_path / "again", n_curves=40, seed=3)
    assert again.equals(truth)
    for name in ("plates.tsv", "data/TC07.csv", "layouts/TC07.toml", "truth_timecourse.tsv"):
        assert (tmp_path / "config" / name).read_bytes() == (
            tmp_path / "again/config" / name
        ).read_bytes()
