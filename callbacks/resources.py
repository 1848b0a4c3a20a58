"""Callbacks of the 资源保障 panel on `/` (layouts/resources.py): coverage and adequacy of the chosen region and of
its parts (the province: its 12 units; a unit or a county: the unit's counties), following the region and date
controls. What the panel and the 口罩调配建议 card show is built in views/resources.py (``panel_rows``,
``summary_text``, ``allocation_view`` ...); here it is put into Dash components."""

from __future__ import annotations

from dash import ALL, Input, Output, State, clientside_callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from analytics.coverage import DEFAULT_DISTANCE_KM
from callbacks.declare import AFTER_THE_MAP, declared_callback
from geo.units import PROVINCE
from views.resources import (
    COLUMNS,
    DEFAULT_SORT,
    adequacy_download,
    allocation_download,
    allocation_view,
    next_sort,
    panel_rows,
    summary_text,
)


def table_component(t: dict, column: str, ascending: bool) -> html.Table:
    arrow = "▲" if ascending else "▼"
    heads = {"name": "地区", **{c: h for c, (h, _) in COLUMNS.items()}, "flag": "提示（低于阈值）"}

    def th(c, label):
        if c == "flag":
            return html.Th(label)
        return html.Th(
            html.Button(
                f"{label}{arrow if c == column else ''}",
                id={"type": "adequacy-sort-btn", "index": c},
                className="sort-button",
            ),
            **{"aria-sort": ("ascending" if ascending else "descending") if c == column else "none"},
        )

    body = []
    for row in t["rows"]:
        cells = [
            html.Td(
                html.Button(row["name"], id={"type": "adequacy-row", "index": row["adcode"]}, className="row-button")
            )
        ]
        cells += [html.Td(text, className="breach" if bad else None) for text, bad in row["cells"].values()]
        cells.append(html.Td(row["flag"] or "—", className="flag-text" if row["flagged"] else "muted"))
        body.append(
            html.Tr(
                cells,
                className="selected" if row["adcode"] == t["selected"] else None,
                **{"data-adcode": row["adcode"]},
            )
        )
    return html.Table(
        className="table adequacy-table",
        children=[html.Thead(html.Tr([th(c, h) for c, h in heads.items()])), html.Tbody(body)],
    )


# Below the fold on a 1080p screen, like the flow views: the panel (a second map, two tables) follows region and
# date only while on screen, and catches up when it scrolls in.
clientside_callback(
    """function(region, day, visible, drawn) {
        return visible && drawn ? [region, day] : window.dash_clientside.no_update;
    }""",
    Output("resources-args", "data"),
    Input("view-region", "data"),
    Input("view-day", "data"),
    Input("resources-visible", "data"),
    AFTER_THE_MAP,
    # not on the page's first pass: the map is not drawn yet, so there is nothing to give (a Dash pass, ~10 ms on 2
    # cores, before plotly.js runs); the map's drawing or the section scrolling in runs it
    prevent_initial_call=True,
)


@declared_callback(
    Output("adequacy-table", "children"),
    Output("adequacy-title", "children"),
    Output("coverage-summary", "children"),
    Output("resources-demo", "hidden"),
    Input("resources-args", "data"),
    Input("coverage-distance", "value"),
    Input("adequacy-sort", "data"),
    Input("page-version", "data"),
    prevent_initial_call=True,  # nothing to draw until the section's args come (after the first map)
    permission="view",
    cache="shared",
)
def update_panel(args, distance_km, sort, _version=None):
    if not args:
        raise PreventUpdate
    region, day = args
    sort = sort or DEFAULT_SORT
    distance_km = float(distance_km or DEFAULT_DISTANCE_KM)
    t = panel_rows(region or PROVINCE, day, distance_km, sort["column"], sort["ascending"])
    summary = [
        html.P(line, className="flag-text" if line.startswith("⚠") else None)
        for line in summary_text(region or PROVINCE, day, distance_km)
    ]
    return table_component(t, sort["column"], sort["ascending"]), t["title"], summary, not t["demo"]


@declared_callback(
    Output("adequacy-sort", "data"),
    Input({"type": "adequacy-sort-btn", "index": ALL}, "n_clicks"),
    State("adequacy-sort", "data"),
    prevent_initial_call=True,
    permission="view",
)
def sort_adequacy(clicks, current):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    return next_sort(current, ctx.triggered_id["index"])


@declared_callback(
    Output("region-select", "value", allow_duplicate=True),
    Input({"type": "adequacy-row", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
    permission="view",
)
def select_from_table(clicks):
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    return ctx.triggered_id["index"]


@declared_callback(
    Output("adequacy-download", "data"),
    Input("adequacy-download-csv", "n_clicks"),
    Input("adequacy-download-xlsx", "n_clicks"),
    State("region-select", "value"),
    State("date-select", "value"),
    State("coverage-distance", "value"),
    prevent_initial_call=True,
    permission="export",
    audit="导出资源保障表",
)
def download(_csv, _xlsx, region, day, distance_km):
    kind = "xlsx" if ctx.triggered_id == "adequacy-download-xlsx" else "csv"
    return adequacy_download(region or PROVINCE, day, float(distance_km or DEFAULT_DISTANCE_KM), kind)


# ---- 口罩调配建议 (analytics/allocation.py): transfers from counties above the safe stock to counties below it ----
def allocation_table(view: dict) -> list:
    heads = ("调出县区", "调入县区", "口罩数量（只）", "直线距离（公里）")
    children = []
    if view["rows"]:
        body = [
            html.Tr([html.Td(a), html.Td(b), html.Td(m, className="num"), html.Td(d, className="num")])
            for a, b, m, d in view["rows"]
        ]
        children.append(
            html.Table(
                className="table allocation-table",
                children=[
                    html.Caption("建议调拨（按口罩数量从多到少）", className="sr-only"),
                    html.Thead(
                        html.Tr(
                            [html.Th(h, scope="col", className="num" if i > 1 else None) for i, h in enumerate(heads)]
                        )
                    ),
                    html.Tbody(body),
                ],
            )
        )
    else:
        children.append(html.P("无调拨建议。", className="muted"))
    if view["unmet"]:
        children.append(
            html.P(
                "未能补足：" + "；".join(f"{n} 缺{u}只" for n, u in view["unmet"]) + "（范围内可调出量不足）。",
                className="flag-text",
            )
        )
    return children


@declared_callback(
    Output("allocation-title", "children"),
    Output("allocation-summary", "children"),
    Output("allocation-table", "children"),
    Output("allocation-map", "figure"),
    Output("allocation-demo", "hidden"),
    Input("resources-args", "data"),
    Input("page-version", "data"),
    prevent_initial_call=True,  # nothing to draw until the section's args come (after the first map)
    permission="view",
)
def update_allocation(args, _version=None):
    if not args:
        raise PreventUpdate
    region, day = args
    view = allocation_view(region or PROVINCE, day)
    return view["title"], view["summary"], allocation_table(view), view["figure"], not view["demo"]


@declared_callback(
    Output("allocation-download", "data"),
    Input("allocation-download-csv", "n_clicks"),
    Input("allocation-download-xlsx", "n_clicks"),
    State("region-select", "value"),
    State("date-select", "value"),
    prevent_initial_call=True,
    permission="export",
    audit="导出口罩调配建议",
)
def download_allocation(_csv, _xlsx, region, day):
    kind = "xlsx" if ctx.triggered_id == "allocation-download-xlsx" else "csv"
    return allocation_download(region or PROVINCE, day, kind)
