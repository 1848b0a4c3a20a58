"""Direct reporting (`/report`) and the reporting board (issue 20, items 2 and 3).

The form's checks are plain functions (data/direct_report.py) and the board's reported / late / missing logic runs
with a fixed clock (data/reporting.py), both on stores of their own, without a browser; one browser test types a
report on a phone-size `/report` of a served app with its own store and follows it to the API and the wall."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request

import pytest
from conftest import new_database
from playwright.sync_api import expect
from sqlalchemy import insert, select, update
from waiting import eventually

from data import direct_report as dr
from data import reporting, shipped, store
from data.ingest import pipeline
from security import accounts, roles

UTC = dt.UTC
DAY = dt.date(2026, 3, 1)  # a day's report is due 2026-03-02 09:00 Beijing = 01:00 UTC


def at(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    """A moment of March 2026 in UTC (Beijing is 8 hours ahead)."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def _batch(eng, adcode, day, stored_at, by="officer", status="active", source="直报", kind="cases", county=None):
    """A batch holding the region's own row for ``day`` (or, with ``county``, a case in that county's case list),
    stored at ``stored_at``."""
    with eng.begin() as conn:
        batch = conn.execute(
            insert(store.batches).values(
                kind=kind,
                file_name=f"{adcode}-{day}.csv",
                checksum=f"{adcode}{day}{stored_at}{by}",
                size_bytes=1,
                created_at=stored_at,
                created_by=by,
                rows_accepted=1,
                rows_rejected=0,
                status=status,
                is_demo=False,
                source=source,
            )
        ).inserted_primary_key[0]
        if kind == "cases":
            conn.execute(
                insert(store.case_reports).values(
                    batch_id=batch,
                    region_adcode=adcode,
                    category="reported",
                    as_of_date=day,
                    confirmed_cum=5,
                    cured_cum=1,
                    dead_cum=0,
                )
            )
        else:
            conn.execute(insert(store.case_list).values(batch_id=batch, report_date=day, region_adcode=county))
    return batch


@pytest.fixture(scope="module")
def board_store():
    """A store with, for 2026-03-01: 西安 on time, 铜川 late, 宝鸡 rolled back, 咸阳 from the shipped loader, 安康 by a
    case list of 汉滨区, and an account for 雁塔区 (a county) which reported on time."""
    eng = store.engine(new_database("board"))
    _batch(eng, "610100", DAY, at(0, 30), by="xian")  # 08:30 Beijing
    _batch(eng, "610100", DAY, at(3), by="revised-later")  # a revision after the deadline changes nothing
    _batch(eng, "610200", DAY, at(2), by="tongchuan")  # 10:00 Beijing: late
    _batch(eng, "610300", DAY, at(0, 10), by="baoji", status="rolled_back")
    _batch(eng, "610400", DAY, at(0, 0, day=20), by="system", source=shipped.CASES_SOURCE)
    _batch(eng, "610900", DAY, at(0, 5), by="ankang", kind="case-list", county="610902")
    accounts.create_user("yanta-officer", "correct horse battery", "officer", "610113", eng=eng)
    accounts.create_user("gone-officer", "correct horse battery", "officer", "610116", eng=eng)
    with eng.begin() as conn:
        conn.execute(update(store.users).where(store.users.c.username == "gone-officer").values(active=False))
    _batch(eng, "610113", DAY, at(0, 59), by="yanta-officer")
    return eng


def _by_code(rows):
    return {r["adcode"]: r for r in rows}


# ---- the board, with a fixed clock ---------------------------------------------------------------------------------
def test_deadline_default_and_configured(monkeypatch):
    assert reporting.due_at(DAY, reporting.parse_deadline(None)) == dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert reporting.parse_deadline("10:30").of(DAY) == dt.datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
    assert reporting.parse_deadline("+0 22:00").of(DAY) == dt.datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    assert reporting.parse_deadline("+2 09:00").of(DAY) == dt.datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    for bad in ("9", "25:00", "+8 09:00", "tomorrow"):
        with pytest.raises(ValueError, match="REPORT_DEADLINE"):
            reporting.parse_deadline(bad)
    monkeypatch.setenv("REPORT_DEADLINE", "+0 20:00")
    assert reporting.deadline_text() == "当日 20:00（北京时间）"
    monkeypatch.setenv("REPORT_DEADLINE", "nonsense")  # logged, and the default holds
    assert reporting.deadline_text() == "次日 09:00（北京时间）"
    # the day due today: yesterday with the default deadline, today with a same-day one
    assert reporting.due_day(at(12), reporting.parse_deadline(None)) == dt.date(2026, 3, 1)
    assert reporting.due_day(at(12), reporting.parse_deadline("+0 22:00")) == dt.date(2026, 3, 2)


def test_board_before_the_deadline(board_store):
    rows = reporting.status(DAY, now=at(0, 45), eng=board_store, rule=reporting.parse_deadline(None))  # 08:45
    board = _by_code(rows)
    assert [r["adcode"] for r in rows][:12] == [u.adcode for u in reporting.regions.units()]
    assert board["610100"]["status"] == "reported" and board["610100"]["by"] == "xian"
    assert board["610100"]["reported_at"] == dt.datetime(2026, 3, 2, 8, 30, tzinfo=reporting.BEIJING)
    assert board["610700"]["status"] == "missing" and board["610700"]["past_due"] is False
    assert reporting.status_words(board["610700"]) == "未报（未到截止时间）"


def test_board_after_the_deadline(board_store):
    board = _by_code(reporting.status(DAY, now=at(4), eng=board_store, rule=reporting.parse_deadline(None)))
    assert board["610100"]["status"] == "reported"  # the later revision does not make it late
    assert board["610200"]["status"] == "late" and board["610200"]["by"] == "tongchuan"
    assert board["610300"]["status"] == "missing"  # its only batch was rolled back
    assert board["610400"] | {"due_at": None} == {
        "adcode": "610400",
        "name": "咸阳市（不含杨凌示范区）",
        "level": "unit",
        "status": "reported",
        "reported_at": None,
        "by": "历史数据导入",
        "due_at": None,
        "past_due": True,
    }
    assert board["610900"]["status"] == "reported"  # 汉滨区's case in a case list counts for 安康
    assert board["610700"]["status"] == "missing" and reporting.status_words(board["610700"]) == "未报"
    # a county with an active account is listed (and reported); one whose account is disabled is not
    assert board["610113"]["level"] == "county" and board["610113"]["status"] == "reported"
    assert "610116" not in board
    counted = reporting.counts(list(board.values()))
    assert counted["units"] == 12 and counted["reported"] == 4 and counted["late"] == 1
    assert "宝鸡市" in counted["missing"] and "铜川市" not in counted["missing"]


def test_the_strip_and_the_wall_line_say_who_is_missing(board_store, app_module):
    from callbacks.report import summary_line, wall_line

    rule = reporting.parse_deadline(None)
    after = reporting.status(DAY, now=at(4), eng=board_store, rule=rule)
    assert (
        summary_line(DAY, after)
        == "3月1日日报：已报 4/12（其中迟报 1：铜川）；未报 8：宝鸡、杨凌、渭南、韩城、延安、汉中、榆林、商洛"
    )
    assert wall_line(DAY, after) == "3月1日日报 已报 4/12 · 未报 8：宝鸡、杨凌、渭南、韩城、延安、汉中、榆林、商洛"
    before = reporting.status(DAY, now=at(0, 45), eng=board_store, rule=rule)
    assert summary_line(DAY, before).endswith("（截止 3月2日 09:00，未到截止时间）")
    assert wall_line(DAY, before).endswith("（未到截止时间）")


def test_a_later_deadline_makes_the_late_report_on_time(board_store):
    board = _by_code(reporting.status(DAY, now=at(4), eng=board_store, rule=reporting.parse_deadline("+1 12:00")))
    assert board["610200"]["status"] == "reported"


# ---- the form's checks, as plain functions -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "value", "message"),
    [
        ("3", 3, None),
        ("１２", 12, None),
        ("1,234", 1234, None),
        (" 0 ", 0, None),
        ("", None, "请填写新增确诊（没有请填 0）"),
        ("-2", None, "新增确诊不能为负数：“-2”"),
        ("1.5", None, "新增确诊应为整数，不能有小数：“1.5”"),
        ("三", None, "新增确诊应为不小于 0 的整数：“三”"),
        ("2000000", None, "新增确诊超出合理范围（不超过 1,000,000）：“2000000”"),
    ],
)
def test_counts_are_integers_not_below_zero(typed, value, message):
    assert dr.parse_count(typed, "新增确诊", required=True) == (value, message)


def test_optional_count_may_be_empty():
    assert dr.parse_count("", "发热门诊就诊人次", required=False) == (None, None)
    assert dr.parse_count("-1", "发热门诊就诊人次", required=False)[1] == "发热门诊就诊人次不能为负数：“-1”"


def test_no_future_day():
    today = dt.date(2026, 12, 6)
    assert dr.parse_day("2026-12-06", today) == (today, None)
    assert dr.parse_day("2026-12-07", today)[1] == "日期不能是未来的日子：2026-12-07 晚于今天 2026-12-06（北京时间）"
    assert dr.parse_day("12/07", today)[1].startswith("日期格式应为 YYYY-MM-DD")
    assert dr.parse_day("2019-01-01", today)[1].startswith("日期 2019-01-01 早于")


NEW = {"new_confirmed": 2, "new_cured": 1, "new_dead": 0}
BASE = dr.Base(10, 6, 1, dt.date(2026, 3, 1), "2026年3月1日本级上报")


def test_cumulative_follows_from_the_new_counts():
    d = dr.decide(NEW, BASE)
    assert d.ok and d.cumulative == {"confirmed_cum": 12, "cured_cum": 7, "dead_cum": 1} and not d.revision


def test_a_day_already_reported_is_a_revision_that_needs_a_reason():
    stored = {"confirmed_cum": 11, "cured_cum": 7, "dead_cum": 1}
    d = dr.decide(NEW, BASE, stored=stored)
    assert d.needs_revision_reason and d.errors == [
        "该地区该日已上报（累计确诊 11，累计治愈 7，累计死亡 1）：本次为修订，请填写修订原因"
    ]
    assert dr.decide(NEW, BASE, stored=stored, revision_reason="漏报1例").ok
    assert dr.decide({**NEW, "new_confirmed": None}, BASE, stored=stored).needs_revision_reason  # shown at once
    same = dr.decide(NEW, BASE, stored={"confirmed_cum": 12, "cured_cum": 7, "dead_cum": 1}, revision_reason="x")
    assert same.unchanged and same.errors == ["与该日已上报的数字相同，无需重复上报"]
    # ... unless the optional figures change
    assert dr.decide(
        {**NEW, "fever_clinic_visits": 40},
        BASE,
        stored={"confirmed_cum": 12, "cured_cum": 7, "dead_cum": 1},
        revision_reason="补填",
    ).ok


def test_a_drop_in_a_cumulative_needs_a_correction_reason():
    d = dr.decide({**NEW, "correction": 3}, BASE)  # 10 + 2 - 3 = 9 < 10
    assert d.cumulative["confirmed_cum"] == 9 and d.needs_correction_reason
    assert d.errors == ["属于订正（核减确诊 3 例；累计确诊由 10 降为 9）：请填写订正原因"]
    assert dr.decide({**NEW, "correction": 3}, BASE, correction_reason="3例经复核排除").ok
    # a later day already reported lower than the new figure would fall: also a 订正
    later = (dt.date(2026, 3, 3), {"confirmed_cum": 11, "cured_cum": 7, "dead_cum": 1})
    d = dr.decide(NEW, BASE, later=later)
    assert d.needs_correction_reason and "3月3日已报的累计确诊 11 将低于本日的 12" in d.errors[0]
    assert dr.decide({**NEW, "correction": 20}, BASE).errors[0].startswith("核减确诊（20）大于此前累计确诊")


def test_cured_and_dead_cannot_exceed_confirmed():
    d = dr.decide({"new_confirmed": 0, "new_cured": 4, "new_dead": 0}, BASE)
    assert d.errors == ["累计治愈（10）与累计死亡（1）之和大于累计确诊（10）：请核对新增治愈、新增死亡"]


def test_a_scoped_officer_reports_for_their_region_and_its_counties():
    assert dr.reportable("610100", "610100") is None
    assert dr.reportable("610113", "610100") is None  # 雁塔区, a county of 西安
    assert dr.reportable("610200", "610100") == "您的账号只能为 西安市 及其所辖县（区）直报，不能为 铜川市 直报"
    assert dr.reportable("610000", None).startswith("全省数字由各市（区）汇总")
    assert {r.adcode for r in dr.region_choices("610113")} == {"610113"}
    choices = {r.adcode for r in dr.region_choices(None)}
    assert "610200" in choices and "610113" in choices and "610000" not in choices


# ---- checked and stored through the ingest path --------------------------------------------------------------------
@pytest.fixture(scope="module")
def report_store():
    """A store with 铜川's own reports of 2026-02-27 (8 cumulative) and 2026-03-01 (10)."""
    eng = store.engine(new_database("direct"))
    rows = "地区,日期,累计确诊,累计治愈,累计死亡\n铜川市,2026-02-27,8,5,0\n铜川市,2026-03-01,10,6,0\n"
    pipeline.ingest(rows.encode(), "铜川.csv", "cases", user="tester", eng=eng)
    return eng


def test_check_and_submit_store_a_batch_with_its_extras(report_store):
    eng, now = report_store, at(4, day=3)  # 2026-03-03 12:00 Beijing
    typed = {"new_confirmed": "3", "new_cured": "1", "new_dead": "0", "fever_clinic_visits": "120"}
    chk = dr.check("610200", "2026-03-02", typed, scope="610200", now=now, eng=eng)
    assert chk.ok and chk.base.confirmed_cum == 10 and chk.decision.cumulative["confirmed_cum"] == 13
    assert dr.check("610200", "2026-03-04", typed, now=now, eng=eng).errors == [
        "日期不能是未来的日子：2026-03-04 晚于今天 2026-03-03（北京时间）"
    ]
    assert (
        dr.check("610200", "2026-03-02", typed, scope="610100", now=now, eng=eng)
        .errors[0]
        .startswith("您的账号只能为 西安市")
    )
    done = dr.submit(chk, "铜川值班员", "610200", now=now, eng=eng)
    assert done.cumulative == {"confirmed_cum": 13, "cured_cum": 7, "dead_cum": 0} and not done.revision
    with eng.connect() as conn:
        batch = conn.execute(select(store.batches).where(store.batches.c.id == done.batch_id)).one()
        extras = conn.execute(select(store.report_extras).where(store.report_extras.c.batch_id == done.batch_id)).one()
    assert batch.kind == "cases" and batch.created_by == "铜川值班员" and batch.rows_accepted == 1
    assert extras.fever_clinic_visits == 120 and extras.new_asymptomatic is None
    from data import queries

    assert queries.summary("610200", "2026-03-02", eng)["confirmed_cum"] == 13
    assert _by_code(reporting.status("2026-03-02", now=now, eng=eng))["610200"]["by"] == "铜川值班员"
    # the same day again: a revision, which needs its reason
    again = dr.check("610200", "2026-03-02", {**typed, "new_confirmed": "4"}, now=now, eng=eng)
    assert again.decision.revision and not again.ok
    with pytest.raises(dr.Refused, match="请填写修订原因"):
        dr.submit(again, "铜川值班员", "610200", now=now, eng=eng)
    again = dr.check("610200", "2026-03-02", {**typed, "new_confirmed": "4"}, "漏报1例", now=now, eng=eng)
    revised = dr.submit(again, "铜川值班员", "610200", "漏报1例", now=now, eng=eng)
    assert queries.summary("610200", "2026-03-02", eng)["confirmed_cum"] == 14
    assert "修订已存数据" in pipeline.issues_of(revised.batch_id, eng)["原因"].iloc[0]
    # rolled back, both are gone: the board says missing again and the figures are the earlier ones
    assert pipeline.rollback(revised.batch_id, eng=eng) and pipeline.rollback(done.batch_id, eng=eng)
    assert _by_code(reporting.status("2026-03-02", now=now, eng=eng))["610200"]["status"] == "missing"
    assert dr.check("610200", "2026-03-02", typed, now=now, eng=eng).decision.revision is False


def test_a_correction_below_the_previous_cumulative_reaches_the_store_with_its_reason(report_store):
    eng, now = report_store, at(4, day=3)
    typed = {"new_confirmed": "0", "new_cured": "0", "new_dead": "0", "correction": "2"}
    chk = dr.check("610200", "2026-03-03", typed, now=now, eng=eng)
    assert not chk.ok and chk.decision.needs_correction_reason
    chk = dr.check("610200", "2026-03-03", typed, correction_reason="2例经复核排除", now=now, eng=eng)
    done = dr.submit(chk, "tester", None, correction_reason="2例经复核排除", now=now, eng=eng)
    from data import queries

    row = queries.summary("610200", "2026-03-03", eng)
    assert row["confirmed_cum"] == 8 and row["correction_confirmed"] == -2
    pipeline.rollback(done.batch_id, eng=eng)


# ---- the API and the permissions -----------------------------------------------------------------------------------
def test_api_reporting_status(client, monkeypatch):
    import api.v1
    from data.catalogue import INTERNAL, PUBLIC

    monkeypatch.setattr(api.v1, "clearance", lambda: INTERNAL)
    rows = client.get("/api/v1/reporting-status?date=2020-12-07").get_json()
    assert len([r for r in rows if r["level"] == "unit"]) == 12
    assert all(r["status"] == "reported" and r["by"] == "历史数据导入" and r["reported_at"] is None for r in rows)
    assert rows[0]["due_at"] == "2020-12-08T09:00:00+08:00"
    missing = client.get("/api/v1/reporting-status?date=2020-12-08").get_json()
    assert {r["status"] for r in missing} == {"missing"} and all(r["past_due"] for r in missing)
    monkeypatch.setattr(api.v1, "clearance", lambda: PUBLIC)
    public = client.get("/api/v1/reporting-status?date=2020-12-07").get_json()
    assert "by" not in public[0] and public[0]["status"] == "reported"  # who reported is internal
    assert len(client.get("/api/v1/reporting-status").get_json()) >= 12  # default: today (Beijing)
    assert client.get("/api/v1/reporting-status?date=2020-12-07&format=csv").content_type.startswith("text/csv")
    for bad, words in (("2020-13-01", "date: 日期格式应为"), ("2999-01-01", "晚于今天")):
        r = client.get(f"/api/v1/reporting-status?date={bad}")
        assert r.status_code == 400 and words in r.get_json()["error"]


def test_report_permission_and_callbacks_declared(app_module):
    assert roles.route_permission("/report") == "report"
    assert [r for r in roles.ROLES if roles.allowed(r, "report")] == ["officer", "data_admin"]
    declared = {k: v for k, v in roles.DECLARED.items() if k.startswith("callbacks.report.")}
    assert declared == {
        "callbacks.report.check_form": ("report", None),
        "callbacks.report.submit_report": ("report", None),
        "callbacks.report.show_history": ("report", None),
        "callbacks.report.show_board": ("upload", None),
        "callbacks.report.show_strip": ("view", None),
        "callbacks.report.show_wall_line": ("wall", None),
    }


# ---- end to end, in a browser at phone size ------------------------------------------------------------------------
def _json(url: str):
    return json.load(urllib.request.urlopen(url))


def test_a_report_typed_on_a_phone_reaches_the_api_and_the_wall(own_server, browser, app_module):
    """As the demo officer on a 390x844 page: 铜川's report of 2020-12-08 (the day after the shipped data's last) is
    typed, checked, stored; the API has the new cumulative and the board says it came (late: typed years after the
    deadline); an open wall shows it within one poll. Rolled back afterwards."""
    from layouts import wall as wall_layout

    url, db = own_server
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{url}/wall?region=610200")  # the latest day: 12-07, which every unit reported
    expect(wall.locator("#kpi-confirmed")).to_have_text("8", timeout=30_000)
    expect(wall.locator("#wall-reporting")).to_be_hidden()  # all twelve reported: nothing to say, no room taken

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", has_touch=True, is_mobile=True, device_scale_factor=2
    )
    page = context.new_page()
    page.goto(f"{url}/report?region=610200&date=2020-12-08")
    expect(page.locator("#report-history")).to_contain_text("12月7日", timeout=30_000)
    assert page.input_value("#report-date") == "2020-12-08"
    expect(page.locator("#report-submit")).to_be_disabled()
    page.fill("#report-new-confirmed", "-1")
    expect(page.locator("#report-check")).to_contain_text("新增确诊不能为负数")
    page.fill("#report-new-confirmed", "3")
    page.fill("#report-new-cured", "1")
    page.fill("#report-new-dead", "0")
    page.fill("#report-fever-visits", "56")
    expect(page.locator("#report-check")).to_contain_text("累计确诊 11")  # 铜川's 8 of 12-07, plus 3
    expect(page.locator("#report-submit")).to_be_enabled()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    box = page.locator("#report-new-confirmed").bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.click("#report-submit")
    stored = time.monotonic()
    expect(page.locator("#report-result")).to_contain_text("已上报，存为批次")
    expect(page.locator("#report-result")).to_contain_text("累计确诊 11")
    expect(page.locator("#report-history")).to_contain_text("迟报")
    expect(page.locator("#report-submit")).to_be_disabled()  # the same figures again would change nothing
    batch = int(page.inner_text("#report-result").split("存为批次 ")[1].split("。")[0])

    summary = _json(f"{url}/api/v1/summary?region=610200&date=2020-12-08")
    assert summary["confirmed_cum"] == 11 and summary["new_confirmed"] == 3 and summary["cured_cum"] == 9
    board = _by_code(_json(f"{url}/api/v1/reporting-status?date=2020-12-08"))
    assert board["610200"]["status"] == "late" and board["610200"]["reported_at"]
    assert board["610100"]["status"] == "missing"

    # the wall that was open: the new figure within one poll
    expect(wall.locator("#kpi-confirmed")).to_have_text("11", timeout=(wall_layout.POLL_SECONDS + 10) * 1000)
    took = time.monotonic() - stored
    assert took <= wall_layout.POLL_SECONDS + 10, took
    expect(wall.locator("#wall-reporting")).to_have_text(
        "12月8日日报 已报 1/12 · 未报 11：西安、宝鸡、咸阳、杨凌、渭南、韩城、延安、汉中、榆林、安康、商洛"
    )
    print(f"report on the wall {took:.1f} s after it was stored (poll every {wall_layout.POLL_SECONDS} s)")
    context.close()
    wall.close()

    assert pipeline.rollback(batch, user="test", eng=store.engine(db))
    # the served app reads the data version at most once a second
    eventually(
        lambda: _json(f"{url}/api/v1/summary?region=610200&date=2020-12-07")["confirmed_cum"] == 8,
        timeout=5,
        what="the rollback in the served app",
    )
    assert _by_code(_json(f"{url}/api/v1/reporting-status?date=2020-12-08"))["610200"]["status"] == "missing"
