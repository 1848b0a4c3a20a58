"""Alerts: every kind of rule on hand-made metrics, the rules file's error messages, the alerts table (time raised
kept, acknowledgements kept, on SQLite and PostgreSQL), the lists as the pages render them, the API, and in a
browser: an alert on /wall within one poll of the batch that raises it, 确认 on /, the wall still fitting."""

from __future__ import annotations

import datetime as dt
import os
import re
import time

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from waiting import callbacks_done, map_drawn

from analytics import alerts as rules_engine
from analytics.alerts import BEIJING, RuleError, evaluate, load_rules, parse_rules
from callbacks import alerts as alert_views
from data import alerts, queries, store
from data.ingest import pipeline

DAYS = pd.date_range("2020-12-01", "2020-12-08")
DAY = DAYS[-1]
ABOUT = {
    "610000": ("陕西省", "province"),
    "610100": ("西安市", "unit"),
    "610700": ("汉中市", "unit"),
    "610300": ("宝鸡市", "unit"),
    "610200": ("铜川市", "unit"),
    "610113": ("雁塔区", "county"),
}
RULES = load_rules()


def metrics(**regions: dict) -> pd.DataFrame:
    """A metrics table over DAYS: metrics(x610100={"new_24h": [...8 values...]}, ...); a scalar fills every day,
    a shorter list ends on the last day (earlier days NaN)."""
    frames = []
    for key, columns in regions.items():
        adcode = key.lstrip("x")
        data = {}
        for metric, values in columns.items():
            values = list(values) if isinstance(values, (list, tuple)) else [values] * len(DAYS)
            data[metric] = [np.nan] * (len(DAYS) - len(values)) + values
        frame = pd.DataFrame(data, index=pd.MultiIndex.from_product([[adcode], DAYS], names=["adcode", "date"]))
        frame["name"], frame["level"] = ABOUT[adcode]
        frames.append(frame)
    return pd.concat(frames).sort_index()


def fired(table, now=None, rule_id=None) -> dict[str, str]:
    """adcode -> message of the alerts of DAY (of one rule)."""
    return {a.adcode: a.message for a in evaluate(table, RULES, DAY, now) if rule_id in (None, a.rule_id)}


def test_the_shipped_rules_cover_each_metric_and_kind():
    assert {r.metric for r in RULES} == set(rules_engine.METRICS)
    assert {r.kind for r in RULES} == {"threshold", "rise", "overdue"}
    assert {r.severity for r in RULES} <= {"红", "橙", "黄"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r.message + r.name) for r in RULES)  # Chinese text


def test_new_cases_in_24_hours_above_n():
    table = metrics(
        x610100={"new_24h": [9, 0, 0, 0, 0, 0, 0, 6]}, x610700={"new_24h": 5}, x610000={"new_24h": [0] * 7 + [11]}
    )
    assert fired(table, rule_id="new_cases_24h") == {
        "610100": "西安市12月8日新增确诊6例，超过5例",
        "610000": "陕西省12月8日新增确诊11例，超过5例",
    }
    assert fired(metrics(x610100={"new_24h": [9] * 7 + [0]}), rule_id="new_cases_24h") == {}  # the day counts


def test_new_cases_in_7_days_above_n():
    table = metrics(x610100={"new_7d": 21}, x610700={"new_7d": 20})
    assert fired(table, rule_id="new_cases_7d") == {"610100": "西安市近7日新增确诊21例，超过20例"}


def test_rt_above_1_for_3_days_in_a_row():
    table = metrics(
        x610100={"rt": [0.8, 0.9, 1.2, 1.1, 1.05]},
        x610700={"rt": [1.5, 0.9, 1.3, 1.4]},
        x610300={"rt": [1.2, np.nan, 1.3]},
        x610200={"rt": [1.6, 1.7]},
    )
    result = fired(table, rule_id="rt_above_1")
    assert list(result) == ["610100"]  # 汉中: 2 days; 宝鸡: no estimate in between; 铜川: only 2 days known
    assert result["610100"] == "西安市Rt连续3日高于1.00（12月8日为1.05），疫情在扩散"


def test_a_region_moving_up_a_risk_level():
    table = metrics(
        x610100={"risk_rank": [0, 0, 1]},
        x610700={"risk_rank": [1, 1, 1]},
        x610300={"risk_rank": [2, 2, 1]},
        x610200={"risk_rank": [0, np.nan, 2]},
        x610000={"risk_rank": [0, 0, 2]},
    )
    result = fired(table, rule_id="risk_level_up")
    assert result == {
        "610100": "西安市风险等级由低风险升为中风险（12月8日）",
        "610200": "铜川市风险等级由低风险升为高风险（12月8日）",
    }  # against the last known level
    # the province is not graded (the dashboard counts its units instead): the rule leaves it out
    assert [a.severity for a in evaluate(table, RULES, DAY) if a.rule_id == "risk_level_up"] == ["红", "红"]


def test_clinic_load_and_stock_days_from_the_adequacy_figures():
    last = [np.nan] * 7
    table = metrics(
        x610100={"clinic_load": last + [0.95], "stock_days": last + [2.5]},
        x610700={"clinic_load": last + [0.9], "stock_days": last + [3.0]},
    )
    assert fired(table, rule_id="clinic_load_high") == {"610100": "西安市发热门诊负荷95%，超过90%"}
    assert fired(table, rule_id="stock_low") == {"610100": "西安市口罩库存仅够2.5天，不足3天"}


def test_facility_alerts_say_when_they_come_from_demo_data():
    last = [np.nan] * 7
    table = metrics(
        x610100={"clinic_load": last + [np.inf], "facility_demo": last + [1]},
        x610700={"stock_days": last + [1.0], "facility_demo": last + [0]},
    )
    assert fired(table) == {
        "610100": "西安市发热门诊负荷超出接诊能力（无发热门诊），超过90%（演示数据）",
        "610700": "汉中市口罩库存仅够1天，不足3天",
    }


def test_rules_on_metrics_the_table_lacks_raise_nothing():
    table = metrics(x610100={"new_24h": 0})  # no clinic load, no stock days (before the adequacy data exist)
    assert evaluate(table, RULES, DAY) == []


def test_a_missing_report_raises_an_alert_only_after_its_deadline():
    table = metrics(x610100={"reported": 1}, x610700={"reported": [1] * 7 + [0]}, x610113={"reported": [1] * 7 + [0]})
    before = dt.datetime(2020, 12, 9, 8, 59, tzinfo=BEIJING)
    due = dt.datetime(2020, 12, 9, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing
    assert fired(table, before, "report_overdue") == {}
    assert fired(table, due, "report_overdue") == {"610700": "汉中市12月8日疫情日报未上报（截止12月9日9时）"}
    assert fired(table, None, "report_overdue") == {}  # no clock, no deadline
    # the county has no daily report to miss (its counts come from case lists): the rule is for the units


def test_most_severe_first():
    table = metrics(
        x610100={"new_24h": 8, "risk_rank": [0, 0, 0, 0, 0, 0, 0, 2], "reported": 1},
        x610700={"reported": [1] * 7 + [0]},
    )
    got = evaluate(table, RULES, dt.date(2020, 12, 8), dt.datetime(2021, 1, 1, tzinfo=BEIJING))
    assert [(a.severity, a.rule_id, a.adcode) for a in got] == [
        ("红", "risk_level_up", "610100"),
        ("橙", "new_cases_24h", "610100"),
        ("黄", "report_overdue", "610700"),
    ]


RULE = "rules:\n  - {id: x, name: 测试, metric: new_24h, op: '>', threshold: 1, severity: 红, message: '{region}'}\n"


@pytest.mark.parametrize(
    "text, says",
    [
        (RULE.replace("threshold: 1", "threshold: 很多"), "第1条规则（x）的 threshold：应为数字，收到 '很多'"),
        (RULE.replace("new_24h", "cases"), "第1条规则（x）的 metric：未知指标 'cases'"),
        (RULE.replace("'{region}'", "'{place}'"), "的 message：未知占位符 {place}"),
        (RULE.replace("severity: 红", "severity: 紫"), "的 severity：应为 '红'、'橙'、'黄' 之一，收到 '紫'"),
        (RULE.replace("op: '>', ", ""), "threshold 类规则须写 op"),
        (RULE.replace("id: x", "id: X-1"), "的 id：只能用英文小写字母、数字和下划线"),
        (RULE.replace("name: 测试", "nmae: 测试"), "的 name：缺少此项"),
        (RULE + RULE.removeprefix("rules:\n"), "第2条规则（x）：id x 与前面的规则重复"),
        ("rules:\n  - {id: x\n", "第3行不是有效的 YAML"),
        ("- {id: x}\n", "应有 rules: 列表"),
    ],
)
def test_a_bad_rules_file_says_which_rule_which_entry_and_why(text, says):
    with pytest.raises(RuleError) as err:
        parse_rules(text, "alert_rules.yaml")
    assert "预警规则文件 alert_rules.yaml" in str(err.value) and says in str(err.value), str(err.value)


def test_the_rules_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULE, encoding="utf-8")
    assert alerts.rules(path)[0].threshold == 1
    path.write_text(RULE.replace("threshold: 1", "threshold: 7"), encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))  # a new mtime even on a coarse clock
    assert alerts.rules(path)[0].threshold == 7
    path.write_text("rules: [", encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 2_000_000))
    with pytest.raises(RuleError):
        alerts.rules(path)


# ---- the alerts table on a real store ---------------------------------------------------------------------------
def _csv(rows: list[tuple]) -> bytes:
    lines = ["地区,日期,累计确诊,累计治愈,累计死亡"] + [",".join(map(str, row)) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _ingest(eng, name: str, rows: list[tuple]) -> int:
    report = pipeline.ingest(_csv(rows), name, "cases", eng=eng)
    assert report.batch_id and report.accepted == len(rows), report.summary()
    return report.batch_id


@pytest.fixture(scope="module")
def small_store(new_store):
    """Two units reporting the same figures every day from 11月1日 to 12月7日 (no new case for five weeks)."""
    eng = store.engine(new_store("alerts"))
    _ingest(
        eng,
        "基础.csv",
        [
            (unit, day.date(), cum, cum - 1, 0)
            for day in pd.date_range("2020-11-01", "2020-12-07")
            for unit, cum in (("西安市", 120), ("汉中市", 26))
        ],
    )
    return eng


def test_alerts_are_stored_once_and_keep_their_time_and_acknowledgement(small_store):
    eng = small_store
    t1 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    assert alerts.current(eng, now=t1).alerts == []  # flat figures: nothing to say
    batch = _ingest(eng, "12月8日.csv", [("西安市", "2020-12-08", 130, 119, 0)])  # 汉中 does not report
    first = alerts.current(eng, now=t1)
    assert first.day == dt.date(2020, 12, 8)
    # the province is the sum of the units that reported (汉中 did not: its basis says so)
    assert [(a["rule_id"], a["adcode"]) for a in first.alerts] == [
        ("risk_level_up", "610100"),
        ("new_cases_24h", "610000"),
        ("new_cases_24h", "610100"),
        ("report_overdue", "610700"),
    ]
    assert "1个下级地区当日未上报" in queries.summary("610000", "2020-12-08", eng)["basis"]
    assert {a["raised_at"] for a in first.alerts} == {t1}
    new_cases = first.alerts[2]
    assert new_cases["message"] == "西安市12月8日新增确诊10例，超过5例"

    later = alerts.current(eng, now=t1 + dt.timedelta(hours=1))  # evaluated again: same alerts, same time raised
    assert [(a["id"], a["raised_at"]) for a in later.alerts] == [(a["id"], t1) for a in first.alerts]
    alerts._persisted.clear()  # as another process would: it stores nothing twice and keeps the first time
    assert [a["raised_at"] for a in alerts.current(eng, now=t1 + dt.timedelta(hours=2)).alerts] == [t1] * 4

    t3 = t1 + dt.timedelta(minutes=5)
    assert alerts.acknowledge(new_cases["id"], "张三", eng, now=t3)
    assert not alerts.acknowledge(new_cases["id"], "李四", eng)  # the first acknowledgement stands
    acked = {(a["rule_id"], a["adcode"]): a for a in alerts.current(eng, now=t1).alerts}[("new_cases_24h", "610100")]
    assert (acked["acknowledged_by"], acked["acknowledged_at"]) == ("张三", t3)
    assert alerts.current(eng, now=t1).unacknowledged == 3

    revision = _ingest(eng, "12月8日订正.csv", [("西安市", "2020-12-08", 135, 119, 0)])  # a new data version
    revised = {(a["rule_id"], a["adcode"]): a for a in alerts.current(eng, now=t1 + dt.timedelta(days=1)).alerts}[
        ("new_cases_24h", "610100")
    ]
    assert revised["message"] == "西安市12月8日新增确诊15例，超过5例"  # the new figure ...
    assert (revised["id"], revised["raised_at"], revised["acknowledged_by"]) == (new_cases["id"], t1, "张三")

    pipeline.rollback(revision, eng=eng)
    pipeline.rollback(batch, eng=eng)
    assert alerts.current(eng, now=t1).alerts == []  # no longer produced: not current; the rows stay
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(store.alerts)).scalar() == 4


def test_the_metrics_table_joins_the_adequacy_figures_of_the_latest_day(small_store):
    from data import queries

    data = queries.case_data(small_store)
    adequacy = pd.DataFrame(
        {"clinic_load": [0.95, 0.5], "stock_days": [2.0, 10.0], "demo": [True, True]},
        index=pd.Index(["610100", "610113"], name="adcode"),
    )
    table = alerts.metrics_frame(data.daily, data.end, adequacy)
    assert table.loc[("610113", pd.Timestamp(data.end)), ["name", "level", "clinic_load"]].tolist() == [
        "雁塔区",
        "county",
        0.5,
    ]  # a county without case figures still has its facility figures
    assert table.loc[("610100", pd.Timestamp(data.end)), ["new_24h", "reported", "risk_rank"]].tolist() == [0, 1, 0]
    got = {a.rule_id: a.message for a in evaluate(table, RULES, data.end)}
    assert got == {
        "clinic_load_high": "西安市发热门诊负荷95%，超过90%（演示数据）",
        "stock_low": "西安市口罩库存仅够2天，不足3天（演示数据）",
    }


def test_a_bad_rules_file_is_said_instead_of_the_list(small_store, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULE.replace("severity: 红", "severity: 紫"), encoding="utf-8")
    current = alerts.current(small_store, path=path)
    assert current.alerts == [] and "rules.yaml 第1条规则（x）的 severity" in current.error
    rows, summary = alert_views.page_rows(current)
    assert summary == "预警规则文件有误，未评估" and current.error in str(rows)


def _current(n: int, acked: tuple[int, ...] = ()) -> alerts.Current:
    t = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    return alerts.Current(
        dt.date(2020, 12, 8),
        [
            {
                "id": i,
                "rule_id": "r",
                "rule_name": "规则",
                "severity": "红" if i == 0 else "黄",
                "adcode": "610100",
                "region": "西安市",
                "day": dt.date(2020, 12, 8),
                "value": 1.0,
                "message": f"预警{i}",
                "raised_at": t,
                "acknowledged_by": "张三" if i in acked else None,
                "acknowledged_at": t if i in acked else None,
            }
            for i in range(n)
        ],
    )


def test_the_wall_shows_at_most_three_and_counts_the_rest():
    rows, title, more = alert_views.wall_rows(_current(5, acked=(0,)))
    text = str(rows)
    assert text.count("wall-alert-msg") == 3 and more == "另有 2 条" and title == "预警 · 未确认 4 条"
    assert "预警1" in text and "（已确认）预警0" not in text  # unacknowledged first
    assert str(alert_views.wall_rows(_current(0))[0]).count("当前无预警") == 1


def test_the_page_offers_confirm_only_for_unacknowledged_alerts():
    rows, summary = alert_views.page_rows(_current(2, acked=(1,)))
    assert summary == "2 条，未确认 1 条（据截至2020年12月8日24时的数据）"
    assert "'alert-ack', 'index': 0" in str(rows) and "'index': 1" not in str(rows)
    assert "已确认：张三" in str(rows[1]) and "acked" in rows[1].className


def test_api_lists_current_alerts(client):
    response = client.get("/api/v1/alerts")
    assert response.status_code == 200
    for alert in response.get_json():  # the shipped data's last day: only the demo facilities can raise one
        assert alert["rule_id"] in ("stock_low", "clinic_load_high") and alert["message"].endswith("（演示数据）")
    assert client.get("/api/v1/alerts?format=csv").headers["Content-Type"].startswith("text/csv")
    assert client.get("/api/v1/alerts?format=xml").get_json() == {"error": "format: 应为 json 或 csv，收到 'xml'"}


def test_the_public_sees_no_county_alert_and_not_who_acknowledged(app_module):
    from api.v1 import alert_rows
    from data.catalogue import INTERNAL, PUBLIC

    current = _current(2, acked=(0,))
    current.alerts[1]["adcode"], current.alerts[1]["region"] = "610113", "雁塔区"
    internal, public = alert_rows(current, INTERNAL), alert_rows(current, PUBLIC)
    assert [r["adcode"] for r in internal] == ["610100", "610113"] and internal[0]["acknowledged_by"] == "张三"
    assert [r["adcode"] for r in public] == ["610100"] and "acknowledged_by" not in public[0]
    assert public[0]["acknowledged"] and public[0]["raised_at"] == "2026-11-28T18:00:00+08:00"


# ---- in the browser, on a served app -------------------------------------------------------------------------------
def _alerting_batch(db: str) -> None:
    """西安's report for 12月8日 (10 new cases) and no other unit's: stored through the ingest path of the CLI and
    the upload page against the served app's store, committed when this returns. The same file twice is a no-op."""
    pipeline.ingest(
        _csv([("西安市", "2020-12-08", 130, 120, 3)]), "西安市12月8日日报.csv", "cases", eng=store.engine(db)
    )


def test_an_alert_reaches_the_wall_within_one_poll_of_its_batch(own_server, browser, app_module):
    from layouts import wall as wall_layout

    url, db = own_server
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}/wall")
    expect(page.locator("#wall-alerts-title")).to_contain_text("预警", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#wall-alerts').textContent.length > 0")
    assert "西安市" not in page.inner_text("#wall-alerts")  # the shipped data's last day: demo facilities at most
    page.evaluate("() => { window.__marker = 'same page'; }")
    _alerting_batch(db)
    stored = time.monotonic()
    # 西安's 10 new cases, or the province's (the sum of the one unit that reported), whichever the wall lists first
    expect(page.locator("#wall-alerts")).to_contain_text(
        "12月8日新增确诊10例，超过5例", timeout=(wall_layout.POLL_SECONDS + 10) * 1000
    )
    took = time.monotonic() - stored
    assert took <= wall_layout.POLL_SECONDS + 10, took  # one poll interval and the time to evaluate
    print(f"alert on the wall {took:.1f} s after the batch was stored (poll every {wall_layout.POLL_SECONDS} s)")
    # 西安 ×2, the province, 11 units late, and whatever the demo facilities raise: 3 shown, the rest counted
    expect(page.locator("#wall-alerts-more")).to_have_text(re.compile(r"^另有 (1[0-9]|[2-9][0-9]) 条$"))
    assert page.evaluate("() => window.__marker") == "same page"
    page.close()


def test_an_officer_acknowledges_an_alert_on_the_page(own_server, browser):
    url, db = own_server
    _alerting_batch(db)  # stored already when the test above ran
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}/")
    row = page.locator("#alerts-list li", has_text="西安市12月8日新增确诊10例")
    expect(row).to_contain_text("发出", timeout=30_000)
    expect(page.locator("#alerts-summary")).to_have_text(re.compile(r"^(\d+) 条，未确认 \1 条"))
    total = int(page.inner_text("#alerts-summary").split(" ")[0])
    row.get_by_role("button", name="确认").click()
    expect(row).to_contain_text("已确认：演示值班员")
    expect(row).to_have_class("alert-row acked")
    page.reload()  # kept in the store, not in the page
    row = page.locator("#alerts-list li", has_text="西安市12月8日新增确诊10例")
    expect(row).to_contain_text("已确认：演示值班员", timeout=30_000)
    expect(page.locator("#alerts-summary")).to_contain_text(f"{total} 条，未确认 {total - 1} 条")
    page.close()
    import json
    import urllib.request

    listed = json.load(urllib.request.urlopen(f"{url}/api/v1/alerts"))
    mine = next(a for a in listed if a["rule_id"] == "new_cases_24h" and a["adcode"] == "610100")
    assert mine["acknowledged"] and mine["acknowledged_by"] == "演示值班员" and mine["raised_at"].endswith("+08:00")


@pytest.mark.parametrize("width, height", [(1920, 1080), (3840, 2160)])
def test_the_wall_still_fits_with_alerts_and_the_longest_risk_list(own_server, browser, artifacts, width, height):
    url, db = own_server  # 2020-02-05 had all twelve units at medium or high risk
    _alerting_batch(db)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{url}/wall?date=2020-02-05")
    expect(page.locator("#wall-alerts li")).to_have_count(3, timeout=30_000)
    expect(page.locator("#wall-risk-list li")).to_have_count(12, timeout=30_000)
    callbacks_done(page)
    map_drawn(page)
    size = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight, innerWidth, innerHeight]"
    )
    assert size[0] <= size[2] and size[1] <= size[3], size
    bottoms = page.evaluate("""() => {
        const panel = document.querySelector('.wall-risk').getBoundingClientRect();
        const rows = [...document.querySelectorAll('.wall-risk li')].map(e => e.getBoundingClientRect().bottom);
        return [panel.bottom, Math.max(...rows)]; }""")
    assert bottoms[1] <= bottoms[0], bottoms  # every alert and every unit of the risk list is on screen
    smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('.wall-alerts *')]
        .filter(e => e.childElementCount === 0 && e.textContent.trim())
        .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
    assert smallest >= 18 * width / 1920 - 0.5
    page.screenshot(path=str(artifacts / f"wall_alerts_{width}x{height}.png"))
    context.close()
