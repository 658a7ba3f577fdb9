"""The package keeps its shape: each room imports only the rooms below it.

A room is a subpackage of ``src/killcurve`` (``io``, ``fit``, ``pipeline`` …); the top-level
modules (``errors``, ``config``, ``plate`` and ``killcurve`` itself) are the base every room may
use. Imports are read from the source with :mod:`ast` (module level and inside functions), so a
lazy import counts as much as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import killcurve

PACKAGE = Path(killcurve.__file__).parent
WORKFLOW_SCRIPTS = PACKAGE.parents[1] / "workflow" / "scripts"
#: Top-level modules: importable from everywhere, import only each other.
BASE = {"errors", "config", "plate"}
#: Room → what it may import besides itself and the base: a room, or one module of a room.
#: fit and stats know no files (no io, figures, report, pipeline); figures never imports report.
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "assay": set(),
    "io": {"assay", "common"},
    "study": {"io", "assay"},
    "fit": {"assay", "study.axis"},
    "stats": {"fit"},
    "figures": {"stats", "common"},
    "report": {"assay", "fit", "stats", "figures", "study.axis", "common"},
    "viability": {"io"},
    "simulate": set(),
    "pipeline": {
        "common",
        "io",
        "assay",
        "study",
        "fit",
        "stats",
        "figures",
        "report",
        "viability",
    },
    "cli": {"pipeline", "simulate", "io", "assay", "figures", "report"},
}


def is_module(name: str) -> bool:
    """Whether ``killcurve.<name>`` is a module or subpackage (not a name in ``__init__``)."""
    source = Path(killcurve.__file__).parent
    return (source / name).is_dir() or (source / f"{name}.py").is_file()


def imported(path: Path) -> set[str]:
    """The killcurve modules ``path`` imports, dotted without the ``killcurve.`` prefix
    (``""`` for ``killcurve`` itself)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found = [node.module]
            if node.module == "killcurve":  # a room, or a name such as ``__version__``
                found = [
                    f"killcurve.{a.name}" if is_module(a.name) else "killcurve" for a in node.names
                ]
        else:
            continue
        for name in found:
            if name == "killcurve" or name.startswith("killcurve."):
                names.add(name.removeprefix("killcurve").removeprefix("."))
    return names


def room_of(path: Path) -> str:
    """``io`` for ``src/killcurve/io/readers/bmg.py``; ``""`` for a top-level module."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else ""


def forbidden(path: Path) -> list[str]:
    """The imports of ``path`` that run against the allowed directions."""
    room = room_of(path)
    bad = []
    for name in sorted(imported(path)):
        head = name.split(".")[0]
        if name == "" or head in BASE:
            continue  # the base (version, errors, config, plate) is open to every room
        if room == "":
            bad.append(name)  # base modules import only the base
        elif head != room and not any(
            name == target or name.startswith(f"{target}.") for target in ALLOWED[room]
        ):
            bad.append(name)
    return bad


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_room_is_in_the_table() -> None:
    rooms = {room_of(p) for p in SOURCES} - {""}
    assert rooms == set(ALLOWED)
    assert {p.stem for p in SOURCES if room_of(p) == ""} == BASE | {"__init__"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_allowed_directions(path: Path) -> None:
    assert forbidden(path) == []


def test_a_forbidden_import_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check above can fail: a fit module that imports the report, a figure that imports
    # the report, and the base importing a room are all refused.
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path)
    cases = {
        "fit/bad.py": "from killcurve.report import html\n",
        "figures/bad.py": "def f():\n    from killcurve.report.provenance import git_commit\n",
        "stats/bad.py": "import killcurve.io.layout\n",
        "fit/axis_ok.py": "from killcurve.study.axis import ET50_COLUMNS\n",
        "fit/wells_bad.py": "from killcurve.study.wells import load_wells\n",
        "errors.py": "from killcurve import pipeline\n",
    }
    found = {}
    for name, text in cases.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
        found[name] = forbidden(tmp_path / name)
    assert found == {
        "fit/bad.py": ["report"],
        "figures/bad.py": ["report.provenance"],
        "stats/bad.py": ["io.layout"],
        "fit/axis_ok.py": [],
        "fit/wells_bad.py": ["study.wells"],
        "errors.py": ["pipeline"],
    }


def test_workflow_scripts_import_only_the_pipeline() -> None:
    scripts = sorted(WORKFLOW_SCRIPTS.glob("*.py"))
    assert scripts
    outside = {
        p.name: sorted(n for n in imported(p) if not n.startswith("pipeline")) for p in scripts
    }
    assert outside == {p.name: [] for p in scripts}
