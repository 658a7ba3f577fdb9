"""Where the reader tests find real exports: the shared corpus and the bundled copies."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The reference corpus of real exports; it sits beside the checkout (../shared).
CORPUS = REPO / ".." / "shared" / "reference" / "plate_readers"
#: Small byte-identical copies of corpus files (licence notice alongside).
DATA = REPO / "tests" / "data" / "readers"


@pytest.fixture
def corpus() -> Path:
    """The reference corpus folder; skips when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"reference corpus {CORPUS.resolve()} is absent (it sits beside the checkout)")
    return CORPUS


@pytest.fixture
def data() -> Path:
    """The bundled small exports (tests/data/readers)."""
    return DATA
