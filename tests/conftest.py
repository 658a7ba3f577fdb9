"""Shared fixtures: the bundled example study, and the reference data folder beside the repo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def example_study(tmp_path: Path) -> Path:
    """A writable copy of the bundled example study (its ``config/`` folder)."""
    study = tmp_path / "study"
    shutil.copytree(REPO / "config", study / "config")
    return study


@pytest.fixture
def shared() -> Path:
    """``../shared`` beside the checkout; skips when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"reference data folder {SHARED} is absent (it sits beside the checkout)")
    return SHARED
