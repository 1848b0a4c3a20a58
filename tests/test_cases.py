"""Daily figures from cumulative reports: the rules on hand-made series, and consistency on the real 2020 data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.cases import compose_total, daily_from_cumulative
from data import shipped


def _reports(rows):
    return pd.DataFrame(rows, columns=["as_of_date", "confirmed_cum", "cured_cum", "dead_cum"])


def test_new_cases_are_differences_of_cumulative_counts():
    d = daily_from_cumulative(
        _reports([("2020-01-02", 2, 0, 0), ("2020-01-03", 5, 1, 0), ("2020-01-04", 9, 1, 1)]),
        "2020-01-01",
        "2020-01-04",
    )
    assert d["confirmed_cum"].tolist() == [0, 2, 5, 9]
    assert d["new_confirmed"].tolist() == [0, 2, 3, 4]
    assert d["status"].tolist() == ["before_first", "reported", "reported", "reported"]
    assert d["active"].tolist() == [0, 2, 4, 7]
    assert d["new_7d"].iloc[-1] == 9


def test_a_drop_is_a_correction_not_a_negative_day():
    d = daily_from_cumulative(
        _reports([("2020-01-01", 10, 0, 0), ("2020-01-02", 8, 0, 0), ("2020-01-03", 11, 0, 0)]),
        "2020-01-01",
        "2020-01-03",
    )
    assert (d["new_confirmed"] >= 0).all()
    assert d["correction_confirmed"].tolist() == [0, -2, 0]
    assert d["new_confirmed"].tolist() == [10, 0, 3]
    assert d["new_confirmed"].sum() + d["correction_confirmed"].sum() == d["confirmed_cum"].iloc[-1]


def test_a_missing_day_is_shown_as_missing_and_the_next_report_covers_it():
    d = daily_from_cumulative(_reports([("2020-01-01", 3, 0, 0), ("2020-01-03", 7, 0, 0)]), "2020-01-01", "2020-01-03")
    assert d["status"].tolist() == ["reported", "missing", "reported"]
    assert np.isnan(d["confirmed_cum"].iloc[1]) and np.isnan(d["new_confirmed"].iloc[1])
    assert np.isnan(d["new_7d"].iloc[1])
    assert d["new_confirmed"].iloc[2] == 4 and d["span_days"].iloc[2] == 2


def test_province_total_uses_its_own_row_before_the_switch_and_the_sum_after():
    days = ("2020-02-28", "2020-02-29", "2020-03-01", "2020-03-02")
    own = daily_from_cumulative(_reports([(d, 100 + i, 0, 0) for i, d in enumerate(days)]), days[0], days[-1])
    a = daily_from_cumulative(_reports([(d, 60, 0, 0) for d in days]), days[0], days[-1])
    b = daily_from_cumulative(
        _reports([(days[0], 30, 0, 0), (days[1], 30, 0, 0), (days[3], 35, 0, 0)]), days[0], days[-1]
    )
    imported = daily_from_cumulative(_reports([(days[1], 5, 0, 0)]), days[0], days[-1])
    cum, basis = compose_total(own, [a, b], [imported], "2020-03-01")
    assert basis.tolist() == ["own_row", "own_row", "own_row", "sum_of_units"]  # 03-01: unit b missing
    assert cum["confirmed_cum"].tolist() == [100, 101, 102, 100]


@pytest.fixture(scope="module")
def case_data(app_module):
    from data import queries

    return queries.case_data()


def test_real_series_are_consistent(case_data):
    """For every region: sum of new + corrections = last cumulative; nothing negative is passed on."""
    for adcode, frame in case_data.daily.groupby(level=0):
        known = frame["confirmed_cum"].dropna()
        assert (frame["new_confirmed"].dropna() >= 0).all(), adcode
        total = frame["new_confirmed"].sum() + frame["correction_confirmed"].sum()
        assert total == known.iloc[-1], adcode
        active = frame["confirmed_cum"] - frame["cured_cum"] - frame["dead_cum"]
        assert np.allclose(frame["active"].dropna(), active.dropna())


def test_shipped_file_is_read_with_its_date_convention_and_categories():
    rows = shipped.read_shipped_cases()
    source = pd.read_csv(shipped.CASES_CSV, dtype=str)
    doubled = source.duplicated(["as_of_date", "city_name"]).sum()
    assert doubled == 13 and set(source[source.duplicated(["as_of_date", "city_name"])].as_of_date) == {"2020-02-06"}
    assert len(rows) == len(source) - doubled  # as_of 2020-02-06 occurs twice; one of each pair is kept
    assert set(rows.category) == {"reported", "imported", "unassigned"}
    hancheng = rows[rows.source_name.isin(["韩城", "韩城市"])]
    assert set(hancheng.region_adcode) == {"610581"}
    assert set(rows[rows.source_name == "杨凌示范区"].region_adcode) == {"610403"}
    kept = rows[
        (rows.as_of_date == pd.Timestamp("2020-02-06").date())
        & (rows.region_adcode == "610000")
        & (rows.category == "reported")
    ]
    assert kept.source_date.tolist() == [pd.Timestamp("2020-02-06").date()]  # the earlier source date


def test_xian_gap_on_february_2nd_is_reported_as_missing(case_data):
    xian = case_data.daily.loc["610100"]
    assert xian.loc["2020-02-02", "status"] == "missing"
    assert xian.loc["2020-02-03", "span_days"] == 2
    province = case_data.daily.loc["610000"]
    assert province.loc["2020-02-02", "confirmed_cum"] == 128  # the province row, which includes 西安's 55
