"""Command line: ``killcurve example DIR`` writes the bundled example study into DIR."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from killcurve.simulate import Design, write_study


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``killcurve`` command."""
    parser = argparse.ArgumentParser(prog="killcurve", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    example = sub.add_parser(
        "example",
        help="write the simulated example study (config/ with plate files and truth) into DIR",
    )
    example.add_argument("directory", type=Path)
    example.add_argument(
        "--seed", type=int, default=Design.seed, help=f"random seed (default {Design.seed})"
    )
    args = parser.parse_args(argv)
    if args.command == "example":
        truth = write_study(args.directory, dataclasses.replace(Design(), seed=args.seed))
        print(f"wrote a study of {truth.height} curves to {args.directory}/config", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
