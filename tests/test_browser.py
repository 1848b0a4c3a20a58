"""`/` in Debian's headless chromium, used as a duty officer would: pick a region and a day, watch every view follow."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect
from waiting import MAP_HAS_EVERY_LAYER, RECORD_ASKED, callbacks_done, map_drawn, until


def _map_values(page) -> dict:
    """The unit values the map is drawing now, read from plotly's own state in the page."""
    return page.evaluate("""() => { const d = document.querySelector('#region-map .js-plotly-plot').data[0];
                                    return Object.fromEntries(d.locations.map((l, i) => [l, d.z[i]])); }""")


def _trend_title(page) -> str:
    """The trend chart's title, once its figure has arrived (each chart draws when its own answer comes)."""
    page.wait_for_function("() => document.querySelector('#trend-chart .js-plotly-plot')?.layout?.title?.text")
    return page.evaluate("() => document.querySelector('#trend-chart .js-plotly-plot').layout.title.text")


def _selected_day_line(page) -> str:
    return page.evaluate("() => document.querySelector('#trend-chart .js-plotly-plot').layout.shapes[0].x0")


def test_region_and_date_drive_every_view(server_url, page, artifacts):
    page.goto(f"{server_url}/?region=610000&date=2020-02-15&layers=fever_clinic")
    expect(page.locator("#kpi-confirmed")).to_have_text("236", timeout=20_000)
    expect(page.locator("#region-map .maplibregl-canvas")).to_be_visible(timeout=20_000)  # WebGL in software: slow
    page.wait_for_function("() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 6")
    assert _map_values(page)["610100"] == 114
    assert _trend_title(page).startswith("陕西省")
    map_drawn(page)
    page.screenshot(path=str(artifacts / "dashboard_province_1920x1080.png"))

    # region: choose 汉中市 in the region control
    page.click("#region-select")
    page.fill(".dash-dropdown-search", "汉中")
    page.locator(".dash-dropdown-option", has_text=re.compile("^汉中市$")).click()
    expect(page.locator("#kpi-confirmed")).to_have_text("25")
    expect(page.locator("#kpi-region")).to_have_text("汉中市")
    page.wait_for_function(
        "() => document.querySelector('#trend-chart .js-plotly-plot').layout.title.text.startsWith('汉中市')"
    )
    page.wait_for_function(
        "() => document.querySelector('#region-map .js-plotly-plot').data[4].locations[0] === '610700'"
    )  # the map outlines the chosen unit and zooms to it
    expect(page).to_have_url(re.compile("region=610700"))

    # date: one day on, then a click in the unit table, then back through the URL
    page.click("#date-next")
    expect(page.locator("#as-of")).to_have_text("截至2020年2月16日24时")
    page.wait_for_function(
        "() => document.querySelector('#trend-chart .js-plotly-plot').layout.shapes[0].x0.startsWith('2020-02-16')"
    )
    drawn_at, day_at = page.evaluate(
        """() => { const gd = document.querySelector('#trend-chart .js-plotly-plot'), xa = gd._fullLayout.xaxis;
        const d = gd.querySelector('.shapelayer path[data-index="0"]').getAttribute('d');
        return [parseFloat(d.slice(1)), xa._offset + xa.l2p(xa.d2l('2020-02-16'))]; }"""
    )
    assert abs(drawn_at - day_at) < 1  # the marker line is drawn on the day, not only written in the layout
    expect(page).to_have_url(re.compile("date=2020-02-16"))
    page.locator("#unit-table").get_by_role("button", name="西安市", exact=True).click()
    expect(page.locator("#kpi-confirmed")).to_have_text("117")  # 西安 on 2月16日
    page.wait_for_function(
        "() => { const d = document.querySelector('#region-map .js-plotly-plot').data[0];"
        " return d.z[d.locations.indexOf('610100')] === 117; }"
    )
    map_drawn(page)
    page.screenshot(path=str(artifacts / "dashboard_xian_1920x1080.png"))

    copied = page.url
    page.goto(copied)  # a copied link reopens the same view
    expect(page.locator("#kpi-confirmed")).to_have_text("117", timeout=20_000)
    expect(page.locator("#as-of")).to_have_text("截至2020年2月16日24时")

    outside = [
        u for u in page.requests if not re.match(r"^(http://127\.0\.0\.1[:/]|blob:http://127\.0\.0\.1|data:)", u)
    ]
    assert outside == []
    assert not [e for e in page.errors if "WebGL" not in e and "GL Driver" not in e], page.errors


def test_the_address_holds_the_view_without_asking_the_server(server_url, page):
    """The address is written in the browser: a messy link comes back in one order with its defaults left out, and a
    change of the view reaches the address without a request for it (a server's late answer could drop a change)."""
    asked = []
    page.on("request", lambda r: asked.append(r.post_data or "") if "_dash-update-component" in r.url else None)
    page.goto(
        f"{server_url}/?flow=out&palette=cb&distance=20&trend=compare&compare=610200,610100&layers=pharmacy,fever_clinic"
        "&metric=active&date=2020-02-15&region=610100&scope=national&unknown=1"
    )
    expect(page.locator("#kpi-region")).to_have_text("西安市", timeout=20_000)
    expect(page).to_have_url(
        f"{server_url}/?region=610100&date=2020-02-15&metric=active&layers=fever_clinic%2Cpharmacy&trend=compare"
        "&compare=610200%2C610100&flow=out&palette=cb&distance=20"
    )
    page.click("#date-next")
    expect(page.locator("#as-of")).to_have_text("截至2020年2月16日24时")
    expect(page).to_have_url(re.compile("date=2020-02-16"))
    page.get_by_label("Rt", exact=True).check()
    expect(page).to_have_url(re.compile(r"trend=rt&flow=out"), timeout=1_000)  # the compared regions leave with it
    callbacks_done(page)
    assert not [body for body in asked if "url.search" in body]


def test_clicking_a_day_on_the_trend_sets_the_date(server_url, page):
    page.goto(f"{server_url}/?region=610100&date=2020-02-15")
    expect(page.locator("#kpi-confirmed")).to_have_text("114", timeout=20_000)
    page.wait_for_function("() => document.querySelector('#trend-chart .js-plotly-plot')?.data?.length > 0")
    # emit the click plotly sends when a bar is clicked (the bars are a few pixels wide at this zoom)
    page.evaluate("""() => { const gd = document.querySelector('#trend-chart .js-plotly-plot');
        gd.emit('plotly_click', {points: [{x: '2020-02-05', y: 4, curveNumber: 0, pointNumber: 14}]}); }""")
    expect(page.locator("#as-of")).to_have_text("截至2020年2月5日24时")
    expect(page.locator("#kpi-confirmed")).to_have_text("74")


def test_date_controls_step_and_stay_in_range(server_url, page):
    """Prev/next and the slider move the day in the browser (assets/dashboard.js); the last day is the limit."""
    page.goto(f"{server_url}/?region=610100&date=2020-12-07")
    expect(page.locator("#as-of")).to_have_text("截至2020年12月7日24时", timeout=20_000)
    page.click("#date-next")  # already the last day of the data
    expect(page.locator("#as-of")).to_have_text("截至2020年12月7日24时")
    page.click("#date-prev")  # the steps are taken in order: had "next" moved on, this would come back to 12月7日
    expect(page.locator("#as-of")).to_have_text("截至2020年12月6日24时")
    expect(page).to_have_url(re.compile("date=2020-12-06"))  # once the map is drawn (the KPI row shows at once)
    # the slider, moved by keyboard to its start, goes to the first day of the range
    page.locator("#date-slider [role=slider]").focus()
    page.keyboard.press("Home")
    expect(page.locator("#as-of")).to_have_text("截至2020年1月1日24时")
    expect(page).to_have_url(re.compile("date=2020-01-01"))


def _api_confirmed(server_url, region, day) -> int:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{server_url}/api/v1/summary?region={region}&date={day}") as response:
        return json.load(response)["confirmed_cum"]


def test_date_steps_recolour_the_map_in_the_browser_and_playback_follows(server_url, page, artifacts):
    """A date step recolours the map from the day values the page holds (no map request); play steps the days
    with the map, the KPIs and the trend marker in step, and pause stops it. Numbers checked against the API."""
    answered = []
    page.on(
        "response", lambda r: "_dash-update-component" in r.url and answered.append(r.request.post_data_json["output"])
    )
    page.goto(f"{server_url}/?region=610000&date=2020-02-10")
    expect(page.locator("#kpi-confirmed")).to_have_text(
        str(_api_confirmed(server_url, "610000", "2020-02-10")), timeout=20_000
    )
    expect(page.locator("#region-map .maplibregl-canvas")).to_be_visible(timeout=20_000)
    page.wait_for_function("() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 5")
    until(page, lambda: "map-days.data" in answered, what="the day values of the view (after the map)")
    # and the page's first trend, asked once the map is drawn (on a loaded machine that can come after the above)
    until(page, lambda: any("trend-chart.figure" in o for o in answered), what="the first trend")
    callbacks_done(page)

    sent = []
    page.on("request", lambda r: r.method == "POST" and sent.append(r.post_data_json["output"]))
    page.click("#date-next")
    expect(page.locator("#as-of")).to_have_text("截至2020年2月11日24时")
    page.wait_for_function(
        "() => document.querySelector('#trend-chart .js-plotly-plot').layout.shapes[0].x0.startsWith('2020-02-11')"
    )
    assert _map_values(page)["610100"] == _api_confirmed(server_url, "610100", "2020-02-11")
    # the forecast fan moves to the new day inside the drawn chart: the 14 medians the API gives for that origin
    fan = page.wait_for_function("""() => {
        const gd = document.querySelector('#trend-chart .js-plotly-plot');
        const t = gd && gd.data.find((d) => d.meta && d.meta.forecast === 'median');
        return t && String(t.x[0]).startsWith('2020-02-12') && Array.from(t.y); }""")
    import urllib.request

    with urllib.request.urlopen(f"{server_url}/api/v1/forecast?region=610000&date=2020-02-11") as response:
        assert fan.json_value() == [row["median"] for row in json.load(response)]
    assert not [o for o in sent if "region-map.figure" in o or "trend-chart.figure" in o], sent

    page.click("#play-toggle")
    expect(page.locator("#play-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#as-of")).to_have_text(re.compile("截至2020年2月1[4-9]日24时"), timeout=15_000)
    map_drawn(page)
    page.screenshot(path=str(artifacts / "dashboard_playing_1920x1080.png"))
    page.click("#play-toggle")
    expect(page.locator("#play-toggle")).to_have_attribute("aria-pressed", "false")
    # paused: the playback's tick is off, and the page has caught up with the day it stopped on
    page.wait_for_function("() => window.dash_component_api.getLayout('play-tick').props.disabled === true")
    page.wait_for_function("""() => { const [y, m, d] = new URLSearchParams(location.search).get('date').split('-');
        return document.querySelector('#as-of').textContent === `截至${y}年${+m}月${+d}日24时`; }""")
    callbacks_done(page)
    shown = page.locator("#as-of").text_content()
    day = re.search(r"date=([0-9-]+)", page.url).group(1)
    assert shown == f"截至2020年{int(day[5:7])}月{int(day[8:])}日24时"
    assert _map_values(page)["610100"] == _api_confirmed(server_url, "610100", day)
    assert page.locator("#kpi-confirmed").text_content() == f"{_api_confirmed(server_url, '610000', day):,}"
    assert _selected_day_line(page).startswith(day)
    assert not [e for e in page.errors if "WebGL" not in e and "GL Driver" not in e], page.errors


def test_a_pan_after_a_step_and_a_region_change_keeps_what_the_map_shows(server_url, page):
    """A duty officer steps a day and picks 西安 (both drawn in the browser), then drags the map: it still shows 西安 on
    the day stepped to, in that day's colour range. dcc.Graph draws its figure prop again after a pan, and that prop
    held the page's first day and region."""
    answered = []
    page.on(
        "response", lambda r: "_dash-update-component" in r.url and answered.append(r.request.post_data_json["output"])
    )
    page.goto(f"{server_url}/?region=610000&date=2020-02-10")
    page.wait_for_function("() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 5")
    until(page, lambda: "map-days.data" in answered, what="the day values of the view (after the map)")
    page.click("#date-next")
    expect(page.locator("#as-of")).to_have_text("截至2020年2月11日24时")
    page.click("#region-select")
    page.fill(".dash-dropdown-search", "西安")
    page.locator(".dash-dropdown-option", has_text=re.compile("^西安市$")).click()
    shown = "() => { const l = document.querySelector('#region-map .js-plotly-plot').layout;"
    shown += " return {uirevision: l.uirevision, bounds: l.meta.bounds, colours: l.coloraxis}; }"
    page.wait_for_function(f"() => ({shown})().uirevision === '610100'")
    map_drawn(page)
    drawn = page.evaluate(shown)
    stepped = _api_confirmed(server_url, "610100", "2020-02-11")
    assert _map_values(page)["610100"] == stepped != _api_confirmed(server_url, "610100", "2020-02-10")
    centre = "() => document.querySelector('#region-map .js-plotly-plot').layout.map.center"
    before = page.evaluate(centre)
    box = page.locator("#region-map .maplibregl-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 40, steps=8)
    page.mouse.up()
    page.wait_for_function(f"(before) => JSON.stringify(({centre})()) !== JSON.stringify(before)", arg=before)
    page.wait_for_timeout(500)  # dcc.Graph's redraw from its figure prop comes within this, when it comes
    map_drawn(page)
    assert page.evaluate(shown) == drawn
    assert _map_values(page)["610100"] == stepped


def test_a_jump_across_the_range_and_a_region_change_redraw_the_map_without_asking(server_url, page, browser):
    """The page holds every day's map values of the view, and the province's and every unit's (the shipped range
    is short enough): a jump to another month, then a change of region in the region control, recolour (and zoom)
    the drawn map with no request for a map figure or for day values, and it then draws what a page opened at that
    region and day draws; the KPI row shows the region's numbers of the day (checked against the API)."""
    asked = []
    page.on(
        "request", lambda r: r.method == "POST" and "_dash-update-component" in r.url and asked.append(r.post_data_json)
    )
    page.goto(f"{server_url}/?region=610000&date=2020-02-15")
    page.wait_for_function("() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 5")
    held = (
        "() => ['610000', '610100', '610700'].every(r =>"
        " window.dash_component_api.getLayout('map-days').props.data?.[r + '|confirmed_cum'])"
    )
    page.wait_for_function(held, timeout=30_000)  # the view's own values, then the others' once the page settled
    callbacks_done(page)
    asked.clear()

    page.locator("#date-slider [role=slider]").focus()  # the slider to its end: a day months away
    page.keyboard.press("End")
    expect(page.locator("#as-of")).to_have_text("截至2020年12月7日24时")
    page.wait_for_function(
        "() => { const d = document.querySelector('#region-map .js-plotly-plot').data[0];"
        f" return d.z[d.locations.indexOf('610100')] === {_api_confirmed(server_url, '610100', '2020-12-07')}; }}"
    )
    page.click("#region-select")
    page.fill(".dash-dropdown-search", "汉中")
    page.locator(".dash-dropdown-option", has_text=re.compile("^汉中市$")).click()
    expect(page.locator("#kpi-region")).to_have_text("汉中市")
    expect(page.locator("#kpi-confirmed")).to_have_text(str(_api_confirmed(server_url, "610700", "2020-12-07")))
    page.wait_for_function(
        "() => document.querySelector('#region-map .js-plotly-plot').data[4].locations[0] === '610700'"
    )
    callbacks_done(page)
    map_drawn(page)
    outputs = [a["output"] for a in asked]
    # the map's values and the unit's KPI book were held (the units' books come once the first map is drawn)
    assert not [o for o in outputs if "region-map.figure" in o or "map-days.data" in o or "kpi-books" in o], outputs
    view = (
        "() => { const l = document.querySelector('#region-map .js-plotly-plot').layout;"
        " return [l.map.center.lon, l.map.center.lat, l.map.zoom, l.uirevision]; }"
    )
    picked, drawn = page.evaluate(view), _drawn(page, ("trace-0", "trace-3", "trace-4"))

    fresh = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    fresh.goto(f"{server_url}/?region=610700&date=2020-12-07")
    fresh.wait_for_function("() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 5")
    map_drawn(fresh)
    assert picked == fresh.evaluate(view)  # zoomed to 汉中 as a page opened there
    assert drawn == _drawn(fresh, ("trace-0", "trace-3", "trace-4"))
    assert len(drawn["trace-3"]) > 5  # 汉中's counties drawn over it
    fresh.close()


def _drawn(page, sources=("trace-0", "trace-3", "fever_clinic-circle")) -> dict:
    """What MapLibre holds to draw once it is idle: per source, each region's fill colour as the layer's paint reads
    it (feature state first, then the feature's own), or the number of points."""
    return page.evaluate(
        """async (sources) => {
        const map = document.querySelector('#region-map .js-plotly-plot')._fullLayout.map._subplot.map;
        while (!map.loaded()) await new Promise(r => setTimeout(r, 100));
        return Object.fromEntries(await Promise.all(sources.map(async source => {
            const features = (await map.getSource('source-' + source).getData()).features || [];  // none: a blank
            if (source.endsWith('-circle')) return [source, features.length];
            return [source, Object.fromEntries(features.map(f => [f.id,
                map.getFeatureState({source: 'source-' + source, id: f.id}).fc || f.properties.fc]))];
        }))); }""",
        list(sources),
    )


def test_map_after_date_steps_draws_what_a_fresh_page_draws(server_url, page, browser):
    """A date step recolours the regions in place (feature state, no new GeoJSON for MapLibre to tile): after three
    steps, at province and at a city with its counties (no county figures are shipped: drawn as 无数据) and clinics,
    the map draws each region in the colour a page opened at that day draws, not in those of the day it started."""
    fresh = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    for region in ("610000", "610100"):
        view = f"region={region}&layers=fever_clinic,pharmacy"
        page.goto(f"{server_url}/?{view}&date=2020-02-08")
        expect(page.locator("#region-map .maplibregl-canvas")).to_be_visible(timeout=20_000)
        page.wait_for_function("() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 7")
        map_drawn(page)
        start = _drawn(page)
        for day in ("9", "10", "11"):
            page.click("#date-next")
            expect(page.locator("#as-of")).to_have_text(f"截至2020年2月{day}日24时")
        page.wait_for_function(
            "() => { const d = document.querySelector('#region-map .js-plotly-plot').data[0];"
            f" return d.z[d.locations.indexOf('610100')] === {_api_confirmed(server_url, '610100', '2020-02-11')}; }}"
        )
        map_drawn(page)
        stepped = _drawn(page)

        fresh.goto(f"{server_url}/?{view}&date=2020-02-11")
        expect(fresh.locator("#region-map .maplibregl-canvas")).to_be_visible(timeout=20_000)
        fresh.wait_for_function("() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 7")
        map_drawn(fresh)
        opened = _drawn(fresh)

        units = fresh.evaluate("() => document.querySelector('#region-map .js-plotly-plot').data[0].locations.length")
        assert len(opened["trace-0"]) == units > 5 and opened["fever_clinic-circle"] > 0, opened
        assert stepped == opened, region
        assert stepped["trace-0"] != start["trace-0"], region  # the days differ, so must the colours
        if region == "610100":
            assert len(opened["trace-3"]) > 5  # 西安's counties drawn over it
    fresh.close()


def test_trend_views_risk_map_and_ranking(server_url, page, artifacts):
    page.goto(f"{server_url}/?region=610000&date=2020-02-05")
    expect(page.locator("#kpi-confirmed")).to_have_text("173", timeout=20_000)
    page.wait_for_function("() => document.querySelector('#trend-chart .js-plotly-plot')?.data?.length > 0")
    page.get_by_label("Rt", exact=True).check()
    page.wait_for_function(
        "() => document.querySelector('#trend-chart .js-plotly-plot').layout.title.text.includes('实时再生数')"
    )
    assert "trend=rt" in page.url
    page.click("#metric-select")
    page.locator(".dash-dropdown-option", has_text="风险等级").click()
    page.wait_for_function(
        "() => document.querySelector('#region-map .js-plotly-plot').layout.coloraxis"
        ".colorbar.ticktext?.join(',') === '低风险,中风险,高风险'"
    )
    expect(page.locator("#map-note")).to_contain_text("2020年2月17日")
    expect(page.locator("#assessment")).to_contain_text("高风险 1")
    # sort the ranking by Rt, largest first: 西安 (1.52) then 汉中 (1.36)
    page.get_by_role("button", name="Rt", exact=True).click()
    expect(page.locator("#unit-table tbody tr").first).to_contain_text("西安市")
    expect(page.locator("#unit-table tbody tr").nth(1)).to_contain_text("汉中市")
    map_drawn(page)
    page.screenshot(path=str(artifacts / "dashboard_risk_rt_1920x1080.png"))
    with page.expect_download() as download:
        page.click("#table-download-button")
    content = open(download.value.path(), encoding="utf-8-sig").read()
    assert content.splitlines()[1].startswith("2020-02-05,610100,西安市,74")


def _flow_title(page) -> str:
    return page.evaluate("() => document.querySelector('#flow-chart .js-plotly-plot')?.layout?.title?.text || ''")


def test_flow_views_follow_region_and_origin_clicks(server_url, page, artifacts):
    page.goto(f"{server_url}/?region=610100&date=2020-01-20")
    expect(page.locator("#kpi-confirmed")).not_to_be_empty(timeout=20_000)
    # below the fold the flow views wait; scrolled into view, they catch up with the region and day
    page.locator("section.flows").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => (document.querySelector('#flow-chart .js-plotly-plot')?.layout?.title?.text || '')"
        ".startsWith('西安市 1月20日')",
        timeout=30_000,
    )
    expect(page.locator("#flow-table tbody tr").first).to_contain_text("咸阳市")
    # the other flow charts draw on their own (plotly renders each graph when its answer arrives)
    page.wait_for_function(
        "() => (document.querySelector('#scale-chart .js-plotly-plot')?.layout?.title?.text || '').startsWith('西安市')"
    )
    # a click on an origin in the ranking highlights it on the flow map and in the table
    page.locator("#flow-table").get_by_role("button", name="北京市", exact=True).click()
    expect(page.locator("#flow-table tr.highlight")).to_contain_text("北京市")
    page.wait_for_function(
        "() => { const d = document.querySelector('#flow-chart .js-plotly-plot').data;"
        " return d[d.length - 1].line && d[d.length - 1].line.color === '#1f3a93'; }"
    )
    map_drawn(page, "#flow-chart")
    page.locator(".flows").screenshot(path=str(artifacts / "flows_xian_0120.png"))
    # another region: every flow view follows
    page.locator("#unit-table").get_by_role("button", name="汉中市", exact=True).click()
    page.wait_for_function(
        "() => (document.querySelector('#flow-chart .js-plotly-plot')?.layout?.title?.text || '').startsWith('汉中市')"
    )
    page.wait_for_function(
        "() => (document.querySelector('#scale-chart .js-plotly-plot')?.layout?.title?.text || '').startsWith('汉中市')"
    )
    page.wait_for_function("() => document.querySelector('#import-chart .js-plotly-plot')?.data?.length > 0")
    bars = page.evaluate("() => document.querySelector('#import-chart .js-plotly-plot').data[0].marker.color")
    assert "#1f3a93" in bars  # 汉中's bar is the highlighted one in the importation ranking
    assert "flow" not in page.url or "region=610700" in page.url


def test_the_first_view_comes_with_the_page_and_the_rest_after_its_map(server_url, page):
    """A leader opening `/` on 西安: the KPIs, the judgement strip and the ranking are in the page itself, the router is
    not asked for the page, and the page's other requests wait until its map is drawn (they held the map up)."""
    page.add_init_script(RECORD_ASKED)
    page.goto(f"{server_url}/?region=610100&date=2020-02-15")
    expect(page.locator("#kpi-region")).to_have_text("西安市")
    expect(page.locator("#table-title")).to_have_text("各市（区）2月15日排名")
    expect(page.locator("#unit-table tr.selected .row-button")).to_have_text("西安市")
    expect(page.locator("#assessment")).to_contain_text("Rt")
    map_drawn(page)
    callbacks_done(page)
    expect(page.locator("#reporting-strip")).not_to_be_empty()  # asked after the map, and there
    asked = page.evaluate("() => window.__asked")
    assert not [output for output, _ in asked if "_pages_content" in output]
    assert [output for output, drawn in asked if not drawn] == []
    assert any("reporting-strip" in output for output, _ in asked)


def _component(node, component_id: str) -> dict | None:
    """The component of that id in a Dash layout (JSON as `_dash-layout` sends it)."""
    if isinstance(node, list):
        return next((found for child in node if (found := _component(child, component_id))), None)
    if not isinstance(node, dict) or "props" not in node:
        return None
    if node["props"].get("id") == component_id:
        return node
    return _component(node["props"].get("children"), component_id)


BACKGROUND_DRAWN = """() => { const gd = document.querySelector('#region-map .js-plotly-plot');
  const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot.map;
  return !!map && map.getStyle().layers.some((l) => l.id.startsWith('plotly-layout-layer-') && l.type === 'line')
    && !!gd.querySelector('.colorbar .cbtitle'); }"""


def test_the_map_is_drawn_first_and_its_national_background_right_after(server_url, page):
    """A leader opening `/`: the page's first map comes without the neighbouring provinces' outlines (MapLibre tiling
    China's 287 KB held the choropleth up ~150 ms) and its colour bar, and they are drawn once the map is, the map
    the same size; a drag of the map keeps them."""
    sent = page.request.get(f"{server_url}/_dash-layout", headers={"Referer": f"{server_url}/"}).json()
    figure = _component(sent, "region-map")["props"]["figure"]
    assert [(layer["source"], layer.get("visible")) for layer in figure["layout"]["map"]["layers"]] == [
        ("/assets/geo/china.geojson", False)
    ]
    assert figure["layout"]["coloraxis"]["showscale"] is False
    page.goto(f"{server_url}/?region=610000&date=2020-02-15")
    map_drawn(page)
    first_size = page.locator("#region-map .maplibregl-canvas").bounding_box()
    page.wait_for_function(BACKGROUND_DRAWN)
    assert "累计确诊" in page.locator("#region-map .colorbar .cbtitle").text_content()
    box = page.locator("#region-map .maplibregl-canvas").bounding_box()
    assert (box["width"], box["height"]) == (first_size["width"], first_size["height"])
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2 + 30, steps=6)
    page.mouse.up()
    page.wait_for_timeout(800)  # dcc.Graph's redraw of its figure prop after a pan comes within this
    map_drawn(page)
    assert page.evaluate(BACKGROUND_DRAWN)


# When the map was drawn (the wait of map_drawn) and when each chart first was, noted every frame from the start
CHART_AND_MAP_TIMES = """(() => {
  const mapDrawn = MAP_HAS_EVERY_LAYER;
  const at = window.__drawnAt = {};
  const step = () => {
    const now = performance.now();
    if (at.map === undefined && document.querySelector('#region-map .js-plotly-plot')?._fullData
        && mapDrawn('#region-map')) {
      at.map = now;
    }
    for (const id of ['flow-chart', 'od-chart', 'trend-chart']) {
      if (at[id] === undefined && document.querySelector(`#${id} .main-svg`)) { at[id] = now; }
    }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})()""".replace("MAP_HAS_EVERY_LAYER", MAP_HAS_EVERY_LAYER)


def test_the_charts_below_the_fold_are_drawn_after_the_map(server_url, page):
    """A leader opening `/` on a 1080p screen: the map is drawn before the flow charts below the fold (drawing them
    first held the map up ~100 ms on 2 cores), and they are drawn right after it, before the reader scrolls to them;
    the trend beside the map is not held back."""
    page.add_init_script(CHART_AND_MAP_TIMES)
    page.goto(f"{server_url}/?region=610000&date=2020-02-15")
    page.wait_for_function("() => window.__drawnAt['flow-chart'] && window.__drawnAt['od-chart']", timeout=30_000)
    at = page.evaluate("() => window.__drawnAt")
    assert page.evaluate("() => window.scrollY") == 0
    assert at["map"] <= at["flow-chart"] and at["map"] <= at["od-chart"], at
    assert at["flow-chart"] - at["map"] < 3_000, at
    assert at["trend-chart"] < at["map"], at  # in view: drawn as soon as plotly.js has run (its empty frame)
    expect(page.locator("#flow-chart .main-svg").first).to_be_visible()


def test_scrolling_down_draws_the_charts_below_the_fold_at_once(server_url, page):
    """An officer who scrolls straight to the flows: the charts there are drawn then, without waiting for the map."""
    page.add_init_script(CHART_AND_MAP_TIMES)
    page.add_init_script("window.addEventListener('plotly-loaded', () => setTimeout(() => window.scrollTo(0, 1500)))")
    page.goto(f"{server_url}/?region=610000&date=2020-02-15")
    page.wait_for_function("() => window.__drawnAt['flow-chart']", timeout=30_000)
    at = page.evaluate("() => window.__drawnAt")
    assert at.get("map") is None or at["flow-chart"] <= at["map"] + 50, at


def test_first_load_stays_within_budget(server_url, page):
    """An officer on a slow intranet link: the first load of `/` (scripts, boundaries, data) stays under 1.5 MB
    over the wire, and the boundary files come compressed and cacheable. plotly.js (0.7 MB of it) is fetched once, and
    its ~150 ms of running does not hold up the KPIs: they are on screen before it has run, and the region and the day
    they are for show with them (assets/first-draw.js), not a pass later."""
    page.add_init_script(
        """new MutationObserver(() => { const kpi = document.querySelector('#kpi-confirmed');
          if (kpi && kpi.innerText.trim() && window.__atKpis === undefined) {
            window.__atKpis = {plotly: !!window.Plotly, day: document.querySelector('#date-select-value')?.innerText,
                               region: document.querySelector('#region-select-value')?.innerText};
          }
        }).observe(document, {subtree: true, childList: true, characterData: true});"""
    )
    page.goto(f"{server_url}/?region=610000&date=2020-02-15")
    page.wait_for_function(
        "() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 5"
        " && document.querySelector('#region-map .maplibregl-canvas')",
        timeout=30_000,
    )
    callbacks_done(page)  # every answer of the first load in, and the map's boundaries loaded and drawn
    map_drawn(page)
    entries = page.evaluate("""() => performance.getEntriesByType('navigation').concat(
        performance.getEntriesByType('resource')).map(e => [e.name, e.transferSize, e.decodedBodySize])""")
    transferred = sum(t for _, t, _ in entries)
    assert transferred <= 1_500_000, sorted(entries, key=lambda e: -e[1])[:5]
    assert len([e for e in entries if "plotly" in e[0]]) == 1  # the head's preload is the script dcc.Graph runs
    assert page.evaluate("() => window.__atKpis") == {
        "plotly": False,
        "day": "2020年2月15日",
        "region": "陕西省（全省）",
    }
    counties = next(e for e in entries if e[0].endswith("/assets/geo/counties.geojson"))
    assert counties[1] < 200_000 < counties[2]  # gzip on the wire: ~95 KB of ~353 KB


def test_a_page_without_charts_does_not_load_plotly(server_url, page):
    """An officer uploading a file on /data: the page draws no chart, so plotly.js (0.7 MB) is neither preloaded nor
    run; `/` asks for it in its head."""
    page.goto(f"{server_url}/data")
    expect(page.locator("#upload")).to_be_visible()
    callbacks_done(page)
    page.wait_for_timeout(500)
    names = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert not [n for n in names if "plotly" in n] and page.evaluate("() => window.Plotly") is None
    assert 'rel="preload"' in page.request.get(f"{server_url}/").text()
