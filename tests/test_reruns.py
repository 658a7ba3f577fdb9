"""Reruns: byte-identical outputs, recovery after kill -9, no stale results after a failure."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import REPO, SNAKEMAKE, run_study

pytestmark = pytest.mark.workflow


def result_hashes(study: Path) -> dict[str, str]:
    return {
        str(p.relative_to(study)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((study / "results").rglob("*"))
        if p.is_file()
    }


def input_hashes(study: Path) -> dict[str, str]:
    return {
        str(p.relative_to(study)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((study / "config").rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def reference_run(example_run: Path) -> tuple[Path, dict[str, str]]:
    """The session's example run and the hashes of its outputs."""
    return example_run, result_hashes(example_run)


def test_the_run_did_not_modify_its_inputs(reference_run) -> None:
    study, _ = reference_run
    assert input_hashes(study) == input_hashes(REPO)


def test_a_second_run_gives_byte_identical_outputs(reference_run, tmp_path: Path) -> None:
    _, reference = reference_run
    study = tmp_path / "study"
    shutil.copytree(REPO / "config", study / "config")
    assert run_study(study).returncode == 0
    assert len(reference) >= 20
    assert result_hashes(study) == reference


def test_kill_9_mid_run_then_rerun_completes_identically(reference_run, tmp_path: Path) -> None:
    _, reference = reference_run
    study = tmp_path / "study"
    shutil.copytree(REPO / "config", study / "config")
    proc = subprocess.Popen(
        [*SNAKEMAKE, "--directory", str(study)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    maps = study / "results/figures/plates"
    while time.monotonic() < deadline and not (maps.is_dir() and any(maps.glob("*.png"))):
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (study / "results/report.html").exists()
    done = run_study(study)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "left by an interrupted run" in done.stderr
    assert result_hashes(study) == reference


def test_failed_rerun_leaves_no_stale_results(tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(REPO / "config", study / "config")
    assert run_study(study).returncode == 0
    assert (study / "results/report.html").is_file()
    plate = study / "config/data/P05.txt"
    text = plate.read_text()
    row_c = text.index("\nC\t") + 3
    plate.write_text(text[:row_c] + "n/a" + text[text.index("\t", row_c) :])
    done = run_study(study)
    assert done.returncode != 0
    assert "plate P05" in done.stderr
    assert "removed" in done.stderr and "from results/" in done.stderr
    assert not [p for p in (study / "results").rglob("*") if p.is_file()]
