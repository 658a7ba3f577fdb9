"""Recovery after a killed run: stale locks, incomplete outputs and temporary files go, the
rest of the study stays byte for byte."""

from __future__ import annotations

import base64
from pathlib import Path

from killcurve.recovery import recover_interrupted_run


def write(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def marker(study: Path, output: str) -> None:
    """Snakemake's "incomplete" marker for ``output`` (its name is the path, base64)."""
    name = base64.urlsafe_b64encode(output.encode()).decode()
    write(study / ".snakemake/incomplete" / name, "")


def tree(study: Path) -> set[str]:
    return {
        str(p.relative_to(study))
        for p in study.rglob("*")
        if p.is_file() and p.name != "killcurve.lock"
    }


def test_a_killed_run_leaves_nothing_of_its_own(tmp_path: Path) -> None:
    study = tmp_path / "study"
    kept = {
        write(study / "config/plates.tsv"),
        write(study / "results/tables/curves.csv"),
        write(study / "results/chunks/001.plates/P01.png"),
        write(study / "results/chunks/001.plates/.snakemake_timestamp"),
        write(study / "results/.cache/layouts/3ec37bd4/key"),
        write(study / "results/.cache/fonts/002f9f14.ttf"),
        write(study / "results/tables/partial.csv"),  # "partial" in a user-facing name
    }
    write(study / ".snakemake/locks/0.input.lock")
    write(study / "results/tables/wells.parquet")
    marker(study, "results/tables/wells.parquet")
    write(study / "results/figures/plates/P01.png")
    marker(study, "results/figures/plates")
    write(study / "results/tables/.plate_qc.csv.partial.csv")
    write(study / "results/chunks/.002.plates.partial/P51.png")
    write(study / "results/chunks/.002.plates.partial/.P52.png.partial.png")
    write(study / "results/.cache/layouts/06d94887.partial/key")
    write(study / "results/.cache/fonts/02371ace.ttf.4242.partial")

    removed = recover_interrupted_run(study)

    # (markers in the order of their names, the base64 of the path)

    assert removed == [
        "stale Snakemake lock 0.input.lock",
        "incomplete output results/tables/wells.parquet",
        "incomplete output results/figures/plates/",
        "partial file results/.cache/fonts/02371ace.ttf.4242.partial",
        "partial folder results/.cache/layouts/06d94887.partial/",
        "partial folder results/chunks/.002.plates.partial/",
        "partial file results/tables/.plate_qc.csv.partial.csv",
    ]
    assert tree(study) == {str(p.relative_to(study)) for p in kept}


def test_a_run_alive_in_the_study_is_left_alone(tmp_path: Path) -> None:
    """The first call holds the study's lock, as the live run's process does; a second one
    (the kernel's lock is per open file, so this stands for another run started beside it)
    must not touch the live run's locks or temporary files."""
    study = tmp_path / "study"
    assert recover_interrupted_run(study) == []
    live = {
        write(study / ".snakemake/locks/0.input.lock"),
        write(study / "results/tables/.wells.parquet.partial.parquet"),
    }
    assert recover_interrupted_run(study) == []
    assert all(p.is_file() for p in live)
