"""Steps that do not need a heavy library do not import it.

Every Snakemake job is a new Python process, so a module-level import is paid once per
job: scipy.stats ~0.45 s, pandas ~0.3 s, plotnine ~0.35 s, scipy.optimize ~0.15 s on the
2-core CI machine. These checks keep the light modules light; they count modules, not time.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "scipy.optimize", "pandas", "plotnine", "statsmodels", "wellmap")


def loaded_after(statement: str) -> set[str]:
    """The heavy top-level packages (and scipy submodules) in sys.modules after ``statement``."""
    probe = f"import sys\n{statement}\nprint('\\n'.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        # merging chunks (collect_wells) and drawing plate maps
        ("import killcurve.study.chunks, killcurve.pipeline.steps", set()),
        ("import killcurve.assay.qc, killcurve.figures.plate_map", set()),
        # reading fitted curves: figures, report, workbook, thaw retention
        ("import killcurve.fit.curve_table", set()),
        ("import killcurve.report.captions, killcurve.report.methods", set()),
        ("import killcurve.report.tables", set()),
        # the report's and the figure pack's choice of ratio rows
        ("import killcurve.stats.ratios, killcurve.report.summary", set()),
        ("import killcurve.report.pack", set()),
        # fitting needs the optimiser and t/F quantiles, but neither pandas nor plotnine
        ("import killcurve.fit.curves", {"scipy.stats", "scipy.optimize"}),
    ],
)
def test_module_imports_no_heavy_library_it_does_not_use(statement: str, allowed: set[str]) -> None:
    assert loaded_after(statement) - allowed == set()


def test_probe_sees_a_heavy_import() -> None:
    # The check above can fail: importing the forest figure loads plotnine and pandas.
    assert {"plotnine", "pandas"} <= loaded_after("import killcurve.figures.forest")
