"""File names derived from study values (light: imported when Snakemake parses the workflow)."""

from __future__ import annotations

import re


def target_slug(target: str) -> str:
    """File-name-safe form of a target name: ``SHP-77`` stays, ``B cell/x`` → ``B_cell_x``.

    >>> target_slug("SHP-77"), target_slug("B cell/x"), target_slug("//")
    ('SHP-77', 'B_cell_x', 'target')
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "_", target).strip("_") or "target"
