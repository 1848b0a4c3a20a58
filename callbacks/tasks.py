"""Callbacks of the follow-up tasks (issue 20, item 4; data in data/tasks.py, places in layouts/tasks.py):

- `/`: 派为任务 beside an alert or 派发任务 for the selected region opens the form, 发送 sends (``dispatch``); the
  overdue line follows the page's poll and every task sent from the page (``view``).
- `/report`: the account's tasks with 已接收 / 处理中 / 已完成 and a note (``report``); polled, redrawn only when a
  task changed, so a note being typed is not wiped.
- `/wall`: the overdue line, looked at on every tick of the wall's data poll (a task change is no data version).

The parts are plain functions (``dispatch``, ``report_list``, ``overdue_line``), tested without a browser.
"""

from __future__ import annotations

import datetime as dt

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy import select

import security
from callbacks.declare import AFTER_THE_MAP, declared_callback
from data import store, tasks
from geo import regions
from geo.regions import within_scope


# ---- `/`: sending a task -----------------------------------------------------------------------------------------
def region_options(scope: str | None) -> list[dict]:
    """Units and their counties within ``scope`` (the province itself is no addressee)."""
    options = []
    for unit in sorted(regions.units(), key=lambda r: r.adcode):
        if within_scope(unit.adcode, scope):
            options.append({"label": unit.display_name, "value": unit.adcode})
        for county in sorted(regions.counties(unit.adcode), key=lambda r: r.adcode):
            if county.adcode != unit.adcode and within_scope(county.adcode, scope):
                options.append({"label": f"　{county.name}（{unit.name}）", "value": county.adcode})
    return options


def _alert(alert_id) -> dict | None:
    t = store.alerts
    with store.engine().connect() as conn:
        row = conn.execute(select(t.c.id, t.c.adcode, t.c.message).where(t.c.id == int(alert_id))).first()
    return row._asdict() if row is not None else None


def prefill(alert_id=None, region: str | None = None, now: dt.datetime | None = None) -> dict:
    """What the form opens with: the alert's region and message, or the selected region; due in 24 hours."""
    now = now or tasks.now_utc()
    found = _alert(alert_id) if alert_id is not None else None
    if found is not None:
        region, title = found["adcode"], found["message"][: tasks.TITLE_MAX]
    else:
        title = ""
    if region == regions.province().adcode or regions.get(str(region or "")) is None:
        region = None
    return {
        "region": region,
        "title": title,
        "due": tasks.due_text(now + tasks.DEFAULT_DUE),
        "alert": found["id"] if found is not None else None,
    }


def dispatch(
    region, title, detail, due, alert_id, by: str, scope: str | None, role: str | None, now=None
) -> tuple[int, str]:
    """Send the form's task: (id, the sentence that says so); TaskError in words when it cannot be sent."""
    due_at = tasks.parse_due(due)
    task_id = tasks.create(region, title, detail, due_at, by, alert_id=alert_id, scope=scope, now=now, role=role)
    name = tasks.label(region)
    return task_id, f"已派发任务 #{task_id} 给{name}，截止 {tasks.shown(due_at)}"


@declared_callback(
    Output("task-form", "hidden"),
    Output("task-region", "options"),
    Output("task-region", "value"),
    Output("task-title", "value"),
    Output("task-detail", "value"),
    Output("task-due", "value"),
    Output("task-alert", "data"),
    Output("task-form-error", "children"),
    Output("task-result", "children"),
    Output("tasks-changed", "data"),
    Input({"type": "alert-task", "index": ALL}, "n_clicks"),
    Input("task-map-button", "n_clicks"),
    Input("task-cancel", "n_clicks"),
    Input("task-send", "n_clicks"),
    State("region-select", "value"),
    State("task-region", "value"),
    State("task-title", "value"),
    State("task-detail", "value"),
    State("task-due", "value"),
    State("task-alert", "data"),
    State("tasks-changed", "data"),
    prevent_initial_call=True,
    permission="dispatch",
)
def task_form(_alert_clicks, _map_clicks, _cancel, _send, selected, region, title, detail, due, alert_id, changed):
    trigger = ctx.triggered_id
    if not ctx.triggered or not ctx.triggered[0]["value"]:  # a list redrawn: its new buttons were not clicked
        raise PreventUpdate
    keep = no_update
    if trigger == "task-cancel":
        return True, keep, keep, keep, keep, keep, None, "", keep, keep
    if trigger == "task-send":
        try:
            _id, said = dispatch(
                region,
                title,
                detail,
                due,
                alert_id,
                security.user_name(),
                security.current_scope(),
                security.current_role(),
            )
        except tasks.TaskError as err:
            return False, keep, keep, keep, keep, keep, keep, str(err), keep, keep
        return True, keep, None, "", "", keep, None, "", said, (changed or 0) + 1
    alert = trigger.get("index") if isinstance(trigger, dict) else None
    filled = prefill(alert, selected)
    return (
        False,
        region_options(security.current_scope()),
        filled["region"],
        filled["title"],
        "",
        filled["due"],
        filled["alert"],
        "",
        "",
        keep,
    )


# ---- `/` and `/wall`: the overdue line ------------------------------------------------------------------------------
def overdue_line(now=None) -> tuple[str, bool, str]:
    """(text, any overdue?, signature) of the overdue line."""
    rows = tasks.overdue(now)
    text = tasks.overdue_summary(rows)
    return text, bool(rows), repr([(r["id"], r["status"]) for r in rows])


@declared_callback(
    Output("tasks-overdue", "children"),
    Output("tasks-overdue", "className"),
    Output("tasks-overdue-shown", "data"),
    Input("page-poll", "n_intervals"),
    Input("tasks-changed", "data"),
    AFTER_THE_MAP,
    State("tasks-overdue-shown", "data"),
    prevent_initial_call=True,
    permission="view",
)
def update_page_overdue(_tick, _changed, _drawn, shown):
    text, late, key = overdue_line()
    if key == shown:
        return no_update, no_update, no_update
    return (text or "无逾期任务"), "tasks-overdue late" if late else "tasks-overdue", key


@declared_callback(
    Output("wall-tasks", "children"),
    Output("wall-tasks", "className"),
    Output("wall-tasks-shown", "data"),
    Input("data-poll", "n_intervals"),
    State("wall-tasks-shown", "data"),
    permission="wall",
)
def update_wall_overdue(_tick, shown):
    """On every tick of the wall's poll (15 s): a task is sent or answered without a new data version."""
    text, late, key = overdue_line()
    if key == shown:
        return no_update, no_update, no_update
    return text, "wall-tasks late" if late else "wall-tasks", key


# ---- `/report`: answering -----------------------------------------------------------------------------------------
def _history(task: dict) -> html.Ol:
    return html.Ol(
        className="task-history",
        children=[
            html.Li(
                [
                    html.Span(tasks.shown(e["at"]), className="task-when"),
                    " ",
                    html.Span(e["status_name"], className=f"task-ev-status status-{e['status']}"),
                    f" · {e['by']}",
                    f"：{e['note']}" if e["note"] else "",
                ]
            )
            for e in task["events"]
        ],
    )


def task_card(task: dict) -> html.Article:
    status = task["status"]
    head = [
        html.Span(task["status_name"], className=f"task-status status-{status}"),
        html.Span("逾期", className="task-late-badge") if task["overdue"] else None,
        html.Span(f"#{task['id']}", className="task-id"),
    ]
    body = [
        html.Div(className="task-card-head", children=head),
        html.H3(task["title"], className="task-what"),
        html.Div(
            className="task-meta",
            children=[
                html.Span(task["region"], className="task-region-name"),
                " · 截止 ",
                html.Span(tasks.shown(task["due_at"]), className="task-due-at"),
                f" · 派发：{task['created_by']}",
            ],
        ),
        html.P(task["detail"], className="task-detail-text") if task["detail"] else None,
        _history(task),
    ]
    steps = tasks.NEXT[status]
    if steps:
        body.append(
            html.Label(
                className="task-note",
                children=[
                    html.Span("说明（可选）"),
                    dcc.Input(
                        id={"type": "task-note", "task": task["id"]},
                        type="text",
                        maxLength=tasks.NOTE_MAX,
                        placeholder="如：已安排人员核查",
                        className="task-note-input",
                    ),
                ],
            )
        )
        body.append(
            html.Div(
                className="task-steps",
                children=[
                    html.Button(
                        tasks.STATUSES[s],
                        id={"type": "task-step", "task": task["id"], "status": s},
                        className=f"task-step step-{s}",
                        title=f"把任务 #{task['id']} 标为「{tasks.STATUSES[s]}」",
                    )
                    for s in steps
                ],
            )
        )
    klass = f"task-card task-{status}" + (" overdue" if task["overdue"] else "")
    return html.Article(className=klass, id=f"task-{task['id']}", children=body)


def report_list(scope: str | None, region: str | None = None, now=None) -> tuple[list, str, str]:
    """(cards, summary, signature) of the tasks an account of ``scope`` answers; ``region``'s first."""
    rows = tasks.list_tasks(include_done=True, scope=scope, now=now)
    if region and region != regions.province().adcode:
        rows.sort(key=lambda r: not within_scope(r["region_adcode"], region))  # stable: keeps the due order
    open_ = [r for r in rows if r["status"] != "done"]
    done = [r for r in rows if r["status"] == "done"][:20]
    key = repr([(r["id"], r["status"], r["overdue"], len(r["events"])) for r in rows])
    late = sum(r["overdue"] for r in open_)
    summary = f"未完成 {len(open_)} 项" + (f"，逾期 {late} 项" if late else "") if rows else ""
    cards = [task_card(r) for r in open_] or [html.P("暂无待办任务", className="tasks-none")]
    if done:
        cards.append(
            html.Details(
                className="tasks-done", children=[html.Summary(f"已完成 {len(done)} 项"), *[task_card(r) for r in done]]
            )
        )
    return cards, summary, key


@declared_callback(
    Output("tasks-list", "children"),
    Output("tasks-summary", "children"),
    Output("tasks-message", "children"),
    Output("tasks-shown", "data"),
    Input("tasks-region", "data"),
    Input("tasks-poll", "n_intervals"),
    Input({"type": "task-step", "task": ALL, "status": ALL}, "n_clicks"),
    State({"type": "task-note", "task": ALL}, "value"),
    State("tasks-shown", "data"),
    permission="report",
)
def update_report_tasks(region, _tick, _clicks, _notes, shown):
    trigger = ctx.triggered_id
    message = no_update
    if isinstance(trigger, dict) and trigger.get("type") == "task-step":
        if not ctx.triggered[0]["value"]:  # the list was redrawn: nothing was clicked
            raise PreventUpdate
        notes = {item["id"]["task"]: item.get("value") for item in ctx.states_list[0]}
        try:
            task = tasks.advance(
                trigger["task"],
                trigger["status"],
                notes.get(trigger["task"]),
                security.user_name(),
                scope=security.current_scope(),
                role=security.current_role(),
            )
            message = f"任务 #{task['id']} 已标为「{task['status_name']}」"
        except tasks.TaskError as err:
            message = html.Span(str(err), className="tasks-error", role="alert")
        shown = None  # redraw: the buttons of the task that moved change
    cards, summary, key = report_list(security.current_scope(), region)
    if key == shown:
        return no_update, no_update, message, no_update
    return cards, summary, message, key
