"""Callbacks of `/report` (the form, checked as typed; the submit; the last 7 days) and of the reporting board on
`/data`, its strip on `/` and its line on `/wall`. Decisions live in data/direct_report.py and data/reporting.py."""

from __future__ import annotations

import datetime as dt
import logging

from dash import Input, Output, State, dcc, html, no_update

from callbacks.declare import AFTER_THE_MAP, declared_callback
from data import direct_report, queries, reporting
from data.catalogue import title
from data.direct_report import CUMULATIVE
from geo import regions
from layouts.report import COUNT_IDS
from security import audit, current_scope, user_name

log = logging.getLogger(__name__)
FORM = [
    State(i, "value")
    for i in ("report-region", "report-date", *COUNT_IDS, "report-revision-reason", "report-correction-reason")
]


def _when(moment: dt.datetime | None) -> str:
    return "" if moment is None else f"{moment.month}月{moment.day}日 {moment:%H:%M}"


def _day(day) -> str:
    day = reporting.as_date(day)
    return f"{day.year}年{day.month}月{day.day}日"


def _texts(counts) -> dict:
    return {COUNT_IDS[i]: v for i, v in zip(COUNT_IDS, counts)}


def check_view(chk: direct_report.Check, touched: bool, now: dt.datetime | None = None) -> list:
    """What the form says under its fields: the problems (once something was typed), else what will be stored."""
    parts = []
    if chk.decision.unchanged:  # e.g. just after a submit: nothing wrong, nothing to send
        return [html.P("该日已按所填数字上报；如需修订，请修改数字并填写修订原因。", className="note")]
    # before anything is typed, the empty fields are a hint, not an error; a wrong region or day is said at once
    shown = chk.errors if touched else [e for e in chk.errors if not e.startswith("请填写")]
    if shown:
        parts.append(html.Ul([html.Li(e) for e in shown], className="error report-errors"))
    if not touched:
        parts.append(html.P("请填写本日新增确诊、新增治愈、新增死亡（没有请填 0）。", className="note"))
    cum = chk.decision.cumulative
    if cum is not None and chk.base is not None:
        parts.append(
            html.P(
                className="report-preview",
                children=[
                    "将存为：",
                    html.B(f"{CUMULATIVE['confirmed_cum']} {cum['confirmed_cum']:,}"),
                    f"，{CUMULATIVE['cured_cum']} {cum['cured_cum']:,}，",
                    f"{CUMULATIVE['dead_cum']} {cum['dead_cum']:,}",
                    f"（此前：{CUMULATIVE['confirmed_cum']} {chk.base.confirmed_cum:,}，{chk.base.basis}）",
                    "；本次为修订" if chk.decision.revision else "",
                ],
            )
        )
    if chk.day is not None and chk.region and not chk.decision.revision:
        due = reporting.due_at(chk.day)
        if reporting.now_beijing(now) > due:
            parts.append(html.P(f"该日截止时间 {_day(due)} {due:%H:%M} 已过，提交后记为迟报。", className="note"))
    return parts


@declared_callback(
    Output("report-check", "children"),
    Output("report-revision-box", "hidden"),
    Output("report-correction-box", "hidden"),
    Output("report-submit", "disabled"),
    Input("report-region", "value"),
    Input("report-date", "value"),
    *[Input(i, "value") for i in COUNT_IDS],
    Input("report-revision-reason", "value"),
    Input("report-correction-reason", "value"),
    Input("report-saved", "data"),
    permission="report",
)
def check_form(region, day, *rest):
    *counts, revision_reason, correction_reason, _saved = rest
    chk = direct_report.check(
        region, day, _texts(counts), revision_reason or "", correction_reason or "", scope=current_scope()
    )
    touched = any((c or "").strip() for c in counts)
    return (
        check_view(chk, touched),
        not chk.decision.needs_revision_reason,
        not chk.decision.needs_correction_reason,
        not chk.ok,
    )


@declared_callback(
    Output("report-result", "children"),
    Output("report-saved", "data"),
    Input("report-submit", "n_clicks"),
    *FORM,
    State("report-saved", "data"),
    prevent_initial_call=True,
    permission="report",
)
def submit_report(n_clicks, region, day, *rest):
    *counts, revision_reason, correction_reason, saved = rest
    if not n_clicks:
        return no_update, no_update
    revision_reason, correction_reason = revision_reason or "", correction_reason or ""
    chk = direct_report.check(region, day, _texts(counts), revision_reason, correction_reason, scope=current_scope())
    try:
        done = direct_report.submit(chk, user_name(), current_scope(), revision_reason, correction_reason)
    except direct_report.Refused as refused:
        return html.P(str(refused), className="error", role="alert"), no_update
    except Exception:
        log.exception("direct report of %s for %s failed", region, day)
        return html.P(
            "保存时发生内部错误，未做任何改动；详情已写入日志，请联系管理员。", className="error", role="alert"
        ), no_update
    cum = done.cumulative
    what = f"{done.region.display_name} {_day(done.day)}：" + "，".join(
        f"{name} {cum[c]:,}" for c, name in CUMULATIVE.items()
    )
    reasons = "".join(
        f"；{name}：{text.strip()}"
        for name, text, needed in (
            ("修订原因", revision_reason, done.revision),
            ("订正原因", correction_reason, chk.decision.needs_correction_reason),
        )
        if needed and text.strip()
    )
    audit.record("report", f"{'修订' if done.revision else '直报'} 批次 {done.batch_id}：{what}{reasons}")
    return html.Div(
        className="ok",
        children=[
            html.P(
                f"已{'修订' if done.revision else '上报'}，存为批次 {done.batch_id}。{what}。看板与大屏将自动更新。"
            ),
            dcc.Link("在态势总览查看", href=f"/?region={done.region.adcode}&date={done.day.isoformat()}"),
        ],
    ), (saved or 0) + 1


@declared_callback(
    Output("report-history", "children"),
    Input("report-region", "value"),
    Input("report-date", "value"),
    Input("report-saved", "data"),
    permission="report",
)
def show_history(region, day, _saved):
    if not region or regions.get(region) is None:
        return html.P("选择地区后显示该地区近7日的上报。", className="note")
    today = reporting.today()
    try:
        last = min(dt.date.fromisoformat(str(day)[:10]), today)
    except ValueError:
        last = today
    rows = direct_report.history(region, last)
    body = [
        html.Tr(
            className=f"status-{r['status']}",
            children=[
                html.Td(f"{r['day'].month}月{r['day'].day}日"),
                html.Td("—" if r["new_confirmed"] is None else f"{r['new_confirmed']:,}"),
                html.Td("—" if r["confirmed_cum"] is None else f"{r['confirmed_cum']:,}"),
                html.Td(reporting.status_words(r)),
                html.Td(" ".join(filter(None, (_when(r["reported_at"]), r["by"])))),
            ],
        )
        for r in rows
    ]
    table = html.Table(
        className="table report-table",
        children=[
            html.Thead(
                html.Tr([html.Th(h) for h in ("日期", title("new_confirmed"), title("confirmed_cum"), "状态", "入库")])
            ),
            html.Tbody(body),
        ],
    )
    # scrolls sideways on a narrow phone: focusable, so it scrolls by keyboard too
    return html.Div(table, className="table-scroll", tabIndex="0", role="region", **{"aria-label": "近7日上报（表格）"})


# ---- the reporting board ----------------------------------------------------------------------------------------
def board_table(rows: list[dict]) -> html.Table:
    """The board as a table: region, status in words, when, by; missing rows marked (red)."""
    body = [
        html.Tr(
            className=f"status-{r['status']}" + (" past-due" if r["past_due"] else ""),
            children=[
                html.Td(r["name"] + ("" if r["level"] == "unit" else "（县区）")),
                html.Td(reporting.status_words(r), className="board-status"),
                html.Td(_when(r["reported_at"]) or ("—" if r["status"] == "missing" else "")),
                html.Td(r["by"] or "—"),
            ],
        )
        for r in rows
    ]
    return html.Table(
        className="table board-table",
        children=[html.Thead(html.Tr([html.Th(h) for h in ("地区", "状态", "入库时间", "上报人")])), html.Tbody(body)],
    )


def summary_line(day, rows: list[dict]) -> str:
    """已报 N/12, the late and the missing units (short names: 西安、宝鸡), and the deadline when it has not passed."""
    day = reporting.as_date(day)
    units = [r for r in rows if r["level"] == "unit"]
    late = [regions.get(r["adcode"]).short_name for r in units if r["status"] == "late"]
    missing = [regions.get(r["adcode"]).short_name for r in units if r["status"] == "missing"]
    text = f"{day.month}月{day.day}日日报：已报 {len(units) - len(missing)}/{len(units)}"
    if late:
        text += f"（其中迟报 {len(late)}：{'、'.join(late)}）"
    if missing:
        text += f"；未报 {len(missing)}：" + ("全部" if len(missing) == len(units) else "、".join(missing))
    if rows and not rows[0]["past_due"]:
        due = rows[0]["due_at"]
        text += f"（截止 {due.month}月{due.day}日 {due:%H:%M}，未到截止时间）"
    return text


@declared_callback(
    Output("reporting-board", "children"),
    Input("board-date", "value"),
    Input("batches-changed", "data"),
    permission="upload",
)
def show_board(day, _changed):
    try:
        chosen = dt.date.fromisoformat(str(day)[:10])
    except ValueError:
        return html.P("请选择日期。", className="note")
    rows = reporting.status(chosen)
    return [
        html.P(summary_line(chosen, rows), className="board-summary"),
        board_table(rows),
        html.P(
            f"截止时间：{reporting.deadline_text()}；随系统提供的历史数据记为已报（上报人“{reporting.HISTORY_BY}”）；"
            "已回滚的批次不计。",
            className="note",
        ),
    ]


@declared_callback(
    Output("reporting-strip", "children"),
    Output("reporting-strip", "className"),
    Input("view-day", "data"),
    Input("page-version", "data"),
    Input("page-poll", "n_intervals"),
    AFTER_THE_MAP,
    prevent_initial_call=True,
    permission="view",
)
def show_strip(day, _version, _n, _drawn=None):
    if not day:
        return no_update, no_update
    rows = reporting.status(day)
    missing = reporting.counts(rows)["missing"]
    alarm = missing and rows[0]["past_due"]
    return summary_line(day, rows), "reporting-strip" + (" has-missing" if alarm else "")


@declared_callback(
    Output("wall-reporting", "children"),
    Output("wall-reporting", "className"),
    Input("data-version", "data"),
    Input("data-poll", "n_intervals"),
    State("wall-state", "data"),
    permission="wall",
)
def show_wall_line(_version, _n, state):
    state = state or {}
    day = state["date"] if state.get("pinned_date") and state.get("date") else queries.view_range()[1].isoformat()
    rows = reporting.status(day)
    return wall_line(day, rows), "wall-reporting" + (
        " has-missing" if reporting.counts(rows)["missing"] and rows[0]["past_due"] else ""
    )


def wall_line(day, rows: list[dict]) -> str:
    """One short line for the wall: the units that have not reported the day shown, by their short names."""
    day = reporting.as_date(day)
    units = [r for r in rows if r["level"] == "unit"]
    missing = [regions.get(r["adcode"]).short_name for r in units if r["status"] == "missing"]
    if not missing:  # nothing to act on: the wall keeps its room for the risk list (the line hides when empty)
        return ""
    text = (
        f"{day.month}月{day.day}日日报 已报 {len(units) - len(missing)}/{len(units)} · 未报 {len(missing)}："
        + "、".join(missing)
    )
    if not rows[0]["past_due"]:
        text += "（未到截止时间）"
    return text
