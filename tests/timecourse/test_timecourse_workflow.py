"""Time-resolved plates through Snakemake: tables as computed in memory, the report, reruns
byte-identical, and a changed plate re-reading only itself."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from killcurve.pipeline.timecourse import timecourse_tables

from ..conftest import planned_jobs, run_study
from . import known

pytestmark = pytest.mark.workflow

PLATES = {"P1": ("NEW", "N1"), "P2": ("NEW", "N2"), "P3": ("OLD", "O1"), "P4": ("OLD", "O2")}


def hashes(study: Path) -> dict[str, str]:
    return {
        str(p.relative_to(study)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((study / "results").rglob("*"))
        if p.is_file()
    }


def planned(study: Path) -> set[tuple[str, str]]:
    """(rule, plate wildcard or "") of every job a dry run of the default target plans."""
    jobs = planned_jobs(study, [], dict(os.environ), wildcard="plate")
    return {job for job in jobs if job[0] not in ("all", "default")}


@pytest.fixture(scope="module")
def course_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    study = known.write_study(tmp_path_factory.mktemp("course") / "study", PLATES)
    # OLD kills at half the rate of NEW: its t50 is twice NEW's wherever both reach 50 %
    slow = known.plate_csv(rates={et: rate / 2 for et, rate in known.RATES.items()})
    for plate in ("P3", "P4"):
        (study / f"config/data/{plate}.csv").write_text(slow)
    done = run_study(study)
    assert done.returncode == 0, done.stderr[-3000:]
    return study


def test_the_workflow_writes_what_the_package_computes(course_run: Path) -> None:
    config = yaml.safe_load((course_run / "config/config.yaml").read_text())
    tables = timecourse_tables(course_run, config)
    results = course_run / "results/tables"
    assert pl.read_parquet(results / "timecourse.parquet").equals(tables["timecourse"])
    assert pl.read_parquet(results / "timecourse_metrics.parquet").equals(tables["metrics"])
    curves = pl.read_parquet(results / "timecourse_curves.parquet")
    assert curves.select("curve_id", "t_h", "et50", "verdict").equals(
        tables["curves"].select("curve_id", "t_h", "et50", "verdict")
    )
    comparisons = pl.read_csv(results / "timecourse_comparisons.csv")
    assert set(comparisons["metric"]) >= {"et50_ratio", "t50_ratio", "auc_time_difference"}
    # NEW's t50 is half OLD's at E:T 10 (2.5 vs 5.0 h) and 20 (5/3 vs 10/3 h)
    t50 = comparisons.filter(pl.col("method") == "welch_t_log_t50").sort("et_ratio")
    assert t50.filter(pl.col("et_ratio") >= 10)["estimate"].to_list() == pytest.approx([0.5, 0.5])
    for name in ("timecourse_metrics.csv", "timecourse_comparisons.csv", "timecourse_qc.csv"):
        table = pl.read_csv(results / name)
        numbers = table.select(pl.col(pl.Float64)).to_numpy().ravel()
        assert all(x != x or abs(x) < float("inf") for x in numbers), name  # no ±inf
        assert table.select(pl.col(pl.Float64).is_nan().any()).to_numpy().sum() == 0, name


def test_the_report_has_the_section_its_figures_and_provenance(course_run: Path) -> None:
    page = (course_run / "results/report.html").read_text()
    assert '<h2 id="over-time">Killing over time</h2>' in page
    assert "How does killing develop over time" in page
    # one sentence per comparison group: NEW vs OLD on SHP-77 · fresh, et50 ratio at 2 and 5 h,
    # t50 ratio at each E:T (0.5 where both products reach 50 %)
    assert "NEW vs OLD, SHP-77 · fresh: et50 ratio at 2 h" in page
    assert "t50 ratio at E:T 10:1 0.50 (no interval, welch_t_log_t50)" in page
    assert "<b>Figure 1.</b> Specific lysis over time" in page
    assert "<b>Figure 2.</b> et50 over time" in page
    assert page.count("data:image/png;base64,") == 2
    provenance = (course_run / "results/provenance.json").read_text()
    assert "config/data/P3.csv" in provenance


def test_reruns_are_byte_identical_and_a_changed_plate_rereads_only_itself(
    course_run: Path, tmp_path: Path
) -> None:
    study = tmp_path / "study"
    shutil.copytree(course_run / "config", study / "config")
    assert run_study(study).returncode == 0
    assert hashes(study) == hashes(course_run)
    assert planned(study) == set()
    data = study / "config/data/P2.csv"
    data.write_text(data.read_text().replace("\nB1,14,", "\nB1,14,0.0", 1))
    downstream = {
        ("analyse_timecourse", ""), ("plot_timecourse", ""),
        ("render_timecourse_report", ""), ("write_provenance", ""),
    }  # fmt: skip
    assert planned(study) == {("collect_timecourse_plate", "P2"), *downstream}
    # an edited samplesheet row reruns that plate only
    sheet = study / "config/plates.tsv"
    lines = sheet.read_text().splitlines()
    lines[1] = lines[1].replace("\tB1\t", "\tB9\t")
    sheet.write_text("\n".join(lines) + "\n")
    assert planned(study) == {
        ("collect_timecourse_plate", "P1"), ("collect_timecourse_plate", "P2"), *downstream,
    }  # fmt: skip
