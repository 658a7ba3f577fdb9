"""What a failed run leaves: current outputs stay, stale ones go, RUN_FAILED.md says why.

Unit tests of :mod:`killcurve.pipeline.run_status` on a made-up results folder, and one
workflow run on a copy of the small study's finished run whose viability arm fails in its
step (not at start-up): the tables and figures that step does not feed stay byte-identical,
what depends on it is removed, and the fixed study then runs to the end.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from killcurve.pipeline.run_status import (
    FailedStep,
    clear_status,
    log_message,
    settle_failed_run,
    settle_startup_failure,
)

from .conftest import REPO, run_study


def write(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_current_outputs_stay_and_every_other_result_goes(tmp_path: Path) -> None:
    for name in (
        "results/tables/curves.csv",
        "results/tables/killcurve_tables.xlsx",
        "results/figures/plates/P01.png",
        "results/figures/plates/P02.png",
        "results/figures/curves_K562.png",  # a figure of a job the graph had not reached
        "results/README.md",
        "results/.cache/maps/abc",
    ):
        write(tmp_path / name)
    write(tmp_path / "logs/write_workbook.log", "killcurve: error: plate P01: it broke.\n")
    failed = [FailedStep("write_workbook", ["results/tables/killcurve_tables.xlsx"],
                         ["logs/write_workbook.log"])]  # fmt: skip
    # the workbook's own output is removed by Snakemake; here it stands for a stale copy
    status = settle_failed_run(
        tmp_path,
        failed,
        ["results/tables/curves.csv", "results/figures/plates"],
        ["results/tables/curves.csv", "results/report.html"],
    )
    assert status.current == [
        "results/figures/plates/P01.png",
        "results/figures/plates/P02.png",
        "results/tables/curves.csv",
    ]
    assert status.removed == [
        "results/figures/curves_K562.png",
        "results/tables/killcurve_tables.xlsx",
    ]
    assert status.missing == ["results/report.html"]
    assert (tmp_path / "results/README.md").is_file()
    assert (tmp_path / "results/.cache/maps/abc").is_file()
    record = json.loads((tmp_path / "results/run_status.json").read_text())
    assert record["failed"][0]["message"] == "plate P01: it broke."
    text = (tmp_path / "results/RUN_FAILED.md").read_text()
    assert "**write_workbook**: plate P01: it broke." in text
    assert "## Removed (2 files)" in text and "- results/tables/curves.csv" in text
    clear_status(tmp_path)
    assert not (tmp_path / "results/RUN_FAILED.md").exists()
    assert not (tmp_path / "results/run_status.json").exists()


def test_a_startup_failure_removes_every_output_and_says_why(tmp_path: Path) -> None:
    write(tmp_path / "results/tables/curves.csv")
    status = settle_startup_failure(tmp_path, "plate P03: file 'x.csv' does not exist.")
    assert status.removed == ["results/tables/curves.csv"]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [
        "RUN_FAILED.md",
        "run_status.json",
    ]
    assert (
        "**start-up checks**: plate P03: file 'x.csv' does not exist."
        in (tmp_path / "results/RUN_FAILED.md").read_text()
    )


def test_a_log_without_a_killcurve_message_gives_its_last_line(tmp_path: Path) -> None:
    write(tmp_path / "a.log", "Traceback (most recent call last):\n  ...\nValueError: boom\n\n")
    assert log_message(["a.log"], tmp_path) == "ValueError: boom"
    assert log_message(["none.log"], tmp_path).startswith("no message")


def digests(study: Path, names: list[str]) -> dict[str, str]:
    return {n: hashlib.sha256((study / n).read_bytes()).hexdigest() for n in names}


@pytest.mark.workflow
def test_a_failed_step_keeps_what_it_does_not_feed(small_run: Path, tmp_path: Path) -> None:
    """The small study, finished; then a viability arm whose count the step refuses."""
    study = tmp_path / "study"
    shutil.copytree(small_run, study)
    kept = [
        "results/tables/wells.parquet",
        "results/tables/curves.csv",
        "results/tables/comparisons.csv",
        "results/tables/plate_qc.csv",
        "results/figures/curves_K562.png",
        "results/figures/plate_maps.pdf",
    ]
    before = digests(study, kept)
    shutil.copytree(REPO / "tests/data/viability", study / "viability")
    counts = study / "viability/vi_cell_blu_0h.csv"
    lines = counts.read_text().splitlines()
    cells = lines[1].split(",")
    cells[3] = "ERROR"  # 'Total (x10^6) cells/mL' of CLB001
    counts.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    config = study / "config/config.yaml"
    config.write_text(config.read_text() + "viability:\n  samplesheet: viability/viability.tsv\n")

    done = run_study(study)
    assert done.returncode != 0
    assert "the run failed in assess_viability" in done.stderr
    status = json.loads((study / "results/run_status.json").read_text())
    assert [s["rule"] for s in status["failed"]] == ["assess_viability"]
    assert "the counter gave no total cells/mL" in status["failed"][0]["message"]
    # what the failed step does not feed is current and untouched
    assert digests(study, kept) == before
    assert set(kept) <= set(status["current"])
    # what it feeds (the report, the workbook, the pack) was made from other inputs: gone
    for name in (
        "results/report.html",
        "results/tables/killcurve_tables.xlsx",
        "results/figures/figure_pack.pdf",
    ):
        assert not (study / name).exists()
        assert name in status["removed"] and name in status["missing"]
    assert (study / "results/provenance.json").is_file()  # remade for the new inputs
    assert "results/provenance.json" in status["current"]
    assert "assess_viability" in (study / "results/RUN_FAILED.md").read_text()

    counts.write_text((REPO / "tests/data/viability/vi_cell_blu_0h.csv").read_text())
    again = run_study(study)
    assert again.returncode == 0, again.stderr[-3000:]
    assert not (study / "results/RUN_FAILED.md").exists()
    assert (study / "results/report.html").is_file()
    assert digests(study, kept) == before
