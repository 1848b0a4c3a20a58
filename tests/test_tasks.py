"""Follow-up tasks (issue 20, item 4): the life cycle as plain functions (steps, refusals, overdue with a fixed clock,
every step in task_events and the audit log), the API for signed-in and anonymous callers and the scope of a unit's
and a county's account, the permission of every new callback (a viewer cannot dispatch or answer), and in a browser:
a task sent from an alert on `/`, answered on `/report`, the overdue line on `/` and `/wall` following it."""

from __future__ import annotations

import datetime as dt
import json
import re

import jsonschema
import pytest
import requests
from conftest import _serve, new_database
from playwright.sync_api import expect

import callbacks.tasks  # noqa: F401  (declares the callbacks' permissions where they are defined)
from api import openapi
from data import store, tasks
from security import accounts, audit, roles

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 6, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
PASSWORD = "correct horse battery"
USERS = {
    "viewer": ("tasks-viewer", "viewer", None),
    "officer": ("tasks-officer", "officer", None),
    "unit": ("xian-tasks-officer", "officer", "610100"),
    "county": ("yanta-tasks-officer", "officer", "610113"),
}


@pytest.fixture()
def eng(new_store):
    return store.engine(new_store("tasks"))


# ---- the life cycle -------------------------------------------------------------------------------------------------
def test_life_cycle_every_step_in_events_and_audit(eng):
    due = NOW + dt.timedelta(hours=24)
    task_id = tasks.create("610113", "核查发热门诊接诊", "今日内报告", due, "值班员甲", eng=eng, now=NOW)
    assert tasks.get(task_id, eng=eng, now=NOW)["status"] == "sent"
    steps = [
        ("received", "已收到", NOW + dt.timedelta(hours=1)),
        ("in_progress", None, NOW + dt.timedelta(hours=2)),
        ("done", "已核查，正常", NOW + dt.timedelta(hours=3)),
    ]
    for status, note, when in steps:
        task = tasks.advance(task_id, status, note, "雁塔区乙", eng=eng, now=when)
        assert task["status"] == status
    events = task["events"]
    assert [(e["status"], e["note"], e["by"]) for e in events] == [
        ("sent", None, "值班员甲"),
        ("received", "已收到", "雁塔区乙"),
        ("in_progress", None, "雁塔区乙"),
        ("done", "已核查，正常", "雁塔区乙"),
    ]
    assert [e["at"] for e in events] == [NOW] + [w for *_, w in steps]  # UTC, aware
    assert tasks.shown(events[0]["at"]) == "12月6日 10:00"  # Beijing time on the pages
    log = audit.recent(eng=eng)
    lines = log[log["操作"] == "任务"]["内容"].tolist()[::-1]
    assert len(lines) == 4
    for line, status in zip(lines, ["sent", "received", "in_progress", "done"]):
        assert f"任务 #{task_id} " in line and f"（{status}）" in line
    assert "说明：已核查，正常" in lines[-1]
    assert log[log["操作"] == "任务"]["用户"].tolist()[::-1] == ["值班员甲"] + ["雁塔区乙"] * 3


def test_received_to_done_directly_and_the_refusals(eng):
    due = NOW + dt.timedelta(hours=5)
    task_id = tasks.create("610300", "补报昨日数字", None, due, "甲", eng=eng, now=NOW)
    with pytest.raises(tasks.TaskError, match="尚未接收：请先标记「已接收」"):
        tasks.advance(task_id, "done", None, "乙", eng=eng, now=NOW)
    with pytest.raises(tasks.TaskError, match="尚未接收"):
        tasks.advance(task_id, "in_progress", None, "乙", eng=eng, now=NOW)
    tasks.advance(task_id, "received", None, "乙", eng=eng, now=NOW)
    with pytest.raises(tasks.TaskError, match="已是「已接收」"):
        tasks.advance(task_id, "received", None, "乙", eng=eng, now=NOW)
    assert tasks.advance(task_id, "done", "已补报", "乙", eng=eng, now=NOW)["status"] == "done"
    for status in ("in_progress", "received", "done"):
        with pytest.raises(tasks.TaskError, match="已完成，不能再改为"):
            tasks.advance(task_id, status, None, "乙", eng=eng, now=NOW)
    other = tasks.create("610300", "另一项", None, due, "甲", eng=eng, now=NOW)
    tasks.advance(other, "received", None, "乙", eng=eng, now=NOW)
    tasks.advance(other, "in_progress", None, "乙", eng=eng, now=NOW)
    with pytest.raises(tasks.TaskError, match="不能退回「已接收」"):
        tasks.advance(other, "received", None, "乙", eng=eng, now=NOW)
    with pytest.raises(tasks.TaskError, match="未知状态"):
        tasks.advance(other, "sent", None, "乙", eng=eng, now=NOW)
    with pytest.raises(tasks.TaskError, match="不存在"):
        tasks.advance(99999, "received", None, "乙", eng=eng, now=NOW)
    with pytest.raises(tasks.TaskError, match="不属于本账号的地区"):  # a 西安 account answers no 宝鸡 task
        tasks.advance(other, "done", None, "乙", eng=eng, now=NOW, scope="610100")
    # refused steps leave no trace: two tasks, 2 + 3 steps
    with eng.connect() as conn:
        assert conn.execute(store.task_events.select()).all().__len__() == 2 + 3 + 1
    for bad, message in (
        ({"region": "610000"}, "不能派给全省"),
        ({"region": "999999"}, "未知地区代码"),
        ({"title": "  "}, "请填写任务内容"),
        ({"due_at": NOW - dt.timedelta(minutes=1)}, "已过"),
        ({"region": "610300", "scope": "610100"}, "不在本账号的地区范围内"),
        ({"alert_id": 424242}, "预警 #424242 不存在"),
    ):
        args = {"region": "610113", "title": "x", "detail": None, "due_at": due, "by": "甲", **bad}
        with pytest.raises(tasks.TaskError, match=message):
            tasks.create(**args, eng=eng, now=NOW)


def test_overdue_with_a_fixed_clock_and_the_lists_scope(eng):
    a = tasks.create("610113", "雁塔区的任务", None, NOW + dt.timedelta(hours=2), "甲", eng=eng, now=NOW)
    b = tasks.create("610300", "宝鸡市的任务", None, NOW + dt.timedelta(hours=6), "甲", eng=eng, now=NOW)
    c = tasks.create("610100", "西安市的任务", None, NOW + dt.timedelta(hours=1), "甲", eng=eng, now=NOW)
    assert tasks.overdue(NOW, eng=eng) == []
    later = NOW + dt.timedelta(hours=3)
    assert [t["id"] for t in tasks.overdue(later, eng=eng)] == [c, a]  # the longest overdue first
    assert tasks.overdue_summary(tasks.overdue(later, eng=eng)) == "逾期任务 2 项：西安市、雁塔区（西安市）"
    tasks.advance(c, "received", None, "乙", eng=eng, now=later)
    tasks.advance(c, "done", None, "乙", eng=eng, now=later)  # done late: no longer overdue
    assert [t["id"] for t in tasks.overdue(later, eng=eng)] == [a]
    assert [t["id"] for t in tasks.overdue(NOW + dt.timedelta(hours=7), eng=eng)] == [a, b]
    assert [t["id"] for t in tasks.overdue(NOW + dt.timedelta(hours=7), eng=eng, scope="610300")] == [b]
    # the lists: open first (earliest due first), done after; a unit's scope has its counties, a county only itself
    assert [t["id"] for t in tasks.list_tasks(include_done=True, eng=eng, now=later)] == [a, b, c]
    assert [t["id"] for t in tasks.list_tasks(eng=eng, now=later)] == [a, b]
    assert [t["id"] for t in tasks.list_tasks(scope="610100", include_done=True, eng=eng)] == [a, c]
    assert [t["id"] for t in tasks.list_tasks(scope="610113", include_done=True, eng=eng)] == [a]
    assert [t["id"] for t in tasks.list_tasks(region="610300", scope=None, eng=eng)] == [b]
    assert tasks.list_tasks(eng=eng, now=later)[0]["overdue"] is True
    assert tasks.parse_due("2026-12-07 14:00") == dt.datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    with pytest.raises(tasks.TaskError, match="无法识别"):
        tasks.parse_due("明天下午")


# ---- a served app with accounts: the API and the callbacks through the gate ------------------------------------------
@pytest.fixture(scope="module")
def site():
    db = new_database("tasks_roles")
    eng = store.engine(db)
    for name, role, region in USERS.values():
        accounts.create_user(name, PASSWORD, role, region, eng=eng)
    due = dt.datetime.now(UTC) + dt.timedelta(days=1)
    ids = {
        code: tasks.create(code, f"任务 {code}", None, due, "值班员", eng=eng)
        for code in ("610100", "610113", "610300")
    }
    served = _serve(db, SECRET_KEY="test-secret-key-for-tasks-roles")
    url = next(served)
    yield url, db, ids
    next(served, None)


def _session(url: str, who: str | None) -> requests.Session:
    s = requests.Session()
    if who is not None:
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(url + "/login").text).group(1)
        r = s.post(
            url + "/login",
            data={"username": USERS[who][0], "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        assert r.status_code == 302, r.text
    return s


@pytest.fixture(scope="module")
def sessions(site):
    return {who: _session(site[0], who) for who in [None, *USERS]}


def test_api_for_signed_in_users_only_within_their_region(site, sessions):
    url, _, ids = site
    anonymous = sessions[None].get(url + "/api/v1/tasks")
    assert anonymous.status_code == 401 and "登录" in anonymous.json()["error"]
    assert sessions[None].get(url + "/api/v1/tasks?format=csv").status_code == 401
    everyone = sessions["viewer"].get(url + "/api/v1/tasks").json()
    assert {t["id"] for t in everyone} == set(ids.values())
    validate = jsonschema.Draft7Validator(_json_schema(openapi.document()["components"]["schemas"]["Task"]))
    for row in everyone:
        validate.validate(row)  # the document's exact schema (additionalProperties false, nullable fields)
    task = next(t for t in everyone if t["id"] == ids["610113"])
    assert set(task) == {
        "id",
        "region_adcode",
        "region",
        "title",
        "detail",
        "due_at",
        "status",
        "overdue",
        "created_by",
        "created_at",
        "events",
    }
    assert task["due_at"].endswith("+08:00") and task["events"][0]["status"] == "sent" and task["overdue"] is False
    unit = sessions["unit"].get(url + "/api/v1/tasks").json()
    assert {t["region_adcode"] for t in unit} == {"610100", "610113"}  # 西安市 and its 雁塔区, not 宝鸡
    county = sessions["county"].get(url + "/api/v1/tasks").json()
    assert {t["region_adcode"] for t in county} == {"610113"}
    assert sessions["county"].get(url + "/api/v1/tasks?region=610300").json() == []
    assert [t["region_adcode"] for t in sessions["officer"].get(url + "/api/v1/tasks?region=610300").json()] == [
        "610300"
    ]
    csv = sessions["unit"].get(url + "/api/v1/tasks?format=csv")
    assert csv.headers["Content-Type"].startswith("text/csv") and "event_status" in csv.text
    assert sessions["officer"].get(url + "/api/v1/tasks?status=later").status_code == 400
    assert sessions["officer"].get(url + "/api/v1/tasks?region=123456").status_code == 404


def _json_schema(schema):
    """OpenAPI 3.0 (``nullable``) as JSON Schema."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _json_schema(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable"):
        out["type"] = [schema["type"], "null"]
    return out


def _dependencies(url, sessions) -> list:
    return sessions["officer"].get(url + "/_dash-dependencies").json()


def _body(deps, output_prefix: str, inputs: list, state: list, changed: str) -> dict:
    key = next(d["output"] for d in deps if d["output"].startswith(output_prefix))
    parts = key[2:-2].split("...")
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]
    for out in outputs:
        if out["id"].startswith("{"):
            out["id"] = json.loads(out["id"])
    return {"output": key, "outputs": outputs, "inputs": inputs, "state": state, "changedPropIds": [changed]}


def readable(response) -> str:
    """A callback's answer as text with its Chinese readable."""
    return json.dumps(response.json(), ensure_ascii=False)


def _post(session, url, body):
    session.get(url + "/login")
    return session.post(
        url + "/_dash-update-component",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "X-CSRFToken": session.cookies.get("_csrf_token")},
    )


def _send_body(deps, region: str) -> dict:
    due = (dt.datetime.now(tasks.BEIJING) + dt.timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")
    return _body(
        deps,
        "..task-form.hidden",
        [
            [],
            {"id": "task-map-button", "property": "n_clicks", "value": None},
            {"id": "task-cancel", "property": "n_clicks", "value": None},
            {"id": "task-send", "property": "n_clicks", "value": 1},
        ],
        [
            {"id": "region-select", "property": "value", "value": region},
            {"id": "task-region", "property": "value", "value": region},
            {"id": "task-title", "property": "value", "value": "经闸门派发"},
            {"id": "task-detail", "property": "value", "value": ""},
            {"id": "task-due", "property": "value", "value": due},
            {"id": "task-alert", "property": "data", "value": None},
            {"id": "tasks-changed", "property": "data", "value": 0},
        ],
        "task-send.n_clicks",
    )


def test_every_new_callback_declares_its_permission_and_a_viewer_cannot_dispatch(site, sessions):
    expected = {
        "task_form": "dispatch",
        "update_page_overdue": "view",
        "update_wall_overdue": "wall",
        "update_report_tasks": "report",
    }
    for name, permission in expected.items():
        assert roles.callback_permission("callbacks.tasks", name) == (permission, None)
    assert not roles.allowed("viewer", "dispatch") and not roles.allowed("viewer", "report")
    url, db, _ = site
    deps = _dependencies(url, sessions)
    before = len(tasks.list_tasks(include_done=True, eng=store.engine(db)))
    refused = _post(sessions["viewer"], url, _send_body(deps, "610300"))
    assert refused.status_code == 403 and "response" not in refused.text
    assert _post(sessions[None], url, _send_body(deps, "610300")).status_code == 401
    assert len(tasks.list_tasks(include_done=True, eng=store.engine(db))) == before
    sent = _post(sessions["officer"], url, _send_body(deps, "610300"))
    assert sent.status_code == 200 and "已派发任务 #" in readable(sent)
    assert len(tasks.list_tasks(include_done=True, eng=store.engine(db))) == before + 1
    outside = _post(sessions["county"], url, _send_body(deps, "610300"))  # a 雁塔区 officer sends only in 雁塔区
    assert outside.status_code == 200 and "不在本账号的地区范围内" in readable(outside)
    # a viewer's `/` has neither the 派发任务 button nor 派为任务 beside the alerts
    page = _body(
        deps,
        ".._pages_content",
        [
            {"id": "_pages_location", "property": "pathname", "value": "/"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        [],
        "_pages_location.pathname",
    )
    assert "task-map-button" not in _post(sessions["viewer"], url, page).text
    assert "task-map-button" in _post(sessions["officer"], url, page).text
    alerts_body = _body(
        deps,
        "..alerts-list.children",
        [
            {"id": "page-version", "property": "data", "value": None},
            {"id": "page-poll", "property": "n_intervals", "value": None},
            [],
            {"id": "view-day", "property": "data", "value": None},
            {"id": "map-drawn", "property": "data", "value": True},
        ],
        [{"id": "alerts-shown", "property": "data", "value": None}],
        "page-poll.n_intervals",
    )
    assert "alert-task" not in _post(sessions["viewer"], url, alerts_body).text
    assert "alert-task" in _post(sessions["officer"], url, alerts_body).text


def test_report_tasks_answered_only_by_officers_within_their_region(site, sessions):
    url, db, ids = site
    deps = _dependencies(url, sessions)

    def answer(who, task_id, status, note=""):
        body = _body(
            deps,
            "..tasks-list.children",
            [
                {"id": "tasks-region", "property": "data", "value": None},
                {"id": "tasks-poll", "property": "n_intervals", "value": None},
                [{"id": {"type": "task-step", "task": task_id, "status": status}, "property": "n_clicks", "value": 1}],
            ],
            [
                [{"id": {"type": "task-note", "task": task_id}, "property": "value", "value": note}],
                {"id": "tasks-shown", "property": "data", "value": None},
            ],
            json.dumps({"status": status, "task": task_id, "type": "task-step"}, separators=(",", ":")) + ".n_clicks",
        )
        return _post(sessions[who], url, body)

    assert answer("viewer", ids["610113"], "received").status_code == 403
    refused = answer("county", ids["610300"], "received")  # 宝鸡's task from a 雁塔区 account: refused in words
    assert refused.status_code == 200 and "不属于本账号的地区" in readable(refused)
    done = answer("county", ids["610113"], "received", "收到，马上办")
    assert done.status_code == 200 and "已标为「已接收」" in readable(done) and "收到，马上办" in readable(done)
    assert "任务 610300" not in readable(done) and "任务 610113" in readable(done)  # the county's own tasks only
    task = tasks.get(ids["610113"], eng=store.engine(db))
    assert task["status"] == "received" and task["events"][-1]["by"] == USERS["county"][0]
    log = audit.recent(eng=store.engine(db))
    assert ((log["操作"] == "任务") & (log["用户"] == USERS["county"][0])).sum() == 1


# ---- in a browser: from an alert on `/` to 已完成 on `/report`, the overdue line following --------------------------
def test_browser_dispatch_answer_and_overdue_line(own_server, page, artifacts):
    url, db = own_server
    eng = store.engine(db)
    past = dt.datetime.now(UTC) - dt.timedelta(days=2)
    late = tasks.create(
        "610300", "逾期演示：补报发热门诊数字", None, past + dt.timedelta(days=1), "值班员", eng=eng, now=past
    )

    page.goto(url + "/")
    expect(page.locator("#tasks-overdue")).to_contain_text("逾期任务 1 项：宝鸡市")
    first = page.locator("#alerts-list .alert-task").first
    expect(first).to_be_visible()
    first.click()
    expect(page.locator("#task-form")).to_be_visible()
    title = page.locator("#task-title").input_value()
    assert title, "the title comes from the alert's message"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page.locator("#task-due").input_value())
    page.screenshot(path=str(artifacts / "tasks_dispatch_form.png"))
    page.locator("#task-send").click()
    expect(page.locator("#task-result")).to_contain_text("已派发任务 #")
    expect(page.locator("#task-form")).to_be_hidden()
    sent = max(t["id"] for t in tasks.list_tasks(eng=eng))

    page.goto(url + "/wall")
    expect(page.locator("#wall-tasks")).to_contain_text("逾期任务 1 项：宝鸡市")

    page.goto(url + "/report")
    card = page.locator(f"#task-{sent}")
    expect(card).to_contain_text(title[:20])
    card.get_by_role("button", name="已接收").click()
    expect(page.locator("#tasks-message")).to_contain_text(f"任务 #{sent} 已标为「已接收」")
    card.locator("input").fill("已安排核查，情况正常")
    card.get_by_role("button", name="已完成").click()
    expect(page.locator("#tasks-message")).to_contain_text(f"任务 #{sent} 已标为「已完成」")
    overdue = page.locator(f"#task-{late}")
    expect(overdue).to_have_class(re.compile("overdue"))
    overdue.get_by_role("button", name="已接收").click()
    expect(page.locator("#tasks-message")).to_contain_text(f"任务 #{late} 已标为「已接收」")
    overdue.locator("input").fill("已补报")
    overdue.get_by_role("button", name="已完成").click()
    expect(page.locator("#tasks-message")).to_contain_text(f"任务 #{late} 已标为「已完成」")
    page.screenshot(path=str(artifacts / "tasks_report.png"), full_page=True)
    history = tasks.get(sent, eng=eng)["events"]
    assert [e["status"] for e in history] == ["sent", "received", "done"] and history[-1][
        "note"
    ] == "已安排核查，情况正常"

    page.goto(url + "/")
    expect(page.locator("#tasks-overdue")).to_have_text("无逾期任务")
    page.goto(url + "/wall")
    expect(page.locator("#wall-tasks")).to_be_empty()
    assert page.errors == [], page.errors
