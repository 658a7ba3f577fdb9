"""The methods text and provenance table of the report."""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from killcurve import __version__
from killcurve.assay.readouts import READOUTS

#: One sentence per stage, stating formulas and conventions.
METHODS = (
    *(
        f"Readout {r.name} ({r.signal}): % lysis = {r.formula}, per plate."
        for r in READOUTS.values()
    ),
    "Plate QC: Z′ = 1 − 3(σ_T + σ_C)/|μ_T − μ_C| between target_only and max_lysis "
    "(background when a plate has no max_lysis); control CV = 100 × SD/mean; signal ratio; "
    "spontaneous release as % of maximum; Spearman/Mann–Whitney tests of control position "
    "effects (Holm). Failed plates' sample wells are excluded from fits when "
    "qc.exclude_failed_plates is true. Manual and overflow exclusions are listed per well "
    "in wells.parquet.",
    "Curves: 4-parameter log-logistic y = bottom + (top − bottom)/(1 + (et50/x)^hill), "
    "x = E:T, fitted by least squares (Levenberg–Marquardt) to every non-excluded replicate "
    "well; 95 % CI of et50 = exp(ln et50 ± t(0.975, n − 4)·SE), SE from s²(J′J)⁻¹.",
    "et_at_50: the E:T at which the fitted curve reaches 50 % lysis, blank when not within the "
    "tested range; AUC: trapezoid of mean % lysis over log2(E:T).",
    "Comparisons: ratio of et50 test/reference; with ≥ 2 curves per product, Welch's t-test on "
    "ln et50 (CI and p-value); otherwise a Wald interval from the fits' standard errors.",
)


def sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def provenance(inputs: Sequence[Path], config: dict[str, Any]) -> dict[str, str]:
    """Versions, the config's hash and a combined hash of the input files.

    ``provenance id`` = first 12 hex digits of SHA-256 over the sorted
    (path, file hash) pairs, the normalised config (sorted-key JSON) and the
    killcurve version.
    """
    files = {str(p): sha256(Path(p)) for p in sorted({str(p) for p in inputs})}
    config_json = json.dumps(config, sort_keys=True, default=str)
    combined = hashlib.sha256(
        json.dumps([files, config_json, __version__], sort_keys=True).encode()
    ).hexdigest()
    return {
        "provenance id": combined[:12],
        "killcurve": __version__,
        "snakemake": _version("snakemake"),
        "polars": _version("polars"),
        "scipy": _version("scipy"),
        "statsmodels": _version("statsmodels"),
        "plotnine": _version("plotnine"),
        "python": platform.python_version(),
        "config sha256": hashlib.sha256(config_json.encode()).hexdigest(),
        "input files": str(len(files)),
    }
