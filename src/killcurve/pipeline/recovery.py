"""Recovering a study directory after a run was killed (``kill -9``, power loss).

Snakemake leaves two traces of a killed run: its directory locks
(``.snakemake/locks``), which make the next run refuse to start, and
"incomplete" markers for the outputs of the jobs that were running. This module
holds an OS-level lock (``fcntl.flock`` on ``.snakemake/killcurve.lock``) for
the lifetime of the process that parses the workflow. The kernel releases it
when that process dies, however it dies, so a process that obtains it knows no
other run is alive in the directory: Snakemake's locks left there are stale.
It then removes them, deletes the outputs marked incomplete (the same as
``--rerun-incomplete``) and any ``.partial`` files our writers left, and lets
the run go on. A second run started while the first is alive cannot obtain the
lock, changes nothing, and meets Snakemake's own lock as usual.
"""

from __future__ import annotations

import base64
import fcntl
import os
import shutil
from pathlib import Path
from typing import IO

from killcurve.common.memo import CACHE

_HELD: list[IO[str]] = []


def _hold_run_lock(snakemake_dir: Path) -> bool:
    """Take the run lock without waiting; keep it until the process exits. False if taken."""
    snakemake_dir.mkdir(parents=True, exist_ok=True)
    handle = open(snakemake_dir / "killcurve.lock", "a")  # noqa: SIM115 — held for the process
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return False
    _HELD.append(handle)
    return True


def recover_interrupted_run(workdir: Path) -> list[str]:
    """Clear what a killed run left in ``workdir``; return one line per thing removed.

    Does nothing (returns ``[]``) when another run holds the directory.
    """
    workdir = Path(workdir)
    state = workdir / ".snakemake"
    if not _hold_run_lock(state):
        return []
    removed: list[str] = []
    for lock in sorted((state / "locks").glob("*.lock")):
        lock.unlink()
        removed.append(f"stale Snakemake lock {lock.name}")
    for marker in sorted((state / "incomplete").glob("*")):
        try:
            target = workdir / base64.urlsafe_b64decode(marker.name.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            continue
        inside = target.resolve().is_relative_to(workdir.resolve() / "results")
        if inside and target.is_dir():
            shutil.rmtree(target)
            removed.append(f"incomplete output {target.relative_to(workdir)}/")
        elif target.is_file() and target.resolve().is_relative_to(workdir.resolve()):
            target.unlink()
            removed.append(f"incomplete output {target.relative_to(workdir)}")
        marker.unlink()
    for partial in _partials(workdir / "results", workdir / CACHE):
        if partial.is_dir():
            shutil.rmtree(partial)
            removed.append(f"partial folder {partial.relative_to(workdir)}/")
        else:
            partial.unlink()
            removed.append(f"partial file {partial.relative_to(workdir)}")
    return removed


def _partials(results: Path, cache: Path) -> list[Path]:
    """The temporary files and folders our writers leave when killed, sorted.

    Outputs are written as ``.<name>.partial<suffix>`` beside them (``steps``, ``memo``),
    in the cache too (the report's screen copies, ``results/.cache/screen/``); the memo
    cache (``results/.cache/<name>/``) builds entries as ``<entry>.<pid>.partial`` and
    font subsets as ``<name>.<pid>.partial``, directly in its ``<name>`` folders. So
    ``cache``, thousands of folders at 1,000 plates (a cold walk of it took 3 s of a no-op
    run), is only listed two levels deep; the rest of ``results`` is walked.
    """
    found: list[Path] = []
    for root, dirs, files in os.walk(results):
        here = Path(root)
        partial = {name for name in [*dirs, *files] if _is_output_partial(name)}
        found += [here / name for name in partial]
        # not walked: temporary folders (removed whole) and the cache (listed below)
        dirs[:] = [d for d in dirs if d not in partial and here / d != cache]
    if cache.is_dir():
        for kind in os.scandir(cache):
            if kind.is_dir(follow_symlinks=False):
                found += [
                    Path(e.path)
                    for e in os.scandir(kind)
                    if e.name.endswith(".partial") or _is_output_partial(e.name)
                ]
    return sorted(found)


def _is_output_partial(name: str) -> bool:
    """Whether ``name`` is a temporary name of an output being written (``.<name>.partial…``)."""
    return name.startswith(".") and ".partial" in name


def clear_results(workdir: Path) -> int:
    """Remove every output under ``workdir/results`` (its README stays); return the file count.

    Called when a run fails, so that no table, figure or report made from
    earlier inputs is left looking like the outcome of the failed run.
    """
    results = Path(workdir) / "results"
    if not results.is_dir():
        return 0
    count = 0
    for path in sorted(results.rglob("*"), reverse=True):
        if path.is_file() and path.relative_to(results) != Path("README.md"):
            path.unlink()
            count += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return count


__all__ = ["clear_results", "recover_interrupted_run"]
