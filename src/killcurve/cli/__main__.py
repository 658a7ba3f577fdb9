"""``python -m killcurve.cli``: the ``killcurve`` command (:func:`killcurve.cli.main.main`)."""

from killcurve.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
