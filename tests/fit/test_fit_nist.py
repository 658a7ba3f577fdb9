"""NIST StRD nonlinear regression: the engine reaches the certified values from both starts.

Every problem runs through ``fit_batch`` with a generic model (user function and
analytic Jacobian), then through the long-double Gauss–Newton polish
(:func:`tests.fit.nist_problems.polish_problem`, the path of
``benchmarks/nist_lre.py``). Criteria, as log relative errors (LRE, ≈ correct
significant digits): the engine's parameters ≥ 6; the polished parameters ≥ 6,
their J′J standard errors ≥ 4 and the RSS ≥ 5. The float64 RSS and SEs are not
compared: Lanczos1's certified RSS (1.4e-25, residual SD 8.9e-14 on y up to
2.5) is below float64 evaluation noise (≈ 3 digits left). The long-double RSS
keeps about 6–9 digits there (evaluation noise ≈ 3e-7 relative), hence ≥ 5.
The engine's own covariance, ``covariance(fit, "jtj")``, is checked without
its RSS factor: √diag((J′J)⁻¹) = SE/s against certified SE / certified residual
SD, LRE ≥ 4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from killcurve.fit.inference import covariance
from killcurve.fit.models import generic_model
from killcurve.fit.polish import polish_extended
from tests.fit.nist_problems import FORMULAS, fit_problem, load, lre, polish_problem

DATASETS = sorted(FORMULAS)
#: The polish needs a long double wider than float64 (x86-64 and aarch64 Linux have one).
EXTENDED = np.finfo(np.longdouble).eps < np.finfo(np.float64).eps


@pytest.mark.parametrize("start", [1, 2])
@pytest.mark.parametrize("name", DATASETS)
def test_certified_values_reached(doseresp: Path, name: str, start: int) -> None:
    problem = load(doseresp / "nist_strd", name)
    fit = fit_problem(problem, start)
    assert fit.converged[0]
    assert lre(fit.theta[:, 0], problem.certified).min() >= 6.0
    unscaled = np.sqrt(np.diagonal(covariance(fit, "jtj")[0]) / fit.sigma2[0])
    assert lre(unscaled, problem.certified_se / problem.residual_sd).min() >= 4.0
    if not EXTENDED:
        pytest.skip("np.longdouble is float64 on this platform: no long-double polish")
    polished = polish_problem(problem, fit)
    assert lre(polished.theta, problem.certified).min() >= 6.0
    assert lre(polished.se, problem.certified_se).min() >= 4.0
    assert lre(polished.rss, problem.rss) >= 5.0


@pytest.mark.parametrize("name", DATASETS)
def test_analytic_jacobians_match_complex_step(doseresp: Path, name: str) -> None:
    problem = load(doseresp / "nist_strd", name)
    func, _ = FORMULAS[name]
    by_complex_step = generic_model(name, [f"b{i}" for i in range(len(problem.certified))], func)
    theta = problem.certified[:, None]
    x = problem.x.T[..., None] if problem.x.ndim == 2 else problem.x[:, None]
    analytic = np.stack(problem.model.jacobian(theta, x))
    reference = np.stack(by_complex_step.jacobian(theta, x))
    np.testing.assert_allclose(analytic, reference, rtol=1e-9, atol=1e-12 * np.abs(reference).max())


def test_nelson_predictors_are_two_columns(doseresp: Path) -> None:
    problem = load(doseresp / "nist_strd", "Nelson")
    fit = fit_problem(problem, 1)
    assert fit.data.x.shape[0] == 2
    assert fit.data.n_obs[0] == 128


def test_polish_refuses_float64_data(doseresp: Path) -> None:
    problem = load(doseresp / "nist_strd", "Lanczos1")
    func, jac = FORMULAS["Lanczos1"]
    with pytest.raises(TypeError, match="decimal strings"):
        polish_extended(func, jac, problem.x, problem.y, problem.certified)
