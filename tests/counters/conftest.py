"""Where the cell-counter tests find real exports: the shared corpus beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The reference corpus of real cell-counter exports; it sits beside the checkout (../shared).
CORPUS = REPO / ".." / "shared" / "reference" / "cell_counters"


@pytest.fixture
def corpus() -> Path:
    """The cell-counter corpus folder; skips when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(
            f"cell-counter corpus {CORPUS.resolve()} is absent (it sits beside the checkout)"
        )
    return CORPUS
