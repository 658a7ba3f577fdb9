"""The `.test` study on a real one-node SLURM cluster gives the same results as a local run.

Needs root (tools/slurm_cluster.sh installs slurm-wlm and munge and starts the daemons) and
snakemake-executor-plugin-slurm (`pip install -r requirements-slurm.lock`). Deselected from
the default run; `pytest -m slurm` runs it (a separate step of .ci/run). It takes minutes:
the plugin polls SLURM for job states every 10 s or more.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from .conftest import REPO

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

CLUSTER = REPO / "tools/slurm_cluster.sh"
PROFILE = REPO / "workflow/profiles/slurm"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: .*/slurm_logs/([^/]+)/")


def cluster_is_up() -> bool:
    """True when a SLURM controller answers on this machine."""
    if shutil.which("scontrol") is None:
        return False
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30)
    return "is UP" in ping.stdout


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[None]:
    """A running one-node cluster: started by tools/slurm_cluster.sh and stopped afterwards,
    unless one was already running (then it is left as it was)."""
    pytest.importorskip(
        "snakemake_executor_plugin_slurm",
        reason="snakemake-executor-plugin-slurm is not installed "
        "(pip install -r requirements-slurm.lock)",
    )
    if os.geteuid() != 0:
        pytest.skip("the test cluster needs root (tools/slurm_cluster.sh starts SLURM daemons)")
    if cluster_is_up():
        yield
        return
    start = subprocess.run(["bash", str(CLUSTER)], capture_output=True, text=True, timeout=900)
    if start.returncode != 0 and shutil.which("slurmctld") is None:
        pytest.skip(f"slurm-wlm and munge could not be installed: {start.stderr.strip()}")
    assert start.returncode == 0, start.stdout + start.stderr
    yield
    subprocess.run(["bash", str(CLUSTER), "stop"], capture_output=True, timeout=120)


def run(args: list[str], study: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Snakemake on ``study``; the finished process and its wall time in seconds."""
    t0 = time.monotonic()
    done = subprocess.run(
        [*SNAKEMAKE, *args, "--directory", str(study)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return done, time.monotonic() - t0


def hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_slurm_run_matches_the_local_run(slurm_cluster: None, tmp_path: Path) -> None:
    local, cluster = tmp_path / "local", tmp_path / "slurm"
    for study in (local, cluster):
        shutil.copytree(REPO / ".test", study)
    done, local_s = run(["--cores", "2"], local)
    assert done.returncode == 0, done.stderr[-3000:]
    done, slurm_s = run(["--profile", str(PROFILE)], cluster)
    assert done.returncode == 0, done.stderr[-5000:]

    # Every job went through sbatch, small jobs batched into groups as the profile says.
    submitted = SUBMITTED.findall(done.stderr)
    names = [name for _, name in submitted]
    jobs = re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", done.stderr)
    jobs = [rule for rule in jobs if rule != "default"]
    assert len({job for job, _ in submitted}) == len(submitted), names
    assert {"rule_collect_wells", "rule_fit_curves"} <= set(names)
    # The .test study has one target: its figures job goes in the group that batches up to 10
    # targets; its one chunk of plates (read, then drawn) is one SLURM job.
    assert "group_target_figures_plot_target_figures" in names
    assert not {"rule_plot_target_figures", "rule_collect_chunk"} & set(names)
    assert len(submitted) < len(jobs)
    print(f"\nSLURM: {len(jobs)} jobs in {len(submitted)} sbatch submissions, {slurm_s:.0f} s")
    print(f"local: {local_s:.0f} s; submissions: {', '.join(names)}")

    tables = sorted(p.name for p in (local / "results/tables").glob("*.csv"))
    assert {"plate_qc.csv", "curves.csv", "comparisons.csv"} <= set(tables)
    for name in tables:
        left = (local / "results/tables" / name).read_bytes()
        assert left == (cluster / "results/tables" / name).read_bytes(), name
    for name in ("wells.parquet", "curves.parquet"):
        frame = pl.read_parquet(local / "results/tables" / name)
        assert frame.height > 0
        assert_frame_equal(frame, pl.read_parquet(cluster / "results/tables" / name))
    # And so is everything else the run wrote (figures, report, workbook, provenance).
    assert hashes(local / "results") == hashes(cluster / "results")
