"""Reusing a job's last outputs when the data it draws from did not change.

Snakemake reruns a job when any input file is newer than its outputs. A
study-level table such as ``curves.parquet`` changes whenever one plate does,
so after one plate of a 1,000-plate study changed, every per-target figure
job runs again, though only one target's data moved. A job can name the part
of its inputs it really uses (one target's curves and wells), hash it, and
wrap its work in :func:`memoised`: when the cache holds outputs made from the
same key, they are copied instead of redrawn. The key (:func:`memo_key`)
covers that content, the job's parameters, killcurve's own source files and
the versions of the libraries that compute and draw, so a copy is byte for
byte what the job would write now (the figures are deterministic: tested).

Figure keys also cover matplotlib's settings (:func:`style_digest`), so a changed
``matplotlibrc`` redraws them; installed font files are not covered.

The cache lives in ``results/.cache/<name>/`` and keeps one entry per name
(the last one made); deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

import killcurve

#: Where a study keeps the cache (relative to the study; the workflow's ``MEMO_CACHE``).
CACHE = Path("results/.cache")

#: Libraries whose version can change what a memoised job writes.
LIBRARIES = (
    "polars",
    "numpy",
    "scipy",
    "statsmodels",
    "matplotlib",
    "plotnine",
    "pypdf",
    "pillow",
    "pandas",
    "wellmap",
)
KEY_FILE = "key"


@cache
def code_digest() -> str:
    """SHA-256 of killcurve's source files and the versions of :data:`LIBRARIES`."""
    digest = hashlib.sha256()
    package = Path(killcurve.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    for name in LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=absent".encode())
    return digest.hexdigest()


@cache
def style_digest() -> str:
    """SHA-256 of matplotlib's settings in force (``rcParams`` but the backend).

    Part of every figure's key: a user's ``matplotlibrc`` can change what a figure looks
    like without a change to killcurve or the data, and then the figure is drawn again.
    Imports matplotlib, so only figure steps call it.
    """
    import matplotlib

    settings = sorted((k, repr(v)) for k, v in matplotlib.rcParams.items() if k != "backend")
    return hashlib.sha256(repr(settings).encode()).hexdigest()


def frame_bytes(frame: pl.DataFrame) -> bytes:
    """A table as uncompressed Arrow IPC bytes: same schema and values, same bytes."""
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="uncompressed")
    return buffer.getvalue()


def memo_key(parts: Iterable[pl.DataFrame | str]) -> str:
    """SHA-256 over :func:`code_digest` and ``parts`` (tables by content, text as UTF-8)."""
    digest = hashlib.sha256(code_digest().encode())
    for part in parts:
        data = frame_bytes(part) if isinstance(part, pl.DataFrame) else part.encode()
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def memoised(entry: Path, key: str, outputs: Mapping[str, Path], make: Callable[[], None]) -> bool:
    """Copy ``outputs`` from cache ``entry`` when it was made with ``key``, else ``make()``.

    ``outputs``: a name per output file (the file's name in the entry). After
    ``make()`` the outputs are stored in ``entry`` with ``key``, replacing what
    it held. Returns True when the outputs were copied from the cache. A cache
    entry that cannot be read or written is ignored: the job then just runs.
    """
    if _holds(entry, key):
        try:
            for name, path in outputs.items():
                _copy(Path(entry) / name, Path(path))
            return True
        except OSError:
            pass
    make()
    _store(entry, key, lambda fresh: [shutil.copyfile(p, fresh / n) for n, p in outputs.items()])
    return False


def memo_json(entry: Path, key: str, make: Callable[[], Any]) -> Any:
    """``make()``'s JSON-able value, or the one stored in ``entry`` with ``key``.

    Floats round-trip exactly (``json`` writes ``repr``; NaN as ``NaN``).
    """
    if _holds(entry, key):
        try:
            return json.loads((Path(entry) / "value.json").read_text())
        except (OSError, ValueError):
            pass
    value = make()
    _store(entry, key, lambda fresh: (fresh / "value.json").write_text(json.dumps(value)))
    return value


def memo_bytes(entry: Path, key: str, make: Callable[[], bytes]) -> bytes:
    """``make()``'s bytes, or those stored in ``entry`` with ``key``.

    For a job's intermediate (e.g. drawn pages it then places): the bytes live only in the
    entry, so no file outside the cache is written, left half-written or mistaken for one.
    """
    if _holds(entry, key):
        try:
            return (Path(entry) / "value.bin").read_bytes()
        except OSError:
            pass
    value = make()
    _store(entry, key, lambda fresh: (fresh / "value.bin").write_bytes(value))
    return value


def memo_table_from_files(
    entry: Path, label: str, make: Callable[[], tuple[pl.DataFrame, Iterable[Path]]]
) -> pl.DataFrame:
    """``make()``'s table, or the one stored in ``entry`` when the files it was read from are
    byte for byte the same (and :func:`code_digest` too).

    For a reader whose inputs are known only once it has run (a plate layout that includes
    other files): ``make()`` returns the table and every file it read. The entry records those
    paths (:func:`portable_path`); a later call hashes the same paths' current contents, with
    ``label`` (e.g. the file asked for), into the key and compares it with the stored one. A
    recorded file that is gone is a miss, so ``make()`` runs and reports it as it would
    without the cache.
    """
    entry = Path(entry)
    try:
        recorded = json.loads((entry / "files.json").read_text())
    except (OSError, ValueError):
        recorded = None
    if isinstance(recorded, list):
        key = _files_key(label, recorded)
        if key is not None and _holds(entry, key):
            try:
                return pl.read_ipc(io.BytesIO((entry / "table.arrow").read_bytes()))
            except OSError:
                pass
    table, files = make()
    names = sorted({portable_path(Path(f)) for f in files})
    key = _files_key(label, names)
    if key is not None:

        def write(fresh: Path) -> None:
            table.write_ipc(fresh / "table.arrow", compression="uncompressed")
            (fresh / "files.json").write_text(json.dumps(names))

        _store(entry, key, write)
    return table


def portable_path(path: Path) -> str:
    """``path`` resolved, relative to the working directory (the study) when inside it: a
    cache entry then holds the same bytes in a copy of the study elsewhere."""
    resolved = Path(path).resolve()
    here = Path.cwd().resolve()
    return resolved.relative_to(here).as_posix() if resolved.is_relative_to(here) else str(resolved)


def _files_key(label: str, files: Iterable[str]) -> str | None:
    """:func:`memo_key` over ``label`` and each file's name and bytes; None if one is gone."""
    from killcurve.common.hashing import sha256

    parts = [label]
    for name in files:
        try:
            parts += [name, sha256(Path(name))]
        except OSError:
            return None
    return memo_key(parts)


def _holds(entry: Path, key: str) -> bool:
    """Whether cache ``entry`` was stored with ``key``."""
    stored = Path(entry) / KEY_FILE
    return stored.is_file() and stored.read_text() == key


def _store(entry: Path, key: str, write: Callable[[Path], object]) -> None:
    """Replace ``entry`` with a folder that ``write`` fills, then ``key``.

    The folder is built beside the entry under a name of this process
    (``<entry>.<pid>.partial``); the old entry is renamed aside
    (``<entry>.<pid>.old.partial``) before the new one takes its name, and removed after.
    Each step is a rename, so an entry is at any moment whole or absent, even when the
    process is killed: what a kill leaves ends in ``.partial`` and is removed at the next
    start (:func:`killcurve.pipeline.recovery.recover_interrupted_run`). Jobs storing the same entry
    at once (a layout shared by two chunks) each build their own folder. A store that
    fails (disk, a value JSON cannot hold, another job's entry in the way) leaves the
    entry as it was or absent: the cache is only an optimisation."""
    entry = Path(entry)
    fresh = entry.with_name(f"{entry.name}.{os.getpid()}.partial")
    stale = entry.with_name(f"{entry.name}.{os.getpid()}.old.partial")
    try:
        for leftover in (fresh, stale):
            shutil.rmtree(leftover, ignore_errors=True)
        fresh.mkdir(parents=True)
        write(fresh)
        (fresh / KEY_FILE).write_text(key)
        with contextlib.suppress(FileNotFoundError):  # no entry yet
            os.replace(entry, stale)
        os.replace(fresh, entry)
    except (OSError, TypeError, ValueError):
        pass
    finally:
        for leftover in (fresh, stale):
            shutil.rmtree(leftover, ignore_errors=True)


def _copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary name, so no partial file is left."""
    partial = target.with_name(f".{target.name}.partial{target.suffix}")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
