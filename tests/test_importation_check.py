"""The importation model checked against what happened (issue 19, item 3): the statistic by hand, the expectation by
hand, and the check on the shipped 2020 data as the view and docs/methods.md state it."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from analytics import importation


def test_a_monotone_relation_has_rho_one_and_the_log_fit_sees_it():
    # log(1+x) of both is 0, 1, 2, 3 (x ln 2) and 0, 2, 4, 6 (x ln 2): a straight line on the log scale only
    expected = pd.Series([0.0, 1.0, 3.0, 7.0], index=list("abcd"))
    observed = pd.Series([0.0, 3.0, 15.0, 63.0], index=list("abcd"))
    got = importation.check(expected, observed)
    assert got["n"] == 4 and got["rho"] == pytest.approx(1.0) and got["p"] < 1e-6
    assert got["r2_log"] == pytest.approx(1.0)
    assert got["slope_log"] == pytest.approx(2.0)
    assert 0.9 < got["r2"] < 1.0  # not a straight line on the plain scale


def test_r2_and_rho_of_a_small_example_by_hand():
    # x 1, 2, 3; y 1, 3, 2: Pearson r = 0.5 (cov 0.5 / (1 x 1)), so R² = 0.25; the ranks are the values: rho = 0.5.
    # The observed series comes in another order: units are matched by code, not by position.
    got = importation.check(pd.Series({"x": 1.0, "y": 2.0, "z": 3.0}), pd.Series({"z": 2.0, "x": 1.0, "y": 3.0}))
    assert got["r2"] == pytest.approx(0.25) and got["rho"] == pytest.approx(0.5)
    assert got["slope"] == pytest.approx(0.5) and got["intercept"] == pytest.approx(1.0)


def test_the_check_uses_only_units_both_sides_know_and_says_when_it_cannot_tell():
    expected = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": float("nan")})
    observed = pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "e": 5.0})
    assert importation.check(expected, observed)["n"] == 3
    few = importation.check(expected.head(2), observed)
    assert few["n"] == 2 and math.isnan(few["rho"]) and math.isnan(few["r2"])
    flat = importation.check(pd.Series({"a": 1.0, "b": 1.0, "c": 1.0}), observed)
    assert math.isnan(flat["rho"]) and math.isnan(flat["r2_log"])


def test_expected_imports_by_hand():
    days = pd.to_datetime(["2020-01-20", "2020-01-21", "2020-01-22"])
    contrib = pd.DataFrame(
        {
            "focus_adcode": ["610100"] * 5 + ["610900"],
            "date": [days[0], days[1], days[1], days[2], days[2], days[1]],
            "counterpart_adcode": ["420100", "420100", "610400", "420100", "610400", "420300"],
            "contribution": [9.0, 0.5, 0.25, 1.0, float("nan"), 2.0],
        }
    )
    scale = pd.Series(
        [4.0, 2.0, 3.0, 1.5],
        index=pd.MultiIndex.from_tuples(
            [("610100", days[0]), ("610100", days[1]), ("610100", days[2]), ("610900", days[1])]
        ),
    )
    got = importation.expected_imports(contrib, scale, "2020-01-21", "2020-01-22")
    # 西安: 2 x (0.5 + 0.25) + 3 x 1.0 (the day before the window does not count); 安康: 1.5 x 2
    assert got.loc["610100", "expected"] == pytest.approx(4.5) and got.loc["610100", "days"] == 2
    assert got.loc["610900", "expected"] == pytest.approx(3.0) and got.loc["610900", "days"] == 1


@pytest.fixture(scope="module")
def checked(app_module):
    from data import importation_check

    return importation_check.result()


def test_shipped_check_covers_the_ten_baidu_units(checked):
    from data import queries

    units = checked.units
    assert checked.stats["n"] == len(units) == 10
    assert "610403" not in units.index and "610581" not in units.index  # no Baidu unit: counted in 咸阳 and 渭南
    assert units.loc["610400", "name"] == "咸阳市（含杨凌示范区）" and units.loc["610500", "label"] == "渭南（含韩城）"
    assert units.index[0] == "610100" and units["observed"].idxmax() == "610100"  # 西安 had the most cases
    # every case of the province by 2020-02-15 is in one of the ten points
    assert units["observed"].sum() == queries.summary("610000", "2020-02-15")["confirmed_cum"]
    assert units["expected"].map(math.isfinite).all() and (units["expected"] >= 0).all()
    assert (units["days"] == 21).all()
    assert checked.window == (date(2020, 1, 21), date(2020, 2, 10)) and checked.observed_on == date(2020, 2, 15)
    assert "1月15日" in checked.coverage  # the national series starts then (武汉 only), as the method says
    assert "十堰市" in units.loc["610900", "top_origins"]  # 安康's expectation comes mostly from 十堰


def test_shipped_check_numbers_the_readme_states(checked):
    stats = checked.stats
    assert stats["rho"] == pytest.approx(0.523, abs=0.005) and stats["p"] == pytest.approx(0.121, abs=0.005)
    assert stats["r2"] == pytest.approx(0.814, abs=0.005) and stats["r2_log"] == pytest.approx(0.574, abs=0.005)
    from data.importation_check import VARIANT_WUHAN

    assert checked.variants[VARIANT_WUHAN]["rho"] > stats["rho"]  # Wuhan arrivals alone rank the units better


def test_the_check_is_built_once_per_data_version(checked):
    from data import importation_check

    assert importation_check.result() is checked


def test_scatter_has_one_labelled_point_per_unit(checked):
    from figures.models import importation_scatter

    fig = importation_scatter(checked)
    points = fig.data[0]
    assert len(points.x) == len(checked.units) and list(points.text) == checked.units["label"].tolist()
    assert {row[0] for row in points.customdata} == set(checked.units["name"])
    assert "西安" in points.text and "咸阳（含杨凌）" in points.text
    assert fig.data[1].name == "线性拟合" and fig.data[1].mode == "lines"
    title = fig.layout.title.text
    assert "ρ = 0.52" in title and "R² = 0.81" in title and "n = 10" in title
    assert "1月21日至2月10日" in fig.layout.xaxis.title.text and "2月15日" in fig.layout.yaxis.title.text
    log = importation_scatter(checked, log=True)
    assert log.layout.xaxis.type == "log" and log.data[1].name.startswith("log(1+x)")


def test_scatter_without_data_says_so(checked):
    import dataclasses

    from figures.models import importation_scatter

    empty = dataclasses.replace(checked, units=checked.units.iloc[:0], window=None)
    fig = importation_scatter(empty)
    assert not fig.data and "无法检验" in fig.layout.annotations[0].text
