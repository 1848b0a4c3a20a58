"""Exports from `/`: every chart as PNG (2x) or SVG from the browser, with a title and a file name that say what
it shows; the table behind every chart as CSV or XLSX with Chinese headers and the view's filters applied."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

from dash import ALL, Input, Output, State, clientside_callback, ctx, no_update

from callbacks.declare import AFTER_THE_MAP, declared_callback
from figures import tables
from geo import regions
from views.exports import chart_table, export_names


@declared_callback(
    Output("export-names", "data"),
    Input("view-region", "data"),
    Input("view-day", "data"),
    Input("metric-select", "value"),
    Input("layer-select", "value"),
    AFTER_THE_MAP,
    prevent_initial_call=True,
    permission="view",
)
def update_export_names(region, day, metric, layers, _drawn=None):
    return export_names(region, day, metric, layers)


clientside_callback(
    """async function(clicks, names) {
        const t = dash_clientside.callback_context.triggered_id;
        if (!t || !clicks.some(Boolean)) { return dash_clientside.no_update; }
        const gd = document.querySelector(`#${t.chart} .js-plotly-plot`);
        const meta = names[t.chart];
        const layout = Object.assign({}, gd.layout, {title: {text: meta.title, x: 0.01, font: {size: 16}}});
        layout.margin = Object.assign({}, gd.layout.margin || {}, {t: 56});
        const url = await Plotly.toImage({data: gd.data, layout: layout, config: {}},
            {format: t.fmt, scale: 2, width: gd._fullLayout.width, height: gd._fullLayout.height});
        const a = document.createElement('a');
        a.href = url; a.download = `${meta.file}.${t.fmt}`;
        document.body.appendChild(a); a.click(); a.remove();
        return `${meta.file}.${t.fmt}`;
    }""",
    Output("export-done", "data"),
    Input({"type": "img-export", "chart": ALL, "fmt": ALL}, "n_clicks"),
    State("export-names", "data"),
    prevent_initial_call=True,
)


@declared_callback(
    Output("data-download", "data"),
    Input({"type": "data-export", "chart": ALL, "fmt": ALL}, "n_clicks"),
    State("region-select", "value"),
    State("date-select", "value"),
    State("flow-direction", "value"),
    State("flow-scope", "value"),
    State("flow-level", "value"),
    State("export-names", "data"),
    prevent_initial_call=True,
    permission="export",
    audit="导出图表数据",
)
def download_chart_data(clicks, region, day, direction, scope, level, names):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        return no_update
    frame = chart_table(trigger["chart"], region, day, direction, scope, level)
    base = (names or export_names(region, day, "confirmed_cum", []))[trigger["chart"]]["file"]
    if trigger["fmt"] == "xlsx":
        return {
            "content": base64.b64encode(tables.to_xlsx(frame, "数据")).decode(),
            "base64": True,
            "filename": f"{base}.xlsx",
        }
    return {"content": tables.to_csv(frame), "filename": f"{base}.csv", "type": "text/csv"}


@declared_callback(
    Output("brief-download", "data"),
    Input("brief-button", "n_clicks"),
    State("region-select", "value"),
    State("date-select", "value"),
    State("brief-format", "value"),
    background=True,
    running=[
        (Output("brief-button", "disabled"), True, False),
        (Output("brief-cancel", "hidden"), False, True),
        (Output("brief-progress-box", "hidden"), False, True),
    ],
    cancel=[Input("brief-cancel", "n_clicks")],
    progress=[Output("brief-progress", "value"), Output("brief-progress", "max"), Output("brief-status", "children")],
    prevent_initial_call=True,
    permission="export",
    audit="生成汇报材料",
)
def make_brief(set_progress, _n, region, day, kind):
    """The briefing pack, made in a background process: the page stays live, shows progress, and can cancel."""
    from reports import briefing  # noqa: PLC0415  (kaleido loads only when a pack is made: 0.25 s off each start)

    name = regions.get(region).display_name
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"汇报材料_{name}_{day}.{kind}"
        try:
            briefing.write(region, day, out, progress=lambda step, total, text: set_progress((step, total, text)))
        except briefing.RenderTimeout as exc:  # said on the page, where the progress is shown
            set_progress((0, briefing.STEPS, str(exc)))
            return no_update
        set_progress((briefing.STEPS, briefing.STEPS, "已完成"))
        return {"content": base64.b64encode(out.read_bytes()).decode(), "base64": True, "filename": out.name}
