"""The ``killcurve`` command: scaffold, check and simulate studies without Snakemake.

* ``killcurve new-batch DIR`` — a commented study directory to fill in.
* ``killcurve check DIR`` — list every input the run would refuse (config, samplesheet,
  plate files against layouts, controls, exclusions, curves the fit refuses, comparisons,
  the viability samplesheet and counter files), with the run's messages, and print a
  summary; exit 1 on problems.
* ``killcurve example DIR`` — write the simulated example study.
* ``killcurve simulate DIR --plates N`` — a larger simulated study, for benchmarks.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from killcurve.errors import KillcurveInputError
from killcurve.simulate.design import Design, scaled_design
from killcurve.simulate.study import write_study


def _new_batch(args: argparse.Namespace) -> int:
    from killcurve.cli.scaffold import new_batch

    for path in new_batch(args.directory):
        print(f"wrote {path}")
    print(
        "next: add plate files and layouts, fill config/plates.tsv, then "
        f"`killcurve check {args.directory}`"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from killcurve.pipeline.check import check_study

    result = check_study(args.directory)
    for line in result.summary:
        print(line)
    if result.ok:
        print("OK: the study is ready to run.")
        return 0
    print(f"{len(result.problems)} problem(s):", file=sys.stderr)
    for problem in result.problems:
        print(f"- {problem}", file=sys.stderr)
    return 1


def _simulate(args: argparse.Namespace) -> int:
    design = scaled_design(args.plates, seed=args.seed)
    truth = write_study(args.directory, design)
    n_plates = truth["plate_id"].n_unique()
    print(f"wrote {n_plates} plates ({truth.height} curves) to {args.directory}/config")
    return 0


def _example(args: argparse.Namespace) -> int:
    truth = write_study(args.directory, dataclasses.replace(Design(), seed=args.seed))
    n_plates = truth["plate_id"].n_unique()
    print(
        f"wrote the example ({n_plates} plates, {truth.height} curves) to {args.directory}/config"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``killcurve`` command; bad input exits 1 with its message."""
    parser = argparse.ArgumentParser(
        prog="killcurve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    batch = sub.add_parser("new-batch", help="write a commented study skeleton into DIR")
    batch.add_argument("directory", type=Path)
    batch.set_defaults(func=_new_batch)
    check = sub.add_parser("check", help="validate the study in DIR without running it")
    check.add_argument("directory", type=Path)
    check.set_defaults(func=_check)
    example = sub.add_parser("example", help="write the simulated example study into DIR")
    example.add_argument("directory", type=Path)
    example.add_argument("--seed", type=int, default=Design.seed, help="random seed")
    example.set_defaults(func=_example)
    simulate = sub.add_parser(
        "simulate", help="write a simulated study of at least N plates into DIR (benchmarks)"
    )
    simulate.add_argument("directory", type=Path)
    simulate.add_argument("--plates", type=int, default=100, help="number of plates (rounded up)")
    simulate.add_argument("--seed", type=int, default=Design.seed, help="random seed")
    simulate.set_defaults(func=_simulate)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KillcurveInputError as err:
        print(f"killcurve: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
