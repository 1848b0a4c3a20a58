"""The alert list's place on `/` (with 确认 buttons) and on `/wall` (read-only, at most WALL_MAX rows); their
contents come from callbacks/alerts.py. Not a page: each page adds one of these with one line."""

from __future__ import annotations

from dash import dcc, html

# Rows the wall's side panel holds above the risk list without cutting it off, at 1920x1080 and 4K, on the day with
# the longest risk list (2020-02-15: 11 units, two of them two-line names); the rest is counted (另有 M 条).
WALL_MAX = 3


def page_section() -> html.Section:
    return html.Section(
        id="alerts",
        className="alerts",
        **{"aria-label": "预警"},
        children=[
            html.Div(
                className="alerts-head",
                children=[
                    html.H2("预警"),
                    html.Span(id="alerts-summary", className="alerts-summary"),
                ],
            ),
            html.Ul(id="alerts-list", className="alerts-list", **{"aria-live": "polite"}),
            dcc.Store(id="alerts-shown"),  # what the list shows, so an unchanged poll leaves it (and its focus) alone
        ],
    )


def wall_panel() -> html.Div:
    return html.Div(
        className="wall-alerts",
        children=[
            html.Div(
                className="wall-alerts-head",
                children=[
                    html.H2(id="wall-alerts-title", children="预警"),
                    html.Span(id="wall-alerts-more", className="wall-alerts-more"),
                ],
            ),
            html.Div(id="wall-alerts"),
            dcc.Store(id="wall-alerts-shown"),
        ],
    )
