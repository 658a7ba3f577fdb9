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

The cache lives in ``results/.cache/<name>/`` and keeps one entry per name
(the last one made); deleting it is always safe.
"""

from __future__ import annotations

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

#: Libraries whose version can change what a memoised job writes.
LIBRARIES = ("polars", "numpy", "scipy", "statsmodels", "matplotlib", "plotnine", "pypdf", "pillow")
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
    entry = Path(entry)
    stored = entry / KEY_FILE
    if stored.is_file() and stored.read_text() == key:
        try:
            for name, path in outputs.items():
                _copy(entry / name, Path(path))
            return True
        except OSError:
            pass
    make()
    try:
        fresh = entry.with_name(f"{entry.name}.partial")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        for name, path in outputs.items():
            shutil.copyfile(path, fresh / name)
        (fresh / KEY_FILE).write_text(key)
        shutil.rmtree(entry, ignore_errors=True)
        os.replace(fresh, entry)
    except OSError:
        shutil.rmtree(entry, ignore_errors=True)
    return False


def memo_json(entry: Path, key: str, make: Callable[[], Any]) -> Any:
    """``make()``'s JSON-able value, or the one stored in ``entry`` with ``key``.

    Floats round-trip exactly (``json`` writes ``repr``; NaN as ``NaN``).
    """
    entry = Path(entry)
    stored = entry / KEY_FILE
    if stored.is_file() and stored.read_text() == key:
        try:
            return json.loads((entry / "value.json").read_text())
        except (OSError, ValueError):
            pass
    value = make()
    try:
        entry.mkdir(parents=True, exist_ok=True)
        stored.unlink(missing_ok=True)
        (entry / "value.json").write_text(json.dumps(value))
        stored.write_text(key)
    except (OSError, TypeError, ValueError):
        shutil.rmtree(entry, ignore_errors=True)
    return value


def _copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary name, so no partial file is left."""
    partial = target.with_name(f".{target.name}.partial{target.suffix}")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
