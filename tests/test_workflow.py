"""The workflow end to end with Snakemake, on copies of the bundled example."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from .conftest import REPO, SMALL_STUDY, SNAKEMAKE, only_status_files, run_study

TABLES = ("wells.parquet", "plate_qc.csv", "curves.csv", "comparisons.csv")

pytestmark = pytest.mark.workflow


def test_example_produces_the_output_contract(example_run: Path) -> None:
    res = example_run / "results"
    for name in TABLES:
        assert (res / "tables" / name).is_file()
    for target in ("K562", "SHP-77", "H82", "NALM6-DLL3"):
        assert (res / f"figures/curves_{target}.pdf").read_bytes()[:5] == b"%PDF-"
        assert (res / f"figures/curves_{target}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (res / "report.html").read_text()
    # curves and residuals per target (2 × 4) and a plate map per plate (22), at least
    assert '<h2 id="comparisons">' in html and html.count("data:image/png;base64") >= 2 * 4 + 22
    wells = pl.read_parquet(res / "tables/wells.parquet")
    assert wells.height == 22 * 96
    assert {
        "plate_id",
        "well",
        "row",
        "col",
        "signal",
        "role",
        "product",
        "lot",
        "target",
        "stage",
        "cryo",
        "et_ratio",
        "batch",
        "assay_date",
        "operator",
        "pct_lysis",
        "excluded",
        "exclusion_reason",
    } <= set(wells.columns)
    qc = pl.read_csv(res / "tables/plate_qc.csv")
    assert qc.columns[:1] == ["plate_id"] and qc["pass"].all()
    curves = pl.read_csv(res / "tables/curves.csv")
    assert curves.columns[:8] == [
        "curve_id",
        "product",
        "lot",
        "target",
        "stage",
        "cryo",
        "batch",
        "readout",
    ]
    # 2 products × 3 lots × 11 groups (K562 at 4 stages fresh + bulk post-thaw; SHP-77, H82,
    # NALM6-DLL3 fresh and post-thaw) = 66 curves, 3 per plate on 22 plates
    assert curves.height == 66
    comps = pl.read_csv(res / "tables/comparisons.csv", infer_schema_length=None)
    assert comps.columns[:4] == ["comparison", "target", "stage", "cryo"]
    # groups: K562 at 4 stages fresh + bulk post-thaw, SHP-77/H82/NALM6-DLL3 fresh and post-thaw
    assert comps.select("target", "stage", "cryo").unique().height == 11
    assert "et50_ratio" in comps["metric"].to_list()


#: Rows A–F of the small study's P02 export whose target_only (column 9) and max_lysis
#: (column 11) readings ``edited_run`` spreads: ×0.4 / ×1.6 and ×0.6 / ×1.4.
P02_ROWS = ("A,", "B,", "C,", "D,", "E,", "F,")


@pytest.fixture(scope="module")
def edited_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small study edited twice and run once (both edits concern other tables):

    - its own samplesheet without plate P08 and a comparison renamed in its config
      (the run reads the study given with ``--directory``);
    - P02's control wells spread so that its control CV and Z′ fail QC.
    """
    study = tmp_path_factory.mktemp("edited_run") / "study"
    shutil.copytree(SMALL_STUDY / "config", study / "config")
    sheet = study / "config/plates.tsv"
    lines = sheet.read_text().splitlines(keepends=True)
    sheet.write_text("".join(line for line in lines if not line.startswith("P08\t")))
    cfg = study / "config/config.yaml"
    cfg.write_text(cfg.read_text().replace("neuk203_vs_neuk200_by_target\n", "renamed_pooled\n"))
    plate = study / "config/data/P02.CSV"
    lines = plate.read_text().splitlines()
    for i, line in enumerate(lines):
        if line[:2] in P02_ROWS:
            cells = line.split(",")
            low = line[0] in "ACE"
            cells[9] = str(int(float(cells[9]) * (0.4 if low else 1.6)))
            cells[11] = str(int(float(cells[11]) * (0.6 if low else 1.4)))
            lines[i] = ",".join(cells)
    plate.write_text("\r\n".join(lines))
    done = run_study(study)
    assert done.returncode == 0, done.stderr[-3000:]
    return study


def test_second_study_with_directory_flag(edited_run: Path) -> None:
    wells = pl.read_parquet(edited_run / "results/tables/wells.parquet")
    assert sorted(wells["plate_id"].unique()) == [f"P0{i}" for i in range(1, 8)]
    comps = pl.read_csv(edited_run / "results/tables/comparisons.csv")
    assert set(comps["comparison"]) == {"neuk203_vs_neuk200_by_target_and_thaw", "renamed_pooled"}
    assert not (REPO / "results/tables/.wells.parquet.partial.parquet").exists()


@pytest.mark.parametrize(
    ("extra", "changed"),
    [
        ((), ["job-rate limiter off (local run)", "greedy job selection (local run)"]),
        (("--max-jobs-per-timespan", "50/1s", "--scheduler", "greedy"), []),
    ],
)
def test_a_local_run_leaves_only_snakemakes_default_scheduling_behind(
    small_study: Path, extra: tuple[str, ...], changed: list[str]
) -> None:
    """killcurve.pipeline.scheduling on Snakemake's real scheduler (the attributes it sets exist
    in the pinned version); settings the user gives are kept. The chunk tables are enough to start
    the scheduler."""
    done = subprocess.run(
        [*SNAKEMAKE, "--directory", str(small_study), "--verbose", *extra,
         "results/tables/wells.parquet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    logged = [line.split("killcurve: ", 1)[1] for line in done.stderr.splitlines()
              if line.startswith("killcurve: ") and "(local run)" in line]  # fmt: skip
    assert logged == changed


def test_missing_plate_file_stops_naming_the_plate(small_study: Path) -> None:
    sheet = small_study / "config/plates.tsv"
    sheet.write_text(sheet.read_text().replace("config/data/P03.CSV", "config/data/P03_typo.CSV"))
    done = run_study(small_study)
    assert done.returncode != 0
    assert "plate P03: file 'config/data/P03_typo.CSV' does not exist" in done.stderr
    assert "Fix the path in the samplesheet" in done.stderr
    assert only_status_files(small_study)
    failed = (small_study / "results/RUN_FAILED.md").read_text()
    assert "**start-up checks**: plate P03: file 'config/data/P03_typo.CSV'" in failed


def test_layout_without_target_only_stops_and_leaves_no_table(small_study: Path) -> None:
    layout = small_study / "config/layouts/P02.toml"
    layout.write_text(layout.read_text().replace('role = "target_only"', 'role = "background"'))
    done = run_study(small_study)
    assert done.returncode != 0
    assert "plate P02 (layout config/layouts/P02.toml): no target_only wells" in done.stderr
    assert "Add them to the layout." in done.stderr
    tables = small_study / "results/tables"
    assert not tables.exists() or not any(tables.iterdir())


def test_failed_plate_is_excluded_from_fits_and_shown_in_the_report(edited_run: Path) -> None:
    # The spread target_only (columns 9, 10) and max_lysis (11, 12) readings of P02, as run.
    t_values, m_values = [], []
    for line in (edited_run / "config/data/P02.CSV").read_text().splitlines():
        if line[:2] in P02_ROWS:
            cells = line.split(",")
            t_values += [float(cells[9]), float(cells[10])]
            m_values += [float(cells[11]), float(cells[12])]
    assert len(t_values) == len(m_values) == 12
    res = edited_run / "results"
    qc = pl.read_csv(res / "tables/plate_qc.csv").filter(pl.col("plate_id") == "P02")
    # Z′ by hand from the edited readings: 1 − 3(σ_T + σ_M)/|μ_T − μ_M| (sample SDs).
    t, m = np.array(t_values), np.array(m_values)
    z_hand = 1 - 3 * (t.std(ddof=1) + m.std(ddof=1)) / abs(t.mean() - m.mean())
    assert qc["z_prime"][0] == pytest.approx(z_hand, rel=1e-12)
    assert z_hand < 0.5
    assert qc["pass"].to_list() == [False]
    assert qc["reasons"][0].startswith(f"z_prime {round(z_hand, 3)} < 0.5; target_only_cv")
    wells = pl.read_parquet(res / "tables/wells.parquet")
    samples = wells.filter((pl.col("plate_id") == "P02") & (pl.col("role") == "sample"))
    assert samples["exclusion_reason"].unique().to_list() == ["plate_failed_qc"]
    curves = pl.read_csv(res / "tables/curves.csv").filter(pl.col("plate_ids") == "P02")
    assert curves.height == 2
    assert curves["flags"].to_list() == ["no_usable_points"] * 2
    html = (res / "report.html").read_text()
    # 7 plates: P08 is not in this study's samplesheet (edited_run)
    assert "1 of 7 plates failed QC: P02" in html
