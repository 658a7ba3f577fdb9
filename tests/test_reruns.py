"""Reruns: byte-identical outputs, recovery after kill -9, no stale results after a failure."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from killcurve.config import load_config
from killcurve.pipeline import steps

from .conftest import REPO, SMALL_STUDY, SNAKEMAKE, planned_jobs, run_study

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


@pytest.mark.slow
def test_a_second_run_gives_byte_identical_outputs(reference_run, tmp_path: Path) -> None:
    _, reference = reference_run
    study = tmp_path / "study"
    shutil.copytree(REPO / "config", study / "config")
    assert run_study(study).returncode == 0
    assert len(reference) >= 20
    assert result_hashes(study) == reference


@dataclass(frozen=True)
class KillPoint:
    """Where a run is killed. While a job runs, Snakemake marks its outputs incomplete
    (``.snakemake/incomplete/``, a file named by the base64 of the path): the run is killed
    once ``output`` has been marked for ``settle`` seconds (the job's Python at work), or,
    with ``writing``, once a file matching that pattern is being written."""

    output: str = ""
    settle: float = 0.0
    writing: str = ""


#: One point per stage of the small study's run (8 plates, one chunk; a run takes ~30 s on
#: 2 cores): reading its plates (collect_chunk: 3 s), fitting (fit_curves: 1–3 s, the chunk's
#: plate maps drawn beside it), figures (plot_target_figures writing a curve figure's
#: temporary file) and the figure pack (build_figure_pack: 3 s).
KILL_POINTS = {
    "reading": KillPoint(output="results/chunks/001.wells.parquet", settle=0.5),
    # 0.5 s into fit_curves: past its imports; 1.0 s was flaky on an idle machine (the job can
    # end in ~1 s there)
    "fitting": KillPoint(output="results/tables/curves.csv", settle=0.5),
    "figures": KillPoint(writing="results/figures/.curves_*.partial.*"),
    "pack": KillPoint(output="results/figures/figure_pack.pdf", settle=1.0),
}


def marked_incomplete(study: Path, output: str) -> bool:
    name = base64.urlsafe_b64encode(output.encode()).decode()
    return (study / ".snakemake/incomplete" / name).exists()


def study_env(tmp: Path) -> dict[str, str]:
    """The environment of a run whose system temporary folder is ``tmp`` (to see that the
    jobs leave nothing there)."""
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp)}


def group_alive(group: int) -> bool:
    """Whether a process of process group ``group`` still runs (its zombies aside: the jobs
    of a killed run die with it, so that what they left can be read off the study)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError):
            continue
        if int(pgrp) == group and state != "Z":
            return True
    return False


def run_killed_at(study: Path, point: KillPoint, log: Path, tmp: Path) -> None:
    """Run the workflow on ``study`` (stderr into ``log``) and SIGKILL its whole process
    group (Snakemake and its jobs) at ``point``."""
    with log.open("w") as err:
        proc = subprocess.Popen(
            [*SNAKEMAKE, "--directory", str(study)],
            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True, env=study_env(tmp),
        )  # fmt: skip
        try:
            deadline, since = time.monotonic() + 300, None
            while True:
                assert proc.poll() is None, f"the run ended before {point} was reached"
                assert time.monotonic() < deadline, f"{point} not reached in 300 s"
                if point.writing and any(study.glob(point.writing)):
                    break
                if point.output and marked_incomplete(study, point.output):
                    since = since or time.monotonic()
                    if time.monotonic() - since >= point.settle:
                        break
                else:
                    assert since is None, f"the job of {point.output} ended within {point.settle} s"
                time.sleep(0.01)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            deadline = time.monotonic() + 10
            while group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.01)
    assert not group_alive(proc.pid), "jobs of the killed run still run"
    if point.output:
        assert marked_incomplete(study, point.output)


def temporary_files(results: Path) -> list[Path]:
    """Files and folders under ``results`` with a temporary name (``.partial`` in it), the
    cache included; not those inside a temporary folder."""
    found = []
    for root, dirs, files in os.walk(results):
        found += [Path(root, name) for name in [*dirs, *files] if ".partial" in name]
        dirs[:] = [d for d in dirs if ".partial" not in d]
    return sorted(found)


def left_by_the_kill(study: Path) -> list[str]:
    """What the next run must say it removed, read off the study after a kill: Snakemake's
    locks, the outputs it marked incomplete that exist, and every temporary file."""
    state = study / ".snakemake"
    lines = [f"stale Snakemake lock {p.name}" for p in (state / "locks").glob("*.lock")]
    for marker in (state / "incomplete").glob("*"):
        output = base64.urlsafe_b64decode(marker.name.encode()).decode()
        if (study / output).is_dir():
            lines.append(f"incomplete output {output}/")
        elif (study / output).is_file():
            lines.append(f"incomplete output {output}")
    for path in temporary_files(study / "results"):
        name = str(path.relative_to(study))
        lines.append(f"partial folder {name}/" if path.is_dir() else f"partial file {name}")
    return sorted(lines)


def said_removed(stderr: str) -> list[str]:
    return sorted(re.findall(r"killcurve: removed (.+) left by an interrupted run", stderr))


def left_in_tmp(tmp: Path) -> list[Path]:
    """What the runs left in their system temporary folder but Snakemake's own empty
    ``snakemake*`` folder (one per run, removed when it exits; kept after a kill)."""
    own = [p for p in tmp.glob("snakemake*") if p.is_dir() and not any(p.iterdir())]
    return sorted(set(tmp.iterdir()) - set(own))


def assert_nothing_left(study: Path, tmp: Path) -> None:
    """No temporary file in results/ (cache included), no incomplete marker or lock of
    Snakemake's, nothing in the runs' system temporary folder."""
    assert temporary_files(study / "results") == []
    assert not list((study / ".snakemake/incomplete").glob("*"))
    assert not list((study / ".snakemake/locks").glob("*"))
    assert left_in_tmp(tmp) == []


def test_kill_9_at_each_stage_then_plain_reruns_complete_identically(
    small_run: Path, tmp_path: Path
) -> None:
    """On the small study (every rule but the viability one), whose session run is the
    reference: a run killed while reading, its plain rerun (the same command) killed while
    fitting, that one's while drawing figures, that one's while building the figure pack;
    each rerun removes what the killed run left and says so, and the last one completes
    with outputs byte-identical to the reference, leaving no temporary file."""
    reference = result_hashes(small_run)
    study, tmp = tmp_path / "study", tmp_path / "tmp"
    shutil.copytree(SMALL_STUDY / "config", study / "config")
    left: dict[str, list[str]] = {}
    for name, point in KILL_POINTS.items():
        log = tmp_path / f"{name}.log"
        run_killed_at(study, point, log, tmp)
        if left:
            assert said_removed(log.read_text()) == list(left.values())[-1], name
        left[name] = left_by_the_kill(study)
        assert left_in_tmp(tmp) == [], name
    assert all(any(line.startswith("stale Snakemake lock") for line in v) for v in left.values())
    assert any(line.startswith("partial file results/figures/.curves_") for line in left["figures"])
    done = run_plain(study, tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    assert said_removed(done.stderr) == left["pack"]
    assert len(reference) >= 20
    assert result_hashes(study) == reference
    assert_nothing_left(study, tmp)


def run_plain(study: Path, tmp: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """The workflow on ``study``, as a user runs it (with ``flags``, if any)."""
    return subprocess.run(
        [*SNAKEMAKE, "--directory", str(study), *flags],
        capture_output=True, text=True, timeout=600, env=study_env(tmp),
    )  # fmt: skip


@pytest.mark.recovery
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_9_at_one_stage_then_a_plain_rerun_completes_identically(
    point: str, small_run: Path, tmp_path: Path
) -> None:
    """Each kill point of the chained test above on its own, each followed by a full run."""
    reference = result_hashes(small_run)
    study, tmp = tmp_path / "study", tmp_path / "tmp"
    shutil.copytree(SMALL_STUDY / "config", study / "config")
    run_killed_at(study, KILL_POINTS[point], tmp_path / "killed.log", tmp)
    left = left_by_the_kill(study)
    assert left_in_tmp(tmp) == []
    done = run_plain(study, tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    assert said_removed(done.stderr) == left
    assert result_hashes(study) == reference
    assert_nothing_left(study, tmp)


@pytest.mark.recovery
def test_kill_9_then_snakemakes_unlock_and_rerun_incomplete(
    small_run: Path, tmp_path: Path
) -> None:
    """The recovery Snakemake documents still works: ``--unlock``, then
    ``--rerun-incomplete``. Parsing the workflow for ``--unlock`` already clears what the
    killed run left (the study is not in use), so the second run has nothing to remove."""
    reference = result_hashes(small_run)
    study, tmp = tmp_path / "study", tmp_path / "tmp"
    shutil.copytree(SMALL_STUDY / "config", study / "config")
    run_killed_at(study, KILL_POINTS["figures"], tmp_path / "killed.log", tmp)
    left = left_by_the_kill(study)
    unlocked = run_plain(study, tmp, "--unlock")
    assert unlocked.returncode == 0, unlocked.stderr[-3000:]
    assert said_removed(unlocked.stderr) == left
    done = run_plain(study, tmp, "--rerun-incomplete")
    assert done.returncode == 0, done.stderr[-3000:]
    assert said_removed(done.stderr) == []
    assert result_hashes(study) == reference
    assert_nothing_left(study, tmp)


def test_failed_rerun_leaves_no_stale_results(small_run: Path, tmp_path: Path) -> None:
    """A finished run (a copy of the session's small-study run), then a plate made unreadable."""
    study = tmp_path / "study"
    shutil.copytree(small_run, study)
    assert (study / "results/report.html").is_file()
    plate = study / sheet_rows(study)["P05"]["file"]
    text = plate.read_text(encoding="utf-8-sig")
    first = re.search(r"^C[,\t]([^,\t]+)", text, flags=re.M)
    plate.write_text(text[: first.start(1)] + "n/a" + text[first.end(1) :])
    done = run_study(study)
    assert done.returncode != 0
    assert "plate P05" in done.stderr
    assert "See results/RUN_FAILED.md" in done.stderr
    status = json.loads((study / "results/run_status.json").read_text())
    assert "plate P05" in status["failed"][0]["message"]
    # what remains was made from the current inputs: other chunks' reads, nothing downstream
    left = {p.relative_to(study).as_posix() for p in (study / "results").rglob("*")
            if p.is_file() and ".cache" not in p.parts} - {"results/RUN_FAILED.md",
                                                           "results/run_status.json"}  # fmt: skip
    assert left == set(status["current"])
    assert not [p for p in left if not p.startswith("results/chunks/")]


def input_digests(study: Path) -> dict[str, str]:
    """SHA-256 of the files provenance.json must list: the samplesheet, the exclusions and
    every export and layout the sheet names (the small study has no viability sheet)."""
    names = {"config/plates.tsv", "config/exclusions.tsv"}
    names |= {row[c] for row in sheet_rows(study).values() for c in ("file", "layout")}
    return {n: hashlib.sha256((study / n).read_bytes()).hexdigest() for n in sorted(names)}


def recorded_digests(study: Path) -> dict[str, str]:
    return json.loads((study / "results/provenance.json").read_text())["inputs"]


def sheet_rows(study: Path) -> dict[str, dict[str, str]]:
    """The samplesheet's rows by plate_id, in order."""
    lines = (study / "config/plates.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]
    return {row["plate_id"]: row for row in rows}


def test_a_no_op_run_leaves_pandas_unloaded(small_run: Path) -> None:
    """Snakemake imports pandas (0.4 s of a no-op at 1,000 plates) to check params unless
    workflow/Snakefile marks it absent; the run must still see that nothing is to be done."""
    probe = (
        "import atexit, sys; from snakemake.cli import main; "
        "atexit.register(lambda: print('pandas loaded:', sys.modules.get('pandas') is not None)); "
        "sys.argv[0] = 'snakemake'; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *SNAKEMAKE[3:], "--directory", str(small_run)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Nothing to be done" in done.stderr
    assert "pandas loaded: False" in done.stdout


def test_one_changed_plate_reruns_only_its_chunk(tmp_path: Path) -> None:
    """8 plates per chunk: the example's plates 1-8, 9-16 and 17-22 (the sheet's order) are
    chunks 001, 002 and 003. A reading changed in plate 10 re-reads chunk 002 and re-draws
    its maps; the merge and the map gathering rerun; chunks 001 and 003 do not."""
    study = tmp_path / "study"
    shutil.copytree(REPO / "config", study / "config")
    env = {**os.environ, "KILLCURVE_PLATES_PER_CHUNK": "8"}
    targets = ["results/tables/wells.parquet", "results/figures/plate_maps.pdf"]
    done = subprocess.run(
        [*SNAKEMAKE, "--directory", str(study), *targets],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    # endpoint plates only: the time-resolved arm (time = all) has jobs of its own
    rows = [row for row in sheet_rows(study).values() if row.get("time") != "all"]
    assert len(rows) > 16, "the example needs three chunks of 8"
    assert sorted(p.name for p in (study / "results/chunks").glob("*.wells.parquet")) == [
        "001.wells.parquet", "002.wells.parquet", "003.wells.parquet",
    ]  # fmt: skip
    # The merged chunks are the single-pass tables, byte for byte.
    config = load_config(study / "config/config.yaml")
    single = tmp_path / "single"
    steps.collect_wells(
        study / config["plates"], study, single / "wells.parquet", single / "plate_qc.csv",
        config["qc"], study / config["exclusions"],
    )  # fmt: skip
    tables = study / "results/tables"
    assert (tables / "wells.parquet").read_bytes() == (single / "wells.parquet").read_bytes()
    assert (tables / "plate_qc.csv").read_bytes() == (single / "plate_qc.csv").read_bytes()
    assert len(list((study / "results/figures/plates").glob("*.png"))) == len(rows)
    assert planned_jobs(study, targets, env) == set()

    plate = study / rows[9]["file"]
    text = plate.read_text(encoding="utf-8-sig")
    first = re.search(r"^A[,\t](\d+)", text, flags=re.M)
    plate.write_text(text[: first.start(1)] + str(int(first.group(1)) + 1) + text[first.end(1) :])
    aggregations = {("collect_wells", ""), ("plot_plate_maps", "")}
    chunk_2 = {("collect_chunk", "002"), ("plot_chunk_maps", "002")}
    assert planned_jobs(study, targets, env) == chunk_2 | aggregations

    # An edited samplesheet row reruns its own chunk only (the rows are the chunk's params).
    sheet = study / "config/plates.tsv"
    sheet.write_text(sheet.read_text().replace("\tsimulated", "\tsomeone else", 1))
    chunk_1 = {("collect_chunk", "001"), ("plot_chunk_maps", "001")}
    assert planned_jobs(study, targets, env) == chunk_1 | chunk_2 | aggregations


def test_a_plate_of_one_target_redraws_that_targets_figures_only(
    small_run: Path, tmp_path: Path
) -> None:
    """P01 is a K562 plate. After one of its readings changed, the fit reruns and rewrites
    every target's tables (results/targets); SHP-77's get the same bytes, so Snakemake,
    comparing input checksums when it re-plans after the fit checkpoint, redraws the K562
    figures only. provenance.json (the plate files hashed by their chunk jobs) holds P01's
    new digest and the other files' unchanged ones."""
    assert "viability" not in load_config(small_run / "config/config.yaml")
    before = input_digests(small_run)
    assert len(before) == 2 + 8 + 8  # sheet, exclusions, 8 exports, 8 layouts
    assert recorded_digests(small_run) == before
    study = tmp_path / "study"
    shutil.copytree(small_run, study, symlinks=True)
    figures = study / "results/figures"
    untouched = {p.name: p.stat().st_mtime_ns for p in figures.glob("*SHP-77*")}
    assert len(untouched) == 4
    curves = (study / "results/tables/curves.parquet").read_bytes()
    plate = study / sheet_rows(study)["P01"]["file"]
    text = plate.read_text(encoding="utf-8-sig")
    first = re.search(r"^A[,\t](\d+)", text, flags=re.M)
    plate.write_text(text[: first.start(1)] + str(int(first.group(1)) + 1) + text[first.end(1) :])
    done = run_study(study)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (study / "results/tables/curves.parquet").read_bytes() != curves
    assert re.findall(r"^\s+wildcards: target=(\S+)$", done.stderr, flags=re.M) == ["K562"]
    assert {p.name: p.stat().st_mtime_ns for p in figures.glob("*SHP-77*")} == untouched
    after = recorded_digests(study)
    assert after == input_digests(study)
    changed = sheet_rows(study)["P01"]["file"]
    assert after[changed] != before[changed]
    assert {k: v for k, v in after.items() if k != changed} == {
        k: v for k, v in before.items() if k != changed
    }
