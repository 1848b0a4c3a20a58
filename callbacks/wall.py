"""Callbacks of `/wall`: poll the data version, tick the clock, rotate the panels, redraw when anything changes.
The same builders as `/` make every figure; ``figures.theme.wall`` only restyles them."""
from __future__ import annotations

import pandas as pd
from dash import Input, Output, State, callback, clientside_callback, html, no_update

from analytics.risk import LEVEL_NAMES
from callbacks.dashboard import KPI_COLUMNS, build_map, kpis, trend_figure
from callbacks.flows import flow_view
from data import flow_queries, queries, store
from figures import formatting as fmt
from figures import theme
from geo import regions
from geo.units import PROVINCE
from security.roles import requires

MAP_STEPS = ["confirmed_cum", "active", "incidence_7d_per_100k", "risk_level", "importation_risk"]
TREND_STEPS = ["region", "units", "rt"]
FLOW_STEPS = ["in", "out"]
RISING_IS_BAD = {"confirmed", "active", "new", "dead"}


@callback(Output("data-version", "data"), Input("data-poll", "n_intervals"), State("data-version", "data"))
@requires("wall")
def poll_version(_n, current):
    """The cheap poll: one indexed query; the page redraws only when the version changed."""
    version = store.data_version(store.engine())
    return no_update if version == current else version


clientside_callback(
    """function(n) {
        const d = new Date(), pad = v => String(v).padStart(2, '0');
        const week = '日一二三四五六'[d.getDay()];
        return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日 星期${week} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    }""",
    Output("wall-clock", "children"), Input("wall-clock-tick", "n_intervals"),
)

clientside_callback(
    "function(n) { return n || 0; }",
    Output("wall-step", "data"), Input("wall-rotate", "n_intervals"),
)

clientside_callback(  # the wall is designed at 1920 wide; figure type scales with the screen like the CSS does
    "function(id) { return Math.max(1, Math.round(window.innerWidth / 1920 * 100) / 100); }",
    Output("wall-scale", "data"), Input("wall-state", "data"),
)


def wall_view(state: dict, step: int, scale: float = 1.0) -> dict:
    """Everything the wall shows for a view state and rotation step (a plain function, tested without a browser)."""
    region = state["region"]
    day = state["date"] if state.get("pinned_date") else queries.view_range()[1].isoformat()
    metrics = [state["metric"]] + [m for m in MAP_STEPS if m != state["metric"]]
    metric = metrics[step % len(metrics)]
    trend_view = TREND_STEPS[step % len(TREND_STEPS)]
    direction = FLOW_STEPS[step % len(FLOW_STEPS)]
    values = kpis(region, day)
    deltas = {}
    for key, column in KPI_COLUMNS.items():
        change = values["summary"].get(f"{column}_change")
        if change is None:
            deltas[key] = ""
        elif change == 0:
            deltas[key] = html.Span("较前日 持平", className="flat")
        else:
            bad = (change > 0) == (key in RISING_IS_BAD)
            deltas[key] = html.Span(f"较前日 {'▲' if change > 0 else '▼'}{abs(change):,}",
                                    className="worse" if bad else "better")
    flow_fig, *_ = flow_view(region, day, direction, "national", "city", None)
    return {
        "kpis": values, "deltas": deltas, "day": day,
        "map": theme.wall(build_map(region, day, metric, [], palette=state.get("palette")), scale=scale),
        "trend": theme.wall(trend_figure(trend_view, region, day, [], [], state.get("palette")), scale=scale),
        "flow": theme.wall(flow_fig, 16, scale=scale),
        "risk": risk_list(day),
    }


def risk_list(day: str) -> list:
    units = queries.on_day(day, "unit")
    flagged = units[units["risk_level"].isin(["medium", "high"])].copy()
    rows = []
    if len(flagged):
        flagged["order"] = flagged["risk_level"].map({"high": 0, "medium": 1})
        for adcode, row in flagged.sort_values(["order", "new_7d"], ascending=[True, False]).iterrows():
            rows.append(html.Li(className="wall-risk-row", children=[
                html.Span(LEVEL_NAMES[row["risk_level"]], className=f"risk-badge risk-{row['risk_level']}"),
                html.Span(row["name"], className="wall-risk-name"),
                html.Span(f"近7日 {fmt.count(row['new_7d'])} 例", className="wall-risk-num")]))
        return [html.Ul(rows)]
    top = units.sort_values("new_7d", ascending=False).head(5)
    message = "全省各市（区）均为低风险" if units["risk_level"].notna().any() else "该日无风险等级数据"
    return [html.Div(message, className="wall-all-low"), html.Ul([
        html.Li(className="wall-risk-row", children=[html.Span(row["name"], className="wall-risk-name"),
                                                     html.Span(f"近7日 {fmt.count(row['new_7d'])} 例",
                                                               className="wall-risk-num")])
        for _, row in top.iterrows()])]


@callback(
    *[Output(f"kpi-{k}", "children") for k in KPI_COLUMNS], *[Output(f"kpi-{k}-delta", "children") for k in KPI_COLUMNS],
    Output("as-of", "children"), Output("region-map", "figure"), Output("trend-chart", "figure"),
    Output("flow-chart", "figure"), Output("wall-risk-list", "children"), Output("wall-fresh", "children"),
    Output("wall-foot", "children"), Output("wall-title", "children"),
    Input("data-version", "data"), Input("wall-step", "data"), Input("wall-scale", "data"),
    State("wall-state", "data"),
)
@requires("wall")
def render_wall(_version, step, scale, state):
    view = wall_view(state, step or 0, scale or 1.0)
    values = view["kpis"]
    updated = queries.last_update()
    fresh = f"数据更新于 {updated:%m月%d日 %H:%M}" if updated is not None else ""
    sources = "；".join(values["summary"]["sources"] + list(flow_queries.flow_data().sources[:1]))
    name = regions.get(state["region"]).display_name
    title = "陕西省新冠肺炎疫情态势" if state["region"] == PROVINCE else f"{name}新冠肺炎疫情态势"
    return (*[values[k] for k in KPI_COLUMNS], *[view["deltas"][k] for k in KPI_COLUMNS],
            fmt.as_of(view["day"]), view["map"], view["trend"], view["flow"], view["risk"], fresh,
            f"数据来源：{sources}", title)
