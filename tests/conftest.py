"""Shared fixtures: the bundled example study, and the reference data folder beside the repo."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2"]


def run_study(study: Path) -> subprocess.CompletedProcess[str]:
    """Run the workflow on ``study`` with ``--directory``, as a user would."""
    return subprocess.run(
        [*SNAKEMAKE, "--directory", str(study)], capture_output=True, text=True, timeout=600
    )


def planned_jobs(
    study: Path, targets: list[str], env: dict[str, str], wildcard: str = "chunk"
) -> set[tuple[str, str]]:
    """(rule, value of its ``wildcard`` or "") of every job a ``--dry-run`` of ``targets``
    plans (no targets: the default target)."""
    done = subprocess.run(
        [*SNAKEMAKE, "--directory", str(study), "--dry-run", *targets],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    jobs: list[list[str]] = []
    for line in done.stdout.splitlines():
        if m := re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):$", line):
            jobs.append([m.group(1), ""])
        elif jobs and (m := re.match(rf"^\s+wildcards: {wildcard}=(\S+)$", line)):
            jobs[-1][1] = m.group(1)
    return {(rule, value) for rule, value in jobs}


def only_status_files(study: Path) -> bool:
    """True when ``results/`` holds nothing but a failed run's status files."""
    files = [p for p in (study / "results").rglob("*") if p.is_file()]
    return sorted(p.name for p in files) == ["RUN_FAILED.md", "run_status.json"]


@pytest.fixture(scope="session")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example study, run once end to end for the whole session (read-only)."""
    study = tmp_path_factory.mktemp("example_run") / "study"
    shutil.copytree(REPO / "config", study / "config")
    done = run_study(study)
    assert done.returncode == 0, done.stderr[-3000:]
    return study


#: A small frozen study (8 plates: K562 release + SHP-77 luciferase, fresh and post-thaw) for
#: tests that corrupt or edit named plates and wells; independent of the bundled example.
SMALL_STUDY = REPO / "tests/data/small_study"


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small study, run once end to end for the whole session (read-only;
    copy it with ``shutil.copytree`` to change it)."""
    study = tmp_path_factory.mktemp("small_run") / "study"
    shutil.copytree(SMALL_STUDY / "config", study / "config")
    done = run_study(study)
    assert done.returncode == 0, done.stderr[-3000:]
    return study


@pytest.fixture
def small_study(tmp_path: Path) -> Path:
    """A writable copy of the small frozen study (its ``config/`` folder)."""
    study = tmp_path / "study"
    shutil.copytree(SMALL_STUDY / "config", study / "config")
    return study


@pytest.fixture
def example_study(tmp_path: Path) -> Path:
    """A writable copy of the bundled example study (its ``config/`` folder)."""
    study = tmp_path / "study"
    shutil.copytree(REPO / "config", study / "config")
    return study


@pytest.fixture
def shared() -> Path:
    """``../shared`` beside the checkout; skips when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"reference data folder {SHARED} is absent (it sits beside the checkout)")
    return SHARED
