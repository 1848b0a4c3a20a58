"""The JSON API against the source file, read here independently of the app's loader."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from data import shipped


@pytest.fixture(scope="module")
def source():
    frame = pd.read_csv(shipped.CASES_CSV, dtype={"city_adcode": str})
    return frame.sort_values("date").drop_duplicates(["as_of_date", "city_name"], keep="first")


def _source_row(source, name, as_of):
    row = source[(source.city_name == name) & (source.as_of_date == as_of)]
    assert len(row) == 1
    return row.iloc[0]


@pytest.mark.parametrize(
    "adcode, name, day",
    [
        ("610100", "西安市", "2020-02-15"),
        ("610000", "陕西省", "2020-02-15"),
        ("610700", "汉中市", "2020-02-10"),
        ("610581", "韩城市", "2020-02-20"),
        ("610403", "杨凌示范区", "2020-02-15"),
        ("610000", "陕西省", "2020-01-30"),
        ("610400", "咸阳市", "2020-03-05"),
    ],
)
def test_summary_equals_the_source_row(client, source, adcode, name, day):
    got = client.get(f"/api/v1/summary?region={adcode}&date={day}").get_json()
    want = _source_row(source, name, day)
    assert got["date"] == day
    assert (got["confirmed_cum"], got["cured_cum"], got["dead_cum"]) == (
        want.confirmed_cum,
        want.cured_cum,
        want.dead_cum,
    )
    assert got["active"] == want.confirmed_cum - want.cured_cum - want.dead_cum
    assert got["sources"] and got["data_as_of"] == "2020-12-07"


def test_summary_new_cases_follow_the_source(client, source):
    got = client.get("/api/v1/summary?region=610100&date=2020-02-10").get_json()
    before = _source_row(source, "西安市", "2020-02-09").confirmed_cum
    now = _source_row(source, "西安市", "2020-02-10").confirmed_cum
    assert got["new_confirmed"] == now - before
    week = _source_row(source, "西安市", "2020-02-03").confirmed_cum
    assert got["new_7d"] == now - week
    assert got["incidence_7d_per_100k"] == pytest.approx((now - week) / 12_952_907 * 1e5, abs=1e-4)


def test_province_from_march_is_the_sum_of_its_parts(client, source):
    got = client.get("/api/v1/summary?region=610000&date=2020-03-20").get_json()
    parts = source[(source.as_of_date == "2020-03-20") & (source.level != "province")]
    assert got["confirmed_cum"] == parts.confirmed_cum.sum()
    assert "之和" in got["basis"]


def test_a_day_without_a_report_is_null_not_zero(client):
    got = client.get("/api/v1/summary?region=610100&date=2020-02-02").get_json()
    assert got["status"] == "missing" and got["confirmed_cum"] is None


def test_counties_without_reports_are_no_data(client):
    got = client.get("/api/v1/summary?region=610113&date=2020-02-15").get_json()
    assert got["status"] == "no_data" and got["confirmed_cum"] is None and got["name"] == "雁塔区"


@pytest.mark.parametrize(
    "url, status, word",
    [
        ("/api/v1/summary?region=999999&date=2020-02-15", 404, "region"),
        ("/api/v1/summary?date=2020-02-15", 400, "region"),
        ("/api/v1/summary?region=610100&date=15/02/2020", 400, "date"),
        ("/api/v1/summary?region=610100&date=2019-01-01", 400, "date"),
        ("/api/v1/timeseries?region=610100&start=2020-03-01&end=2020-02-01", 400, "start"),
        ("/api/v1/facilities?region=610100&kind=hospital", 400, "kind"),
    ],
)
def test_errors_are_json_naming_the_parameter(client, url, status, word):
    response = client.get(url)
    assert response.status_code == status
    body = response.get_json()
    assert word in body["error"] and "Traceback" not in response.get_data(as_text=True)


def test_regions_list(client):
    rows = client.get("/api/v1/regions").get_json()
    levels = pd.Series([r["level"] for r in rows]).value_counts()
    assert levels["province"] == 1 and levels["unit"] == 12 and levels["county"] == 107
    assert {"adcode", "name", "level", "parent_adcode", "population"} <= set(rows[0])


def test_timeseries_json_and_csv(client):
    rows = client.get("/api/v1/timeseries?region=610000&start=2020-02-01&end=2020-02-15").get_json()
    assert [r["date"] for r in rows][:2] == ["2020-02-01", "2020-02-02"] and len(rows) == 15
    cums = [r["confirmed_cum"] for r in rows]
    assert cums == sorted(cums)
    text = client.get("/api/v1/timeseries?region=610000&start=2020-02-01&end=2020-02-15&format=csv").get_data(
        as_text=True
    )
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(table) == 15 and table[-1]["confirmed_cum"] == "236"


def test_facilities_are_geojson_labelled_as_demo(client):
    body = client.get("/api/v1/facilities?region=610100&kind=fever_clinic").get_json()
    assert body["type"] == "FeatureCollection" and body["demo"] is True and "演示数据" in body["notice"]
    assert len(body["features"]) >= 100  # ~1 per 100,000 of Xi'an's 12.9 million
    props = body["features"][0]["properties"]
    assert props["kind"] == "fever_clinic" and props["unit_adcode"] == "610100" and props["is_demo"] is True
    county = client.get("/api/v1/facilities?region=610113&kind=pharmacy").get_json()
    assert {f["properties"]["county_adcode"] for f in county["features"]} == {"610113"}


def test_health(client):
    assert client.get("/health").get_json()["status"] == "ok"


@pytest.mark.parametrize("adcode", ["610000", "610100", "610403", "610113"])
def test_timeseries_is_the_summary_of_every_day(client, adcode):
    """The time series is built in one pass, but each of its rows must be what /summary says for that day: the
    province (composed from its parts from March), a city, 杨凌 (few cases, no Rt) and a county without data."""
    from data import queries

    rows = client.get(f"/api/v1/timeseries?region={adcode}").get_json()
    data = queries.case_data()  # the series runs over the case data's days
    assert len(rows) == (data.end - data.start).days + 1 and rows[-1]["date"] == data.end.isoformat()
    for row in rows[::7] + rows[-3:]:
        assert row == queries.summary.uncached(adcode, row["date"]), row["date"]
