"""Command lines: ``killcurve`` (``main``) with its subcommand ``new-batch`` (``scaffold``).
``new-batch`` (``scaffold``). :func:`main` is the console script's entry point."""

from killcurve.cli.main import main

__all__ = ["main"]
