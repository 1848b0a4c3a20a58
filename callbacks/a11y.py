"""Callbacks of the accessibility features (layouts/accessibility.py): the 表格 button of every chart and the
palette as a page attribute. Both run in the browser (assets/a11y.js): the table is read from the figure as drawn,
so it needs no request and always shows the chart's own numbers. The palette's effect on the figures is in
callbacks/dashboard.py (a colour-only ``Patch``) and callbacks/wall.py."""

from __future__ import annotations

from dash import MATCH, ClientsideFunction, Input, Output, State, clientside_callback

clientside_callback(
    ClientsideFunction("a11y", "toggleTable"),
    Output({"type": "chart-table", "chart": MATCH}, "hidden"),
    Output({"type": "table-toggle", "chart": MATCH}, "aria-pressed"),
    Output({"type": "chart-table", "chart": MATCH}, "style"),
    Input({"type": "table-toggle", "chart": MATCH}, "n_clicks"),
    State({"type": "table-toggle", "chart": MATCH}, "id"),
    prevent_initial_call=True,
)

clientside_callback(ClientsideFunction("a11y", "applyPalette"), Input("palette-select", "value"))
clientside_callback(
    "function(state) { return window.dash_clientside.a11y.applyPalette(state && state.palette); }",
    Input("wall-state", "data"),
)
