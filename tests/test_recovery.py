"""Recovery after a killed run: stale locks, incomplete outputs and temporary files go, the
rest of the study stays byte for byte."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from killcurve.pipeline.recovery import recover_interrupted_run


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
        write(study / "results/.cache/screen/curves_K562.png"),
        write(study / "results/.cache/target_figures/K562/key"),
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
    # a memo entry being built and one renamed aside (killcurve.common.memo._store)
    write(study / "results/.cache/target_figures/K562.4242.partial/curves.pdf")
    write(study / "results/.cache/target_figures/K562.4242.old.partial/key")
    # an output written into the cache (the report's screen copies)
    write(study / "results/.cache/screen/.curves_K562.png.partial.png")
    # a plate-map job's one-page PDFs, inside its temporary folder
    write(study / "results/chunks/.001.plates.partial.plates/.pages.partial/0.pdf")

    removed = recover_interrupted_run(study)

    # (markers in the order of their names, the base64 of the path)

    assert removed == [
        "stale Snakemake lock 0.input.lock",
        "incomplete output results/tables/wells.parquet",
        "incomplete output results/figures/plates/",
        "partial file results/.cache/fonts/02371ace.ttf.4242.partial",
        "partial folder results/.cache/layouts/06d94887.partial/",
        "partial file results/.cache/screen/.curves_K562.png.partial.png",
        "partial folder results/.cache/target_figures/K562.4242.old.partial/",
        "partial folder results/.cache/target_figures/K562.4242.partial/",
        "partial folder results/chunks/.001.plates.partial.plates/",
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


def _store_killed_at(entry: Path, key: str, value: str, step: int) -> bool:
    """Store ``value`` with ``key`` in memo ``entry`` in a child process that SIGKILLs itself
    before the store's ``step``-th file operation (a rename, or a file or folder removed, also
    inside ``shutil.rmtree``), as ``kill -9`` would: no ``finally`` runs. True when the store
    finished before that step."""
    import os
    import signal

    from killcurve.common import memo

    pid = os.fork()
    if pid == 0:  # the child: count the operations, die at the chosen one
        calls = 0

        def dying(operation):
            def counted(*args, **kwargs):
                nonlocal calls
                calls += 1
                if calls == step:
                    os.kill(os.getpid(), signal.SIGKILL)
                return operation(*args, **kwargs)

            return counted

        for name in ("replace", "unlink", "rmdir"):  # the os module: this process only
            setattr(os, name, dying(getattr(os, name)))
        memo.memo_json(entry, key, lambda: value)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status)


def test_a_memo_store_killed_at_any_step_leaves_the_entry_whole_or_absent(tmp_path: Path) -> None:
    """An entry holding "old" is replaced with "new". Killed before any of the store's
    renames and removals, the entry holds one whole value with its own key, or is absent;
    what the store left ends in ``.partial`` and recovery removes it."""
    from killcurve.common.memo import memo_json

    seen = set()
    for step in range(1, 40):
        study = tmp_path / f"step{step}"
        entry = study / "results/.cache/groups/g"
        assert memo_json(entry, "k-old", lambda: "old") == "old"
        finished = _store_killed_at(entry, "k-new", "new", step)
        if (entry / "key").is_file():
            stored = (entry / "key").read_text()
            assert stored in {"k-old", "k-new"}
            assert memo_json(entry, stored, lambda: "made") == stored[2:]
            seen.add(stored)
        else:
            assert not entry.exists()
            seen.add("absent")
        left = {p.name for p in entry.parent.iterdir()} - {"g"}
        assert all(name.endswith(".partial") for name in left), left
        removed = recover_interrupted_run(study)
        assert len(removed) == len(left)
        assert {p.name for p in entry.parent.iterdir()} <= {"g"}
        if finished:
            assert not left and (entry / "key").read_text() == "k-new"
            break
    else:
        raise AssertionError("the store never finished")
    # Killed early the old entry stays, in the middle there is none, late the new one is whole.
    assert seen == {"k-old", "absent", "k-new"}


def test_plate_map_pages_are_drawn_inside_the_jobs_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-page PDFs a chunk's maps are joined from are written in the job's temporary
    folder (``.<png_dir>.partial…``, removed by recovery when the job is killed), none in
    the system's temporary folder (nothing removes what a killed job leaves there); the
    finished job leaves its PNGs and PDF only."""
    import tempfile

    import polars as pl

    from killcurve.figures import pdf_pages
    from killcurve.pipeline import steps

    from .test_plate_map import plate

    system_tmp = tmp_path / "tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    joined: list[list[Path]] = []
    join_pages = pdf_pages.join_pages
    monkeypatch.setattr(pdf_pages, "join_pages", lambda f: joined.append(f) or join_pages(f))
    wells = pl.concat(
        [
            plate("P1", [5.0, 7.0, 1.0, 11.0], [False] * 4),
            plate("P2", [3.0, 9.0, 2.0, 12.0], [False] * 4),
        ]
    )
    wells.write_parquet(tmp_path / "wells.parquet")
    qc = pl.DataFrame({"plate_id": ["P1", "P2"], "reasons": ["", ""], "pass": True})
    qc.write_parquet(tmp_path / "qc.parquet")
    out = tmp_path / "results/chunks"
    steps.plot_chunk_maps(
        tmp_path / "wells.parquet", tmp_path / "qc.parquet", out / "001.plates",
        out / "001.plate_maps.pdf", exclude_failed=False, dpi=30, cache=tmp_path / "cache",
    )  # fmt: skip
    [pages] = joined
    assert [p.name for p in pages] == ["0.pdf", "1.pdf"]
    assert {p.parent for p in pages} == {out / ".001.plates.partial.plates/.pages.partial"}
    assert not list(system_tmp.iterdir())
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        "001.plate_maps.pdf", "001.plates", "001.plates/P1.png", "001.plates/P2.png",
    ]  # fmt: skip


def test_caption_pages_are_kept_in_their_cache_entry_only(tmp_path: Path) -> None:
    """The figure pack's caption pages live in the memo entry (key and bytes), not as a file
    beside it that a killed job could leave half-written."""
    import matplotlib.pyplot as plt
    from pypdf import PdfReader

    from killcurve.report.captions import FigureEntry
    from killcurve.report.pack import build_pack

    fig = plt.figure(figsize=(4, 3))
    fig.savefig(tmp_path / "f.pdf")
    plt.close(fig)
    entries = [FigureEntry(1, "f1", "Title 1", "Caption 1.", tmp_path / "f.pdf", None)]
    cache = tmp_path / "cache"
    for name in ("a.pdf", "b.pdf"):
        build_pack(entries, "S", tmp_path / name, key="k", cache=cache)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert sorted(str(p.relative_to(cache / "pack")) for p in (cache / "pack").rglob("*")) == [
        "captions", "captions/key", "captions/value.bin",
    ]  # fmt: skip
    stored = PdfReader(cache / "pack/captions/value.bin")
    assert "Caption 1." in stored.pages[0].extract_text()
