"""Callbacks of the alert lists: on `/` (with 确认, refreshed with the page's own poll) and on `/wall` (read-only,
refreshed on every tick of the wall's data poll, so a batch that raises an alert shows within one poll interval).

The rows are plain functions of ``data.alerts.Current`` (``page_rows``, ``wall_rows``), tested without a browser.
"""

from __future__ import annotations

import datetime as dt

from dash import ALL, Input, Output, State, ctx, html, no_update

import security
from analytics.alerts import SEVERITY_NAMES
from callbacks.declare import AFTER_THE_MAP, declared_callback
from data import alerts
from data import formatting as fmt
from layouts.alerts import WALL_MAX

SEVERITY_CLASS = {"红": "red", "橙": "orange", "黄": "yellow"}


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored (UTC) time in the server's zone, like 数据更新于 beside it (Beijing time on the duty offices'
    servers)."""
    return moment.astimezone() if moment is not None else None


def when(moment: dt.datetime | None) -> str:
    """'12月8日 10:03'."""
    if moment is None:
        return ""
    moment = local(moment)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"


def ordered(current: alerts.Current) -> list[dict]:
    """Unacknowledged first; within each, the rules' order (most severe first)."""
    return sorted(current.alerts, key=lambda a: a["acknowledged_at"] is not None)


def signature(current: alerts.Current) -> str:
    """What the list shows, to leave it alone when a poll finds it unchanged."""
    return repr((current.day, current.error, [(a["id"], a["message"], a["acknowledged_at"]) for a in current.alerts]))


def _badge(alert: dict, klass: str) -> html.Span:
    return html.Span(
        alert["severity"],
        className=f"{klass} sev-{SEVERITY_CLASS[alert['severity']]}",
        title=SEVERITY_NAMES[alert["severity"]],
    )


def page_rows(current: alerts.Current, may_acknowledge: bool = True, may_dispatch: bool = False) -> tuple[list, str]:
    """The rows of `/`'s list and its summary line; the 确认 buttons only for who may acknowledge, the 派为任务
    buttons (callbacks/tasks.py) only for who may dispatch."""
    basis = f"据截至{fmt.full_day(current.day)}24时的数据" if current.day else "暂无病例数据"
    if current.error:
        return [html.Li(current.error, className="alert-error", role="alert")], "预警规则文件有误，未评估"
    if not current.alerts:
        return [], f"{'该日' if current.looked_back else '当前'}无预警（{basis}）"
    rows = []
    for a in ordered(current):
        acked = a["acknowledged_at"] is not None
        if current.looked_back:  # an earlier day's alerts, worked out again: nothing to acknowledge
            rows.append(
                html.Li(
                    className="alert-row",
                    children=[_badge(a, "alert-badge"), html.Span(a["message"], className="alert-message")],
                )
            )
            continue
        rows.append(
            html.Li(
                className="alert-row" + (" acked" if acked else ""),
                children=[
                    _badge(a, "alert-badge"),
                    html.Span(a["message"], className="alert-message"),
                    html.Span(f"发出 {when(a['raised_at'])}", className="alert-time"),
                    html.Span(
                        f"已确认：{a['acknowledged_by']} {when(a['acknowledged_at'])}", className="alert-ack-note"
                    )
                    if acked
                    else html.Button(
                        "确认",
                        id={"type": "alert-ack", "index": a["id"]},
                        className="small-button alert-ack",
                        title=f"确认已知悉：{a['message']}",
                    )
                    if may_acknowledge
                    else html.Span("未确认", className="alert-ack-note"),
                    html.Button(
                        "派为任务",
                        id={"type": "alert-task", "index": a["id"]},
                        className="small-button alert-task",
                        title=f"把这条预警派为任务：{a['message']}",
                    )
                    if may_dispatch and a["id"] is not None
                    else None,
                ],
            )
        )
    if current.looked_back:
        return (
            rows,
            f"回看：{len(rows)} 条（按规则以截至{fmt.full_day(current.day)}的数据回算，不保存、无需确认；"
            "最新预警见最新日期）",
        )
    return rows, f"{len(rows)} 条，未确认 {current.unacknowledged} 条（{basis}）"


def wall_rows(current: alerts.Current, limit: int = WALL_MAX) -> tuple[list, str, str]:
    """The wall's rows (at most ``limit``), the panel's title and how many more there are (另有 M 条)."""
    if current.error:
        return [html.Div("预警规则文件有误，暂未评估（详见值班视图）", className="wall-alerts-none")], "预警", ""
    if not current.alerts:
        return (
            [html.Div("该日无预警" if current.looked_back else "当前无预警", className="wall-alerts-none")],
            "预警",
            "",
        )
    shown = ordered(current)[:limit]
    items = []
    for a in shown:
        raised = local(a["raised_at"])
        items.append(
            html.Li(
                className="wall-alert" + (" acked" if a["acknowledged_at"] else ""),
                children=[
                    _badge(a, "wall-alert-badge"),
                    html.Span(
                        ("（已确认）" if a["acknowledged_at"] else "") + a["message"], className="wall-alert-msg"
                    ),
                    html.Span(
                        [f"{raised.month}月{raised.day}日", html.Br(), f"{raised:%H:%M}"] if raised else "",
                        className="wall-alert-time",
                        title="发出时间",
                    ),
                ],
            )
        )
    rest = len(current.alerts) - len(shown)
    title = f"预警 · 未确认 {current.unacknowledged} 条" if current.unacknowledged else "预警"
    if current.looked_back:
        title = f"{fmt.day(current.day)}预警（回算）"  # as short as the live title: the wall has no line to spare
    return [html.Ul(items)], title, f"另有 {rest} 条" if rest else ""


@declared_callback(
    Output("alerts-list", "children"),
    Output("alerts-summary", "children"),
    Output("alerts-shown", "data"),
    Input("page-version", "data"),
    Input("page-poll", "n_intervals"),
    Input({"type": "alert-ack", "index": ALL}, "n_clicks"),
    Input("view-day", "data"),
    AFTER_THE_MAP,
    State("alerts-shown", "data"),
    prevent_initial_call=True,
    permission="view",
)
def update_page_alerts(_version, _tick, _clicks, day, _drawn, shown):
    trigger = ctx.triggered_id
    may_acknowledge = security.may("acknowledge")
    if (
        isinstance(trigger, dict)
        and trigger.get("type") == "alert-ack"
        and ctx.triggered[0]["value"]
        and may_acknowledge
    ):
        alerts.acknowledge(trigger["index"], security.user_name())
    current = alerts.as_of(day) if day else alerts.current()  # a view of an earlier day: nothing after it
    key = signature(current)
    if key == shown:
        return no_update, no_update, no_update
    rows, summary = page_rows(current, may_acknowledge, security.may("dispatch"))
    return rows, summary, key


@declared_callback(
    Output("wall-alerts", "children"),
    Output("wall-alerts-title", "children"),
    Output("wall-alerts-more", "children"),
    Output("wall-alerts-shown", "data"),
    Input("data-poll", "n_intervals"),
    State("wall-alerts-shown", "data"),
    State("wall-state", "data"),
    permission="wall",
)
def update_wall_alerts(_tick, shown, state=None):
    pinned = state and state.get("pinned_date") and state.get("date")
    current = alerts.as_of(pinned) if pinned else alerts.current()  # a wall pinned to a day shows nothing later
    key = signature(current)
    if key == shown:
        return no_update, no_update, no_update, no_update
    return (*wall_rows(current), key)
