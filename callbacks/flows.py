"""Callbacks of the population-flow views on `/`: the region and date controls drive every flow view; clicking an
origin (on the flow map, in the ranking or in the matrix) highlights it across them.

The views follow only while their section is on screen and catch up when it scrolls in: ``flows-visible`` (set by
assets/dashboard.js) gates, in the browser, the region and day they get (``flows-args``), so a date step below the
fold sends no flow request and costs the browser no redraw of four charts."""

from __future__ import annotations

from dash import ALL, Input, Output, State, clientside_callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from callbacks.declare import AFTER_THE_MAP, declared_callback
from data.catalogue import title
from geo import china
from views.flows import flow_view, importation_view, od_view, region_scale_view

RANKING_HEADS = ("#", "地区", "所属省份", *(title(c, "flows") for c in ("share_pct", "index")), "占比较7日前")


def ranking_table(rows: list[dict] | None) -> list:
    """The flow ranking's rows (views.flows.ranking_rows) as a table whose names select the origin; nothing when
    there is no ranking to show."""
    if rows is None:
        return []
    head = html.Thead(html.Tr([html.Th(h) for h in RANKING_HEADS]))
    body = [
        html.Tr(
            className="highlight" if row["highlighted"] else "",
            children=[
                html.Td(row["rank"]),
                html.Td(
                    html.Button(row["name"], id={"type": "flow-row", "index": row["adcode"]}, className="row-button")
                ),
                html.Td(row["province"]),
                html.Td(row["share"]),
                html.Td(row["volume"]),
                html.Td(row["change"], className=row["change_class"]),
            ],
        )
        for row in rows
    ]
    return [html.Table(className="table", children=[head, html.Tbody(body)])]


clientside_callback(
    """function(region, day, visible, drawn) {
        return visible && drawn ? [region, day] : window.dash_clientside.no_update;
    }""",
    Output("flows-args", "data"),
    Input("view-region", "data"),
    Input("view-day", "data"),
    Input("flows-visible", "data"),
    AFTER_THE_MAP,
    # not on the page's first pass: the map is not drawn yet, so there is nothing to give (a Dash pass, ~10 ms on 2
    # cores, before plotly.js runs); the map's drawing or the section scrolling in runs it
    prevent_initial_call=True,
)


@declared_callback(
    Output("flow-chart", "figure"),
    Output("flow-table", "children"),
    Output("flow-table-title", "children"),
    Output("flow-note", "children"),
    Input("flows-args", "data"),
    Input("flow-direction", "value"),
    Input("flow-scope", "value"),
    Input("flow-level", "value"),
    Input("flow-origin", "data"),
    prevent_initial_call=True,  # nothing to draw until the section's args come (after the first map)
    permission="view",
    cache="shared",
)
def update_flows(args, direction, scope, level, origin):
    if not args:
        raise PreventUpdate
    region, day = args
    fig, rows, title, note = flow_view(region, day, direction, scope, level, origin)
    return fig, ranking_table(rows), title, note


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


@declared_callback(
    Output("flow-origin", "data"),
    Input("flow-chart", "clickData"),
    Input({"type": "flow-row", "index": ALL}, "n_clicks"),
    Input("od-chart", "clickData"),
    State("flow-origin", "data"),
    prevent_initial_call=True,
    permission="view",
)
def select_origin(map_click, row_clicks, od_click, current):
    origin = picked_origin(ctx.triggered_id, map_click, row_clicks, od_click)
    if origin is None:
        return no_update
    return None if origin == current else origin  # a second click on the same origin clears the highlight


@declared_callback(
    Output("scale-chart", "figure"),
    Input("flows-args", "data"),
    prevent_initial_call=True,  # nothing to draw until the section's args come (after the first map)
    permission="view",
    cache="shared",
)
def update_scale(args):
    if not args:
        raise PreventUpdate
    region, day = args
    return region_scale_view(region, day)


@declared_callback(
    Output("od-chart", "figure"),
    Input("flows-args", "data"),
    Input("od-mode", "value"),
    Input("flow-origin", "data"),
    prevent_initial_call=True,  # nothing to draw until the section's args come (after the first map)
    permission="view",
    cache="shared",
)
def update_od(args, mode, origin):
    if not args:
        raise PreventUpdate
    return od_view(args[1], mode, origin)


@declared_callback(
    Output("import-chart", "figure"),
    Input("flows-args", "data"),
    prevent_initial_call=True,  # nothing to draw until the section's args come (after the first map)
    permission="view",
    cache="shared",
)
def update_importation(args):
    if not args:
        raise PreventUpdate
    region, day = args
    return importation_view(region, day)
