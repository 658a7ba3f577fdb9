"""Study designs a lab could run, drawn by hypothesis (the whole-study generator).

A :class:`StudyDesign` says what a study tests: products (one or two tested against a
reference), their lots (1–4 each), targets (1–5) with the readout of each assay run
(a target may be read by two readouts on different runs), cryo states and process
stages, the titration (E:T or a concentration at fixed E:T; 1–10 levels, 1–3 replicate
wells), plate size (96 or 384), export formats (some files holding several plates),
optional controls, and the true curve of every product × target. Curves are drawn
from kinds a lab meets, not only the friendly one:

* ``sigmoid``: a 4PL with its midpoint inside the tested range;
* ``flat``: no killing at all (top = bottom);
* ``weak``: the curve tops out below 50 % lysis (never reaches 50 %);
* ``beyond``: the midpoint lies far above the highest level tested;
* ``below``: the midpoint lies below the lowest level (the curve is on its plateau);
* ``rising``: lysis still rising linearly on a log scale at the top (no optimum);
* ``barely``: 0 → 5 % across the range (an et50 the data cannot support).

Products may have different hill slopes on a target (non-parallel). Artefacts: a plate
whose controls fail QC, wells excluded by hand, overflowing wells. A viability arm
(counts after thaw) is optional. :mod:`tests.studies.write` writes the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

#: Curve kinds (module docstring).
KINDS = ("sigmoid", "flat", "weak", "beyond", "below", "rising", "barely")
#: Readouts the generator writes and the control roles each one's plates carry.
READOUT_CONTROLS = {
    "luciferase": ("target_only", "background"),
    "release": ("target_only", "max_lysis", "background"),
    "flow": ("target_only",),
    "pct_lysis": (),
}
#: Export formats a plate may be written in (multi-plate files: agilent_gen5 only).
FORMATS = ("grid_csv", "bmg_mars", "agilent_gen5")


@dataclass(frozen=True)
class Shape:
    """True curve of one product on one target: % lysis at x (E:T or concentration)."""

    kind: str
    bottom: float
    top: float
    mid: float  # x of the half-way point (et50 / ec50)
    hill: float


@dataclass(frozen=True)
class TargetDesign:
    """One target: the readout of each run (batch), cryo states, stages, optional controls."""

    name: str
    readouts: dict[str, str]  # batch -> readout
    cryo: tuple[str, ...]
    stages: tuple[str, ...]
    background: bool  # luciferase/release plates carry background wells
    levels: tuple[float, ...]  # titration, highest first


@dataclass(frozen=True)
class StudyDesign:
    """Everything :func:`tests.studies.write.write_study` needs to write one study."""

    seed: int
    axis: str  # et_ratio or concentration
    products: tuple[str, ...]  # reference last
    lots: dict[str, tuple[str, ...]]
    targets: tuple[TargetDesign, ...]
    batches: tuple[str, ...]
    replicates: int
    wells: int  # 96 or 384
    formats: dict[str, str]  # readout -> export format
    plates_per_file: int  # agilent_gen5 files hold up to this many plates
    shapes: dict[tuple[str, str], Shape]  # (product, target) -> curve
    noise_cv: float
    failed_plate: bool
    exclusions: int  # sample wells excluded by hand
    overflow: int  # sample wells written as overflow
    viability: bool
    weighting: str
    outliers: str
    withhold: tuple[str, ...]
    comparison_by: tuple[str, ...]
    fixed_et: float = 5.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        return self.products[-1]

    @property
    def tests(self) -> tuple[str, ...]:
        return self.products[:-1]

    @property
    def stage_order(self) -> tuple[str, ...]:
        seen: list[str] = []
        for t in self.targets:
            seen += [s for s in t.stages if s not in seen]
        return tuple(sorted(seen))


_NAME = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=2, max_size=4)


def _levels(axis: str) -> st.SearchStrategy[tuple[float, ...]]:
    """1–10 levels, a dilution series from a top level down by a factor of 2, 3 or 10."""

    def series(n: int, top: float, factor: float) -> tuple[float, ...]:
        return tuple(float(f"{top / factor**k:.6g}") for k in range(n))

    tops = st.sampled_from((40.0, 30.0, 20.0, 10.0)) if axis == "et_ratio" else st.just(10.0)
    return st.builds(
        series,
        st.integers(6, 9) | st.integers(1, 10),  # most studies titrate 6–9 levels
        tops,
        st.sampled_from((2.0, 2.0, 3.0, 10.0)),
    )


@st.composite
def shapes_for(draw: st.DrawFn, levels: tuple[float, ...]) -> Shape:
    """One true curve relative to the tested range (kinds in the module docstring)."""
    kind = draw(st.sampled_from(KINDS) | st.just("sigmoid") | st.just("sigmoid"))
    lo, hi = min(levels), max(levels)
    inside = draw(st.floats(0.0, 1.0))
    mid = lo ** (1 - inside) * hi**inside if hi > lo else hi
    hill = draw(st.floats(0.6, 2.5))
    bottom = draw(st.floats(-2.0, 8.0))
    top = draw(st.floats(60.0, 98.0))
    if kind == "flat":
        top = bottom
    elif kind == "weak":
        top = draw(st.floats(15.0, 40.0))
    elif kind == "beyond":
        mid = hi * draw(st.floats(10.0, 100.0))
    elif kind == "below":
        mid = lo / draw(st.floats(10.0, 100.0))
    elif kind == "rising":
        mid, hill, top = hi * 50.0, 0.5, 120.0
    elif kind == "barely":
        bottom, top, mid = 0.0, 5.0, (lo * hi) ** 0.5
    return Shape(kind, bottom, top, mid, hill)


@st.composite
def study_designs(draw: st.DrawFn, max_targets: int = 5, max_lots: int = 4) -> StudyDesign:
    """A valid study a lab could run (see the module docstring); ``max_targets`` and
    ``max_lots`` (per product) cap its size, e.g. for the default test run."""
    axis = draw(st.sampled_from(("et_ratio", "et_ratio", "concentration")))
    names = draw(st.lists(_NAME, min_size=2, max_size=3, unique=True))
    products = tuple(f"{n}-{i + 1}" for i, n in enumerate(names))
    lots = {
        p: tuple(f"{p[:2]}L{k + 1}" for k in range(draw(st.integers(1, max_lots))))
        for p in products
    }
    batches = tuple(f"R{k + 1}" for k in range(draw(st.integers(1, 3))))
    n_targets = draw(st.integers(1, max_targets))
    readouts = draw(st.lists(st.sampled_from(tuple(READOUT_CONTROLS)), min_size=1, max_size=3))
    targets = []
    for k in range(n_targets):
        # each run may read the target with another readout (a second chemistry later)
        per_batch = {b: draw(st.sampled_from(readouts)) for b in batches}
        cryo = draw(st.sampled_from((("fresh",), ("fresh", "post_thaw"), ("post_thaw",))))
        stages = draw(st.sampled_from(((), ("bulk",), ("d14", "bulk"))))
        targets.append(
            TargetDesign(
                name=f"T{k + 1}-{draw(_NAME)}",
                readouts=per_batch,
                cryo=cryo,
                stages=stages,
                background=draw(st.booleans()),
                levels=draw(_levels(axis)),
            )
        )
    shapes: dict[tuple[str, str], Shape] = {}
    for t in targets:
        for p in products:
            shapes[(p, t.name)] = draw(shapes_for(t.levels))
    used = sorted({r for t in targets for r in t.readouts.values()})
    formats = {r: draw(st.sampled_from(FORMATS)) for r in used}
    by = draw(
        st.sampled_from(
            (("target",), ("target", "cryo"), ("target", "stage", "cryo"), ("target", "batch"), ())
        )
    )
    return StudyDesign(
        seed=draw(st.integers(0, 2**31 - 1)),
        axis=axis,
        products=products,
        lots=lots,
        targets=tuple(targets),
        batches=batches,
        replicates=draw(st.integers(1, 3)),
        wells=draw(st.sampled_from((96, 96, 384))),
        formats=formats,
        plates_per_file=draw(st.integers(1, 3)),
        shapes=shapes,
        noise_cv=draw(st.floats(0.02, 0.12)),
        failed_plate=draw(st.booleans()),
        exclusions=draw(st.integers(0, 3)),
        overflow=draw(st.integers(0, 2)),
        viability=draw(st.booleans()),
        weighting=draw(st.sampled_from(("none", "signal"))),
        outliers=draw(st.sampled_from(("none", "none", "rout"))),
        withhold=draw(st.sampled_from(((), (), ("not_converged", "top_not_reached")))),
        comparison_by=by,
    )
