"""The simulator: its design, its signal model read back through the pipeline, its exports."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from killcurve.assay.lysis import compute_lysis
from killcurve.cli.main import main
from killcurve.io.counters import read_counter
from killcurve.io.samplesheet import read_samplesheet
from killcurve.simulate.design import (
    Design,
    comparison_truth,
    plate_plan,
    scaled_design,
    true_lysis,
)
from killcurve.simulate.exports import COUNTER_WRITERS, Count
from killcurve.simulate.study import viability_counts, write_study
from killcurve.study.wells import load_wells

REPO = Path(__file__).resolve().parents[1]

#: No noise and no artefacts: every reading is the signal model's exact value.
NOISELESS = dataclasses.replace(
    Design(),
    well_cv=0.0,
    pipetting_cv=0.0,
    edge_effect=0.0,
    read_drift=0.0,
    plate_cv=0.0,
    outlier_wells=(),
    overflow_wells=(),
    manual_exclusions=(),
)


def test_example_design_covers_the_seed_programme() -> None:
    design = Design()
    plan = plate_plan(design)
    # 11 conditions (K562 at 4 stages fresh + bulk post-thaw; 3 DLL3 targets x 2 cryo states),
    # 2 products x 3 lots = 6 curves each, 3 curves a plate -> 22 plates, 66 curves.
    assert len(design.conditions) == 11
    assert len(plan) == 22
    assert sum(len(p["curves"]) for p in plan) == 66
    # Every lot meets both assay days, so lot and day effects are not confounded.
    days = {}
    for plate in plan:
        for _, lot in plate["curves"]:
            days.setdefault(lot, set()).add(plate["batch"])
    assert len(days) == 6 and all(d == {"B1", "B2"} for d in days.values())


def test_truth_tables_carry_the_programmes_story() -> None:
    ratios = comparison_truth(Design())
    k562 = ratios.filter(pl.col("target") == "K562")
    dll3 = ratios.filter((pl.col("target") != "K562") & (pl.col("cryo") == "fresh"))
    # NEUK203-13 kills K562 at least as well as NEUK200-13 (2.5/3.0 fresh; 2.5·1.4/(3·1.8) thawed).
    assert k562["ratio"].to_list() == pytest.approx([2.5 / 3.0] * 4 + [3.5 / 5.4])
    # ... and is 3-5 x more potent against the DLL3 targets (1/4, 1.5/6, 0.8/3.6).
    assert dll3["ratio"].to_list() == pytest.approx([0.25, 0.25, 0.8 / 3.6])


def test_truth_effects_are_shared_by_lot_and_by_day(tmp_path: Path) -> None:
    truth = write_study(tmp_path)
    # ln et50 = ln typical + lot + day + curve effect, to the 6 decimals written.
    rebuilt = (
        pl.col("typical_et50")
        * (pl.col("lot_log_effect") + pl.col("day_log_effect") + pl.col("curve_log_effect")).exp()
    )
    assert (truth["et50"] - truth.select(rebuilt).to_series()).abs().max() < 1e-9
    assert (
        truth.group_by("lot").agg(pl.col("lot_log_effect").n_unique())["lot_log_effect"].max() == 1
    )
    per_day = truth.group_by("batch").agg(pl.col("day_log_effect").n_unique())
    assert per_day["day_log_effect"].to_list() == [1, 1]


def test_noiseless_plates_read_back_as_the_true_lysis(tmp_path: Path) -> None:
    truth = write_study(tmp_path, NOISELESS)
    wells = compute_lysis(load_wells(read_samplesheet(tmp_path / "config/plates.tsv"), tmp_path))
    samples = wells.filter(pl.col("role") == "sample").join(
        truth.select("plate_id", "product", "lot", "bottom", "top", "hill", "et50"),
        on=["plate_id", "product", "lot"],
    )
    assert samples.height == 66 * 24
    want = true_lysis(
        {k: samples[k].to_numpy() for k in ("bottom", "top", "hill", "et50")},
        samples["et_ratio"].to_numpy(),
    )
    # Readings are whole counts: at most 0.5 count in (M - T) = 36 000 (release) or
    # (T - B) = 199 100 (luciferase, times the plate drift 0.99^j >= 0.9) -> < 0.01 %.
    assert np.abs(samples["pct_lysis"].to_numpy() - want).max() < 0.01


def test_artefacts_land_where_the_design_puts_them(tmp_path: Path) -> None:
    write_study(tmp_path)
    wells = load_wells(read_samplesheet(tmp_path / "config/plates.tsv"), tmp_path)
    overflow = wells.filter(pl.col("flag") == "overflow")
    assert overflow.select("plate_id", "well", "role").rows() == [("P13", "H4", "sample")]
    excluded = (tmp_path / "config/exclusions.tsv").read_text().splitlines()
    assert excluded[1].split("\t")[:2] == ["P15", "E5"]
    # The outlier P04 C2 reads 0.55 x its value; its replicates C1 and C3 vary by ~5 %.
    p04 = wells.filter(pl.col("plate_id") == "P04")
    signal = dict(zip(p04["well"], p04["signal"], strict=True))
    assert signal["C2"] / ((signal["C1"] + signal["C3"]) / 2) < 0.7


def test_cli_simulate_writes_at_least_n_plates(tmp_path: Path, capsys) -> None:
    assert main(["simulate", "--plates", "30", str(tmp_path)]) == 0
    # 30 plates need 11 conditions x ceil(2*lots/3) >= 30: lots = 4 -> 11 x 3 = 33 plates.
    assert scaled_design(30).lots == 4
    sheet = pl.read_csv(tmp_path / "config/plates.tsv", separator="\t")
    assert sheet.height == 33
    assert all((tmp_path / f).is_file() for f in sheet["file"])
    assert "wrote 33 plates (88 curves)" in capsys.readouterr().out
    # 1000 plates: 136 lots give 11 x ceil(272/3) = 1001 plates, 135 lots only 11 x 90 = 990.
    assert scaled_design(1000).lots == 136


def _close(got: float, want: float, abs_tol: float = 0.0, rel_tol: float = 0.0) -> bool:
    return math.isclose(got, want, abs_tol=abs_tol, rel_tol=rel_tol)


#: Rounding of each counter format: (cells/mL absolute, cells/mL relative, viability % absolute).
#: Vi-CELL BLU: 10^6 cells/mL with 2 decimals -> 5000 cells/mL; viability 2 decimals.
#: NC-View: 3 significant digits -> half a unit of the third digit, <= 0.5 % of the value.
#: generic_csv: whole cells/mL; viability 1 decimal.
ROUNDING = {
    "vi_cell_blu": (5000.0, 0.0, 0.005),
    "chemometec_nc_view": (0.0, 0.005, 0.05),
    "generic_csv": (0.5, 0.0, 0.05),
}


@pytest.mark.parametrize("fmt", sorted(COUNTER_WRITERS))
def test_counter_exports_read_back_to_the_simulated_counts(tmp_path: Path, fmt: str) -> None:
    _, _, files = viability_counts(Design())
    counts: list[Count] = [c for file in sorted(files) for c in files[file]][:12]
    path = tmp_path / f"counts_{fmt}.csv"
    path.write_bytes(COUNTER_WRITERS[fmt](counts).encode("utf-8"))
    for chosen in (fmt, "auto"):
        data = read_counter(path, chosen).data
        assert data["sample"].to_list() == [c.sample for c in counts]
        abs_ml, rel_ml, abs_pct = ROUNDING[fmt]
        for c, row in zip(counts, data.iter_rows(named=True), strict=True):
            for got, want in (
                (row["total_cells_per_ml"], c.total_per_ml),
                (row["viable_cells_per_ml"], c.viable_per_ml),
            ):
                assert _close(got, want, abs_ml * 1.0001, rel_ml), (fmt, c.sample, got, want)
            assert _close(row["viability_pct"], c.viability_pct, abs_pct * 1.0001)
            if fmt != "chemometec_nc_view":  # NC-View exports neither counts nor times
                assert (row["total_count"], row["viable_count"]) == (c.total_count, c.viable_count)
                assert row["measured_at"] == c.measured_at


def test_bundled_viability_files_hold_the_simulated_counts() -> None:
    _, sheet, files = viability_counts(Design())
    bundled = pl.read_csv(REPO / "config/viability.tsv", separator="\t")
    assert bundled.height == 2 * 3 * 2 * 3  # products x lots x time points x replicates
    assert bundled["sample"].to_list() == sheet["sample"].to_list()
    assert set(bundled["format"]) == {"vi_cell_blu", "chemometec_nc_view"}
    for (file, fmt), group in bundled.group_by(["file", "format"], maintain_order=True):
        data = read_counter(REPO / file, fmt).data
        assert data["sample"].to_list() == group["sample"].to_list()
        abs_ml, rel_ml, abs_pct = ROUNDING[fmt]
        for c, row in zip(files[file], data.iter_rows(named=True), strict=True):
            assert _close(row["viable_cells_per_ml"], c.viable_per_ml, abs_ml * 1.0001, rel_ml)
            assert _close(row["viability_pct"], c.viability_pct, abs_pct * 1.0001)
