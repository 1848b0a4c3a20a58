"""Rt, growth and risk: known answers, and Rt against an independent implementation (PyPI epyestim)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from epyestim.estimate_r import estimate_r, gamma_quantiles

from analytics import growth, risk, rt


def _days(n):
    return pd.date_range("2020-01-01", periods=n, freq="D")


def test_serial_interval_is_a_distribution_with_the_stated_mean():
    w = rt.discrete_serial_interval()
    assert w[0] == 0 and abs(w.sum() - 1) < 1e-12 and (w >= 0).all()
    assert abs((np.arange(len(w)) * w).sum() - rt.SI_MEAN) < 0.05


def test_rt_equals_epyestim_cori_step():
    rng = np.random.default_rng(7)
    incidence = pd.Series(rng.poisson(np.r_[np.linspace(2, 40, 30), np.linspace(40, 3, 30)]), index=_days(60))
    si = rt.discrete_serial_interval()
    ours = rt.cori(incidence, si=si, window=7, min_cases=0)
    a_prior, b_prior = 1.0, 5.0  # shape and scale of a gamma with mean 5 and sd 5
    theirs = estimate_r(incidence, si, a_prior, b_prior, window_size=7)
    mean = theirs.a_posterior * theirs.b_posterior
    low = gamma_quantiles(0.025, theirs.a_posterior, theirs.b_posterior)
    high = gamma_quantiles(0.975, theirs.a_posterior, theirs.b_posterior)
    joined = ours.join(pd.DataFrame({"mean": mean, "low": low, "high": high}), how="inner").dropna()
    assert len(joined) > 40
    assert np.allclose(joined.rt, joined["mean"], atol=1e-6, rtol=0)
    assert np.allclose(joined.rt_low, joined["low"], atol=1e-6, rtol=0)
    assert np.allclose(joined.rt_high, joined["high"], atol=1e-6, rtol=0)


def test_rt_hand_computed_case():
    # w = (0, 1): everyone infects exactly one day later. Constant incidence c gives Lambda = c, so the posterior
    # is Gamma(1 + 7c, 1 / (1/5 + 7c)) and its mean (1 + 7c) / (0.2 + 7c).
    c = 10
    out = rt.cori(pd.Series([c] * 20, index=_days(20)), si=np.array([0.0, 1.0]), window=7)
    assert out.rt.iloc[-1] == pytest.approx((1 + 7 * c) / (0.2 + 7 * c), abs=1e-12)


def test_rt_needs_twelve_cases_in_the_window():
    out = rt.cori(pd.Series([1] * 30, index=_days(30)))
    assert out.rt.isna().all()  # 7 cases a window
    out = rt.cori(pd.Series([2] * 30, index=_days(30)))
    assert out.rt.iloc[-1] > 0


def test_imported_cases_infect_but_are_not_local():
    local = pd.Series([10] * 20, index=_days(20))
    alone = rt.cori(local).rt.iloc[-1]
    with_imports = rt.cori(local, imported=pd.Series([10] * 20, index=_days(20))).rt.iloc[-1]
    assert with_imports == pytest.approx(alone / 2, rel=0.05)


def test_doubling_time_of_exact_exponential_growth():
    days = _days(30)
    y = pd.Series(3 * np.exp(0.1 * np.arange(30)), index=days)
    out = growth.log_linear_growth(y, window=14)
    assert out.growth_rate.iloc[-1] == pytest.approx(0.1, abs=1e-12)
    assert out.doubling_time_days.iloc[-1] == pytest.approx(math.log(2) / 0.1, abs=1e-9)
    halving = growth.log_linear_growth(pd.Series(100 * 0.5 ** (np.arange(30) / 4), index=days), window=7)
    assert halving.halving_time_days.iloc[-1] == pytest.approx(4, abs=1e-9)
    assert growth.log_linear_growth(pd.Series([0, 1, 2] * 10, index=days), window=7).growth_rate.isna().all()


def test_seven_day_incidence_by_hand():
    from analytics.cases import daily_from_cumulative, per_100k

    cum = [0, 1, 3, 6, 10, 15, 21, 28, 36]  # new: 1..8 from day 2
    d = daily_from_cumulative(
        pd.DataFrame({"as_of_date": _days(9), "confirmed_cum": cum, "cured_cum": 0, "dead_cum": 0}),
        "2020-01-01",
        "2020-01-09",
    )
    assert d.new_7d.iloc[-1] == 2 + 3 + 4 + 5 + 6 + 7 + 8
    assert per_100k(d.new_7d.iloc[-1], 350_000) == pytest.approx(35 / 350_000 * 1e5)


@pytest.mark.parametrize(
    "cum, new, want",
    [
        ([0] * 20, [0] * 20, "low"),  # no case ever
        ([5] * 20, [5] + [0] * 19, "low"),  # none new in 14 days
        ([10] * 19 + [11], [10] + [0] * 18 + [1], "medium"),  # new within 14 days, cumulative <= 50
        ([60] * 19 + [61], [60] + [0] * 18 + [1], "medium"),  # > 50, one case: no cluster
        ([60] * 18 + [61, 62], [60] + [0] * 17 + [1, 1], "high"),  # > 50 and two new cases: a cluster assumed
        ([50] * 18 + [51, 52], [50] + [0] * 17 + [1, 1], "high"),
    ],
)
def test_risk_rule_2020(cum, new, want):
    level = risk.risk_level(pd.Series(cum, dtype=float, index=_days(20)), pd.Series(new, dtype=float, index=_days(20)))
    assert level.iloc[-1] == want


def test_risk_rule_takes_real_cluster_information_when_given():
    cum = pd.Series([60.0] * 19 + [62.0], index=_days(20))
    new = pd.Series([60.0] + [0.0] * 18 + [2.0], index=_days(20))
    assert risk.risk_level(cum, new, cluster=pd.Series(False, index=_days(20))).iloc[-1] == "medium"


def test_real_data_judgements(app_module):
    """What the 2020 data says (stated in the closing note): Rt above 1 in late January, below 1 by mid-February,
    every unit low risk at the end of March."""
    from data import queries

    province = queries.case_data().daily.loc["610000"]
    assert province.loc["2020-01-28":"2020-01-31", "rt_low"].min() > 1
    assert province.loc["2020-02-12":"2020-02-16", "rt_high"].max() < 1
    units = queries.on_day("2020-03-31")
    assert (units.risk_level == "low").all()
