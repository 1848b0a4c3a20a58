"""Callbacks of the population-flow views on `/`: the region and date controls drive every flow view; clicking an
origin (on the flow map, in the ranking or in the matrix) highlights it across them.

The views follow only while their section is on screen and catch up when it scrolls in: ``flows-visible`` (set by
assets/dashboard.js) gates, in the browser, the region and day they get (``flows-args``), so a date step below the
fold sends no flow request and costs the browser no redraw of four charts."""
from __future__ import annotations

import pandas as pd
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from data import cache
from data import flow_queries as fq
from figures import flows as flow_figures
from figures import formatting as fmt
from geo import china, regions
from geo.units import PROVINCE
from security.roles import requires


def _places(ranking: pd.DataFrame) -> dict:
    """adcode -> (lon, lat, name) for the counterparts of a ranking."""
    out = {}
    for code, name in zip(ranking.counterpart_adcode, ranking.counterpart_name):
        place = china.get(code, "city") or china.get(code, "province")
        if place and place.lon is not None:
            out[code] = (place.lon, place.lat, name)
    return out


def flow_view(region: str, day: str, direction: str, scope: str, level: str, origin: str | None):
    """Figure, ranking rows, title and note of the main flow view."""
    focus, note = fq.focus_for(region)
    data = fq.flow_data()
    verb = "迁入来源" if direction == "in" else "迁出目的地"
    if focus is None:
        return flow_figures.no_data("人口流动", note or "无迁徙数据"), [], verb, note
    msg = outside(day)
    if msg:
        return flow_figures.no_data("人口流动", msg), [], verb, msg
    ranking = fq.ranking(focus, day, direction, level, scope)
    focus_region = regions.get(focus)
    point = (focus_region.lon, focus_region.lat)
    fig = flow_figures.flow_map(ranking, _places(ranking), focus_region.display_name, point, direction, scope, day,
                                highlight=origin, shaanxi_bounds=regions.province().bounds)
    aggregated = bool(len(ranking)) and bool(ranking["aggregated"].any())
    extra = "（按城市占比汇总到省）" if aggregated else ""
    title = f"{focus_region.display_name} {fmt.day(day)} {verb}排名{extra}"
    return fig, ranking_table(ranking, origin), title, note


def outside(day: str) -> str | None:
    """Why a flow view of this day is empty, naming the days the flow data cover; None inside them."""
    data = fq.flow_data()
    if data.start is not None and data.start <= pd.Timestamp(day) <= data.end:
        return None
    span = f"{fmt.full_day(data.start)}至{fmt.full_day(data.end)}" if data.start is not None else "无（尚未导入）"
    return f"{fmt.full_day(day)}无迁徙数据（迁徙数据覆盖 {span}）"


def ranking_table(ranking: pd.DataFrame, origin: str | None, top: int = 30) -> list:
    head = html.Thead(html.Tr([html.Th(h) for h in ("#", "地区", "所属省份", "占比%", "相对流量", "占比较7日前")]))
    body = []
    for i, row in enumerate(ranking.head(top).itertuples(), start=1):
        change = row.share_change_7d
        klass = "" if pd.isna(change) or change == 0 else ("change-up" if change > 0 else "change-down")
        body.append(html.Tr(className="highlight" if row.counterpart_adcode == origin else "", children=[
            html.Td(str(i)),
            html.Td(html.Button(row.counterpart_name, id={"type": "flow-row", "index": row.counterpart_adcode},
                                className="row-button")),
            html.Td(row.province), html.Td(f"{row.share_pct:.2f}"),
            html.Td("—" if pd.isna(row.volume) else f"{row.volume:.3f}"),
            html.Td("新进前100" if pd.isna(change) else f"{change:+.2f}", className=klass),
        ]))
    return [html.Table(className="table", children=[head, html.Tbody(body)])]


clientside_callback(
    """function(region, day, visible) {
        return visible ? [region, day] : window.dash_clientside.no_update;
    }""",
    Output("flows-args", "data"), Input("region-select", "value"), Input("view-day", "data"),
    Input("flows-visible", "data"),
)


@callback(
    Output("flow-chart", "figure"), Output("flow-table", "children"), Output("flow-table-title", "children"),
    Output("flow-note", "children"),
    Input("flows-args", "data"), Input("flow-direction", "value"), Input("flow-scope", "value"),
    Input("flow-level", "value"), Input("flow-origin", "data"),
)
@requires("view")
def update_flows(args, direction, scope, level, origin):
    if not args:
        raise PreventUpdate
    region, day = args
    return flow_view(region, day, direction, scope, level, origin)


def picked_origin(trigger, map_click, row_clicks, od_click) -> str | None:
    """The origin a click chose: a marker on the flow map, a ranking row, or a column of the matrix."""
    if trigger == "flow-chart" and map_click and map_click.get("points"):
        data = map_click["points"][0].get("customdata")
        return data[0] if isinstance(data, list) and data else None
    if isinstance(trigger, dict) and trigger.get("type") == "flow-row" and any(row_clicks or []):
        return trigger["index"]
    if trigger == "od-chart" and od_click and od_click.get("points"):
        found = china.resolve(od_click["points"][0].get("x"), level="city")
        return found.adcode if found.ok else None
    return None


@callback(
    Output("flow-origin", "data"),
    Input("flow-chart", "clickData"), Input({"type": "flow-row", "index": ALL}, "n_clicks"),
    Input("od-chart", "clickData"), State("flow-origin", "data"),
    prevent_initial_call=True,
)
@requires("view")
def select_origin(map_click, row_clicks, od_click, current):
    origin = picked_origin(ctx.triggered_id, map_click, row_clicks, od_click)
    if origin is None:
        return no_update
    return None if origin == current else origin  # a second click on the same origin clears the highlight


@callback(Output("scale-chart", "figure"), Input("flows-args", "data"))
@requires("view")
def update_scale(args):
    if not args:
        raise PreventUpdate
    region, day = args
    focus, _ = fq.focus_for(region)
    name = regions.get(focus).display_name if focus else regions.get(region).name
    return scale_view(focus, name, day)


@cache.memoize
def scale_view(focus: str | None, name: str, day: str) -> dict:
    """The scale-index chart, kept per data version in the shared cache."""
    series = fq.scale_series(focus) if focus else pd.DataFrame()
    if len(series) and not series.index.min() <= pd.Timestamp(day) <= series.index.max():
        span = f"{fmt.full_day(series.index.min())}至{fmt.full_day(series.index.max())}"
        return flow_figures.no_data(f"{name} 迁徙规模指数", f"{fmt.full_day(day)}无迁徙规模指数（覆盖 {span}）")
    return flow_figures.scale_chart(series, name, day).to_plotly_json()


def unit_names() -> dict[str, str]:
    return {u.adcode: u.name for u in regions.units()} | {PROVINCE: "陕西省（全省）"}


@callback(
    Output("od-chart", "figure"),
    Input("flows-args", "data"), Input("od-mode", "value"), Input("flow-origin", "data"),
)
@requires("view")
def update_od(args, mode, origin):
    if not args:
        raise PreventUpdate
    day = args[1]
    if msg := outside(day):
        return flow_figures.no_data("省内城市间迁入占比", msg)
    matrix = fq.od_matrix(day)
    change = matrix - fq.od_matrix(pd.Timestamp(day) - pd.Timedelta(days=7)) if mode == "change" else None
    return flow_figures.od_heatmap(matrix, unit_names(), day, change, highlight=origin)


@cache.memoize
def importation_view(region: str, day: str) -> dict:
    """The importation-risk ranking as plotly JSON, kept per data version in the shared cache."""
    if msg := outside(day):
        return flow_figures.no_data("输入风险", msg)
    risk = fq.risk_on_day(day)
    risk = risk[[c for c in risk.index if c != PROVINCE]]
    contributors = {}
    for code in risk.index:
        top = fq.top_contributors(code, day, 3)
        contributors[code] = "、".join(f"{n}（{c:.4f}）" for n, c in zip(top.counterpart_name, top.contribution))
    unit = regions.unit_of(region)
    return flow_figures.importation_chart(risk, unit_names(), day, unit.adcode if unit else None,
                                          contributors).to_plotly_json()


@callback(Output("import-chart", "figure"), Input("flows-args", "data"))
@requires("view")
def update_importation(args):
    if not args:
        raise PreventUpdate
    region, day = args
    return importation_view(region, day)
