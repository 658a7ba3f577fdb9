"""Samplesheet paths: resolved like ``Path.resolve`` (symlinks followed), kept inside the study."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from killcurve.errors import KillcurveInputError
from killcurve.io.samplesheet import resolve_in_study


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A study with a file, a link to a file outside it and a link to a folder outside it."""
    root = tmp_path / "study"
    (root / "data").mkdir(parents=True)
    (root / "data/a.csv").write_text("1")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.csv").write_text("1")
    os.symlink(outside / "x.csv", root / "data/link.csv")
    os.symlink(outside, root / "linkdir")
    os.symlink(root / "data", root / "alias")
    return root


@pytest.mark.parametrize(
    "relative", ["data/a.csv", "./data/a.csv", "data//a.csv", "data/../data/a.csv", "alias/a.csv"]
)
def test_inside_paths_resolve_as_path_resolve_does(study: Path, relative: str) -> None:
    assert resolve_in_study(study, relative, "plate P1 file") == (study / relative).resolve()


@pytest.mark.parametrize(
    "relative", ["data/link.csv", "linkdir/x.csv", "../outside/x.csv", "alias/../../outside/x.csv"]
)
def test_paths_that_leave_the_study_are_refused(study: Path, relative: str) -> None:
    with pytest.raises(KillcurveInputError, match=r"plate P1 file .* outside the study directory"):
        resolve_in_study(study, relative, "plate P1 file")
