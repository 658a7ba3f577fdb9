"""Wellmap layouts that take their wells from an Incucyte ``.PlateMap`` (``[platemap]`` table).

The PlateMap is timecourse_more/incucyte_zoom_proliferation/example.PlateMap. By eye from its
XML (``<well row="r" col="c">``, 0-based): row B (r = 1) holds DMSO 0.1 % in columns 2–11;
rows C–G hold PDD00017273 at 30, 10, 3.333333, 1.111111, 0.37037 µM; growth condition
``8 x 10e4/mL`` in columns 2–4, ``4 x 10e4/mL`` in 5–7, ``2 x 10e4/mL`` in 8–10, ``1 x 10e4/mL``
in 11 (e.g. ``row="1" col="4"``: DMSO 0.1 %, 4 x 10e4/mL). 60 filled wells, B2–G11.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from killcurve.errors import KillcurveInputError
from killcurve.io import layout as layout_module
from killcurve.io.layout import check_layout, read_layout

PLATEMAP = "reference/timecourse_more/incucyte_zoom_proliferation/example.PlateMap"

#: The PlateMap's compound as product, its concentration, the seeding as a field of its own.
LAYOUT = """\
[platemap]
file = "{file}"

[platemap.fields]
product = "compound"
concentration = "compound_concentration"
seeding = "growth_condition"

[platemap.roles]
target_only = {{ compound = "DMSO" }}
sample = {{ compound = "PDD00017273" }}

[platemap.set]
target = "MDA-MB-468"

[expt]
lot = "L1"
{extra}"""


def _layout(folder: Path, file: Path | str, extra: str = "") -> Path:
    path = folder / "plate.toml"
    path.write_text(LAYOUT.format(file=file, extra=extra))
    return path


def _wells(layout: pl.DataFrame, *names: str) -> dict[str, tuple]:
    keep = ["role", "product", "concentration", "seeding", "target", "lot"]
    return {r["well"]: tuple(r[k] for k in keep) for r in layout.iter_rows(named=True)
            if r["well"] in names}  # fmt: skip


def test_platemap_gives_roles_products_and_concentrations(shared: Path, tmp_path: Path) -> None:
    layout = read_layout(_layout(tmp_path, shared / PLATEMAP))
    assert layout.columns[:4] == ["well", "row", "col", "role"]
    assert _wells(layout, "B2", "B5", "C5", "G11") == {
        "B2": ("target_only", "DMSO", 0.1, "8 x 10e4/mL", "MDA-MB-468", "L1"),
        "B5": ("target_only", "DMSO", 0.1, "4 x 10e4/mL", "MDA-MB-468", "L1"),
        "C5": ("sample", "PDD00017273", 30.0, "4 x 10e4/mL", "MDA-MB-468", "L1"),
        # <well row="6" col="10">: concentration="0.37037037037037041"
        "G11": ("sample", "PDD00017273", 0.37037037037037041, "1 x 10e4/mL", "MDA-MB-468", "L1"),
    }
    assert layout.height == 60
    assert layout["role"].value_counts().sort("role").rows() == [
        ("sample", 50),
        ("target_only", 10),
    ]
    assert layout.schema["concentration"] == pl.Float64
    check_layout(layout, "plate P1 (layout plate.toml)")


def test_the_layouts_own_wells_win_and_join_the_platemaps(shared: Path, tmp_path: Path) -> None:
    """A field the TOML sets in a well overrides the PlateMap's; a TOML well outside the
    PlateMap (A1) is kept; [row.C] reaches the PlateMap's wells of row C."""
    extra = (
        '\n[well.C2]\nconcentration = 25\n[well.B3]\nrole = "background"\n'
        '[well.A1]\nrole = "background"\n[row.C]\nstage = "bulk"\n'
    )
    layout = read_layout(_layout(tmp_path, shared / PLATEMAP, extra))
    assert layout.height == 61
    assert _wells(layout, "A1", "B3", "C2", "C3") == {
        "A1": ("background", None, None, None, "MDA-MB-468", "L1"),
        "B3": ("background", "DMSO", 0.1, "8 x 10e4/mL", "MDA-MB-468", "L1"),
        "C2": ("sample", "PDD00017273", 25.0, "8 x 10e4/mL", "MDA-MB-468", "L1"),
        "C3": ("sample", "PDD00017273", 30.0, "8 x 10e4/mL", "MDA-MB-468", "L1"),
    }
    assert layout.filter(pl.col("stage") == "bulk")["well"].to_list() == [
        f"C{c}" for c in range(2, 12)
    ]
    check_layout(layout, "plate P1")


def test_rules_match_the_first_role_and_leave_other_wells_out(shared: Path, tmp_path: Path) -> None:
    """Lists of rules and of values; numbers matched as numbers; unmatched wells left out."""
    path = tmp_path / "plate.toml"
    path.write_text(
        f'[platemap]\nfile = "{shared / PLATEMAP}"\n'
        'fields = { product = "compound", concentration = "compound_concentration" }\n'
        'set = { target = "T", lot = "L" }\n'
        "[platemap.roles]\n"
        'target_only = { compound = "DMSO", growth_condition = ["8 x 10e4/mL", "1 x 10e4/mL"] }\n'
        'sample = [{ compound = "PDD00017273", growth_condition = "8 x 10e4/mL" },\n'
        '          { compound_concentration = [30, 10], growth_condition = "1 x 10e4/mL" }]\n'
        "background = { compound_concentration = 0.1 }\n"
    )
    layout = read_layout(path)
    roles = {r: sorted(g["well"]) for (r,), g in layout.group_by("role")}  # type: ignore[misc]
    assert roles["target_only"] == ["B11", "B2", "B3", "B4"]  # first matching rule wins
    assert roles["background"] == ["B10", "B5", "B6", "B7", "B8", "B9"]
    assert len(roles["sample"]) == 15 + 2 and {"C11", "D11"} < set(roles["sample"])
    assert "E11" not in layout["well"].to_list()  # 3.33 µM at 1 x 10e4/mL: no rule


def test_a_changed_platemap_is_read_again_from_the_cache(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(shared / PLATEMAP, tmp_path / "example.PlateMap")
    path = _layout(tmp_path, "example.PlateMap")  # relative to the layout's folder
    cache = tmp_path / "cache"
    parses: list[Path] = []
    parse = layout_module._parse_layout

    def counted(p: Path):
        parses.append(p)
        return parse(p)

    monkeypatch.setattr(layout_module, "_parse_layout", counted)
    first = read_layout(path, cache)
    assert read_layout(path, cache).equals(first) and len(parses) == 1
    text = (tmp_path / "example.PlateMap").read_text(encoding="utf-8-sig")
    (tmp_path / "example.PlateMap").write_text(
        text.replace('concentration="30"', 'concentration="40"'), encoding="utf-8-sig"
    )
    again = read_layout(path, cache)
    assert len(parses) == 2
    assert again.filter(pl.col("well") == "C5")["concentration"].to_list() == [40.0]


@pytest.mark.parametrize(
    ("platemap", "words"),
    [
        ('files = "x"', "[platemap]: unknown key 'files'; the keys are file, fields, roles, set"),
        ('file = "gone.PlateMap"', "[platemap] key file: 'gone.PlateMap' not found"),
        (
            'file = "{p}"\nfields = {{ product = "drug" }}',
            "key fields.product: 'drug' is not a column of example.PlateMap",
        ),
        (
            'file = "{p}"\nfields = {{ concentration = "compound" }}\n'
            'roles = {{ sample = {{ compound = "DMSO" }} }}',
            "field concentration must be a number (in the axis unit); the PlateMap gives 'DMSO'",
        ),
        ('file = "{p}"\nroles = {{ tumour = {{ compound = "DMSO" }} }}', "roles.tumour: unknown"),
        (
            'file = "{p}"\nroles = {{ sample = {{ compound_concentration = "30" }} }}',
            "roles.sample: compound_concentration = '30' must be a number",
        ),
        ('file = "{p}"\nset = {{ role = "sample" }}', "set.role: 'role' cannot be set here"),
        (
            'file = "{p}"\nroles = {{ sample = {{ compound = "aspirin" }} }}',
            "no well has a role: no PlateMap well matches a rule of [platemap.roles]",
        ),
    ],
)
def test_platemap_table_errors_name_the_layout_and_key(
    shared: Path, tmp_path: Path, platemap: str, words: str
) -> None:
    path = tmp_path / "plate.toml"
    path.write_text("[platemap]\n" + platemap.format(p=shared / PLATEMAP) + "\n")
    with pytest.raises(KillcurveInputError) as err:
        read_layout(path)
    assert f"layout {path}" in str(err.value) and words in str(err.value)


def test_a_platemap_table_in_an_included_file_is_refused(shared: Path, tmp_path: Path) -> None:
    (tmp_path / "common.toml").write_text(f'[platemap]\nfile = "{shared / PLATEMAP}"\n')
    path = tmp_path / "plate.toml"
    path.write_text('[meta]\ninclude = "common.toml"\n[well.A1]\nrole = "target_only"\n')
    with pytest.raises(KillcurveInputError, match="write it in the layout file itself"):
        read_layout(path)
