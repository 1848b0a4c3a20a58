"""`/wall`: the leadership wall screen. Dark, high contrast, no controls, fills 1920x1080 exactly (and 3840x2160 by
CSS zoom 2, so a 4K wall shows the same layout at twice the size). The same URL parameters as `/` pin the view;
``?rotate=SECONDS`` cycles the panels through map metrics, trend views and flow directions. The page polls the
data version and redraws itself when new data arrive, without a reload."""

from __future__ import annotations

import dash
from dash import dcc, html

from data import formatting as fmt
from data import queries
from data.catalogue import title
from layouts import alerts as alert_list
from layouts import tasks as task_parts
from layouts import view_state
from views.kpis import KPI_COLUMNS

dash.register_page(__name__, path="/wall", draws_charts=True, title="陕西省疫情态势 · 大屏", name="大屏")

KPIS = [(key, title(column)) for key, column in KPI_COLUMNS.items()]
STATIC = {"displayModeBar": False, "staticPlot": False, "scrollZoom": False}
POLL_SECONDS = 15


def layout(**query) -> html.Div:
    start, end = queries.view_range()
    state = view_state.parse(query, start, end)
    try:
        rotate = max(5, int(query.get("rotate", 0))) if query.get("rotate") else 0
    except ValueError:
        rotate = 0
    return html.Div(
        className="wall",
        children=[
            dcc.Store(
                id="wall-state",
                data={
                    "region": state.region,
                    "date": state.date,
                    "metric": state.metric,
                    "pinned_date": "date" in query,
                    "palette": state.palette,
                },
            ),
            dcc.Store(id="data-version"),
            dcc.Store(id="wall-step", data=0),
            dcc.Store(id="wall-scale"),
            dcc.Interval(id="data-poll", interval=POLL_SECONDS * 1000),
            dcc.Interval(id="wall-rotate", interval=(rotate or 3600) * 1000, disabled=not rotate),
            dcc.Interval(id="wall-clock-tick", interval=1000),
            html.Header(
                className="wall-head",
                children=[
                    html.H1(id="wall-title", children="陕西省新冠肺炎疫情态势"),
                    html.Div(id="as-of", className="wall-asof", children=fmt.as_of(state.date)),
                    task_parts.wall_line(),
                    html.Div(id="wall-clock", className="wall-clock"),
                    html.Div(id="wall-fresh", className="wall-fresh"),
                ],
            ),
            html.Section(
                className="wall-kpis",
                children=[
                    html.Div(
                        className="wall-kpi",
                        children=[
                            html.Div(label, className="wall-kpi-label"),
                            html.Div("–", id=f"kpi-{key}", className="wall-kpi-value"),
                            html.Div("", id=f"kpi-{key}-delta", className="wall-kpi-delta"),
                        ],
                    )
                    for key, label in KPIS
                ],
            ),
            html.Main(
                className="wall-main",
                children=[
                    html.Div(
                        className="wall-panel wall-map",
                        children=[
                            dcc.Graph(id="region-map", config=STATIC, responsive=True, style={"height": "100%"}),
                        ],
                    ),
                    html.Div(
                        className="wall-col",
                        children=[
                            html.Div(
                                className="wall-panel",
                                children=[
                                    dcc.Graph(
                                        id="trend-chart", config=STATIC, responsive=True, style={"height": "100%"}
                                    )
                                ],
                            ),
                            html.Div(
                                className="wall-panel",
                                children=[
                                    dcc.Graph(id="flow-chart", config=STATIC, responsive=True, style={"height": "100%"})
                                ],
                            ),
                        ],
                    ),
                    html.Div(
                        className="wall-panel wall-risk",
                        children=[
                            html.Div(
                                id="wall-reporting", className="wall-reporting"
                            ),  # 日报未报的市（区）: callbacks/report.py
                            alert_list.wall_panel(),
                            html.H2("中高风险地区 · 近7日新增"),
                            html.Div(id="wall-risk-list"),
                            html.Div(id="wall-alert-note", className="wall-note"),
                        ],
                    ),
                ],
            ),
            html.Footer(id="wall-foot", className="wall-foot"),
        ],
    )
