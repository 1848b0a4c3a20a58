"""Follow-up tasks (issue 20, item 4): their places on the pages; the contents come from callbacks/tasks.py.

- ``page_section`` on `/`: the overdue line (逾期任务 N 项 and the regions) for everyone, and for who may dispatch a
  派发任务 button for the selected region and the small form that 派为任务 beside an alert also opens.
- ``tasks_panel`` on `/report`: the tasks of the account's region with 已接收 / 处理中 / 已完成 and a note.
- ``wall_line`` on `/wall`: one line of overdue tasks, refreshed on every tick of the wall's data poll.
Not pages: each page adds one of these with one line.
"""

from __future__ import annotations

from dash import dcc, html

from security import may

POLL_SECONDS = 30  # /report looks for new or changed tasks this often (and redraws only when something changed)


def tasks_panel(region: str | None) -> html.Section:
    """The tasks of the signed-in account's region (a unit's account: the unit and its counties; an unscoped one:
    all); ``region`` (the page's region) puts that region's tasks first."""
    return html.Section(
        id="tasks-panel",
        className="tasks-panel",
        **{"aria-label": "待办任务"},
        children=[
            html.Div(
                className="tasks-head",
                children=[
                    html.H2("待办任务"),
                    html.Span(id="tasks-summary", className="tasks-summary"),
                ],
            ),
            html.Div(id="tasks-message", className="tasks-message", role="status"),
            html.Div(id="tasks-list", className="tasks-list", **{"aria-live": "polite"}),
            dcc.Store(id="tasks-region", data=region),
            dcc.Store(id="tasks-shown"),  # what the list shows: a poll that finds nothing new leaves typed notes alone
            dcc.Interval(id="tasks-poll", interval=POLL_SECONDS * 1000),
        ],
    )


def page_section(may_dispatch: bool | None = None) -> html.Section:
    """`/`: the overdue line, and for a dispatcher (default: the signed-in account may ``dispatch``) the 派发任务
    button and the (hidden) form; a viewer gets neither."""
    if may_dispatch is None:
        may_dispatch = may("dispatch")
    children = [
        html.Div(
            className="tasks-bar",
            children=[
                html.Span(id="tasks-overdue", className="tasks-overdue", role="status"),
                html.Button(
                    "派发任务",
                    id="task-map-button",
                    className="small-button task-map-button",
                    title="把地图上所选地区派为任务",
                )
                if may_dispatch
                else None,
                html.Span(id="task-result", className="task-result", role="status") if may_dispatch else None,
            ],
        ),
        dcc.Store(id="tasks-overdue-shown"),
        dcc.Store(id="tasks-changed", data=0),
    ]
    if may_dispatch:
        children.append(dispatch_form())
    return html.Section(id="tasks-strip", className="tasks-strip", **{"aria-label": "任务"}, children=children)


def dispatch_form() -> html.Div:
    return html.Div(
        id="task-form",
        className="task-form",
        hidden=True,
        role="group",
        **{"aria-label": "派发任务"},
        children=[
            html.Div(
                className="task-form-row",
                children=[
                    html.Label("派给", htmlFor="task-region"),
                    dcc.Dropdown(
                        id="task-region",
                        clearable=False,
                        searchable=True,
                        className="task-region",
                        placeholder="选择市（区）或县（区）",
                    ),
                    html.Label("截止（北京时间）", htmlFor="task-due"),
                    dcc.Input(
                        id="task-due", type="text", className="task-due", placeholder="YYYY-MM-DD HH:MM", debounce=False
                    ),
                ],
            ),
            html.Div(
                className="task-form-row",
                children=[
                    html.Label("任务", htmlFor="task-title"),
                    dcc.Input(
                        id="task-title",
                        type="text",
                        className="task-title",
                        maxLength=200,
                        placeholder="做什么，如：核查发热门诊接诊情况并报告",
                    ),
                ],
            ),
            html.Div(
                className="task-form-row",
                children=[
                    html.Label("说明", htmlFor="task-detail"),
                    dcc.Textarea(
                        id="task-detail", className="task-detail", maxLength=2000, placeholder="可选：要求、联系人等"
                    ),
                ],
            ),
            html.Div(
                className="task-form-row task-form-actions",
                children=[
                    html.Button("发送", id="task-send", className="small-button task-send"),
                    html.Button("取消", id="task-cancel", className="small-button"),
                    html.Span(id="task-form-error", className="task-form-error", role="alert"),
                ],
            ),
            dcc.Store(id="task-alert"),  # the alert the form was opened from, if any
        ],
    )


def wall_line() -> html.Div:
    return html.Div(
        className="wall-tasks-box",
        children=[
            html.Div(id="wall-tasks", className="wall-tasks", title="逾期未完成的任务"),
            dcc.Store(id="wall-tasks-shown"),
        ],
    )
