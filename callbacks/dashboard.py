"""Callbacks of `/`: thin wiring of controls -> views (views/) -> components. What each view shows is built in
views/; here the controls are read, partial updates (``Patch``) made and Dash components put around plain data.
The click decisions are plain functions (``picked_region``) so tests can call them without a browser.

Linking: a click on the map selects the region, a click on the trend sets the date, and every view follows the
controls. A date or metric change patches the map's values in place (``Patch``): the boundaries are a cached URL
and the trace structure stays, so the browser redraws colours only.
"""

from __future__ import annotations

import json

from dash import ALL, ClientsideFunction, Input, Output, Patch, State, clientside_callback, ctx, html, no_update

from analytics.coverage import DEFAULT_DISTANCE_KM
from callbacks.declare import AFTER_THE_MAP, declared_callback
from data import store
from figures.metrics import METRICS
from geo import regions
from layouts import view_state
from views.assessment import assessment
from views.kpis import KPI_COLUMNS, book_regions, kpi_book, kpi_books, kpi_texts
from views.maps import (
    DAY_VALUE_KEYS,
    clean_block,
    day_values,
    facility_traces_in,
    held_map_days,
    map_days,
    map_note_text,
    shared_map,
)
from views.ranking import next_sort, ranking_download, ranking_title, view_ranking
from views.trends import forecast_values, shared_trend, trend_note


def only_triggered_by(*ids: str) -> bool:
    """True when every input that fired is one of these (a partial update is then enough); False on first load."""
    fired = {key.rsplit(".", 1)[0] for key in (ctx.triggered_prop_ids or {})}
    return bool(fired) and fired <= set(ids)


# The KPI row's 12 outputs (the five tiles, their changes, the region, the as-of line), written by showKpis and by
# syncDate (a date step): assets/dashboard.js kpiRow.
KPI_ROW = [
    *[Output(f"kpi-{k}", "children") for k in KPI_COLUMNS],
    *[Output(f"kpi-{k}-delta", "children") for k in KPI_COLUMNS],
    Output("kpi-region", "children"),
    Output("as-of", "children"),
]
KPI_ROW_AGAIN = [Output(o.component_id, o.component_property, allow_duplicate=True) for o in KPI_ROW]


# ---- date ---------------------------------------------------------------------------------------------------
# Prev/next, the slider, a click on the trend and the dropdown keep each other in step in the browser
# (assets/dashboard.js): no request before the views can start to follow.
clientside_callback(
    ClientsideFunction("dashboard", "syncDate"),
    Output("date-select", "value"),
    Output("date-slider", "value"),
    *KPI_ROW_AGAIN,  # a date step's KPI row comes from this pass (showKpis: a region change's)
    Input("date-select", "value"),
    Input("date-slider", "value"),
    Input("date-prev", "n_clicks"),
    Input("date-next", "n_clicks"),
    Input("trend-chart", "clickData"),
    State("date-select", "options"),
    State("map-days", "data"),
    State("region-select", "value"),
    State("metric-select", "value"),
    State("map-days-plan", "data"),
    State("page-version", "data"),
    State("kpi-books", "data"),
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


@declared_callback(
    Output("region-select", "value"),
    Input("region-map", "clickData"),
    Input({"type": "unit-row", "index": ALL}, "n_clicks"),
    State("unit-order", "data"),
    prevent_initial_call=True,
    permission="view",
)
def select_region(map_click, row_clicks, order):
    region = picked_region(ctx.triggered_id, map_click, row_clicks, order)
    return region or no_update


@declared_callback(
    Output("page-version", "data"),
    Input("page-poll", "n_intervals"),
    State("page-version", "data"),
    prevent_initial_call=True,
    permission="view",
)
def poll_page_version(_n, current):
    """A cheap poll (one indexed query); the views redraw only when a batch was added or rolled back."""
    version = store.data_version(store.engine())
    return no_update if version == current else version


# ---- URL ----------------------------------------------------------------------------------------------------
# The address follows the view in the browser (assets/dashboard.js viewQuery): no change of a view costs a request
# for it, and a link copied once the view is drawn reopens what is shown (written by the server, its answer could
# come after the next change's figures). The region and day are the views' own (`view-region`, `view-day`, set once
# the map is drawn): following the controls, its update went through Dash's store in the frame of the KPIs and
# held them back (~20 ms a change).
clientside_callback(
    """function (region, date, metric, layers, trend, options, compare, flow, scope, flowlevel, distance, palette) {
        return window.dash_clientside.dashboard.viewQuery({region, date, metric, layers, trend, options,
            compare: trend === 'compare' ? compare : [], flow, scope, flowlevel, palette, distance}, """
    + json.dumps(view_state.URL_DEFAULTS)
    + """);
    }""",
    Output("url", "search"),
    Input("view-region", "data"),
    Input("view-day", "data"),
    Input("metric-select", "value"),
    Input("layer-select", "value"),
    Input("trend-view", "value"),
    Input("trend-options", "value"),
    Input("compare-select", "value"),
    Input("flow-direction", "value"),
    Input("flow-scope", "value"),
    Input("flow-level", "value"),
    Input("coverage-distance", "value"),
    Input("palette-select", "value"),
)


clientside_callback(
    "function(n) { return window.location.href; }",
    Output("share-link", "content"),
    Input("share-link", "n_clicks"),
    prevent_initial_call=True,
)


# ---- KPIs and notes -----------------------------------------------------------------------------------------
# The tiles, the region and the as-of line follow a date or region change in the browser, from the books of the
# province and the units held in the page (views.kpis.kpi_book, `kpi-books`): no request before they show. A region
# whose book is not held (a county) is asked for through `kpi-book-wanted`.
clientside_callback(
    ClientsideFunction("dashboard", "showKpis"),
    *KPI_ROW,
    Input("region-select", "value"),
    Input("kpi-books", "data"),
    State("date-select", "value"),
    prevent_initial_call=True,
)


@declared_callback(
    Output("kpi-books", "data"),
    Input("kpi-book-wanted", "data"),
    Input("page-version", "data"),
    AFTER_THE_MAP,
    State("region-select", "value"),
    prevent_initial_call=True,
    permission="view",
)
def fill_kpi_books(wanted, _version=None, _drawn=None, region=None):
    """A book the page lacks, added to what it holds; once the first map is drawn, every unit's (the page came with
    its own region's and the province's); after a new batch, every book anew."""
    patch = Patch()
    if only_triggered_by("map-drawn"):
        for code in set(book_regions(region)) - set(book_regions(region, units=False)):
            patch[code] = kpi_book(code)
        return patch
    if not only_triggered_by("kpi-book-wanted"):
        return kpi_books(region)
    if not isinstance(wanted, str) or not regions.get(wanted):
        return no_update
    patch[wanted] = kpi_book(wanted)
    return patch


@declared_callback(
    Output("data-notes", "children"),
    Output("sources-text", "children"),
    Input("view-region", "data"),
    Input("view-day", "data"),
    Input("page-version", "data"),
    AFTER_THE_MAP,
    prevent_initial_call=True,
    permission="view",
    cache="shared",
)
def update_notes(region, day, _version=None, _drawn=None):
    t = kpi_texts(region, day)
    return t["notes"], t["sources"]


# ---- map ----------------------------------------------------------------------------------------------------
@declared_callback(
    Output("region-map", "figure"),
    Input("metric-select", "value"),
    Input("layer-select", "value"),
    Input("page-version", "data"),
    Input("map-day-missed", "data"),
    Input("map-region-missed", "data"),
    Input("coverage-distance", "value"),
    Input("palette-select", "value"),
    State("region-select", "value"),
    State("date-select", "value"),
    prevent_initial_call=True,  # the page is drawn with its map (layouts/dashboard.py)
    permission="view",
    cache="shared",
)
def update_map(
    metric,
    layers,
    _version=None,
    _missed=None,
    _region_missed=None,
    distance_km=None,
    palette=None,
    region=None,
    day=None,
):
    """The map for the view. A date or region change does not come here: the browser recolours the map from
    ``map-days`` (assets/dashboard.js recolourSoon, pickRegion) and asks here, through ``map-day-missed`` or
    ``map-region-missed``, only when it has not got that day or region, or facility layers are shown.
    A palette change sends the new colours only (the date step keeps the colour scale drawn)."""
    fig = shared_map(region, day, metric, tuple(layers or ()), float(distance_km or DEFAULT_DISTANCE_KM), palette)
    if only_triggered_by("map-day-missed", "metric-select"):
        return values_patch(fig)
    if only_triggered_by("palette-select"):
        return colour_patch(fig)
    return fig


# The day values the page holds (`map-days`: region|metric -> views.maps.map_days) are asked for from the browser
# (assets/dashboard.js wantMapDays): the view's own first, then, when the range is held whole, the province's and
# every unit's, so that a region change recolours and zooms the drawn map with no request.
MAX_WANTED = 16


@declared_callback(
    Output("map-days", "data"),
    Input("map-days-wanted", "data"),
    Input("page-version", "data"),
    State("region-select", "value"),
    State("metric-select", "value"),
    State("date-slider", "value"),
    prevent_initial_call=True,
    permission="view",
)
def update_map_days(wanted, _version=None, region=None, metric=None, day_index=None):
    if not only_triggered_by("map-days-wanted"):  # a new batch: what the page held is stale
        return held_map_days(region, metric, day_index if isinstance(day_index, int) else 0)
    patch = Patch()
    for item in (wanted if isinstance(wanted, list) else [])[:MAX_WANTED]:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and regions.get(item[0])):
            continue
        region, metric, block = item
        if metric not in METRICS:
            continue
        days = map_days(region, metric, clean_block(block))
        patch[days["key"]] = days
    return patch


clientside_callback(
    ClientsideFunction("dashboard", "wantMapDays"),
    Output("map-days-wanted", "data"),
    Input("metric-select", "value"),
    Input("map-days", "data"),
    State("region-select", "value"),  # a region change asks through pickRegion
    State("date-slider", "value"),  # a date step asks through syncDate, on a long range only
    State("map-days-plan", "data"),
    State("page-version", "data"),
)


clientside_callback(
    ClientsideFunction("dashboard", "pickRegion"),
    Output("map-region-missed", "data"),
    Input("region-select", "value"),
    State("map-days", "data"),
    State("metric-select", "value"),
    State("layer-select", "value"),
    State("date-select", "value"),
    State("date-slider", "value"),
    State("map-days-plan", "data"),
    State("page-version", "data"),
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
    Output("map-bounds", "data"),
    Input("region-map", "relayoutData"),
    prevent_initial_call=True,
)


@declared_callback(
    Output("region-map", "figure", allow_duplicate=True),
    Input("map-bounds", "data"),
    State("region-select", "value"),
    State("layer-select", "value"),
    prevent_initial_call=True,
    permission="view",
    cache="shared",
)
def refine_facilities(bounds, region, layers):
    traces = facility_traces_in(region, layers, bounds)
    if not traces:
        return no_update
    patch = Patch()
    for i, trace in traces.items():
        patch["data"][i] = trace
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
    values = day_values(fig)
    for trace in values["traces"]:
        for key in DAY_VALUE_KEYS:
            patch["data"][trace["index"]][key] = trace[key]
    patch["layout"]["coloraxis"] = values["coloraxis"]
    return patch


# ---- trend and table ----------------------------------------------------------------------------------------
@declared_callback(
    Output("trend-chart", "figure"),
    Output("trend-note", "children"),
    Input("view-region", "data"),
    Input("trend-view", "value"),
    Input("trend-options", "value"),
    Input("compare-select", "value"),
    Input("page-version", "data"),
    Input("palette-select", "value"),
    AFTER_THE_MAP,
    State("date-select", "value"),
    prevent_initial_call=True,
    permission="view",
    cache="shared",
)
def update_trend(region, view, options, compare, _version=None, palette=None, _drawn=None, day=None):
    """The trend view. A date step only moves the day marker and hides the days after it, in the browser
    (assets/dashboard.js stepTrend, clipTrend); a palette change sends the new colours only. A page's first
    trend is asked for once its map is drawn (``map-drawn``)."""
    fig = shared_trend(view, region, day, tuple(options or ()), tuple(compare or ()), palette)
    if only_triggered_by("palette-select"):
        return colour_patch(fig), no_update
    return fig, trend_note_children(view)


def trend_note_children(view: str):
    """The note under the trend; the single-region view says how its forecast is made, one click away."""
    shown = trend_note(view)
    if shown["method"] is None:
        return shown["note"]
    return [
        shown["note"],
        html.Details(
            className="forecast-method",
            children=[
                html.Summary("预测方法与检验"),
                html.P(shown["method"]),
                html.A("各模型回测成绩（模型评估）", href="/models"),
            ],
        ),
    ]


@declared_callback(
    Output("trend-forecast", "data"),
    Input("view-day", "data"),
    State("region-select", "value"),
    State("trend-view", "value"),
    State("trend-options", "value"),
    prevent_initial_call=True,
    permission="view",
)
def forecast_on_day(day, region, view, options):
    """The fan of the day shown, as the values the trend's forecast traces take (a date step; a new trend figure
    brings its own): {day, x, median, lower_50, ...}, per 100,000 and without zeros on a log axis as the chart."""
    if view not in (None, "region") or not day:
        return no_update
    return forecast_values(region, day, options)


clientside_callback(
    ClientsideFunction("dashboard", "showForecast"),
    Output("trend-forecast-shown", "data"),
    Input("trend-forecast", "data"),
    prevent_initial_call=True,
)


clientside_callback(  # a figure from the server shows nothing after the day shown, once drawn
    ClientsideFunction("dashboard", "clipNewTrend"),
    Output("trend-clipped", "data"),
    Input("trend-chart", "figure"),
    State("view-day", "data"),
    State("trend-view", "value"),
    prevent_initial_call=True,  # the page's first trend is empty: its figure is asked for once the map is drawn
)
clientside_callback(
    ClientsideFunction("dashboard", "stepTrend"),
    Output("trend-day", "data"),  # the day the marker was moved to
    Input("view-day", "data"),
    State("trend-view", "value"),
    prevent_initial_call=True,
)


# ---- playback -----------------------------------------------------------------------------------------------
clientside_callback(
    ClientsideFunction("dashboard", "togglePlay"),
    Output("play-tick", "disabled"),
    Output("play-tick", "interval"),
    Output("play-toggle", "children"),
    Output("play-toggle", "aria-pressed"),
    Output("date-select", "value", allow_duplicate=True),
    Input("play-toggle", "n_clicks"),
    Input("play-speed", "value"),
    State("play-tick", "disabled"),
    State("date-select", "value"),
    State("date-select", "options"),
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("dashboard", "playStep"),
    Output("date-select", "value", allow_duplicate=True),
    Input("play-tick", "n_intervals"),
    State("date-select", "value"),
    State("date-select", "options"),
    State("view-day", "data"),
    prevent_initial_call=True,
)


@declared_callback(
    Output("compare-box", "hidden"),
    Input("trend-view", "value"),
    prevent_initial_call=True,  # the page is drawn with it
    permission="view",
)
def show_compare(view):
    return view != "compare"


# ---- assessment ---------------------------------------------------------------------------------------------
@declared_callback(
    Output({"type": "assess-item", "part": ALL}, "hidden"),
    Output({"type": "assess", "part": ALL}, "children"),
    Output({"type": "assess", "part": ALL}, "hidden"),
    Output({"type": "assess", "part": ALL}, "className"),
    Input("view-region", "data"),
    Input("view-day", "data"),
    Input("page-version", "data"),
    prevent_initial_call=True,  # the page is drawn with the day's strip
    permission="view",
    cache="shared",
)
def update_assessment(region, day, _version=None):
    parts = assessment(region, day)
    items = [o["id"]["part"] for o in ctx.outputs_list[0]]
    names = [o["id"]["part"] for o in ctx.outputs_list[1]]
    return (
        [parts[n]["hidden"] for n in items],
        [parts[n]["children"] for n in names],
        [parts[n]["hidden"] for n in names],
        [parts[n]["className"] for n in names],
    )


@declared_callback(
    Output("table-sort", "data"),
    Input({"type": "sort", "index": ALL}, "n_clicks"),
    State("table-sort", "data"),
    prevent_initial_call=True,
    permission="view",
)
def sort_table(clicks, current):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    return next_sort(current, ctx.triggered_id["index"])


@declared_callback(
    Output("unit-order", "data"),
    Output({"type": "unit-row", "index": ALL}, "children"),
    Output({"type": "rank-tr", "index": ALL}, "className"),
    Output({"type": "rank-cell", "row": ALL, "col": ALL}, "children"),
    Output({"type": "sort", "index": ALL}, "children"),
    Output({"type": "sort-th", "index": ALL}, "aria-sort"),
    Output("table-title", "children"),
    Input("view-region", "data"),
    Input("view-day", "data"),
    Input("table-sort", "data"),
    Input("page-version", "data"),
    prevent_initial_call=True,  # the page is drawn with the day's ranking
    permission="view",
    cache="shared",
)
def update_table(region, day, sort, _version=None):
    t = view_ranking(region, day, sort)
    rows, cells, heads, aria = (ctx.outputs_list[i] for i in (1, 3, 4, 5))  # in the page's order of the ids
    return (
        t["order"],
        [t["names"][o["id"]["index"]] for o in rows],
        t["row_class"],
        [t["cells"][(o["id"]["row"], o["id"]["col"])] for o in cells],
        [t["heads"][o["id"]["index"]] for o in heads],
        [t["aria_sort"][o["id"]["index"]] for o in aria],
        ranking_title(day),
    )


@declared_callback(
    Output("table-download", "data"),
    Input("table-download-button", "n_clicks"),
    Input("table-download-xlsx", "n_clicks"),
    State("date-select", "value"),
    State("table-sort", "data"),
    prevent_initial_call=True,
    permission="export",
    audit="导出排名表",
)
def download_table(_csv, _xlsx, day, sort):
    return ranking_download(day, sort, "xlsx" if ctx.triggered_id == "table-download-xlsx" else "csv")


@declared_callback(
    Output("map-note", "children"),
    Input("metric-select", "value"),
    Input("view-region", "data"),
    prevent_initial_call=True,  # the page is drawn with it
    permission="view",
    cache="shared",
)
def map_note(metric, region):
    return map_note_text(metric, region)


@declared_callback(
    Output("demo-badge", "hidden"),
    Input("layer-select", "value"),
    prevent_initial_call=True,  # the page is drawn with it
    permission="view",
)
def demo_badge(layers):
    return not layers
