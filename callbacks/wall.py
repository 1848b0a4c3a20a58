"""Callbacks of `/wall`: poll the data version, tick the clock, rotate the panels, redraw when anything changes.
What the wall shows comes from views/wall.py (the same views as `/`, restyled by ``figures.theme.wall``); here it
is put into Dash components."""

from __future__ import annotations

from dash import Input, Output, State, clientside_callback, html, no_update

from callbacks.declare import declared_callback
from data import formatting as fmt
from data import store
from views.kpis import KPI_COLUMNS
from views.wall import wall_texts, wall_view


@declared_callback(
    Output("data-version", "data"),
    Input("data-poll", "n_intervals"),
    State("data-version", "data"),
    permission="wall",
)
def poll_version(_n, current):
    """The cheap poll: one indexed query; the page redraws only when the version changed."""
    version = store.data_version(store.engine())
    return no_update if version == current else version


clientside_callback(
    """function(n) {
        const d = new Date(), pad = v => String(v).padStart(2, '0');
        const week = '日一二三四五六'[d.getDay()];
        const time = [d.getHours(), d.getMinutes(), d.getSeconds()].map(pad).join(':');
        return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日 星期${week} ${time}`;
    }""",
    Output("wall-clock", "children"),
    Input("wall-clock-tick", "n_intervals"),
)

clientside_callback(
    "function(n) { return n || 0; }",
    Output("wall-step", "data"),
    Input("wall-rotate", "n_intervals"),
)

clientside_callback(  # the wall is designed at 1920 wide; figure type scales with the screen like the CSS does
    "function(id) { return Math.max(1, Math.round(window.innerWidth / 1920 * 100) / 100); }",
    Output("wall-scale", "data"),
    Input("wall-state", "data"),
)


def delta_span(change: dict | None):
    """A tile's change against the day before (views.wall.kpi_changes), coloured by whether it is worse."""
    return "" if change is None else html.Span(change["text"], className=change["class"])


def risk_list(risk: dict) -> list:
    """The units at risk (views.wall.risk_rows); when none is, the message and the units with the most cases."""
    if risk["message"] is None:
        return [
            html.Ul(
                [
                    html.Li(
                        className="wall-risk-row",
                        children=[
                            html.Span(row["level_name"], className=f"risk-badge risk-{row['level']}"),
                            html.Span(row["name"], className="wall-risk-name"),
                            html.Span(row["cases"], className="wall-risk-num"),
                        ],
                    )
                    for row in risk["rows"]
                ]
            )
        ]
    return [
        html.Div(risk["message"], className="wall-all-low"),
        html.Ul(
            [
                html.Li(
                    className="wall-risk-row",
                    children=[
                        html.Span(row["name"], className="wall-risk-name"),
                        html.Span(row["cases"], className="wall-risk-num"),
                    ],
                )
                for row in risk["rows"]
            ]
        ),
    ]


@declared_callback(
    *[Output(f"kpi-{k}", "children") for k in KPI_COLUMNS],
    *[Output(f"kpi-{k}-delta", "children") for k in KPI_COLUMNS],
    Output("as-of", "children"),
    Output("region-map", "figure"),
    Output("trend-chart", "figure"),
    Output("flow-chart", "figure"),
    Output("wall-risk-list", "children"),
    Output("wall-fresh", "children"),
    Output("wall-foot", "children"),
    Output("wall-title", "children"),
    Input("data-version", "data"),
    Input("wall-step", "data"),
    Input("wall-scale", "data"),
    State("wall-state", "data"),
    permission="wall",
    cache="shared",
)
def render_wall(_version, step, scale, state):
    view = wall_view(state, step or 0, scale or 1.0)
    values = view["kpis"]
    texts = wall_texts(state["region"], values["summary"])
    return (
        *[values[k] for k in KPI_COLUMNS],
        *[delta_span(view["deltas"][k]) for k in KPI_COLUMNS],
        fmt.as_of(view["day"]),
        view["map"],
        view["trend"],
        view["flow"],
        risk_list(view["risk"]),
        texts["fresh"],
        texts["sources"],
        texts["title"],
    )
