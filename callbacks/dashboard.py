"""Callbacks of `/`: thin wiring of controls -> queries -> figures. The decisions are plain functions
(``picked_region``, ``kpis`` ...) so tests can call them without a browser.

Linking: a click on the map selects the region, a click on the trend sets the date, and every view follows the
controls. A date or metric change patches the map's values in place (``Patch``): the boundaries are a cached URL
and the trace structure stays, so the browser redraws colours only.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
import uuid

import pandas as pd
from dash import ALL, ClientsideFunction, Input, Output, Patch, State, callback, clientside_callback, ctx, html, no_update

from analytics import growth, risk, rt
from analytics.coverage import DEFAULT_DISTANCE_KM
from analytics import forecast as forecast_model
from data import cache, forecasts, queries, resources, store
from figures import formatting as fmt
from figures import maps, tables, trends
from geo import regions
from geo.units import PROVINCE
from layouts.view_state import ViewState
from security.roles import requires

KPI_COLUMNS = {"confirmed": "confirmed_cum", "active": "active", "new": "new_confirmed", "cured": "cured_cum",
               "dead": "dead_cum"}


def only_triggered_by(*ids: str) -> bool:
    """True when every input that fired is one of these (a partial update is then enough); False on first load."""
    fired = {key.rsplit(".", 1)[0] for key in (ctx.triggered_prop_ids or {})}
    return bool(fired) and fired <= set(ids)


# ---- date ---------------------------------------------------------------------------------------------------
# Prev/next, the slider, a click on the trend and the dropdown keep each other in step in the browser
# (assets/dashboard.js): no request before the views can start to follow.
clientside_callback(
    ClientsideFunction("dashboard", "syncDate"),
    Output("date-select", "value"), Output("date-slider", "value"),
    Input("date-select", "value"), Input("date-slider", "value"), Input("date-prev", "n_clicks"),
    Input("date-next", "n_clicks"), Input("trend-chart", "clickData"), State("date-select", "options"),
    State("map-days", "data"), State("region-select", "value"), State("metric-select", "value"),
    prevent_initial_call=True,
)


# ---- region -------------------------------------------------------------------------------------------------
def picked_region(trigger, map_click: dict | None, row_clicks, order: list[str] | None = None) -> str | None:
    """The region a click chose: a map polygon (unit or county) or a row of the unit table (rows are by position;
    ``order`` gives the adcode shown in each)."""
    if trigger == "region-map" and map_click and map_click.get("points"):
        location = map_click["points"][0].get("location")
        return str(location) if location and regions.get(str(location)) else None
    if isinstance(trigger, dict) and trigger.get("type") == "unit-row" and any(row_clicks or []):
        index = trigger["index"]
        return order[index] if order and 0 <= index < len(order) else None
    return None


@callback(
    Output("region-select", "value"),
    Input("region-map", "clickData"), Input({"type": "unit-row", "index": ALL}, "n_clicks"),
    State("unit-order", "data"),
    prevent_initial_call=True,
)
@requires("view")
def select_region(map_click, row_clicks, order):
    region = picked_region(ctx.triggered_id, map_click, row_clicks, order)
    return region or no_update


@callback(Output("page-version", "data"), Input("page-poll", "n_intervals"), State("page-version", "data"),
          prevent_initial_call=True)
@requires("view")
def poll_page_version(_n, current):
    """A cheap poll (one indexed query); the views redraw only when a batch was added or rolled back."""
    version = store.data_version(store.engine())
    return no_update if version == current else version


# ---- URL ----------------------------------------------------------------------------------------------------
@callback(
    Output("url", "search"),
    Input("region-select", "value"), Input("view-day", "data"), Input("metric-select", "value"),
    Input("layer-select", "value"), Input("trend-view", "value"), Input("trend-options", "value"),
    Input("compare-select", "value"), Input("flow-direction", "value"), Input("flow-scope", "value"),
    Input("flow-level", "value"), Input("coverage-distance", "value"), Input("palette-select", "value"),
)
@requires("view")
def write_url(region, day, metric, layers, trend, options, compare, flow, scope, flow_level, distance_km=None,
              palette=None):
    return ViewState(region, day, metric, tuple(layers or ()), trend or "region", tuple(options or ()),
                     tuple(compare or ()) if trend == "compare" else (), flow, scope, flow_level,
                     int(distance_km or DEFAULT_DISTANCE_KM), palette or "standard").query()


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
        if s["status"] == "reported" and s[column] is None:  # reported, but its source has no such count
            out[key], out[f"{key}-delta"] = "—", "病例个案不含治愈、死亡" if (s["basis"] or "").startswith("病例个案") else "来源未报此项"
    if s["span_days"] and s["span_days"] > 1:
        out["new-delta"] = f"含此前{int(s['span_days']) - 1}日未上报的新增"
    if s["correction_confirmed"]:
        out["new-delta"] = f"核减订正 {s['correction_confirmed']} 例"
    if s.get("cumulative_from"):  # a later wave's case lists count from their first day, not from 2020
        out["confirmed-delta"] = f"自{fmt.full_day(s['cumulative_from'])}起 " + out["confirmed-delta"]
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
    if summary["basis"] and (region == PROVINCE or summary["basis"] != queries.BASIS["own_row"]):
        lines.append(f"{'全省' if region == PROVINCE else r.name}数据口径：{summary['basis']}。")
    if summary.get("cumulative_from"):
        lines.append(f"累计数自{fmt.full_day(summary['cumulative_from'])}起计（此前的数字属于更早的疫情，见趋势图）。")
    zones = queries.zones_on_day(region, day) if r.level == "unit" else []
    if zones:
        lines.append("其中功能区（累计）：" + "、".join(f"{name} {fmt.count(n)} 例" for name, n in zones) + "。")
    if pd.Timestamp(day) < pd.Timestamp("2020-02-07") and region != PROVINCE:
        lines.append("2月7日前各市治愈、死亡数多只在省级通报，市级数值偏低。")
    if region in ("610400", "610500"):
        lines.append(f"{r.display_name}：按通报口径，不含单列的{ '杨凌示范区' if region == '610400' else '韩城市'}。")
    return lines


@callback(
    *[Output(f"kpi-{k}", "children") for k in KPI_COLUMNS], *[Output(f"kpi-{k}-delta", "children") for k in KPI_COLUMNS],
    Output("kpi-region", "children"), Output("as-of", "children"), Output("data-notes", "children"),
    Output("sources-text", "children"),
    Input("region-select", "value"), Input("view-day", "data"), Input("page-version", "data"),
)
@requires("view")
def update_kpis(region, day, _version=None):
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


def build_map(region: str, day: str, metric: str, layers, distance_km: float = DEFAULT_DISTANCE_KM,
              palette: str | None = None) -> dict:
    units, counties, unit = map_frames(region, day)
    bounds = (unit or regions.province()).bounds
    kinds = [k for k in layers or [] if k in maps.FACILITY_STYLE]
    facilities = queries.facilities(kinds, unit.adcode if unit else None) if kinds else None
    gaps = None
    if maps.GAP_LAYER in (layers or []):
        covered = resources.coverage(distance_km)
        gaps = maps.gap_trace(resources.gaps_url(distance_km), covered.counties, distance_km, covered.demo)
    return maps.region_map(units, metric, unit.adcode if unit else PROVINCE, bounds, counties, facilities, gaps=gaps,
                           palette=palette)


@cache.memoize
def shared_map(region: str, day: str, metric: str, layers: tuple, distance_km: float = DEFAULT_DISTANCE_KM,
               palette: str | None = None) -> dict:
    """build_map, kept per data version in the shared cache: the wall, dozens of officers and the replays of a
    benchmark ask for the same few views; each is built once."""
    return build_map(region, day, metric, layers, distance_km, palette)


@callback(
    Output("region-map", "figure"),
    Input("region-select", "value"), Input("metric-select", "value"), Input("layer-select", "value"),
    Input("page-version", "data"), Input("map-day-missed", "data"), Input("coverage-distance", "value"),
    Input("palette-select", "value"), State("date-select", "value"),
)
@requires("view")
def update_map(region, metric, layers, _version=None, _missed=None, distance_km=None, palette=None, day=None):
    """The map for the view. A date step does not come here: the browser recolours the map from ``map-days``
    (assets/dashboard.js, stepMap) and asks here, through ``map-day-missed``, only when it has not got that day.
    A palette change sends the new colours only (the date step keeps the colour scale drawn)."""
    fig = shared_map(region, day, metric, tuple(layers or ()), float(distance_km or DEFAULT_DISTANCE_KM), palette)
    if only_triggered_by("map-day-missed", "metric-select"):
        return values_patch(fig)
    if only_triggered_by("palette-select"):
        return colour_patch(fig)
    return fig


MAP_DAY_TRACES = (maps.TRACE_UNITS, maps.TRACE_UNITS_NODATA, maps.TRACE_COUNTIES, maps.TRACE_COUNTIES_NODATA)


def day_values(fig: dict) -> list:
    """What a date step changes in the map: each choropleth's locations, values and hover text, and the colour
    axis (the same parts ``values_patch`` sends)."""
    return [[fig["data"][i][k] for k in ("locations", "z", "customdata")] for i in MAP_DAY_TRACES] \
        + [fig["layout"]["coloraxis"]]


def clean_block(block) -> int:
    """The block of days (``maps.DAY_BLOCK`` long, counted from the first day of the view range) a request asks
    for, kept inside the range; the last block (the latest day's, the default view) when it makes no sense."""
    start, end = queries.view_range()
    last = (end - start).days // maps.DAY_BLOCK
    index = block.get("index") if isinstance(block, dict) else block
    return min(max(index, 0), last) if isinstance(index, int) and not isinstance(index, bool) else last


@cache.memoize
def map_days(region: str, metric: str, block: int) -> dict:
    """The map's day values for the days around the chosen one (its block of ``maps.DAY_BLOCK`` days and the
    blocks either side: a step into the next block still finds its day while the page asks for the next window),
    built with the same code as the map itself; kept per data version. A window, not the whole range: three years
    of a city's days were 9 MB and 9 s to build at scale, too big to keep in the shared cache. Days with the same
    values share one entry of ``frames`` (``days``: day -> its index): after an outbreak most days repeat."""
    unit = regions.unit_of(region)
    bounds = (unit or regions.province()).bounds
    start, _ = queries.view_range()
    first = start + dt.timedelta(days=(block - 1) * maps.DAY_BLOCK)
    window = {"first": first, "last": first + dt.timedelta(days=3 * maps.DAY_BLOCK - 1),
              "columns": maps.columns_for(metric)}
    frames, seen, days = [], {}, {}
    county_days = (queries.on_days("county", parent=unit.adcode, **window) if unit
                   else itertools.repeat((None, None)))
    for (day, units), (_, counties) in zip(queries.on_days("unit", **window), county_days):
        values = day_values(maps.region_map(units, metric, unit.adcode if unit else PROVINCE, bounds, counties))
        days[day] = seen.setdefault(repr(values), len(frames))
        if days[day] == len(frames):
            frames.append(values)
    return {"key": f"{region}|{metric}", "block": block, "frames": frames, "days": days}


@callback(
    Output("map-days", "data"),
    Input("region-select", "value"), Input("metric-select", "value"), Input("map-days-block", "data"),
    Input("page-version", "data"),
)
@requires("view")
def update_map_days(region, metric, block, _version=None):
    return map_days(region, metric, clean_block(block))


# The block of days the page holds day values for follows the slider (the day's index in the range), in the
# browser: a request only when the day moves into another block.
clientside_callback(
    """function(index, block) {
        const at = Math.floor((index || 0) / block.size);
        return at === block.index ? window.dash_clientside.no_update : Object.assign({}, block, {index: at});
    }""",
    Output("map-days-block", "data"), Input("date-slider", "value"), State("map-days-block", "data"),
    prevent_initial_call=True,
)


clientside_callback(
    ClientsideFunction("dashboard", "stepMap"),
    Output("map-day-missed", "data"),
    Input("date-select", "value"), State("map-days", "data"), State("region-select", "value"),
    State("metric-select", "value"),
    prevent_initial_call=True,
)


# After a zoom or pan, the page reports the map's visible box (MapLibre knows it; plotly's relayoutData has only
# centre and zoom), and the facility layers are redrawn for it: clusters coarse to fine, then single points.
clientside_callback(
    """function(relayout) {
        const gd = document.querySelector('#region-map .js-plotly-plot');
        const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
        if (!sub || !relayout || !Object.keys(relayout).some(k => k.startsWith('map.'))) {
            return window.dash_clientside.no_update;
        }
        const b = sub.map.getBounds();
        return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(v => Math.round(v * 1e4) / 1e4);
    }""",
    Output("map-bounds", "data"), Input("region-map", "relayoutData"), prevent_initial_call=True,
)


@callback(
    Output("region-map", "figure", allow_duplicate=True),
    Input("map-bounds", "data"), State("region-select", "value"), State("layer-select", "value"),
    prevent_initial_call=True,
)
@requires("view")
def refine_facilities(bounds, region, layers):
    kinds = [k for k in layers or [] if k in maps.FACILITY_STYLE]
    if not kinds or not bounds:
        return no_update
    unit = regions.unit_of(region)
    frame = queries.facilities(kinds, unit.adcode if unit else None)
    first = maps.TRACE_SELECTED + 1 + (maps.GAP_LAYER in layers)  # the uncovered area comes before the points
    patch = Patch()
    for i, trace in enumerate(maps.facility_traces(frame, tuple(bounds))):
        patch["data"][first + i] = trace
    return patch


def colour_patch(fig: dict) -> Patch:
    """Only what a palette change alters: each trace's marker, line and fill colours, the colour axis, and the
    shapes and annotations (reference lines). The data stay in the browser."""
    patch = Patch()
    for i, trace in enumerate(fig["data"]):
        for key in ("marker", "line", "fillcolor"):
            if key in trace:
                patch["data"][i][key] = trace[key]
    layout = fig.get("layout", {})
    for key in ("coloraxis", "shapes", "annotations"):
        if key in layout:
            patch["layout"][key] = layout[key]
    return patch


def values_patch(fig: dict) -> Patch:
    """Only what a date or metric change alters: the choropleth values, hover text and colour axis."""
    patch = Patch()
    *traces, coloraxis = day_values(fig)
    for i, values in zip(MAP_DAY_TRACES, traces):
        for key, value in zip(("locations", "z", "customdata"), values):
            patch["data"][i][key] = value
    patch["layout"]["coloraxis"] = coloraxis
    return patch


# ---- trend and table ----------------------------------------------------------------------------------------
def trend_figure(view: str, region: str, day: str, options, compare, palette: str | None = None,
                 clip: bool = True) -> "trends.go.Figure":
    """The trend view chosen in ``trend-view``, for the region (or regions) and day, in the palette. ``clip``: the
    data end on the day (the wall, the briefing); `/` takes every day and hides the later ones in the browser."""
    log, per100k = "log" in (options or []), "per100k" in (options or [])
    name = regions.get(region).display_name
    if view == "units":
        units = sorted(regions.units(), key=lambda r: r.adcode)
        frames = {u.adcode: queries.region_series(u.adcode) for u in units}
        frames = {c: f.loc["2020-01-20":] for c, f in frames.items() if f is not None}
        return trends.small_multiples(frames, {u.adcode: u.display_name for u in units}, day, log, per100k, palette,
                                      clip=clip)
    if view == "compare":
        codes = [c for c in dict.fromkeys(compare or []) if regions.get(c)]
        frames = {c: queries.region_series(c) for c in codes}
        frames = {c: f for c, f in frames.items() if f is not None}
        return trends.comparison(frames, {c: regions.get(c).display_name for c in frames}, day, log, per100k,
                                 clip=clip)
    if view == "rt":
        return trends.rt_chart(queries.region_series(region), name, day, palette, clip=clip)
    return trends.trend(queries.region_series(region), name, day, log=log, per100k=per100k, palette=palette,
                        clip=clip, fan=forecast_fan(region, day))


def forecast_fan(region: str, day: str) -> pd.DataFrame | None:
    """The ensemble forecast made on ``day`` for the region (None: nothing to forecast from)."""
    made = forecasts.forecast(region, day)
    return None if made is None else made["ensemble"]


@cache.memoize
def shared_trend(view: str, region: str, day: str, options: tuple, compare: tuple, palette: str | None = None) -> dict:
    """trend_figure as plotly JSON with every day (the page hides those after the day shown: dashboard.js
    clipTrend), kept per data version in the shared cache (see shared_map). ``figure_key`` tells the page a figure
    from one it has already clipped."""
    figure = trend_figure(view, region, day, options, compare, palette, clip=False).to_plotly_json()
    figure["layout"]["meta"] = {**(figure["layout"].get("meta") or {}), "figure_key": uuid.uuid4().hex, "day": day}
    return figure


TREND_NOTES = {
    "region": "点击柱形可将该日设为当前日期；▼为核减订正，×为未上报；紫色虚线与阴影为预测（中位数、50%与90%区间）。",
    "units": "各市（区）共用纵轴，便于比较大小；点击任一小图的某日可设为当前日期。",
    "compare": "各地区每日新增的7日平均；勾选“每10万人”按常住人口比较。",
    "rt": f"Rt：Cori 等（2013）方法，{rt.WINDOW}日滑动窗口，先验均值5、标准差5；{rt.SI_SOURCE}；"
          f"窗口内病例少于{rt.MIN_CASES}例不估计；按报告日计，较感染时间滞后。绿线为 Rt=1。",
}


@callback(
    Output("trend-chart", "figure"), Output("trend-note", "children"),
    Input("region-select", "value"), Input("trend-view", "value"), Input("trend-options", "value"),
    Input("compare-select", "value"), Input("page-version", "data"), Input("palette-select", "value"),
    State("date-select", "value"),
)
@requires("view")
def update_trend(region, view, options, compare, _version=None, palette=None, day=None):
    """The trend view. A date step only moves the day marker and hides the days after it, in the browser
    (assets/dashboard.js stepTrend, clipTrend); a palette change sends the new colours only."""
    fig = shared_trend(view, region, day, tuple(options or ()), tuple(compare or ()), palette)
    if only_triggered_by("palette-select"):
        return colour_patch(fig), no_update
    return fig, trend_note(view)


def trend_note(view: str):
    """The note under the trend; the single-region view says how its forecast is made, one click away."""
    note = TREND_NOTES.get(view, "")
    if view not in (None, "region"):
        return note
    return [note, html.Details(className="forecast-method", children=[
        html.Summary("预测方法与检验"), html.P(forecast_model.METHOD),
        html.A("各模型回测成绩（模型评估）", href="/models")])]


@callback(
    Output("trend-forecast", "data"),
    Input("view-day", "data"), State("region-select", "value"), State("trend-view", "value"),
    State("trend-options", "value"),
    prevent_initial_call=True,
)
@requires("view")
def forecast_on_day(day, region, view, options):
    """The fan of the day shown, as the values the trend's forecast traces take (a date step; a new trend figure
    brings its own): {day, x, median, lower_50, ...}, per 100,000 and without zeros on a log axis as the chart."""
    if view not in (None, "region") or not day:
        return no_update
    fan = forecast_fan(region, day)
    per100k, log = "per100k" in (options or []), "log" in (options or [])
    scale = 100_000 / regions.get(region).population if per100k else 1.0
    out = {"day": day, "x": [] if fan is None else [d.date().isoformat() for d in fan.index]}
    for field in forecast_model.FIELDS:
        values = [] if fan is None else (fan[field] * scale).tolist()
        out[field] = [None if log and v <= 0 else v for v in values]
    return out


clientside_callback(
    ClientsideFunction("dashboard", "showForecast"),
    Output("trend-forecast-shown", "data"), Input("trend-forecast", "data"),
    prevent_initial_call=True,
)


clientside_callback(  # a figure from the server shows nothing after the day shown, once drawn
    ClientsideFunction("dashboard", "clipNewTrend"),
    Output("trend-clipped", "data"), Input("trend-chart", "figure"), State("view-day", "data"),
    State("trend-view", "value"),
)
clientside_callback(
    ClientsideFunction("dashboard", "stepTrend"),
    Output("trend-day", "data"),  # the day the marker was moved to
    Input("view-day", "data"), State("trend-view", "value"),
    prevent_initial_call=True,
)


# ---- playback -----------------------------------------------------------------------------------------------
clientside_callback(
    ClientsideFunction("dashboard", "togglePlay"),
    Output("play-tick", "disabled"), Output("play-tick", "interval"), Output("play-toggle", "children"),
    Output("play-toggle", "aria-pressed"), Output("date-select", "value", allow_duplicate=True),
    Input("play-toggle", "n_clicks"), Input("play-speed", "value"),
    State("play-tick", "disabled"), State("date-select", "value"), State("date-select", "options"),
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("dashboard", "playStep"),
    Output("date-select", "value", allow_duplicate=True),
    Input("play-tick", "n_intervals"), State("date-select", "value"), State("date-select", "options"),
    prevent_initial_call=True,
)


@callback(Output("compare-box", "hidden"), Input("trend-view", "value"))
@requires("view")
def show_compare(view):
    return view != "compare"


# ---- assessment ---------------------------------------------------------------------------------------------
def assessment(region: str, day: str) -> dict[str, dict]:
    """The judgement strip: Rt, growth, risk level, days since the last case, each with how it was made.

    The strip is a fixed set of parts (layouts.dashboard.assessment_skeleton); this gives each part's text, whether
    it is hidden and its class, so a date step changes text only."""
    s = queries.summary(region, day)
    parts = {name: {"children": "", "hidden": True, "className": klass}
             for name, klass in ASSESSMENT_PARTS.items()}

    def show(name, text="", klass=None):
        parts[name].update(children=text, hidden=False, **({"className": klass} if klass else {}))

    if s["status"] in ("no_data", "missing"):
        show("none")
        return parts
    show("rt")
    if s["rt"] is not None:
        show("rt-value", fmt.rate(s["rt"]))
        show("rt-why", f"（95%可信区间 {fmt.rate(s['rt_low'])}–{fmt.rate(s['rt_high'])}） 近{rt.WINDOW}日{s['rt_cases_in_window']}例")
    else:
        show("rt-value", "不估计")
        show("rt-why", f" 近{rt.WINDOW}日病例少于{rt.MIN_CASES}例")
    for key, label in (("doubling_time_days", "倍增时间"), ("halving_time_days", "减半时间")):
        if s[key] is not None:
            show("growth"), show("growth-label", f"{label} "), show("growth-value", f"{s[key]:.1f} 天")
            show("growth-why", f" 近{growth.WINDOW}日对数线性拟合（起始阶段用近{growth.YOUNG_WINDOW}日）")
            break
    if s.get("growth_trend") == "stable":  # a doubling time of a year says nothing; say what the fit shows
        show("growth"), show("growth-label", "增长趋势 "), show("growth-value", "稳定")
        show("growth-why", f" 日增长率在 ±{growth.STABLE_RATE:.1%} 以内（倍增或减半慢于60天）")
    if region == PROVINCE:  # the rule grades counties and cities; for the province, count its units
        levels = queries.on_day(day, "unit")["risk_level"].value_counts()
        show("risk"), show("risk-label", "各市（区）风险 ")
        for level in risk.LEVELS:
            show(f"badge-{level}", f"{risk.LEVEL_NAMES[level]} {int(levels.get(level, 0))}", f"risk-badge risk-{level}")
    elif s["risk_level"]:
        show("risk"), show("risk-label", "风险等级 ")
        show(f"badge-{s['risk_level']}", risk.LEVEL_NAMES[s["risk_level"]], f"risk-badge risk-{s['risk_level']}")
    if not parts["risk"]["hidden"]:
        show("risk-why", f" {risk.RULE_TEXT}")
    if s["days_since_last_case"] is not None:
        show("last"), show("last-value", f"{s['days_since_last_case']} 天")
    return parts


# part -> its class. Items ({"type": "assess-item"}) hold the parts ({"type": "assess"}) and are only shown or
# hidden; parts get text, visibility and class (layouts.dashboard.assessment_skeleton).
ASSESSMENT_ITEMS = ("rt", "growth", "risk", "last", "none")
ASSESSMENT_PARTS = {
    "rt": "item", "rt-value": "value", "rt-why": "why",
    "growth": "item", "growth-label": "", "growth-value": "value", "growth-why": "why",
    "risk": "item", "risk-label": "", **{f"badge-{level}": "risk-badge" for level in reversed(risk.LEVELS)},
    "risk-why": "why", "last": "item", "last-value": "value", "none": "item",
}


@callback(
    Output({"type": "assess-item", "part": ALL}, "hidden"),
    Output({"type": "assess", "part": ALL}, "children"), Output({"type": "assess", "part": ALL}, "hidden"),
    Output({"type": "assess", "part": ALL}, "className"),
    Input("region-select", "value"), Input("view-day", "data"), Input("page-version", "data"))
@requires("view")
def update_assessment(region, day, _version=None):
    parts = assessment(region, day)
    items = [o["id"]["part"] for o in ctx.outputs_list[0]]
    names = [o["id"]["part"] for o in ctx.outputs_list[1]]
    return ([parts[n]["hidden"] for n in items], [parts[n]["children"] for n in names],
            [parts[n]["hidden"] for n in names], [parts[n]["className"] for n in names])


def ranking_cells(day: str, selected: str, column: str, ascending: bool) -> dict:
    """The units on the day, sorted, as the text of the ranking grid (layouts.dashboard.ranking_skeleton):
    the adcode of each row, its name and class, each cell's text keyed (row, column), and the header labels."""
    units = tables.sort_ranking(queries.on_day(day, "unit"), column, ascending)
    arrow = "▲" if ascending else "▼"
    cells = {}
    for i, (_, row) in enumerate(units.iterrows()):
        missing = fmt.MISSING if row.get("status") == "missing" else "无数据"
        for c, (_, formatter) in tables.RANKING_COLUMNS.items():
            cells[(i, c)] = formatter(row.get(c), missing=missing)
    heads = {"name": "地区"} | {c: header for c, (header, _) in tables.RANKING_COLUMNS.items()}
    return {
        "order": list(units.index), "names": list(units["name"]), "cells": cells,
        "row_class": ["selected" if adcode == selected else "" for adcode in units.index],
        "heads": {c: f"{header}{arrow if c == column else ''}" for c, header in heads.items()},
        "aria_sort": {c: ("ascending" if ascending else "descending") if c == column else "none" for c in heads},
    }


def next_sort(current: dict, column: str) -> dict:
    """Clicking the sorted column flips the order; another column sorts descending (largest first)."""
    if current and current.get("column") == column:
        return {"column": column, "ascending": not current.get("ascending")}
    return {"column": column, "ascending": column == "name"}


@callback(
    Output("table-sort", "data"),
    Input({"type": "sort", "index": ALL}, "n_clicks"), State("table-sort", "data"),
    prevent_initial_call=True,
)
@requires("view")
def sort_table(clicks, current):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    return next_sort(current, ctx.triggered_id["index"])


@callback(
    Output("unit-order", "data"), Output({"type": "unit-row", "index": ALL}, "children"),
    Output({"type": "rank-tr", "index": ALL}, "className"),
    Output({"type": "rank-cell", "row": ALL, "col": ALL}, "children"),
    Output({"type": "sort", "index": ALL}, "children"), Output({"type": "sort-th", "index": ALL}, "aria-sort"),
    Output("table-title", "children"),
    Input("region-select", "value"), Input("view-day", "data"), Input("table-sort", "data"),
    Input("page-version", "data"),
)
@requires("view")
def update_table(region, day, sort, _version=None):
    unit = regions.unit_of(region)
    sort = sort or {"column": "confirmed_cum", "ascending": False}
    t = ranking_cells(day, unit.adcode if unit else "", sort["column"], sort["ascending"])
    rows, cells, heads, aria = (ctx.outputs_list[i] for i in (1, 3, 4, 5))  # in the page's order of the ids
    return (t["order"], [t["names"][o["id"]["index"]] for o in rows], t["row_class"],
            [t["cells"][(o["id"]["row"], o["id"]["col"])] for o in cells],
            [t["heads"][o["id"]["index"]] for o in heads], [t["aria_sort"][o["id"]["index"]] for o in aria],
            f"各市（区）{fmt.day(day)}排名")


@callback(
    Output("table-download", "data"),
    Input("table-download-button", "n_clicks"), Input("table-download-xlsx", "n_clicks"),
    State("date-select", "value"), State("table-sort", "data"),
    prevent_initial_call=True,
)
@requires("export", audit="导出排名表")
def download_table(_csv, _xlsx, day, sort):
    return ranking_download(day, sort, "xlsx" if ctx.triggered_id == "table-download-xlsx" else "csv")


def ranking_download(day: str, sort: dict | None, kind: str) -> dict:
    """The ranking as sorted on screen, CSV or XLSX, with Chinese headers."""
    sort = sort or {"column": "confirmed_cum", "ascending": False}
    frame = tables.sort_ranking(queries.on_day(day, "unit"), sort["column"], sort["ascending"])
    zones = queries.zone_rows(day)  # functional zones as 其中 rows under their unit
    if kind == "xlsx":
        table = pd.read_csv(io.StringIO(tables.ranking_csv(frame, day, zones).lstrip("\ufeff")),
                            dtype={"地区代码": str})
        return {"content": base64.b64encode(tables.to_xlsx(table, "各市区排名")).decode(), "base64": True,
                "filename": f"各市区排名_{day}.xlsx"}
    return {"content": tables.ranking_csv(frame, day, zones), "filename": f"各市区排名_{day}.csv",
            "type": "text/csv"}


MAP_NOTES = {
    "importation_risk": "输入风险指数：Σ 来源地（迁入占比% ÷ 100 × 来源地每10万人现有确诊）；杨凌、韩城无百度迁徙数据。",
    "rt": f"Rt：Cori 等（2013）方法，{rt.WINDOW}日窗口；灰色为窗口内病例少于{rt.MIN_CASES}例，不作估计。",
    "risk_level": f"风险等级：{risk.RULE_TEXT}。{risk.CLUSTER_ASSUMPTION}。",
}


@callback(Output("map-note", "children"), Input("metric-select", "value"), Input("region-select", "value"))
@requires("view")
def map_note(metric, region):
    unit = regions.unit_of(region)
    drill = f"已下钻至{unit.display_name}各县（区）；灰色为无县级数据。" if unit else "点击地图上的市（区）可下钻到县（区）。"
    return f"{drill}{MAP_NOTES.get(metric, '')}"


@callback(Output("demo-badge", "hidden"), Input("layer-select", "value"))
@requires("view")
def demo_badge(layers):
    return not layers
