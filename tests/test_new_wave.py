"""A new wave in real shapes rolls up to true figures: every county, unit and the province equal a count of the
file (tests/new_wave.py made the files and, separately, the truth), nothing unplaced, quiet days read 0 new."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import new_wave
import pandas as pd
import pytest

from data import flow_queries, queries, store
from data.ingest import pipeline
from geo import regions
from geo.units import PROVINCE

pytestmark = pytest.mark.once  # stores of its own on SQLite (nothing backend-specific)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def eng(shipped_sqlite, tmp_path):
    """A store with the shipped 2020 data, as a duty office's would be: the test's own copy."""
    path = tmp_path / "store.sqlite"
    shutil.copyfile(shipped_sqlite, path)
    engine = store.engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _figures_of_2020(eng) -> list[dict]:
    """What the dashboard says of 2020 (the data's freshness and sources aside)."""
    return [
        {k: v for k, v in queries.summary(code, day, eng).items() if k not in ("data_as_of", "sources")}
        for code in (PROVINCE, "610100", "610200", "610113")
        for day in ("2020-02-02", "2020-02-15", "2020-03-16")
    ]


def _unit(code: str) -> str:
    return regions.unit_of(code).adcode


def test_a_bulletin_case_list_places_every_case_and_rolls_up(eng):
    data, truth = new_wave.bulletin_case_list()
    before_2020 = _figures_of_2020(eng)
    started = time.perf_counter()
    report = pipeline.ingest(data, "西安12月病例.csv", eng=eng)
    took = time.perf_counter() - started
    print(f"\n{len(truth)} rows ingested in {took:.2f} s")
    assert report.kind == "case-list" and report.accepted == len(truth), report.summary()
    assert report.count("unresolved") == 0 and report.count("rejected") == 0
    above_county = [c for _, c, _ in truth if regions.get(c).level != "county"]
    assert report.count("partial") == len(above_county) > 0  # listed with candidates, and counted
    assert all(i.candidates for i in report.issues if i.status == "partial" and "全省" not in i.reasons[0])

    last = max(d for d, _, _ in truth)
    expected = {"county": Counter(), "unit": Counter(), "province": Counter()}
    on_last = Counter()
    for day, code, _ in truth:
        expected["province"][PROVINCE] += 1
        if regions.get(code).level != "province":
            expected["unit"][_unit(code)] += 1
        if regions.get(code).level == "county":
            expected["county"][code] += 1
        if day == last:
            on_last[code] += 1
            on_last[PROVINCE if code == PROVINCE else _unit(code)] += 0
    every = [(c.adcode, "county") for c in regions.counties() if c.adcode not in ("610403", "610581")]
    every += [(u.adcode, "unit") for u in regions.units()] + [(PROVINCE, "province")]
    for code, level in every:
        figures = queries.summary(code, last.isoformat(), eng)
        assert figures["status"] == "reported", (code, figures["status"])
        assert figures["confirmed_cum"] == expected[level][code], (code, figures["confirmed_cum"])
        assert figures["cumulative_from"] == new_wave.START.isoformat()
    new_on_last = {
        "610113": sum(1 for d, c, _ in truth if d == last and c == "610113"),
        "610100": sum(1 for d, c, _ in truth if d == last and c != PROVINCE and _unit(c) == "610100"),
        PROVINCE: sum(1 for d, _, _ in truth if d == last),
    }
    for code, n in new_on_last.items():
        assert queries.summary(code, last.isoformat(), eng)["new_confirmed"] == n
    xian = queries.summary("610100", last.isoformat(), eng)
    assert xian["basis"] == "病例个案汇总"
    for code in ("610113", "610100", PROVINCE):  # a day without a case is 0 new, not 未上报
        quiet = queries.summary(code, new_wave.QUIET_DAY.isoformat(), eng)
        assert quiet["status"] == "reported" and quiet["new_confirmed"] == 0
    zones = queries.case_data(eng).zones
    for zone in ("高新区", "西咸新区", "国际港务区", "航天基地"):
        n = sum(1 for _, c, z in truth if c == "610100" and z == zone)
        assert zones[("610100", zone)]["confirmed_cum"].iloc[-1] == n
    # the zones are rows under their unit in the ranking's download
    from figures import tables

    frame = tables.sort_ranking(queries.on_day(last.isoformat(), "unit", eng), "confirmed_cum", False)
    ranking = pd.read_csv(
        io.StringIO(tables.ranking_csv(frame, last, queries.zone_rows(last.isoformat(), eng)).lstrip("\ufeff")),
        dtype={"地区代码": str},
    )
    xian_rows = ranking[ranking["地区代码"] == "610100"]
    zone_row = xian_rows[xian_rows["地区"] == "西安市 其中：高新区（功能区）"]
    assert zone_row["累计确诊"].iloc[0] == sum(1 for _, c, z in truth if c == "610100" and z == "高新区")
    assert ranking["地区"].iloc[xian_rows.index[0] + 1].startswith("西安市 其中：")  # right under 西安
    # the 2020 figures are untouched by the later wave
    assert _figures_of_2020(eng) == before_2020


def test_a_county_daily_report_of_a_later_wave_rolls_up(eng):
    data, truth = new_wave.county_daily_report()
    report = pipeline.ingest(data, "区县日报.csv", eng=eng)
    assert report.accepted == len(truth) and not report.issues, report.summary()
    days = sorted({d for d, _, _ in truth})
    for day in days:
        for code in ("610113", "610112", "610116"):
            assert queries.summary(code, day.isoformat(), eng)["new_confirmed"] == truth[(day, code, None)]
        xian = queries.summary("610100", day.isoformat(), eng)
        assert xian["new_confirmed"] == sum(n for (d, _, _), n in truth.items() if d == day)
        assert xian["basis"] == "下级合计"
        province = queries.summary(PROVINCE, day.isoformat(), eng)
        assert province["new_confirmed"] == xian["new_confirmed"] and province["status"] == "reported"
    last = days[-1]
    total = sum(truth.values())
    assert queries.summary("610100", last.isoformat(), eng)["confirmed_cum"] == total
    zones = queries.case_data(eng).zones
    assert zones[("610100", "高新区")]["confirmed_cum"].iloc[-1] == sum(
        n for (_, c, z), n in truth.items() if z == "高新区"
    )


def test_a_flow_file_with_foreign_headers_is_read_through_columns(eng, tmp_path):
    data, truth = new_wave.foreign_flows()
    path = tmp_path / "flows.csv"
    path.write_bytes(data)
    env = {**os.environ, "DATABASE_URL": str(eng.url)}
    run = [sys.executable, "-m", "flask", "--app", "app:server", "ingest", str(path)]
    refused = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "--columns" in refused.stderr
    done = subprocess.run(
        run + ["--columns", "迁入地=dest_city,迁出地=origin_city,流量=idx,日期=day"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "接收 4 行" in done.stdout, done.stdout + done.stderr
    wrong = subprocess.run(
        run + ["--columns", "目的=dest_city"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert wrong.returncode == 2 and "目的=dest_city" in wrong.stderr and "迁入地" in wrong.stderr
    flows = flow_queries.flow_data(eng)
    stored = flows.flows if hasattr(flows, "flows") else None
    with eng.connect() as conn:
        rows = pd.read_sql(
            "SELECT focus_adcode, counterpart_name, direction, volume FROM flows WHERE date = '2021-12-20'", conn
        )
    into_xian = rows[(rows.focus_adcode == "610100") & (rows.direction == "in")]
    assert sorted(into_xian.volume) == sorted(v for (o, d), v in truth.items() if d == "西安市")
    assert stored is None or len(stored)


def test_a_mapping_given_once_is_used_again_for_the_same_header(eng):
    data, _ = new_wave.foreign_flows()
    columns = {"destination": "dest_city", "origin": "origin_city", "volume": "idx", "date": "day"}
    first = pipeline.ingest(data, "flows_1220.csv", eng=eng, columns=columns)
    assert first.batch_id and first.accepted == 4
    later = data.replace(b"2021-12-20", b"2021-12-21")  # the next day's file: same header, no mapping given
    second = pipeline.ingest(later, "flows_1221.csv", eng=eng)
    assert second.batch_id and second.accepted == 4
    assert "按此前为同一表头保存的列对应读取" in second.notes[0] and "迁入地=dest_city" in second.notes[0]
    with pytest.raises(pipeline.ReadError, match="列对应"):  # another header is not guessed
        pipeline.ingest(later.replace(b"dest_city", b"to_city"), "flows_other.csv", eng=eng)


def test_the_upload_page_asks_which_column_is_which(serve, new_store, browser, tmp_path, artifacts):
    """As an officer would: a flow file with English headers is refused with a form; choosing the columns
    previews it, storing it remembers the choice, and the next file with that header needs no form."""
    from playwright.sync_api import expect

    url, _ = serve(new_store("mapping"))
    data, _ = new_wave.foreign_flows()
    path = tmp_path / "flows.csv"
    path.write_bytes(data)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}/data")
    page.get_by_label("人口流动（flows）").check()
    page.set_input_files("#upload input[type=file]", str(path))
    expect(page.locator("#upload-preview")).to_contain_text("列对应：为每个字段选择文件中的列", timeout=30_000)
    for field, column in (("迁出地", "origin_city"), ("迁入地", "dest_city"), ("日期", "day"), ("流量", "idx")):
        page.locator(".colmap-row", has_text=field).locator(".colmap-select").click()
        page.locator(".dash-dropdown-option", has_text=column).click()
    page.screenshot(path=str(artifacts / "data_column_mapping.png"), full_page=True)
    page.get_by_role("button", name="按此对应预检").click()
    expect(page.locator("#upload-preview")).to_contain_text("接收 4 行", timeout=30_000)
    page.click("#upload-commit")
    expect(page.locator("#upload-result")).to_contain_text("已存为批次", timeout=30_000)
    later = tmp_path / "flows_next.csv"
    later.write_bytes(data.replace(b"2021-12-20", b"2021-12-21"))
    page.set_input_files("#upload input[type=file]", str(later))
    expect(page.locator("#upload-preview")).to_contain_text("按此前为同一表头保存的列对应读取", timeout=30_000)
    expect(page.locator("#upload-preview")).to_contain_text("接收 4 行")
    page.close()


def test_a_view_of_a_day_shows_nothing_after_it(eng):
    """At 2020-02-15, with a wave of 2021 in the store: the trend ends that day and its notes are of that day or
    before; the alerts are those of that day (worked out again, read-only); the year between the waves is labelled."""
    from data import alerts
    from figures import trends

    pipeline.ingest(new_wave.bulletin_case_list()[0], "西安12月病例.csv", eng=eng)
    day = pd.Timestamp("2020-02-15")
    for code in (PROVINCE, "610100"):
        fig = trends.trend(queries.region_series(code, eng), "x", day.date().isoformat())
        assert max(pd.Timestamp(x) for trace in fig.data for x in trace.x) <= day
        assert all(pd.Timestamp(a.x) <= day for a in fig.layout.annotations if a.x is not None)
        assert "最近新增 12月" not in str(fig.layout.annotations)
    current = alerts.as_of(day.date(), eng)
    assert current.looked_back and all(a["day"] <= day.date() for a in current.alerts)
    last = queries.case_data(eng).end
    fig = trends.trend(queries.region_series("610100", eng), "西安市", last.isoformat())
    labels = [a.text for a in fig.layout.annotations if a.text and "无数据" in a.text]
    assert labels and "2020年12月8日" in labels[0]  # the gap between the 2020 series and the new wave, said in words
    assert pd.Timestamp(fig.layout.xaxis.range[0]) > pd.Timestamp("2021-11-01")  # the view opens on the new wave


def test_one_population_rule_for_xixian_in_every_endpoint(client):
    """西安's census figure includes the 769,627 residents of 西咸新区 (in 咸阳's counties): every endpoint says so."""
    listed = {r["adcode"]: r["population"] for r in client.get("/api/v1/regions").get_json()}
    covered = {r["adcode"]: r["population"] for r in client.get("/api/v1/coverage?level=unit").get_json()}
    adequate = {r["adcode"]: r["population"] for r in client.get("/api/v1/adequacy?level=unit").get_json()}
    for code in ("610100", "610400"):
        assert listed[code] == covered[code] == round(adequate[code])
    assert listed["610100"] - sum(c.population for c in regions.counties("610100")) == 769_627


@pytest.fixture(scope="module")
def years_of_data(new_store):
    """(URL, store) of an app serving the shipped 2020 data and a 2021 wave: a range too long to hold whole."""
    from conftest import _serve

    db = new_store("years")
    served = _serve(db)
    url = next(served)
    pipeline.ingest(new_wave.bulletin_case_list()[0], "西安12月病例.csv", eng=store.engine(db))
    yield url, db
    next(served, None)


def test_the_page_draws_the_trend_as_of_the_day_shown(years_of_data, browser):
    """On `/` at 2020-02-15 with a 2021 wave stored: the drawn trend ends that day and its notes are of that day; a
    date step moves the end with it, without a new figure from the server."""
    from playwright.sync_api import expect

    url, db = years_of_data
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}/?region=610100&date=2020-02-15")
    ends_on = (
        "(day) => { const gd = document.querySelector('#trend-chart .js-plotly-plot');"
        " if (!gd || !gd._asOf) { return false; }"
        " const last = gd.data.filter(t => !(t.meta && t.meta.forecast))"
        "   .map(t => Array.from(t.x || []).map(String).sort().pop() || '').sort().pop();"
        " return last.startsWith(day); }"
    )  # the latest day any drawn trace reaches (the fan lies after it)
    page.wait_for_function(ends_on, arg="2020-02-15", timeout=30_000)
    notes = page.evaluate(
        "() => document.querySelector('#trend-chart .js-plotly-plot').layout.annotations"
        ".filter(a => a.visible !== false).map(a => a.text).join(' ')"
    )
    since = queries.summary("610100", "2020-02-15", store.engine(db))["days_since_last_case"]
    last_case = pd.Timestamp("2020-02-15") - pd.Timedelta(days=since)
    assert f"最近新增 {last_case.month}月{last_case.day}日" in notes and "月16日" not in notes, notes
    assert "无数据" not in notes  # the year between the waves is not known yet on 2020-02-15
    asked = []
    page.on("request", lambda r: r.method == "POST" and asked.append(r.post_data_json["output"]))
    page.click("#date-next")
    expect(page.locator("#as-of")).to_have_text("截至2020年2月16日24时")
    page.wait_for_function(ends_on, arg="2020-02-16")
    assert not [o for o in asked if "trend-chart.figure" in o], asked
    page.close()


def test_a_region_change_on_years_of_data_is_drawn_in_the_browser(years_of_data, browser):
    """With a 2021 wave stored the range is too long for the page to hold every day of every region; it holds the
    day shown for each unit once the slider rests (asked once the page's first map is drawn: an answer in the middle
    of its drawing held it up), so a change to another unit recolours and zooms the drawn map without asking the
    server for a map, and shows that unit's counties on that day."""
    from playwright.sync_api import expect
    from waiting import RECORD_ASKED, callbacks_done, map_drawn

    url, db = years_of_data
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.add_init_script(RECORD_ASKED)
    page.goto(f"{url}/?region=610000&date=2020-02-15")
    map_drawn(page)
    page.click("#date-next")
    expect(page.locator("#as-of")).to_have_text("截至2020年2月16日24时")
    held = (
        "() => { const d = window.dash_component_api.getLayout('map-days').props.data || {};"
        " const province = d['610000|confirmed_cum'];"
        " return !!province && !province.days['2021-06-01']"  # the province's window, not every day
        " && ['610100', '610700'].every(r => d[r + '|confirmed_cum']?.days['2020-02-16'] !== undefined); }"
    )
    page.wait_for_function(held, timeout=30_000)
    callbacks_done(page)
    assert [output for output, drawn in page.evaluate("() => window.__asked") if not drawn] == []
    asked = []
    page.on("request", lambda r: r.method == "POST" and asked.append(r.post_data_json["output"]))
    page.click("#region-select")
    page.fill(".dash-dropdown-search", "汉中")
    page.locator(".dash-dropdown-option", has_text="汉中市").first.click()
    expect(page.locator("#kpi-region")).to_have_text("汉中市")
    page.wait_for_function(
        "() => document.querySelector('#region-map .js-plotly-plot').data[4].locations[0] === '610700'"
    )
    drawn = page.evaluate(
        "() => { const d = document.querySelector('#region-map .js-plotly-plot').data;"
        " return [Object.fromEntries(d[0].locations.map((l, i) => [l, d[0].z[i]])), d[3].locations]; }"
    )
    eng = store.engine(db)
    assert drawn[0]["610700"] == queries.summary("610700", "2020-02-16", eng)["confirmed_cum"]
    assert drawn[0]["610100"] == queries.summary("610100", "2020-02-16", eng)["confirmed_cum"]
    assert sorted(drawn[1]) == sorted(c.adcode for c in regions.counties() if _unit(c.adcode) == "610700")
    callbacks_done(page)
    assert not [o for o in asked if "region-map.figure" in o], asked
    page.close()


def test_a_day_the_page_does_not_hold_is_drawn_by_the_server_and_the_page_follows(years_of_data, browser):
    """On years of data the page holds a window of days; a jump to the last day lies outside it: the server draws
    that day's map, then the rest of the page (the ranking) follows to the same day."""
    from playwright.sync_api import expect
    from waiting import map_drawn

    url, db = years_of_data
    eng = store.engine(db)
    end = queries.view_range(eng)[1]
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}/?region=610000&date=2020-02-15")
    map_drawn(page)
    page.locator("#date-slider [role=slider]").focus()
    page.keyboard.press("End")
    expect(page.locator("#as-of")).to_have_text(f"截至{end.year}年{end.month}月{end.day}日24时")
    xian = queries.summary("610100", end.isoformat(), eng)["confirmed_cum"]
    page.wait_for_function(
        "(n) => { const d = document.querySelector('#region-map .js-plotly-plot').data[0];"
        " return d.z[d.locations.indexOf('610100')] === n; }",
        arg=xian,
    )
    expect(page.locator("#table-title")).to_have_text(f"各市（区）{end.month}月{end.day}日排名", timeout=10_000)
    # the jump asked for the days around the new day: a step back from there is recoloured in the page
    page.wait_for_function(
        "(day) => { const d = window.dash_component_api.getLayout('map-days').props.data || {};"
        " return d['610000|confirmed_cum']?.days[day] !== undefined; }",
        arg=(end - pd.Timedelta(days=1)).isoformat(),
        timeout=10_000,
    )
    asked = []
    page.on("request", lambda r: r.method == "POST" and asked.append(r.post_data_json["output"]))
    page.keyboard.press("ArrowLeft")
    before = end - pd.Timedelta(days=1)
    expect(page.locator("#as-of")).to_have_text(f"截至{before.year}年{before.month}月{before.day}日24时")
    xian = queries.summary("610100", before.isoformat(), eng)["confirmed_cum"]
    page.wait_for_function(
        "(n) => { const d = document.querySelector('#region-map .js-plotly-plot').data[0];"
        " return d.z[d.locations.indexOf('610100')] === n; }",
        arg=xian,
    )
    assert not [o for o in asked if "region-map.figure" in o], asked
    page.close()
