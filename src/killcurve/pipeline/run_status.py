"""What a failed run leaves in ``results/``: what is current, what was removed, and why.

A run can fail in one step (a plate that cannot be read, a figure that cannot be drawn,
a bug) while other steps finished. Snakemake removes the outputs of the failed job. This
module settles the rest, from the run's own job graph (the workflow's ``onerror``
handler passes it in):

* **current**: an output of a job that finished in this run, or that did not need to
  run because its inputs, parameters and code are unchanged. It stays;
* **stale**: every other file under ``results/`` (made from earlier inputs, or by a job
  that was still to run, including jobs the graph had not reached, such as the figures of
  a target known only after the curves are fitted). It is removed, so that nothing made
  from earlier inputs passes as this run's;
* ``results/RUN_FAILED.md`` (for people) and ``results/run_status.json`` (for tools) say
  which step failed, its message and log, which outputs are current, which were removed
  and which are missing. The next successful run removes both.

``results/README.md`` and the memo cache ``results/.cache`` (entries keyed by content,
never read as results) are kept. A run that stops at start-up (bad config or
samplesheet) has no job graph: :func:`settle_startup_failure` removes every output and
writes the same two files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from killcurve.common.memo import CACHE

#: The status files a failed run leaves (removed by the next successful run).
STATUS_FILES = ("RUN_FAILED.md", "run_status.json")
#: Files under results/ that are never results.
_KEEP = ("README.md", *STATUS_FILES)


@dataclass
class FailedStep:
    """One failed job: its rule, the outputs it did not make, its log and the message."""

    rule: str
    outputs: list[str]
    log: list[str]
    message: str = ""


@dataclass
class RunStatus:
    """How a failed run ended (:func:`settle_failed_run`)."""

    failed: list[FailedStep]
    current: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    stage: str = "step"


def _files(paths: Iterable[str], workdir: Path) -> set[Path]:
    """The files of ``paths`` (a directory output stands for every file inside it)."""
    found: set[Path] = set()
    for name in paths:
        path = workdir / name
        if path.is_dir():
            found |= {p for p in path.rglob("*") if p.is_file()}
        elif path.is_file():
            found.add(path)
    return found


def _results_files(workdir: Path) -> list[Path]:
    results = workdir / "results"
    cache = workdir / CACHE
    if not results.is_dir():
        return []
    return sorted(
        p
        for p in results.rglob("*")
        if p.is_file()
        and not p.is_relative_to(cache)
        and p.relative_to(results).as_posix() not in _KEEP
    )


def log_message(logs: Sequence[str], workdir: Path) -> str:
    """The ``killcurve: error:`` line of a failed step's log, else the log's last line."""
    for name in logs:
        path = workdir / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found = re.findall(r"^killcurve: error: (.*)$", text, flags=re.M)
        if found:
            return found[-1]
        lines = [line for line in text.splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no message in the step's log (see the Snakemake log)"


def settle_failed_run(
    workdir: Path,
    failed: Sequence[FailedStep],
    current_outputs: Iterable[str],
    declared: Iterable[str],
) -> RunStatus:
    """Remove every stale file under ``results/`` and write the status files.

    ``current_outputs``: the outputs of the jobs that finished or did not need to run;
    ``declared``: the run's requested outputs (``rule all``), to list the missing ones.
    """
    workdir = Path(workdir)
    for step in failed:
        if not step.message:
            step.message = log_message(step.log, workdir)
    status = RunStatus(failed=list(failed))
    _keep_only(workdir, _files(current_outputs, workdir), status)
    status.missing = sorted(d for d in set(declared) if not (workdir / d).exists())
    write_status(workdir, status)
    return status


def settle_startup_failure(workdir: Path, message: str) -> RunStatus:
    """A run that stopped before any job: remove every output, say why."""
    workdir = Path(workdir)
    status = RunStatus(failed=[FailedStep("start-up checks", [], [], message)], stage="start-up")
    _keep_only(workdir, set(), status)
    write_status(workdir, status)
    return status


def _keep_only(workdir: Path, current: set[Path], status: RunStatus) -> None:
    """Remove every result file not in ``current`` (then empty folders); list both in
    ``status``."""
    for path in _results_files(workdir):
        name = path.relative_to(workdir).as_posix()
        if path in current:
            status.current.append(name)
        else:
            path.unlink()
            status.removed.append(name)
    results = workdir / "results"
    if results.is_dir():
        for path in sorted(results.rglob("*"), reverse=True):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def clear_status(workdir: Path) -> None:
    """Remove the status files of an earlier failed run (after a successful one)."""
    for name in STATUS_FILES:
        (Path(workdir) / "results" / name).unlink(missing_ok=True)


def write_status(workdir: Path, status: RunStatus) -> None:
    """``results/run_status.json`` and ``results/RUN_FAILED.md`` of ``status``."""
    results = Path(workdir) / "results"
    results.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "status": "failed",
        "stage": status.stage,
        "failed": [step.__dict__ for step in status.failed],
        "current": status.current,
        "removed": status.removed,
        "missing": status.missing,
    }
    (results / "run_status.json").write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    lines = ["# The last run failed", ""]
    for step in status.failed:
        lines += [f"- **{step.rule}**: {step.message}"]
        if step.log:
            lines += [f"  (log: {', '.join(step.log)})"]
    lines += [
        "",
        "Fix the problem and run the workflow again: it makes only what is missing and "
        "removes this file when it succeeds.",
        "",
        f"## Current ({len(status.current)} files)",
        "",
        "Made in this run, or unchanged since their inputs were last processed:",
        "",
        *[f"- {p}" for p in status.current],
        "",
        f"## Removed ({len(status.removed)} files)",
        "",
        "Made from earlier inputs, or by steps that could not run after the failure; "
        "removed so that they are not mistaken for this run's:",
        "",
        *[f"- {p}" for p in status.removed],
        "",
        f"## Missing ({len(status.missing)} outputs)",
        "",
        *[f"- {p}" for p in status.missing],
        "",
    ]
    (results / "RUN_FAILED.md").write_text("\n".join(lines), "utf-8")


def status_of_workflow(workflow: Any) -> tuple[list[FailedStep], list[str], list[str]]:
    """(failed steps, current outputs, declared outputs) from a Snakemake run's job graph.

    ``workflow`` is Snakemake's object in the ``onerror`` handler (duck-typed: its
    ``scheduler.failed`` jobs, ``dag.jobs`` and ``dag.noneedrun_finished``).
    """
    dag = workflow.dag
    failed_jobs = list(getattr(workflow.scheduler, "failed", ()))
    failed = [
        FailedStep(job.rule.name, [str(o) for o in job.output], [str(x) for x in job.log])
        for job in failed_jobs
    ]
    current = [
        str(o)
        for job in dag.jobs
        if job not in failed_jobs and dag.noneedrun_finished(job)
        for o in job.output
    ]
    declared = [str(f) for job in dag.targetjobs for f in job.input]
    return failed, current, declared


def keep_going(workflow: Any) -> bool:
    """Let the run finish every job that does not depend on a failed one (Snakemake's
    ``--keep-going``), so that one failed output does not cost the valid others. Called
    from ``onstart``; True when it changed the setting."""
    scheduler = getattr(workflow, "scheduler", None)
    if scheduler is None or getattr(scheduler, "keepgoing", True):
        return False
    scheduler.keepgoing = True
    return True
