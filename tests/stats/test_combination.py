"""Combination of independent potency estimates (Ph. Eur. 5.3 §6.2) against hand computation.

Expected values were computed by hand, step by step (weights 1/s², the weighted mean, χ² and
the semi-weighted variance written out as sums) and are written here as numbers; the t and χ²
quantiles are those of the tables (scipy only reproduces them).
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

from killcurve.errors import KillcurveInputError
from killcurve.stats.combination import combine_log_potencies, weights_from_intervals

TOL = 1e-9


def test_homogeneous_estimates_give_the_weighted_mean_on_the_pooled_df() -> None:
    # ratios 1.02, 0.97, 1.05; SE(ln) 0.04, 0.05, 0.06 -> W = 625, 400, 277.78; df 10, 12, 8
    m = [math.log(1.02), math.log(0.97), math.log(1.05)]
    w = [1 / 0.04**2, 1 / 0.05**2, 1 / 0.06**2]
    out = combine_log_potencies(m, w, [10, 12, 8])
    assert out.method == "weighted"
    assert out.log_estimate == pytest.approx(0.010551133647730512, abs=TOL)
    assert out.chi2 == pytest.approx(1.132406248135176, abs=TOL)  # 2 df: p = 0.568
    assert out.chi2_p == pytest.approx(0.5676767501737925, abs=TOL)
    assert out.se == pytest.approx(0.027705425792376608, abs=TOL)  # sqrt(1/1302.78)
    assert out.df == 30  # 10 + 12 + 8; t(0.975, 30) = 2.0422724563
    assert out.log_lower == pytest.approx(-0.04603089433813813, abs=TOL)
    assert out.log_upper == pytest.approx(0.06713316163359916, abs=TOL)
    assert out.estimate == pytest.approx(math.exp(0.010551133647730512), abs=TOL)
    assert out.between_variance == 0.0


def test_heterogeneous_estimates_give_the_semi_weighted_mean_on_n_minus_1_df() -> None:
    # ratios 0.8, 1.25, 1.0, 1.6 with SE 0.03, 0.04, 0.05, 0.03: far more spread than their SEs
    m = [math.log(0.8), math.log(1.25), math.log(1.0), math.log(1.6)]
    w = [1 / 0.03**2, 1 / 0.04**2, 1 / 0.05**2, 1 / 0.03**2]
    out = combine_log_potencies(m, w, [10, 10, 10, 10])
    assert out.method == "semi_weighted"
    assert out.chi2 == pytest.approx(279.1749348406215, abs=1e-7)
    assert out.chi2_p < 1e-50
    # s²_M = Σ(M − mean M)²/3 − Σ(1/W)/4 = 0.0884212… − 0.0059/4 = 0.0869462…
    assert out.between_variance == pytest.approx(0.08694621587145229, abs=TOL)
    assert out.log_estimate == pytest.approx(0.11781963319931701, abs=TOL)
    assert out.se == pytest.approx(0.14867443770901181, abs=TOL)
    assert out.df == 3  # t(0.975, 3) = 3.1824463053
    assert out.log_lower == pytest.approx(-0.3553287817778604, abs=TOL)
    assert out.log_upper == pytest.approx(0.5909680481764944, abs=TOL)


def test_one_estimate_is_returned_with_its_own_interval() -> None:
    # ratio 1.3 with 95 % CI 1.1–1.5 on 6 df: W = 4·t²/(ln 1.5 − ln 1.1)², t = 2.4469118511
    lo, hi = math.log(1.1), math.log(1.5)
    w = weights_from_intervals([lo], [hi], [6])
    assert w[0] == pytest.approx(248.96555598565695, abs=1e-7)
    out = combine_log_potencies([math.log(1.3)], w, [6])
    assert out.method == "single" and out.chi2 is None and out.chi2_p is None
    assert out.se == pytest.approx(0.06337680864120816, abs=TOL)
    # the interval is the estimate's own, centred on it: M ± (hi − lo)/2
    assert out.log_upper - out.log_lower == pytest.approx(hi - lo, abs=TOL)
    assert out.estimate == pytest.approx(1.3, abs=TOL)


def test_weights_from_intervals_are_one_over_the_variance() -> None:
    se, df = 0.07, 9
    t = stats.t.ppf(0.975, df)
    w = weights_from_intervals([0.2 - t * se], [0.2 + t * se], [df])
    assert w[0] == pytest.approx(1 / se**2, rel=1e-12)


@pytest.mark.parametrize(
    ("m", "w", "df", "words"),
    [
        ([0.1], [float("inf")], [3], "finite"),
        ([0.1, 0.2], [1.0], [3, 3], "one weight and df per estimate"),
        ([], [], [], "one weight and df per estimate"),
        ([0.1], [0.0], [3], "weights positive"),
    ],
)
def test_bad_input_is_refused(m: list, w: list, df: list, words: str) -> None:
    with pytest.raises(KillcurveInputError, match=words):
        combine_log_potencies(m, w, df)
    with pytest.raises(KillcurveInputError, match="upper > lower"):
        weights_from_intervals([0.3], [0.3], [5])
