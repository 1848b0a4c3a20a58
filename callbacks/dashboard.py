"""Callbacks of `/`: thin wiring of controls -> queries -> figures. The decisions are plain functions
(``step_date``, ``picked_region``, ``kpis`` ...) so tests can call them without a browser.

Linking: a click on the map selects the region, a click on the trend sets the date, and every view follows the
controls. A date or metric change patches the map's values in place (``Patch``): the boundaries are a cached URL
and the trace structure stays, so the browser redraws colours only.
"""
from __future__ import annotations

import pandas as pd
from dash import ALL, Input, Output, Patch, State, callback, clientside_callback, ctx, html, no_update

from data import queries
from figures import formatting as fmt
from figures import maps, trends
from geo import regions
from geo.units import PROVINCE
from layouts.view_state import ViewState

KPI_COLUMNS = {"confirmed": "confirmed_cum", "active": "active", "new": "new_confirmed", "cured": "cured_cum",
               "dead": "dead_cum"}


# ---- date ---------------------------------------------------------------------------------------------------
def step_date(trigger, current: str, slider: int | None, click: dict | None, start, end) -> str:
    """The date after a control moved: prev/next a day, the slider, a click on the trend, or the dropdown."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    day = pd.Timestamp(current) if current else end
    if trigger == "date-prev":
        day -= pd.Timedelta(days=1)
    elif trigger == "date-next":
        day += pd.Timedelta(days=1)
    elif trigger == "date-slider" and slider is not None:
        day = start + pd.Timedelta(days=int(slider))
    elif trigger == "trend-chart" and click and click.get("points"):
        day = pd.Timestamp(str(click["points"][0]["x"])[:10])
    return min(max(day, start), end).date().isoformat()


@callback(
    Output("date-select", "value"), Output("date-slider", "value"),
    Input("date-select", "value"), Input("date-slider", "value"), Input("date-prev", "n_clicks"),
    Input("date-next", "n_clicks"), Input("trend-chart", "clickData"),
    prevent_initial_call=True,
)
def sync_date(current, slider, _prev, _next, click):
    data = queries.case_data()
    day = step_date(ctx.triggered_id, current, slider, click, data.start, data.end)
    index = (pd.Timestamp(day) - pd.Timestamp(data.start)).days
    return (day if day != current else no_update), (index if index != slider else no_update)


# ---- region -------------------------------------------------------------------------------------------------
def picked_region(trigger, map_click: dict | None, row_clicks) -> str | None:
    """The region a click chose: a map polygon (unit or county) or a row of the unit table."""
    if trigger == "region-map" and map_click and map_click.get("points"):
        location = map_click["points"][0].get("location")
        return str(location) if location and regions.get(str(location)) else None
    if isinstance(trigger, dict) and trigger.get("type") == "unit-row" and any(row_clicks or []):
        return trigger["index"]
    return None


@callback(
    Output("region-select", "value"),
    Input("region-map", "clickData"), Input({"type": "unit-row", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def select_region(map_click, row_clicks):
    region = picked_region(ctx.triggered_id, map_click, row_clicks)
    return region or no_update


# ---- URL ----------------------------------------------------------------------------------------------------
@callback(
    Output("url", "search"),
    Input("region-select", "value"), Input("date-select", "value"), Input("metric-select", "value"),
    Input("layer-select", "value"),
)
def write_url(region, day, metric, layers):
    return ViewState(region, day, metric, tuple(layers or ())).query()


clientside_callback(
    "function(n) { return window.location.href; }",
    Output("share-link", "content"), Input("share-link", "n_clicks"), prevent_initial_call=True,
)


# ---- KPIs and notes -----------------------------------------------------------------------------------------
def kpis(region: str, day: str) -> dict:
    """Text of each KPI tile and its change against the day before, from the same summary as the API."""
    s = queries.summary(region, day)
    missing = {"missing": fmt.MISSING, "no_data": "无数据", "out_of_range": "无数据"}.get(s["status"], fmt.MISSING)
    out = {}
    for key, column in KPI_COLUMNS.items():
        out[key] = fmt.count(s[column], missing=missing)
        change = s.get(f"{column}_change")
        out[f"{key}-delta"] = "" if change is None else f"较前日 {fmt.signed(change)}"
    if s["span_days"] and s["span_days"] > 1:
        out["new-delta"] = f"含此前{int(s['span_days']) - 1}日未上报的新增"
    if s["correction_confirmed"]:
        out["new-delta"] = f"核减订正 {s['correction_confirmed']} 例"
    out["summary"] = s
    return out


def notes(region: str, day: str, summary: dict) -> list[str]:
    """What a reader must know to read the figures right."""
    lines = []
    r = regions.get(region)
    if summary["status"] == "missing":
        lines.append(f"{r.name}{fmt.day(day)}未上报，显示为“未上报”而非 0。")
    if summary["status"] == "no_data":
        lines.append(f"{r.name}暂无分县数据：2020年通报只到市（区）一级，县级数据需通过数据导入补充。")
    if summary["basis"] and region == PROVINCE:
        lines.append(f"全省数据口径：{summary['basis']}。")
    if pd.Timestamp(day) < pd.Timestamp("2020-02-07") and region != PROVINCE:
        lines.append("2月7日前各市治愈、死亡数多只在省级通报，市级数值偏低。")
    if region in ("610400", "610500"):
        lines.append(f"{r.display_name}：按通报口径，不含单列的{ '杨凌示范区' if region == '610400' else '韩城市'}。")
    return lines


@callback(
    *[Output(f"kpi-{k}", "children") for k in KPI_COLUMNS], *[Output(f"kpi-{k}-delta", "children") for k in KPI_COLUMNS],
    Output("kpi-region", "children"), Output("as-of", "children"), Output("data-notes", "children"),
    Output("sources-text", "children"),
    Input("region-select", "value"), Input("date-select", "value"),
)
def update_kpis(region, day):
    values = kpis(region, day)
    s = values["summary"]
    return (*[values[k] for k in KPI_COLUMNS], *[values[f"{k}-delta"] for k in KPI_COLUMNS],
            regions.get(region).display_name, fmt.as_of(day), " ".join(notes(region, day, s)),
            "；".join(s["sources"]) or "无")


# ---- map ----------------------------------------------------------------------------------------------------
def map_frames(region: str, day: str):
    """The units on the day, and the counties of the selected unit (None at province level)."""
    units = queries.on_day(day, "unit")
    unit = regions.unit_of(region)
    counties = queries.on_day(day, "county", parent=unit.adcode) if unit else None
    return units, counties, unit


def build_map(region: str, day: str, metric: str, layers) -> "maps.go.Figure":
    units, counties, unit = map_frames(region, day)
    bounds = (unit or regions.province()).bounds
    facilities = queries.facilities(list(layers or []), unit.adcode if unit else None) if layers else None
    return maps.region_map(units, metric, unit.adcode if unit else PROVINCE, bounds, counties, facilities)


@callback(
    Output("region-map", "figure"),
    Input("region-select", "value"), Input("date-select", "value"), Input("metric-select", "value"),
    Input("layer-select", "value"),
)
def update_map(region, day, metric, layers):
    fig = build_map(region, day, metric, layers)
    if ctx.triggered_id in ("date-select", "metric-select"):
        return values_patch(fig)
    return fig


def values_patch(fig) -> Patch:
    """Only what a date or metric change alters: the choropleth values, hover text and colour axis."""
    patch = Patch()
    for i in (maps.TRACE_UNITS, maps.TRACE_UNITS_NODATA, maps.TRACE_COUNTIES, maps.TRACE_COUNTIES_NODATA):
        trace = fig.data[i]
        patch["data"][i]["locations"] = list(trace.locations)
        patch["data"][i]["z"] = list(trace.z)
        patch["data"][i]["customdata"] = trace.customdata if trace.customdata is not None else []
    patch["layout"]["coloraxis"] = fig.layout.coloraxis.to_plotly_json()
    return patch


# ---- trend and table ----------------------------------------------------------------------------------------
@callback(
    Output("trend-chart", "figure"),
    Input("region-select", "value"), Input("date-select", "value"),
)
def update_trend(region, day):
    if ctx.triggered_id == "date-select":  # same region: move the day marker only
        patch = Patch()
        patch["layout"]["shapes"][trends.SELECTED_SHAPE] = trends.selected_day_shape(day)
        return patch
    r = regions.get(region)
    return trends.trend(queries.region_series(region), r.display_name, day)


def unit_rows(day: str, selected: str) -> list:
    units = queries.on_day(day, "unit").sort_values("confirmed_cum", ascending=False, na_position="last")
    head = html.Thead(html.Tr([html.Th(h) for h in ("地区", "累计确诊", "现有确诊", "近7日新增", "每10万人累计")]))
    body = []
    for adcode, row in units.iterrows():
        body.append(html.Tr(className="selected" if adcode == selected else "", children=[
            html.Td(html.Button(row["name"], id={"type": "unit-row", "index": adcode}, className="row-button")),
            html.Td(fmt.count(row.get("confirmed_cum"))), html.Td(fmt.count(row.get("active"))),
            html.Td(fmt.count(row.get("new_7d"))), html.Td(fmt.rate(row.get("confirmed_per_100k"))),
        ]))
    return [html.Table(className="table", children=[head, html.Tbody(body)])]


@callback(
    Output("unit-table", "children"), Output("table-title", "children"),
    Input("region-select", "value"), Input("date-select", "value"),
)
def update_table(region, day):
    unit = regions.unit_of(region)
    return unit_rows(day, unit.adcode if unit else ""), f"各市（区）{fmt.day(day)}情况"


@callback(Output("demo-badge", "hidden"), Input("layer-select", "value"))
def demo_badge(layers):
    return not layers
