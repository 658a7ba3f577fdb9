"""Scale benchmark: the whole workflow on simulated studies of 100 and 1,000 plates.

For each ``--plates`` N it simulates an N-plate study (``killcurve simulate``,
96-well plates, seeded) into ``--workdir``, then runs the project's Snakefile
on it with ``--cores`` (default 2) as a subprocess and measures:

* ``wall_s``: wall time of the full run (seconds, Snakemake start to exit);
* ``rss_max_gib`` / ``rss_sum_gib``: peak resident memory of the process tree
  (Snakemake and every job it starts), polled every 0.1 s with psutil: the
  largest single process, and the largest sum over the tree at one instant
  (GiB = 2**30 bytes);
* ``cpu_s``: CPU time (user + system) of Snakemake and all its jobs, from
  ``getrusage(RUSAGE_CHILDREN)``; with ``load``, the 1-minute load average at
  the start, it tells a slow machine from a slow workflow;
* ``scheduler_cpu_s`` (and ``rerun_scheduler_cpu_s``): CPU time of the
  Snakemake process itself, without its jobs (last poll before it exits): the
  cost of building the DAG and scheduling, which takes a core from the jobs;
* ``jobs``: the jobs of the full run (the ``total`` of Snakemake's job stats);
* ``noop_s``: wall time of a run with nothing to do, the median of
  ``--repeat`` runs (``noop_runs``: each; one wall time on a shared 2-core
  machine moves by a second between runs);
* ``rerun_s``: wall time of a run after one plate file changed (the first
  reading of row A of the middle BMG MARS plate incremented by 1, so its
  content hash and mtime change), the median of ``--repeat`` such changes
  and reruns (``rerun_runs``: each), and ``rerun_jobs``: the jobs the first
  rerun ran, by rule, from its log (a ``--dry-run`` cannot list the jobs
  that follow the fit checkpoint).

It checks what the first rerun plans (``--dry-run`` just before): every planned
job with a ``chunk`` wildcard must be the chunk of the changed plate (no other
plate is re-read or re-drawn), and no rule outside the per-chunk rules and the
study-wide aggregations may appear. A check that fails ends the script with
status 1.

Targets of issue 13 (1,000 plates, 2 cores): wall ≤ 300 s, peak RSS ≤ 4 GiB,
no-op ≤ 3 s, one-plate rerun ≤ 30 s; the table marks each.

Run from the repository root (about 8 minutes for both sizes)::

    /work/venv/bin/python benchmarks/scale.py
    /work/venv/bin/python benchmarks/scale.py --plates 100 --json benchmarks/results/scale.json

``--snakefile`` runs another checkout's workflow (for before/after numbers;
put that checkout's ``src`` first on ``PYTHONPATH`` too).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
GIB = 2**30
#: Issue 13's limits at 1,000 plates.
LIMITS = {"wall_s": 300.0, "rss_sum_gib": 4.0, "noop_s": 3.0, "rerun_s": 30.0}


@dataclass
class Measured:
    """One timed Snakemake run: wall and CPU time (s), peak RSS (GiB), exit status, stderr."""

    wall_s: float
    cpu_s: float
    rss_max_gib: float
    rss_sum_gib: float
    own_cpu_s: float
    returncode: int
    stderr: str = field(repr=False)


@dataclass
class Row:
    """The benchmark's numbers for one study size."""

    plates: int
    load: float
    wall_s: float
    cpu_s: float
    scheduler_cpu_s: float
    rss_max_gib: float
    rss_sum_gib: float
    jobs: int
    noop_s: float
    noop_runs: list[float]
    rerun_s: float
    rerun_runs: list[float]
    rerun_scheduler_cpu_s: float
    rerun_jobs: dict[str, int]
    changed_plate: str
    rerun_chunks: list[str]


def timed(command: list[str], poll_s: float = 0.1) -> Measured:
    """Run ``command``; wall time and the peak RSS of it and all its descendants."""
    start, cpu = time.perf_counter(), _children_cpu()
    proc = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rss_max = rss_sum = 0
    own = 0.0
    stderr: list[str] = []
    reader = _drain(proc, stderr)
    while proc.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        sizes = []
        for p in tree:
            try:
                sizes.append(p.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        try:
            times = proc.cpu_times()
            own = times.user + times.system
        except psutil.NoSuchProcess:
            pass
        rss_max = max(rss_max, *sizes, 0)
        rss_sum = max(rss_sum, sum(sizes))
        time.sleep(poll_s)
    proc.wait()
    reader.join()
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    return Measured(wall, cpu, rss_max / GIB, rss_sum / GIB, own, proc.returncode, "".join(stderr))


def _children_cpu() -> float:
    """User + system CPU seconds of all finished descendants so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _drain(proc: psutil.Popen, sink: list[str]):
    """Read the child's stderr in a thread, so a full pipe never blocks it."""
    import threading

    thread = threading.Thread(target=lambda: sink.extend(proc.stderr), daemon=True)
    thread.start()
    return thread


def job_stats(stderr: str) -> dict[str, int]:
    """Jobs per rule from Snakemake's ``Job stats`` table (the last one printed)."""
    tables = stderr.split("Job stats:")
    if len(tables) < 2:
        return {}
    counts = {}
    for line in tables[-1].splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


def planned_jobs(stdout: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job in a ``--dry-run`` listing."""
    jobs: list[tuple[str, dict[str, str]]] = []
    for line in stdout.splitlines():
        if m := re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):$", line):
            jobs.append((m.group(1), {}))
        elif jobs and (m := re.match(r"^\s+wildcards: (.*)$", line)):
            jobs[-1][1].update(kv.split("=", 1) for kv in m.group(1).split(", "))
    return jobs


def change_one_plate(study: Path) -> str:
    """Increment the first row-A reading of the middle BMG MARS plate; return its plate_id."""
    lines = (study / "config/plates.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    mars = [r for r in rows if r["format"] == "bmg_mars"]
    plate = mars[len(mars) // 2]
    path = study / plate["file"]
    text = path.read_text(encoding="utf-8-sig")
    m = re.search(r"^A,(\d+)", text, flags=re.M)
    assert m, f"{path}: no row A in this BMG MARS export"
    path.write_text(text[: m.start(1)] + str(int(m.group(1)) + 1) + text[m.end(1) :])
    return plate["plate_id"]


def bench(plates: int, workdir: Path, snakemake: list[str], repeat: int = 3) -> Row:
    """Simulate, run, rerun (no-op) ``repeat`` times, change one plate, plan and rerun
    (``repeat`` changes and reruns); the numbers."""
    study = workdir / f"plates_{plates}"
    if study.exists():
        shutil.rmtree(study)
    subprocess.run(
        [sys.executable, "-c", "import sys; from killcurve.cli import main; sys.exit(main())",
         "simulate", "--plates", str(plates), str(study)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    command = [*snakemake, "--directory", str(study)]
    load = os.getloadavg()[0]
    full = timed(command)
    if full.returncode != 0:
        sys.exit(f"the {plates}-plate run failed:\n{full.stderr[-3000:]}")
    noops = [timed(command) for _ in range(repeat)]
    for noop in noops:
        assert "Nothing to be done" in noop.stderr, noop.stderr[-2000:]
    changed = change_one_plate(study)
    plan = subprocess.run([*command, "--dry-run"], capture_output=True, text=True, check=True)
    jobs = planned_jobs(plan.stdout + plan.stderr)
    reruns = []
    for i in range(repeat):
        if i:
            change_one_plate(study)
        reruns.append(timed(command))
        if reruns[-1].returncode != 0:
            sys.exit(f"the {plates}-plate rerun failed:\n{reruns[-1].stderr[-3000:]}")
    rerun = reruns[0]
    by_rule: dict[str, int] = {}
    for rule, _ in planned_jobs(rerun.stderr):
        by_rule[rule] = by_rule.get(rule, 0) + 1
    return Row(
        plates=plates,
        load=round(load, 1),
        wall_s=round(full.wall_s, 1),
        cpu_s=round(full.cpu_s, 1),
        scheduler_cpu_s=round(full.own_cpu_s, 1),
        rss_max_gib=round(full.rss_max_gib, 2),
        rss_sum_gib=round(full.rss_sum_gib, 2),
        jobs=job_stats(full.stderr).get("total", 0),
        noop_s=round(statistics.median(n.wall_s for n in noops), 2),
        noop_runs=[round(n.wall_s, 2) for n in noops],
        rerun_s=round(statistics.median(r.wall_s for r in reruns), 1),
        rerun_runs=[round(r.wall_s, 1) for r in reruns],
        rerun_scheduler_cpu_s=round(rerun.own_cpu_s, 1),
        rerun_jobs=by_rule,
        changed_plate=changed,
        rerun_chunks=sorted({w["chunk"] for _, w in jobs if "chunk" in w}),
    )


def check_rerun(row: Row, chunk_of: dict[str, str]) -> list[str]:
    """Problems with the rerun plan: a chunk other than the changed plate's, or none at all."""
    problems = []
    expected = chunk_of.get(row.changed_plate)
    if expected is None:
        return [f"{row.plates} plates: no chunk for plate {row.changed_plate} (unchunked workflow)"]
    if row.rerun_chunks != [expected]:
        problems.append(
            f"{row.plates} plates: plate {row.changed_plate} is in chunk {expected}, but the "
            f"rerun plans chunks {row.rerun_chunks}"
        )
    return problems


def chunk_map(study: Path) -> dict[str, str]:
    """plate_id → chunk, read from ``results/chunks/{chunk}.wells.parquet``."""
    import polars as pl

    mapping = {}
    for part in sorted((study / "results/chunks").glob("*.wells.parquet")):
        plates = pl.read_parquet(part, columns=["plate_id"])["plate_id"].unique().to_list()
        mapping.update(dict.fromkeys(plates, part.name.split(".")[0]))
    return mapping


def table(rows: list[Row]) -> str:
    """The numbers as a Markdown table; a ✗ marks a value over issue 13's limit (1,000 plates)."""
    head = (
        "| plates | load | wall (s) | CPU (s) | of which Snakemake (s) | RSS max / sum (GiB) "
        "| jobs | no-op (s) | 1-plate rerun (s) | rerun jobs |"
    )
    lines = [head, "|" + " --- |" * 10]
    for r in rows:

        def mark(key: str, value: float, r: Row = r) -> str:
            over = r.plates >= 1000 and value > LIMITS[key]
            return f"{value}{' ✗' if over else ''}"

        ran = sum(r.rerun_jobs.values())
        lines.append(
            f"| {r.plates} | {r.load} | {mark('wall_s', r.wall_s)} | {r.cpu_s} "
            f"| {r.scheduler_cpu_s} | {r.rss_max_gib} / "
            f"{mark('rss_sum_gib', r.rss_sum_gib)} | {r.jobs} | {mark('noop_s', r.noop_s)} | "
            f"{mark('rerun_s', r.rerun_s)} | {ran} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plates", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/killcurve-scale"))
    parser.add_argument("--snakefile", type=Path, default=REPO / "Snakefile")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument(
        "--repeat", type=int, default=3, help="no-op runs and one-plate reruns (median reported)"
    )
    args = parser.parse_args()
    snakemake = [sys.executable, "-m", "snakemake", "-s", str(args.snakefile),
                 "--cores", str(args.cores)]  # fmt: skip
    rows, problems = [], []
    for n in args.plates:
        row = bench(n, args.workdir, snakemake, args.repeat)
        rows.append(row)
        problems += check_rerun(row, chunk_map(args.workdir / f"plates_{n}"))
        print(json.dumps(asdict(row)), flush=True)
    print(table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
