"""The ryegrass LL.4 worked example (drc): estimates, both SE conventions, ED_p, F tests.

Reference values: ``shared/reference/doseresp/README.md`` (converged optimum;
drc's printed values agree to 6–7 digits). drc's LL.4 is
``f(x) = c + (d − c)/(1 + exp(b(ln x − ln e)))``; ours is
``bottom + (top − bottom)/(1 + (et50/x)^hill)``. Since
exp(b(ln x − ln e)) = (x/e)^b = (e/x)^(−b): bottom = c, top = d, et50 = e and
hill = −b. At x = 0 (the controls) both give d = top (hill < 0). drc's LL.3 is
the same with c = 0, our 3PL (bottom fixed at 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from killcurve.fit.comparison import compare_nested, lack_of_fit
from killcurve.fit.engine import FitResult, fit_batch
from killcurve.fit.inference import effective_dose, standard_errors

OPTIMUM = {"bottom": 0.4814099429, "top": 7.792962328, "et50": 3.057955169, "hill": -2.982228666}
RSS = 5.4002146277715
SE_HESSIAN = {"hill": 0.465068, "bottom": 0.212193, "top": 0.188568, "et50": 0.185731}
SE_JTJ = {"hill": 0.458429, "bottom": 0.209506, "top": 0.189733, "et50": 0.185829}


@pytest.fixture
def ryegrass(doseresp: Path) -> tuple[np.ndarray, np.ndarray]:
    frame = pl.read_csv(doseresp / "drc" / "ryegrass.csv")
    return frame["conc"].to_numpy(), frame["rootl"].to_numpy()


@pytest.fixture
def fit(ryegrass: tuple[np.ndarray, np.ndarray]) -> FitResult:
    x, y = ryegrass
    return fit_batch(x, y, model="4pl")


def test_estimates_match_the_converged_optimum(fit: FitResult) -> None:
    assert fit.converged[0]
    params = fit.params()
    for name, value in OPTIMUM.items():
        assert params[name][0] == pytest.approx(value, rel=1e-6)
    assert fit.rss[0] == pytest.approx(RSS, rel=1e-9)
    assert fit.df_resid[0] == 20


@pytest.mark.parametrize(("kind", "expected"), [("hessian", SE_HESSIAN), ("jtj", SE_JTJ)])
def test_standard_errors_both_conventions(
    fit: FitResult, kind: str, expected: dict[str, float]
) -> None:
    se = standard_errors(fit, kind)  # type: ignore[arg-type]
    for name, value in expected.items():
        assert se[name][0] == pytest.approx(value, rel=5e-5)  # 4 significant digits and more


def test_effective_doses_with_delta_method_intervals(fit: FitResult) -> None:
    ed10, ed50, ed90 = (effective_dose(fit, p, kind="hessian") for p in (10, 50, 90))
    assert ed10.estimate[0] == pytest.approx(1.463709, abs=2e-6)
    assert ed90.estimate[0] == pytest.approx(6.38863, abs=2e-5)
    assert ed50.estimate[0] == pytest.approx(3.057955, abs=2e-6)
    assert ed50.se[0] == pytest.approx(0.1857314, rel=1e-5)
    assert ed50.lower[0] == pytest.approx(2.670526, abs=2e-6)
    assert ed50.upper[0] == pytest.approx(3.445384, abs=2e-6)
    jtj = effective_dose(fit, 50, kind="jtj")
    assert (jtj.lower[0], jtj.upper[0]) == pytest.approx((2.670323, 3.445587), abs=2e-6)


def test_lack_of_fit_against_one_mean_per_concentration(fit: FitResult) -> None:
    assert fit.data.pe_ss[0] == pytest.approx(5.179861, abs=1e-6)
    assert fit.data.pe_df[0] == 17
    test = lack_of_fit(fit)
    assert (test.df_num[0], test.df_den[0]) == (3, 17)
    assert test.f[0] == pytest.approx(0.241063, abs=1e-6)
    assert test.p_value[0] == pytest.approx(0.866483, abs=1e-6)


def test_three_pl_against_four_pl(ryegrass: tuple[np.ndarray, np.ndarray], fit: FitResult) -> None:
    x, y = ryegrass
    ll3 = fit_batch(x, y, model="3pl")
    params = ll3.params()
    assert params["bottom"][0] == 0.0
    assert -params["hill"][0] == pytest.approx(2.470324, abs=2e-6)
    assert params["top"][0] == pytest.approx(7.855428, abs=2e-6)
    assert params["et50"][0] == pytest.approx(3.263356, abs=2e-6)
    assert ll3.rss[0] == pytest.approx(6.622820, abs=2e-6)
    test = compare_nested(ll3, fit)
    assert (test.df_num[0], test.df_den[0]) == (1, 20)
    assert test.f[0] == pytest.approx(4.527987, abs=2e-6)
    assert test.p_value[0] == pytest.approx(0.045971, abs=2e-6)
