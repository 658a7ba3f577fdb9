"""Command lines: ``killcurve`` (``main``) with its subcommands ``timecourse`` and
``new-batch`` (``scaffold``)."""
