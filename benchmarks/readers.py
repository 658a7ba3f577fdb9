"""Benchmark the plate-reader export readers over the reference corpus (not a test).

Reads every file of ``../shared/reference/plate_readers`` and
``../shared/reference/plate_readers_more`` (beside the checkout; ``--corpus``
picks other folders) ``--repeat`` times with :func:`killcurve.io.readers.read_export`
(format given, so sniffing is not timed; ``--sniff`` times ``auto``) and
prints files/s per family. Files a reader refuses (kinetic-only exports) are
timed too: refusing is work the reader does.

With ``--allotropy-python PATH`` (the interpreter of a separate venv where
``allotropy`` is installed; it does not install beside killcurve's pinned
stack) the same files are parsed by ``allotropy.to_allotrope.
allotrope_model_from_file`` in that interpreter, and the ratio
killcurve/allotropy is printed per family (families allotropy lacks, or files
it fails on, are reported as such).

    python benchmarks/readers.py --repeat 20
    python benchmarks/readers.py --repeat 20 --allotropy-python /tmp/allotropy-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference"
CORPORA = [REFERENCE / "plate_readers", REFERENCE / "plate_readers_more"]

#: Corpus folder -> allotropy Vendor name (None: allotropy has no parser for it).
ALLOTROPY_VENDORS = {
    "agilent_gen5": "AGILENT_GEN5",
    "moldev_softmax_pro": "MOLDEV_SOFTMAX_PRO",
    "bmg_mars": "BMG_MARS",
    "bmg_smart_control": "BMG_LABTECH_SMART_CONTROL",
    "perkin_elmer_envision": "PERKIN_ELMER_ENVISION",
    "revvity_kaleido": "REVVITY_KALEIDO",
    "tecan_magellan": "TECAN_MAGELLAN",
    "tecan_spark": None,
    "promega_glomax": None,
    "thermo_skanit": "THERMO_SKANIT",
    "tecan_icontrol": None,
    "revvity_victor": None,
}


def corpus_files(roots: list[Path]) -> dict[str, list[Path]]:
    """Export files of the corpora grouped by family (the top-level folder name)."""
    families: dict[str, list[Path]] = defaultdict(list)
    for root in roots:
        for path in sorted(root.rglob("*")):
            suffix = path.suffix.lower()
            if path.is_file() and path.parent != root and suffix in (".txt", ".csv", ".xlsx"):
                families[path.relative_to(root).parts[0]].append(path)
    return dict(sorted(families.items()))


def time_killcurve(files: list[Path], fmt: str, repeat: int) -> tuple[float, int]:
    """Seconds to read ``files`` ``repeat`` times, and how many files were refused."""
    from killcurve.errors import KillcurveInputError
    from killcurve.io.readers import read_export

    refused = 0
    start = time.perf_counter()
    for _ in range(repeat):
        for path in files:
            try:
                read_export(path, fmt)
            except KillcurveInputError:
                refused += 1
    return time.perf_counter() - start, refused // repeat


def allotropy_worker(vendor: str, repeat: int, paths: list[str]) -> None:
    """Run inside the allotropy venv: print JSON {path: seconds or error} for one vendor."""
    from allotropy.to_allotrope import allotrope_model_from_file

    result: dict[str, float | str] = {}
    for path in paths:
        try:
            allotrope_model_from_file(path, vendor)
        except Exception as err:  # report, do not time, files allotropy cannot read
            result[path] = f"{type(err).__name__}: {str(err)[:80]}"
            continue
        start = time.perf_counter()
        for _ in range(repeat):
            allotrope_model_from_file(path, vendor)
        result[path] = time.perf_counter() - start
    print(json.dumps(result))


def time_allotropy(python: str, vendor: str, files: list[Path], repeat: int) -> dict:
    """Per-file seconds (or error text) of allotropy in the interpreter ``python``."""
    command = [python, __file__, "--allotropy-worker", vendor, str(repeat), *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print files/s per family (and the allotropy ratio when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--corpus", type=Path, nargs="+", default=CORPORA)
    parser.add_argument("--sniff", action="store_true", help="time format auto (sniffing)")
    parser.add_argument("--allotropy-python", help="python of a venv with allotropy installed")
    args = parser.parse_args()
    families = corpus_files(args.corpus)
    if not families:
        sys.exit(f"no corpus at {args.corpus}")
    print(f"{'family':24s} {'files':>5s} {'refused':>7s} {'files/s':>9s}", end="")
    print(f" {'allotropy files/s':>18s} {'ratio':>6s}" if args.allotropy_python else "")
    for family, files in families.items():
        seconds, refused = time_killcurve(files, "auto" if args.sniff else family, args.repeat)
        rate = len(files) * args.repeat / seconds
        line = f"{family:24s} {len(files):5d} {refused:7d} {rate:9.1f}"
        vendor = ALLOTROPY_VENDORS.get(family)
        if args.allotropy_python and vendor is None:
            line += f" {'no parser':>18s}"
        elif args.allotropy_python:
            timed = time_allotropy(args.allotropy_python, vendor, files, args.repeat)
            ok = [p for p in files if isinstance(timed[str(p)], float)]
            if ok:
                ours, _ = time_killcurve(ok, family, args.repeat)
                theirs = sum(timed[str(p)] for p in ok)
                line += f" {len(ok) * args.repeat / theirs:18.1f} {theirs / ours:5.1f}x"
                for path in ok:  # the target holds per file, not only per family
                    mine, _ = time_killcurve([path], family, args.repeat)
                    line += f"\n    {path.name[:50]:50s} {timed[str(path)] / mine:6.1f}x"
            failed = [f"{p.name}: {timed[str(p)]}" for p in files if p not in ok]
            line += "".join(f"\n    allotropy fails on {text}" for text in failed)
        print(line)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--allotropy-worker"]:
        allotropy_worker(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    else:
        main()
