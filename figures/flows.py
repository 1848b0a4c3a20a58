"""Population-flow figures. Pure: frames in, figures out.

- ``flow_map``: lines between the selected Shaanxi region and its origins (or destinations), width by volume, over
  the national province background (national scope) or the Shaanxi units (province scope). MapLibre, no tiles.
- ``scale_chart``: Baidu's scale index over time, with the Wuhan lockdown (01-23) and Spring Festival (01-25).
- ``od_heatmap``: shares between Shaanxi's cities on a day, or their change against 7 days before.
- ``importation_chart``: importation risk of each unit on a day, with the formula.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.importation import FORMULA
from data import catalogue
from data import formatting as fmt
from figures.maps import CHINA_URL, UNITS_URL, view_for
from figures.theme import figure
from figures.trends import DATE_TICKS, FONT, selected_day_shape

LINE_COLOUR, HIGHLIGHT = "#c0392b", "#1f3a93"
EVENTS = [("2020-01-23", "武汉封城"), ("2020-01-25", "春节")]
CHINA_VIEW = {"center": {"lon": 104.5, "lat": 35.5}, "zoom": 2.55}
WIDTHS = (1, 2.5, 4.5, 7, 10)


def no_data(title: str, message: str) -> dict:
    return {
        "data": [],
        "layout": {
            "title": {"text": title, "x": 0.01, "font": {"size": 15}},
            "font": {"family": FONT},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "#ffffff",
            "annotations": [
                {
                    "text": message,
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": 15},
                }
            ],
        },
    }


def flow_map(
    ranking: pd.DataFrame,
    places: dict,
    focus_name: str,
    focus_point: tuple[float, float],
    direction: str,
    scope: str,
    day,
    highlight: str | None = None,
    top: int = 30,
    shaanxi_bounds=None,
) -> dict:
    """``ranking`` from ``data.flow_queries.ranking``; ``places``: adcode -> (lon, lat, name)."""
    verb = "迁入来源" if direction == "in" else "迁出目的地"
    title = f"{focus_name} {fmt.day(day)} {verb}（前{top}，线宽按相对流量）"
    rows = ranking[ranking.counterpart_adcode.isin(places)].head(top)
    if rows.empty:
        return no_data(title, "该日无迁徙数据")
    size = rows["volume"].where(rows["volume"].notna(), rows["share_pct"])
    bins = np.quantile(size, [0.2, 0.4, 0.6, 0.8]) if len(size) > 4 else [size.min()] * 4
    klass = np.searchsorted(bins, size, side="right")
    fx, fy = focus_point
    traces = []
    for k, width in enumerate(WIDTHS):  # MapLibre line width is per trace: one trace per width class
        part = rows[klass == k]
        if part.empty:
            continue
        lon, lat = [], []
        for code in part.counterpart_adcode:
            ox, oy, _ = places[code]
            lon += [ox, fx, None]
            lat += [oy, fy, None]
        traces.append(
            {
                "type": "scattermap",
                "mode": "lines",
                "lon": lon,
                "lat": lat,
                "hoverinfo": "skip",
                "line": {"width": width, "color": LINE_COLOUR},
                "opacity": 0.55,
                "showlegend": False,
            }
        )
    volume_text = [("—" if pd.isna(v) else f"{v:.3f}") for v in rows["volume"]]
    arrow = [
        f"{places[c][2]} → {focus_name}" if direction == "in" else f"{focus_name} → {places[c][2]}"
        for c in rows.counterpart_adcode
    ]
    traces.append(
        {
            "type": "scattermap",
            "mode": "markers",
            "lon": [places[c][0] for c in rows.counterpart_adcode],
            "lat": [places[c][1] for c in rows.counterpart_adcode],
            "name": verb,
            "marker": {
                "size": (6 + 14 * size / max(size.max(), 1e-9)).round(1).tolist(),
                "color": [HIGHLIGHT if c == highlight else LINE_COLOUR for c in rows.counterpart_adcode],
            },
            "customdata": np.stack(
                [rows.counterpart_adcode, arrow, rows["share_pct"].round(2), volume_text], axis=-1
            ).tolist(),
            "hovertemplate": "<b>%{customdata[1]}</b><br>占比 %{customdata[2]}%<br>"
            "相对流量 %{customdata[3]}<extra></extra>",
            # the table alternative's headers
            "meta": {"columns": ["地区代码", "方向", *(catalogue.title(c, "flows") for c in ("share_pct", "index"))]},
        }
    )
    traces.append(
        {
            "type": "scattermap",
            "mode": "markers",
            "lon": [fx],
            "lat": [fy],
            "name": focus_name,
            "marker": {"size": 14, "color": "#111111"},
            "hovertemplate": f"<b>{focus_name}</b><extra></extra>",
        }
    )
    if highlight and highlight in set(rows.counterpart_adcode):
        ox, oy, _ = places[highlight]
        traces.append(
            {
                "type": "scattermap",
                "mode": "lines",
                "lon": [ox, fx],
                "lat": [oy, fy],
                "hoverinfo": "skip",
                "line": {"width": 5, "color": HIGHLIGHT},
                "showlegend": False,
            }
        )
    background = CHINA_URL if scope == "national" else UNITS_URL
    view = CHINA_VIEW if scope == "national" else view_for(shaanxi_bounds, 640, 420)
    return {
        "data": traces,
        "layout": {
            "map": {
                "style": "white-bg",
                **view,
                "layers": [
                    {
                        "source": background,
                        "type": "fill",
                        "color": "#eef1f4",
                        "fill": {"outlinecolor": "#aab4c0"},
                        "below": "traces",
                    }
                ],
            },
            "margin": {"l": 0, "r": 0, "t": 34, "b": 0},
            "showlegend": False,
            "paper_bgcolor": "#ffffff",
            "title": {"text": title, "x": 0.01, "font": {"size": 14}},
            "font": {"family": FONT},
            "uirevision": f"{scope}",
        },
    }


def scale_chart(series: pd.DataFrame, name: str, day) -> go.Figure:
    """Baidu scale index (in, out) over time; lockdown and Spring Festival marked."""
    title = f"{name} 迁徙规模指数"
    if series.empty:
        return figure(no_data(title, "该地区无迁徙规模指数（百度迁徙不单列或无数据）"))
    fig = figure()
    for column, label, colour in (("in", "迁入", "#c0392b"), ("out", "迁出", "#2166ac")):
        if column in series:
            fig.add_scatter(
                x=series.index,
                y=series[column],
                name=f"{label}规模指数",
                line={"color": colour},
                hovertemplate="%{y:.2f}",
            )
    shapes = [selected_day_shape(day)]
    notes = []
    for i, (when, label) in enumerate(EVENTS):
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": when,
                "x1": when,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#7f7f7f", "width": 1},
            }
        )
        notes.append(
            {
                "x": when,
                "y": 0.98 - 0.1 * i,
                "yref": "paper",
                "text": label,
                "showarrow": False,
                "xanchor": "right" if i == 0 else "left",
                "yanchor": "top",
                "font": {"size": 11},
                "bgcolor": "rgba(255,255,255,0.8)",
            }
        )
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        hovermode="x unified",
        margin={"l": 44, "r": 12, "t": 56, "b": 30},
        shapes=shapes,
        annotations=notes,
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        font={"family": FONT, "size": 12},
        legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
        xaxis={"tickformatstops": DATE_TICKS, "hoverformat": "%Y年%-m月%-d日"},
        yaxis={"gridcolor": "#eeeeee", "rangemode": "tozero"},
        clickmode="event",
    )
    return fig


def od_heatmap(
    matrix: pd.DataFrame, names: dict[str, str], day, change: pd.DataFrame | None = None, highlight: str | None = None
) -> go.Figure:
    """Rows: destination; columns: origin; value: % of the destination's move-in from the origin.
    With ``change``, the difference against 7 days before (diverging colours)."""
    title = f"省内城市间迁入占比 {fmt.day(day)}" + ("（较7日前变化，百分点）" if change is not None else "（%）")
    if matrix.isna().all().all():
        return figure(no_data(title, "该日无迁徙数据"))
    values = change if change is not None else matrix
    labels = [names[c] for c in matrix.columns]
    heat = dict(
        z=values.values,
        x=labels,
        y=[names[c] for c in matrix.index],
        customdata=matrix.values,
        hovertemplate="来源 %{x} → 目的地 %{y}<br>占目的地迁入 %{customdata:.2f}%"
        + ("<br>较7日前 %{z:+.2f} 个百分点" if change is not None else "")
        + "<extra></extra>",
        colorbar={"thickness": 12, "title": {"text": "百分点" if change is not None else "%"}},
    )
    if change is not None:
        span = float(np.nanmax(np.abs(values.values))) if np.isfinite(values.values).any() else 1.0
        heat.update(colorscale="RdBu", reversescale=True, zmin=-span, zmax=span)
    else:
        heat.update(colorscale="Reds", zmin=0)
    fig = figure(go.Heatmap(**heat))
    shapes = []
    if highlight in list(matrix.columns):
        i = list(matrix.columns).index(highlight)
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": i - 0.5,
                "x1": i + 0.5,
                "y0": 0,
                "y1": 1,
                "line": {"color": HIGHLIGHT, "width": 3},
            }
        )
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        shapes=shapes,
        margin={"l": 70, "r": 10, "t": 40, "b": 60},
        font={"family": FONT, "size": 12},
        xaxis={"title": {"text": "来源地"}, "tickangle": -45},
        yaxis={"title": {"text": "目的地"}, "autorange": "reversed"},
        paper_bgcolor="#ffffff",
    )
    return fig


def importation_chart(
    risk: pd.Series, names: dict[str, str], day, selected: str | None, contributors: dict[str, str]
) -> go.Figure:
    """Horizontal bars of the importation risk index per unit on a day; hover lists the top origins."""
    name = catalogue.title("importation_risk")
    title = f"{name} {fmt.day(day)}"
    risk = risk.dropna()
    if risk.empty:
        return figure(no_data(title, "该日无输入风险估计（无迁徙数据或全国病例数据）"))
    risk = risk.sort_values()
    fig = figure(
        go.Bar(
            x=risk.values,
            y=[names.get(c, c) for c in risk.index],
            orientation="h",
            marker_color=[HIGHLIGHT if c == selected else LINE_COLOUR for c in risk.index],
            customdata=[contributors.get(c, "") for c in risk.index],
            hovertemplate="%{y}：%{x:.4f}<br>主要来源：%{customdata}<extra></extra>",
            name=name,
        )
    )
    fig.update_layout(
        title={
            "text": f"{title}<br><span style='font-size:11px;color:#555'>{FORMULA}</span>",
            "x": 0.01,
            "font": {"size": 14},
        },
        margin={"l": 90, "r": 10, "t": 56, "b": 40},
        font={"family": FONT, "size": 12},
        xaxis={"title": {"text": "来源地每10万人现有确诊的加权平均"}, "gridcolor": "#eeeeee"},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
    )
    return fig
