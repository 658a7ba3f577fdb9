"""Provenance of a run: which code, inputs and settings made its outputs.

``results/provenance.json`` holds the SHA-256 of every input file, the
normalised config and its hash, package versions, the git commit of the
killcurve code (``unknown`` outside a git checkout; ``+dirty`` when it has
uncommitted changes), the Snakemake version and the platform. The
*provenance id* (12 hex digits) is the SHA-256 of the input hashes, the config
hash, the killcurve version and the commit: the same id means the same inputs,
settings and code. It contains no time stamp, so identical runs give identical bytes.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from killcurve import __version__
from killcurve.common.hashing import sha256

#: Packages whose versions are recorded.
PACKAGES = (
    "snakemake", "polars", "pyarrow", "numpy", "scipy", "statsmodels", "plotnine",
    "matplotlib", "wellmap",
)  # fmt: skip


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def git_commit(code_dir: Path) -> str:
    """Commit of the checkout holding ``code_dir``, ``+dirty`` if it has tracked changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(code_dir), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True, timeout=20,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "-C", str(code_dir), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=20,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if status else "")


def normalised_config(config: dict[str, Any]) -> str:
    """The config as compact JSON with sorted keys (defaults already filled by the schema)."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)


def build_provenance(
    inputs: Sequence[Path],
    config: dict[str, Any],
    code_dir: Path,
    hashed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The provenance record of a run (see the module docstring). ``inputs`` are hashed here;
    ``hashed`` holds input files' digests already taken (path → SHA-256 hex), e.g. by the
    jobs that read them."""
    taken = {str(p): sha256(Path(p)) for p in {str(p) for p in inputs}}
    files = dict(sorted({**(hashed or {}), **taken}.items()))
    config_json = normalised_config(config)
    config_hash = hashlib.sha256(config_json.encode()).hexdigest()
    commit = git_commit(code_dir)
    key = json.dumps([files, config_hash, __version__, commit], sort_keys=True)
    return {
        "provenance_id": hashlib.sha256(key.encode()).hexdigest()[:12],
        "killcurve": {"version": __version__, "git_commit": commit},
        "config": json.loads(config_json),
        "config_sha256": config_hash,
        "inputs": files,
        "packages": {p: _version(p) for p in PACKAGES},
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
    }


def provenance_table(record: dict[str, Any]) -> dict[str, str]:
    """The short human-facing form of a provenance record, for the report."""
    return {
        "provenance id": record["provenance_id"],
        "killcurve": f"{record['killcurve']['version']} ({record['killcurve']['git_commit']})",
        **{p: v for p, v in record["packages"].items()},
        "python": record["python"],
        "platform": record["platform"],
        "config sha256": record["config_sha256"],
        "input files": str(len(record["inputs"])),
    }
