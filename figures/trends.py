"""Trend chart of one region: daily new cases (bars), their 7-day average, cumulative and active cases, with the
selected day marked, corrections and unreported days shown as such. Pure: a daily frame in, a figure out."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from figures import formatting as fmt

NEW_COLOUR, AVG_COLOUR, CUM_COLOUR, ACTIVE_COLOUR = "#e8846b", "#b2182b", "#4a4a4a", "#2166ac"
FONT = "Microsoft YaHei, PingFang SC, Noto Sans CJK SC, sans-serif"
SELECTED_SHAPE = 0  # index of the selected-day line in layout.shapes, patched on a date change


def selected_day_shape(day) -> dict:
    return {"type": "line", "xref": "x", "yref": "paper", "x0": day, "x1": day, "y0": 0, "y1": 1,
            "line": {"color": "#1a1a1a", "width": 1.5, "dash": "dot"}}


def trend(series: pd.DataFrame | None, region_name: str, selected_day, title: str = "") -> go.Figure:
    """``series``: the region's daily frame (index date) from ``data.queries``; None when it has no data."""
    fig = go.Figure()
    layout = dict(
        margin={"l": 52, "r": 52, "t": 70, "b": 36}, hovermode="x unified", plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff", font={"family": FONT, "size": 13},
        title={"text": title or f"{region_name} 每日新增与累计确诊", "x": 0.01, "y": 0.98, "yanchor": "top",
               "font": {"size": 15}},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right", "font": {"size": 12}},
        xaxis={"type": "date", "tickformat": "%-m月%-d日", "hoverformat": "%Y年%-m月%-d日", "showgrid": False,
               "rangeselector": {"buttons": [{"count": 30, "label": "近30天", "step": "day", "stepmode": "backward"},
                                             {"count": 90, "label": "近90天", "step": "day", "stepmode": "backward"},
                                             {"step": "all", "label": "全部"}], "x": 0, "y": 1.0, "yanchor": "bottom",
                                 "font": {"size": 12}}},
        yaxis={"title": {"text": "每日新增（例）"}, "rangemode": "tozero", "gridcolor": "#eeeeee"},
        yaxis2={"title": {"text": "累计 / 现有（例）"}, "overlaying": "y", "side": "right", "rangemode": "tozero",
                "showgrid": False, "tickmode": "auto"},
        shapes=[selected_day_shape(selected_day)], clickmode="event",
    )
    if series is None or series["confirmed_cum"].notna().sum() == 0:
        layout["annotations"] = [{"text": f"{region_name}：{fmt.MISSING}，暂无病例数据", "showarrow": False,
                                  "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "font": {"size": 16}}]
        layout["xaxis"]["visible"] = layout["yaxis"]["visible"] = False
        fig.update_layout(**layout)
        return fig

    s = series.loc[series["status"] != "before_first"] if (series["status"] != "before_first").any() else series
    x = s.index
    fig.add_bar(x=x, y=s["new_confirmed"], name="每日新增", marker_color=NEW_COLOUR,
                hovertemplate="%{y:,} 例", customdata=s["span_days"])
    fig.add_scatter(x=x, y=s["new_7d_avg"], name="7日平均", line={"color": AVG_COLOUR, "width": 2.5},
                    hovertemplate="%{y:.1f} 例")
    fig.add_scatter(x=x, y=s["confirmed_cum"], name="累计确诊", yaxis="y2", line={"color": CUM_COLOUR, "width": 1.5},
                    hovertemplate="%{y:,} 例", connectgaps=False)
    fig.add_scatter(x=x, y=s["active"], name="现有确诊", yaxis="y2",
                    line={"color": ACTIVE_COLOUR, "width": 1.5, "dash": "dash"}, hovertemplate="%{y:,} 例")
    corrections = s[s["correction_confirmed"] < 0]
    if len(corrections):
        fig.add_scatter(x=corrections.index, y=[0] * len(corrections), mode="markers+text", name="订正（核减）",
                        marker={"symbol": "triangle-down", "color": "#7f3b08", "size": 10},
                        text=[f"{int(v)}" for v in corrections["correction_confirmed"]], textposition="bottom center",
                        hovertemplate="核减 %{text} 例")
    missing = s[s["status"] == "missing"]
    if len(missing):
        fig.add_scatter(x=missing.index, y=[0] * len(missing), mode="markers", name=fmt.MISSING,
                        marker={"symbol": "x-thin", "line": {"width": 2, "color": "#888888"}, "size": 9},
                        hovertemplate=fmt.MISSING)
    fig.update_layout(**layout)
    return fig
