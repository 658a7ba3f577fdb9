"""Where the fitting tests find the dose-response reference data (../shared beside the checkout)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Reference data for dose-response fitting (NIST StRD, drc datasets).
DOSERESP = REPO.parent / "shared" / "reference" / "doseresp"


@pytest.fixture
def doseresp() -> Path:
    """The dose-response reference folder; skips when it is absent."""
    if not DOSERESP.is_dir():
        pytest.skip(f"reference data {DOSERESP} is absent (it sits beside the checkout)")
    return DOSERESP
