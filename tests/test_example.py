"""The bundled example: made by the simulator, and its truth recovered by the pipeline stages."""

from __future__ import annotations

import filecmp
from pathlib import Path

import polars as pl
import pytest

from killcurve.assay.lysis import compute_lysis
from killcurve.assay.qc import exclude_failed_plates, plate_qc
from killcurve.fit.curves import curve_id_expr, fit_curves
from killcurve.io.samplesheet import read_samplesheet
from killcurve.simulate import write_study
from killcurve.stats.compare import compare_products
from killcurve.wells import load_wells

REPO = Path(__file__).resolve().parents[1]


def test_bundled_example_is_the_simulators_output(tmp_path: Path) -> None:
    write_study(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in (tmp_path / "config").rglob("*") if p.is_file())
    bundled = {p.relative_to(REPO) for p in (REPO / "config").rglob("*") if p.is_file()}
    assert set(made) <= bundled
    mismatch = [str(p) for p in made if not filecmp.cmp(tmp_path / p, REPO / p, shallow=False)]
    assert mismatch == [], "regenerate the example with `killcurve example .`"


@pytest.fixture(scope="module")
def fitted() -> tuple[pl.DataFrame, pl.DataFrame]:
    sheet = read_samplesheet(REPO / "config/plates.tsv")
    wells = compute_lysis(load_wells(sheet, REPO))
    wells = exclude_failed_plates(wells, plate_qc(wells))
    truth = pl.read_csv(REPO / "config/truth.tsv", separator="\t", infer_schema=False)
    truth = truth.with_columns(pl.col("et50").cast(pl.Float64), curve_id_expr())
    return fit_curves(wells), truth


def test_every_curve_recovers_its_true_et50_within_10_percent(fitted) -> None:
    curves, truth = fitted
    joined = curves.join(truth.select("curve_id", true_et50="et50"), on="curve_id", how="full")
    assert joined.height == 16
    assert joined["curve_id"].null_count() == 0
    rel = (joined["et50"] / joined["true_et50"] - 1).abs()
    assert rel.max() < 0.10, joined.select("curve_id", "et50", "true_et50")
    assert joined["converged"].all()


def test_comparison_ratios_point_the_right_way(fitted) -> None:
    curves, truth = fitted
    comps = [{"name": "c", "test": "NEUK203-13", "reference": "NEUK200-13", "by": ["target"]}]
    out = compare_products(curves, comps).sort("target")
    # True ratios of geometric mean et50 (from the truth table) per target.
    true = (
        truth.with_columns(pl.col("et50").log().alias("l"))
        .group_by("target", "product")
        .agg(pl.col("l").mean())
        .pivot("product", index="target", values="l")
        .with_columns(ratio=(pl.col("NEUK203-13") - pl.col("NEUK200-13")).exp())
        .sort("target")
    )
    assert out["target"].to_list() == ["K562", "SHP-77"]
    for est, lo, hi, want in zip(
        out["estimate"], out["lower"], out["upper"], true["ratio"], strict=True
    ):
        assert lo < want < hi
        assert est == pytest.approx(want, rel=0.10)
    assert out["method"].to_list() == ["welch_t_log_et50"] * 2
