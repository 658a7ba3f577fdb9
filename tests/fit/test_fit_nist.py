"""NIST StRD nonlinear regression: the engine reaches the certified values from both starts.

Every problem runs through ``fit_batch`` with a generic model (user function and
analytic Jacobian). Criterion: log relative error (LRE, ≈ correct significant
digits) ≥ 6 for the parameters and the RSS, ≥ 4 for the standard errors
(J′J convention). Lanczos1 is the known exception: its certified RSS
(1.4e-25) is below double-precision noise, so its RSS and SEs are compared with
absolute tolerances instead (RSS within 1e-27, SEs within 1e-12; the SEs are
about 1e-10).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from killcurve.fit.inference import covariance
from killcurve.fit.models import generic_model
from tests.fit.nist_problems import FORMULAS, fit_problem, load, lre

DATASETS = sorted(FORMULAS)


@pytest.mark.parametrize("start", [1, 2])
@pytest.mark.parametrize("name", DATASETS)
def test_certified_values_reached(doseresp: Path, name: str, start: int) -> None:
    problem = load(doseresp / "nist_strd", name)
    fit = fit_problem(problem, start)
    assert fit.converged[0]
    se = np.sqrt(np.diagonal(covariance(fit, "jtj")[0]))
    assert lre(fit.theta[:, 0], problem.certified).min() >= 6.0
    if name == "Lanczos1":
        assert abs(fit.rss[0] - problem.rss) <= 1e-27
        np.testing.assert_allclose(se, problem.certified_se, rtol=0, atol=1e-12)
    else:
        assert lre(fit.rss[0], problem.rss) >= 6.0
        assert lre(se, problem.certified_se).min() >= 4.0


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
