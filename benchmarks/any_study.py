"""Run N drawn studies (tests/studies) end to end through the workflow and report.

    .venv/bin/python benchmarks/any_study.py --n 200 --seed 1 --out /tmp/any_study

Each study is drawn by the whole-study generator (``tests.studies.design``), written,
run with Snakemake as a user would, and checked: it ends with every declared output
or with an input error naming the place (only where the design refuses by intent),
no traceback, no NaN/inf in any table. Failing studies stay in ``--out`` with their
design printed; ``summary.json`` there has the counts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.studies.design import study_designs
from tests.studies.outputs import study_problems


def draw(n: int, seed: int) -> list:
    """``n`` designs drawn reproducibly from ``seed`` (hypothesis' own generation)."""
    designs: list = []

    @hypothesis_seed(seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(study_designs())
    def collect(design: object) -> None:
        designs.append(design)

    collect()
    return designs[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/any_study"))
    parser.add_argument("--keep", action="store_true", help="keep passing studies too")
    parser.add_argument("--cores", type=int, default=2, help="Snakemake --cores of each run")
    parser.add_argument(
        "--shard",
        default="0/1",
        help="k/m: run only the studies whose index is k modulo m (m processes side by side)",
    )
    parser.add_argument("--only", default="", help="comma-separated study indices to run")
    args = parser.parse_args()
    only = {int(i) for i in args.only.split(",") if i}
    args.out.mkdir(parents=True, exist_ok=True)
    counts = {"ok": 0, "input_error": 0, "crash": 0, "failed": 0}
    failures = []
    start = time.monotonic()
    shard, shards = (int(v) for v in args.shard.split("/"))
    for i, design in enumerate(draw(args.n, args.seed)):
        if i % shards != shard or (only and i not in only):
            continue
        study = args.out / f"study_{i:03d}"
        shutil.rmtree(study, ignore_errors=True)
        kind, problems = study_problems(design, study, args.cores)
        counts[kind] += 1
        status = "PASS" if not problems else "FAIL"
        if problems:
            counts["failed"] += 1
            failures.append(
                {"study": str(study), "problems": problems[:10], "design": repr(design)}
            )
            (study / "design.txt").write_text(repr(design) + "\n")
        elif not args.keep:
            shutil.rmtree(study)
        print(f"{i:03d} {status} {kind} {time.monotonic() - start:.0f}s {problems[:2]}", flush=True)
    summary = {
        **counts,
        "n": sum(counts[k] for k in ("ok", "input_error", "crash")),
        "seed": args.seed,
        "shard": args.shard,
        "seconds": round(time.monotonic() - start),
    }
    name = "summary.json" if shards == 1 else f"summary_{shard}of{shards}.json"
    (args.out / name).write_text(json.dumps({**summary, "failures": failures}, indent=1))
    print(json.dumps(summary))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
