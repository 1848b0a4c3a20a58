"""Callbacks as plain functions: what the page would show after each interaction."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from geo import regions
from layouts import view_state
from views import assessment, kpis, maps, ranking, trends


@pytest.fixture(scope="module")
def cb(app_module):
    import callbacks.dashboard as cb

    return cb


def test_picked_region(cb):
    assert cb.picked_region("region-map", {"points": [{"location": "610700"}]}, []) == "610700"
    assert cb.picked_region("region-map", {"points": [{"location": "610113"}]}, []) == "610113"
    assert cb.picked_region("region-map", {"points": [{"lon": 108.9, "lat": 34.2}]}, []) is None  # a facility dot
    order = ["610100", "610900", "610700"]
    assert cb.picked_region({"type": "unit-row", "index": 1}, None, [None, 1, None], order) == "610900"


def test_kpis_change_with_region_and_date(cb):
    province = kpis.kpis("610000", "2020-02-15")
    assert province["confirmed"] == "236" and province["new"] == "4" and province["confirmed-delta"] == "较前日 +4"
    xian = kpis.kpis("610100", "2020-02-15")
    assert xian["confirmed"] == "114"
    assert kpis.kpis("610100", "2020-02-02")["confirmed"] == "未上报"
    assert kpis.kpis("610113", "2020-02-15")["confirmed"] == "无数据"
    assert "含此前1日" in kpis.kpis("610100", "2020-02-03")["new-delta"]


def test_map_follows_region_date_and_metric(cb):
    fig = go.Figure(maps.build_map("610000", "2020-02-15", "confirmed_cum", []))
    units = fig.data[0]
    assert len(units.locations) == 12 and dict(zip(units.locations, units.z))["610100"] == 114
    assert units.geojson == "/assets/geo/units.geojson"  # boundaries by URL, cached by the browser
    assert len(fig.data[2].locations) + len(fig.data[3].locations) == 0  # no county layer at province level
    xian = go.Figure(maps.build_map("610100", "2020-02-15", "confirmed_cum", []))
    assert list(xian.data[4].locations) == ["610100"]  # the selected unit outlined
    assert len(xian.data[3].locations) == 13  # its counties, drawn as no data, not as zero
    assert xian.layout.map.zoom > fig.layout.map.zoom
    later = go.Figure(maps.build_map("610000", "2020-03-15", "incidence_7d_per_100k", []))
    assert dict(zip(later.data[0].locations, later.data[0].z))["610100"] < 1
    assert "10万" in later.layout.coloraxis.colorbar.title.text


def test_the_first_map_hides_only_its_national_background_and_colour_bar_and_leaves_the_shared_one_whole(cb):
    shared = maps.shared_map("610000", "2020-02-15", "confirmed_cum", ())
    first = maps.background_later(shared)
    assert [layer.get("visible") for layer in first["layout"]["map"]["layers"]] == [False]
    assert first["data"] == shared["data"] and first["layout"]["map"]["center"] == shared["layout"]["map"]["center"]
    # later figures (a metric, a day the page does not hold) still draw it: the cached figure is not changed
    assert [layer.get("visible") for layer in shared["layout"]["map"]["layers"]] == [None]
    assert first["layout"]["coloraxis"]["showscale"] is False and "showscale" not in shared["layout"]["coloraxis"]
    assert maps.shared_map("610000", "2020-02-15", "confirmed_cum", ()) == shared


def test_facility_layers_are_labelled_demo(cb):
    fig = go.Figure(maps.build_map("610100", "2020-02-15", "confirmed_cum", ["fever_clinic", "pharmacy"]))
    names = [t.name for t in fig.data[5:]]
    assert names == ["发热门诊（演示数据）", "定点药店（演示数据）"]
    assert all(t.type == "scattermap" for t in fig.data[5:])


def test_date_change_patches_values_only(cb):
    patch = cb.values_patch(maps.build_map("610000", "2020-02-16", "confirmed_cum", []))
    ops = patch.to_plotly_json()["operations"]
    touched = {tuple(op["location"][:3]) for op in ops if op["location"][0] == "data"}
    assert ("data", 0, "z") in touched and not any(k[2] == "geojson" for k in touched)


def test_view_state_reads_the_url_and_falls_back_to_defaults():
    state = view_state.parse(
        {"region": "610100", "date": "2020-02-15", "metric": "active", "layers": "pharmacy,fever_clinic"},
        "2020-01-22",
        "2020-12-07",
    )
    assert (state.region, state.date, state.metric) == ("610100", "2020-02-15", "active")
    assert state.layers == ("fever_clinic", "pharmacy")
    bad = view_state.parse({"region": "x", "date": "nonsense", "metric": "y"}, "2020-01-22", "2020-12-07")
    assert (bad.region, bad.date, bad.metric) == ("610000", "2020-12-07", "confirmed_cum")


def test_trend_views(cb):
    single = trends.trend_figure("region", "610100", "2020-02-15", [], [])
    assert single.layout.title.text.startswith("西安市") and single.layout.hovermode == "x unified"
    notes = [a.text for a in single.layout.annotations]
    assert any(t.startswith("首例") for t in notes) and any(t.startswith("单日最多") for t in notes)
    log = trends.trend_figure("region", "610100", "2020-02-15", ["log", "per100k"], [])
    assert log.layout.yaxis.type == "log" and "10万" in log.layout.yaxis.title.text
    # cumulative per 100k, as of the day (114 by 2月15日; 120 came later and is not drawn)
    assert max(v for v in log.data[2].y if v == v) == pytest.approx(114 / 12_952_907 * 1e5)
    units = trends.trend_figure("units", "610000", "2020-02-15", [], [])
    assert len({t.xaxis for t in units.data}) == 12 and len(units.layout.shapes) == 12
    compare = trends.trend_figure("compare", "610000", "2020-02-15", [], ["610100", "610700", "610900"])
    assert [t.name for t in compare.data] == ["西安市", "汉中市", "安康市"]
    too_few = trends.trend_figure("compare", "610000", "2020-02-15", [], ["610100"])
    assert "两个或更多" in too_few.layout.annotations[0].text
    rt_fig = trends.trend_figure("rt", "610000", "2020-02-15", [], [])
    assert [t.name for t in rt_fig.data][1:3] == ["95%可信区间", "Rt"]
    assert any(s.y0 == 1 and s.y1 == 1 for s in rt_fig.layout.shapes)  # the line at Rt = 1
    small = trends.trend_figure("rt", "610403", "2020-02-15", [], [])
    assert "不作 Rt 估计" in small.layout.annotations[0].text  # 杨凌 never had 12 cases in a week


def test_ranking_table_sorts_and_downloads(cb):
    table = ranking.ranking_cells("2020-02-15", "610100", "confirmed_cum", False)
    assert table["names"][0] == "西安市" and len(table["names"]) == 12 and table["order"][0] == "610100"
    assert table["cells"][(0, "confirmed_cum")] == "114" and table["row_class"][0] == "selected"
    assert table["heads"]["confirmed_cum"] == "累计确诊▼" and table["aria_sort"]["confirmed_cum"] == "descending"
    by_risk = ranking.ranking_cells("2020-02-15", "", "risk_level", False)
    assert by_risk["cells"][(0, "risk_level")] == "高风险"
    assert ranking.next_sort({"column": "rt", "ascending": False}, "rt") == {"column": "rt", "ascending": True}
    assert ranking.next_sort({"column": "rt", "ascending": False}, "new_7d") == {"column": "new_7d", "ascending": False}
    download = ranking.ranking_download("2020-02-15", {"column": "confirmed_cum", "ascending": False}, "csv")
    lines = download["content"].lstrip("\ufeff").splitlines()
    assert lines[0].split(",")[:4] == ["截至日期", "地区代码", "地区", "累计确诊"]
    assert lines[1].startswith("2020-02-15,610100,西安市,114") and download["filename"] == "各市区排名_2020-02-15.csv"
    xlsx = ranking.ranking_download("2020-02-15", {"column": "rt", "ascending": False}, "xlsx")
    import base64
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(xlsx["content"]))).active
    assert [c.value for c in sheet[1]][:4] == ["截至日期", "地区代码", "地区", "累计确诊"]
    assert sheet.cell(2, 3).value == "西安市" and sheet.cell(2, 2).value == "610100"  # sorted by Rt, codes as text


def test_assessment_strip(cb):
    early = str(assessment.assessment("610000", "2020-01-30"))
    assert "'2.59'" in early  # the province's Rt on 1月30日
    assert "倍增时间" in str(assessment.assessment("610000", "2020-02-05"))
    province = str(assessment.assessment("610000", "2020-02-15"))
    assert "高风险 1" in province and "减半时间" in province
    assert "不估计" in str(assessment.assessment("610403", "2020-02-15"))


def _trend_request(region: str) -> bytes:
    import json

    return json.dumps(
        {
            "output": "..trend-chart.figure...trend-note.children..",
            "outputs": [{"id": "trend-chart", "property": "figure"}, {"id": "trend-note", "property": "children"}],
            "inputs": [
                {"id": "region-select", "property": "value", "value": region},
                {"id": "trend-view", "property": "value", "value": "region"},
                {"id": "trend-options", "property": "value", "value": []},
                {"id": "compare-select", "property": "value", "value": []},
                {"id": "page-version", "property": "data", "value": None},
                {"id": "palette-select", "property": "value", "value": "standard"},
                {"id": "map-drawn", "property": "data", "value": True},
            ],
            "state": [{"id": "date-select", "property": "value", "value": "2020-02-15"}],
            "changedPropIds": ["region-select.value"],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def test_a_repeated_pure_callback_is_answered_from_the_cache(cb, app_module, monkeypatch):
    """The same trend request again gets the answer sent before without running the callback; another region
    still runs it; a callback with side effects (an export) is never answered from the cache."""
    import json

    client = app_module.server.test_client()
    client.get("/")  # the page visit sets the CSRF cookie Dash's renderer sends back as X-CSRFToken
    csrf = {"X-CSRFToken": client.get_cookie("_csrf_token").value}
    first = client.post(
        "/_dash-update-component", data=_trend_request("610900"), content_type="application/json", headers=csrf
    )
    assert first.status_code == 200 and "安康市" in json.dumps(first.get_json(), ensure_ascii=False)

    def must_not_run(*_a, **_k):
        raise AssertionError("the callback ran again")

    monkeypatch.setattr(cb, "shared_trend", must_not_run)
    again = client.post(
        "/_dash-update-component", data=_trend_request("610900"), content_type="application/json", headers=csrf
    )
    assert again.status_code == 200 and again.get_data() == first.get_data()
    other = client.post(
        "/_dash-update-component", data=_trend_request("610800"), content_type="application/json", headers=csrf
    )
    assert other.status_code == 500  # not in the cache: the callback ran (and was stopped)

    from data import cache

    assert cache.is_pure_callback(b'{"output":"region-map.figure","outputs":{}}')
    assert cache.is_pure_callback(_trend_request("610100"))
    assessment = (
        '..{"part":["ALL"],"type":"assess-item"}.hidden...{"part":["ALL"],"type":"assess"}.children'
        '...{"part":["ALL"],"type":"assess"}.hidden...{"part":["ALL"],"type":"assess"}.className..'
    )
    assert cache.is_pure_callback(json.dumps({"output": assessment}).encode())  # the whole id, as the page sends it
    for side_effect in (
        b'{"output":"data-download.data"}',
        b'{"output":"table-download.data"}',
        b'{"output":"upload-result.children"}',
        b'{"inputs":[],"output":"region-map.figure"}',
    ):
        assert not cache.is_pure_callback(side_effect)


def test_map_days_hold_what_the_map_draws_on_each_day(cb):
    """The values a date or region change recolours the map with in the browser are the map's own for that day and
    region: every day of the shipped range (short enough to hold whole), a county the same as its unit, and the
    region's view (outline, centre, zoom) as the map built for it."""
    import datetime as dt

    from data import queries

    start, end = queries.view_range()
    assert maps.whole_range() and maps.clean_block({"index": 1}) is None
    days = maps.map_days("610100", "confirmed_cum", None)
    assert list(days["days"]) == [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    assert days["key"] == "610100|confirmed_cum" and len(days["frames"]) < len(days["days"])  # repeats shared
    assert maps.map_days("610112", "confirmed_cum", None) == days  # 雁塔区 shows 西安's map
    for day in list(days["days"])[::9] + ["2020-02-16", end.isoformat()]:  # against the map built for that day alone
        fig = maps.build_map("610100", day, "confirmed_cum", [])
        assert days["frames"][days["days"][day]] == maps.day_values(fig), day
        assert days["view"] == maps.region_view(fig)
    assert days["view"]["trace"]["locations"] == ["610100"] and days["view"]["layout"]["uirevision"] == "610100"
    province = maps.map_days("610000", "importation_risk", None)
    for day in ("2020-01-25", "2020-12-07"):
        assert province["frames"][province["days"][day]] == maps.day_values(
            maps.build_map("610000", day, "importation_risk", [])
        ), day
    assert province["view"]["trace"]["locations"] == []  # no unit outlined at province level
    xian = days["frames"][days["days"]["2020-02-16"]]
    units = dict(zip(xian["traces"][0]["locations"], xian["traces"][0]["z"]))
    assert units["610100"] == 117  # 西安 on 2月16日, as the KPI and the API say


def test_a_long_range_is_held_in_windows_kept_inside_the_range(cb, monkeypatch):
    """On a range too long to hold whole (years of later waves), the page holds the chosen day's block of days and
    the blocks either side; what it sends for the block is checked (nonsense asks for the latest day's block)."""
    import datetime as dt

    from data import queries
    from figures.maps import DAY_BLOCK

    monkeypatch.setattr(maps, "WHOLE_RANGE_DAYS", 100)  # the shipped 342 days then count as long
    start, end = queries.view_range()
    latest = (end - start).days // DAY_BLOCK
    assert maps.clean_block({"size": DAY_BLOCK, "index": 1}) == 1 and maps.clean_block({"index": 0}) == 0
    for nonsense in (None, {}, {"index": "1"}, {"index": True}, {"index": 1.5}, "x", {"index": 10**9}):
        assert maps.clean_block(nonsense) == latest, nonsense
    assert maps.clean_block({"index": -4}) == 0

    block = (dt.date(2020, 2, 16) - start).days // DAY_BLOCK
    days = maps.map_days("610100", "confirmed_cum", block)
    first = max(start, start + dt.timedelta(days=(block - 1) * DAY_BLOCK))
    last = min(end, start + dt.timedelta(days=(block + 2) * DAY_BLOCK - 1))
    assert list(days["days"]) == [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    assert days["block"] == block
    day = "2020-03-20"
    assert days["frames"][days["days"][day]] == maps.day_values(maps.build_map("610100", day, "confirmed_cum", []))
    province = maps.map_days("610000", "importation_risk", latest)
    assert end.isoformat() in province["days"]
    assert len(province["days"]) == DAY_BLOCK + (end - start).days % DAY_BLOCK + 1
    # one day of a region (the page holds the day shown for each unit), kept inside the range
    assert maps.clean_block({"day": "2020-02-16"}) == "2020-02-16"
    assert maps.clean_block({"day": "1999-01-01"}) == start.isoformat()
    assert maps.clean_block({"day": "nonsense"}) == end.isoformat()
    one = maps.map_days("610700", "confirmed_cum", "2020-02-16")
    fig = maps.build_map("610700", "2020-02-16", "confirmed_cum", [])
    assert list(one["days"]) == ["2020-02-16"] and one["frames"] == [maps.day_values(fig)]
    assert one["view"] == maps.region_view(fig) and one["block"] == "2020-02-16"
    # the page does not come with a window of a long range (megabytes at the scale set): it asks once drawn
    assert list(maps.held_map_days("610100", "confirmed_cum", block * DAY_BLOCK)) == ["units"]


def test_kpi_books_hold_what_the_tiles_show_on_each_day(cb):
    """The KPI row a date or region change shows in the browser comes from the region's book: every day's row is
    the one the server writes for that region and day (views.kpis.kpi_texts, the API's summary), a county's book
    is made when asked, and a page opens with its own, its unit's and the province's, then holds every unit's."""
    import datetime as dt

    from data import queries
    from views import kpis

    start, end = queries.view_range()
    held = kpis.kpi_books("610112")
    assert set(held) == {"610112", *regions.province_and_units()} and len(held) == 14
    assert set(kpis.kpi_books("610112", units=False)) == {"610112", "610100", "610000"}
    assert set(kpis.kpi_books("nonsense", units=False)) == {"610000"}
    for region in ("610000", "610100", "610112", "610403"):
        book = held[region]
        assert book["first"] == start.isoformat() and len(book["days"]) == (end - start).days + 1
        assert len(book["rows"]) < len(book["days"])  # repeated rows shared
        for offset in list(range(0, len(book["days"]), 11)) + [len(book["days"]) - 1]:
            day = (start + dt.timedelta(days=offset)).isoformat()
            shown = kpis.kpi_texts(region, day)
            assert book["rows"][book["days"][offset]] == [shown[k] for k in kpis.BOOK_KEYS], (region, day)
            assert book["region"] == shown["region"]
    xian = held["610100"]
    assert xian["rows"][xian["days"][(dt.date(2020, 2, 16) - start).days]][0] == "117"  # as the API says
