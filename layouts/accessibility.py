"""What makes `/` readable without the charts' colours or a mouse: a table alternative for every chart (a 表格 button
next to its download buttons), the palette control (standard or colour-blind safe), and labels for controls that
show none. The table is made in the browser from the figure as drawn (assets/a11y.js), so it always holds exactly
the chart's numbers; callbacks/a11y.py wires the buttons."""

from __future__ import annotations

import json

from dash import dcc, html

from figures.theme import PALETTES


def hidden_label(text: str, for_id: str) -> html.Label:
    """A label only screen readers read, for a control whose purpose the page shows by position or icons.
    assets/a11y.js names Dash's groups, sliders and dropdowns by the <label for=ID> of their component."""
    return html.Label(text, htmlFor=for_id, className="sr-only")


def _dom_id(id_: dict) -> str:
    """The id Dash gives a pattern-matching component in the page (keys sorted, compact JSON)."""
    return json.dumps(dict(sorted(id_.items())), separators=(",", ":"), ensure_ascii=False)


def table_toggle(chart: str) -> html.Button:
    """The 表格 button of a chart: pressed, the chart's numbers show as a table over the chart."""
    return html.Button(
        "表格",
        id={"type": "table-toggle", "chart": chart},
        className="export-button table-toggle",
        title="以表格查看本图数据",
        **{"aria-pressed": "false", "aria-controls": _dom_id(table_panel_id(chart))},
    )


def table_panel_id(chart: str) -> dict:
    return {"type": "chart-table", "chart": chart}


def table_panel(chart: str) -> html.Div:
    """Where the chart's table shows (hidden until its button is pressed); filled by assets/a11y.js."""
    return html.Div(
        id=table_panel_id(chart),
        className="chart-table",
        hidden=True,
        role="region",
        tabIndex="-1",
        **{"aria-label": "图表数据表"},
    )


def palette_control(value: str) -> html.Div:
    """Standard or colour-blind-safe colours for the map, the trend and the risk badges (in the top bar)."""
    return html.Div(
        className="palette-control",
        children=[
            html.Label("配色", htmlFor="palette-select"),
            dcc.RadioItems(
                id="palette-select",
                value=value,
                inline=True,
                className="segmented small",
                options=[{"label": p.name, "value": key} for key, p in PALETTES.items()],
            ),
        ],
    )
