"""Figures of the model checks (issue 19). Pure: results in, figures out.

- ``coverage_chart``: calibration of the forecasts: the share of the truth inside the 50 % and 90 % intervals by
  horizon and model, against the nominal level;
- ``skill_chart``: relative WIS by horizon (below 1: better than the baseline);
- ``importation_scatter``: the importation model checked: expected imported cases (relative) per reporting unit
  against its confirmed cases, one labelled point a unit, the least-squares line, Spearman's rho and R² in the title.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from analytics.forecast import MODEL_NAMES, MODELS
from data import catalogue
from data import formatting as fmt
from figures.flows import no_data
from figures.theme import figure
from figures.theme import palette as palette_named
from figures.trends import FONT

FIT_COLOUR = "#7f7f7f"
COLUMNS = [
    "地区",
    "预期输入病例（相对值）",
    catalogue.title("confirmed_cum"),
    "主要来源（占预期值）",
]  # table alternative's headers


def _number(value, digits: int = 2) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def importation_scatter(check, log: bool = False, palette: str | None = None) -> go.Figure:
    """``check``: ``data.importation_check.result()`` (units, stats, window, observed_on). x: expected
    imported cases, y: confirmed cases by ``observed_on``; the line is observed = intercept + slope x expected.
    ``log``: both axes logarithmic and the line of the log(1+x) fit (units with 0 on an axis are not drawn)."""
    window, observed_on = check.window, check.observed_on
    title = f"输入风险模型检验：预期输入病例与截至{fmt.day(observed_on)}累计确诊"
    units = check.units.dropna(subset=["expected", "observed"])
    if units.empty or window is None:
        return figure(no_data(title, "无可用的迁徙或病例数据，无法检验"))
    stats = check.stats
    subtitle = (
        f"Spearman ρ = {_number(stats['rho'])}（p = {_number(stats['p'], 3)}），"
        f"R² = {_number(stats['r2'])}，R²（log(1+x)）= {_number(stats['r2_log'])}，n = {stats['n']}"
    )
    x_title = f"预期输入病例（相对值：Σ 迁入规模指数 × 输入风险指数，{fmt.day(window[0])}至{fmt.day(window[1])}）"
    colours = palette_named(palette)
    customdata = np.stack(
        [units["name"], units["expected"].round(3), units["observed"].astype(int), units["top_origins"]], axis=-1
    ).tolist()
    fig = figure(
        go.Scatter(
            x=units["expected"],
            y=units["observed"],
            mode="markers+text",
            text=units["label"].tolist(),
            textposition="middle right",
            textfont={"size": 12},
            name="报告单位",
            marker={"size": 11, "color": colours.average, "line": {"width": 1, "color": "#ffffff"}},
            customdata=customdata,
            meta={"columns": COLUMNS},
            hovertemplate="<b>%{customdata[0]}</b><br>预期输入病例（相对值）%{customdata[1]}<br>"
            "累计确诊 %{customdata[2]} 例<br>主要来源：%{customdata[3]}<extra></extra>",
        )
    )
    low, high = float(units["expected"].min()), float(units["expected"].max())
    if log:
        xs = np.geomspace(max(low, 1e-3), high, 50)
        ys = np.expm1(stats["intercept_log"] + stats["slope_log"] * np.log1p(xs))
        fit_name = "log(1+x) 线性拟合"
    else:
        xs = np.linspace(low, high, 2)
        ys = stats["intercept"] + stats["slope"] * xs
        fit_name = "线性拟合"
    if np.isfinite(ys).all():
        fig.add_scatter(
            x=xs,
            y=ys,
            mode="lines",
            name=fit_name,
            hoverinfo="skip",
            line={"color": FIT_COLOUR, "width": 1.5, "dash": "dash"},
        )
    axis = {"gridcolor": "#eeeeee", "zeroline": False}
    fig.update_layout(
        title={
            "text": f"{title}<br><span style='font-size:12px;color:#555'>{subtitle}</span>",
            "x": 0.01,
            "font": {"size": 14},
        },
        margin={"l": 56, "r": 16, "t": 64, "b": 52},
        font={"family": FONT, "size": 12},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        showlegend=True,
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
        xaxis={**axis, "title": {"text": x_title}, **({"type": "log"} if log else {"rangemode": "tozero"})},
        yaxis={
            **axis,
            "title": {"text": f"累计确诊（截至{fmt.day(observed_on)}，例）"},
            **({"type": "log"} if log else {"rangemode": "tozero"}),
        },
        meta={"method": check.method},
    )
    if log:  # plotly's own log ticks label 0.3 as "3": name the values in full
        ticks = [v * 10.0**k for k in range(-3, 6) for v in (1, 2, 5)]
        fig.update_xaxes(tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
        fig.update_yaxes(tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    else:  # the line's intercept may be below 0: the axis stays at 0, as counts do
        top = max(float(units["observed"].max()), float(np.nanmax(ys)) if np.isfinite(ys).any() else 0.0)
        fig.update_yaxes(range=[0, top * 1.08])
        fig.update_xaxes(range=[0, high * 1.18])  # room for the last point's label
    return fig


MODEL_COLOURS = {"ensemble": "#6a3d9a", "renewal": "#D55E00", "baseline": "#7f7f7f"}


def _model_lines(
    fig: go.Figure, rows: list[dict], column: str, scale: float, dash: str | None = None, suffix: str = ""
) -> None:
    for model in MODELS:
        mine = sorted((r for r in rows if r["model"] == model), key=lambda r: r["horizon"])
        if not mine:
            continue
        fig.add_scatter(
            x=[r["horizon"] for r in mine],
            y=[r[column] * scale for r in mine],
            mode="lines+markers",
            name=f"{MODEL_NAMES[model]}{suffix}",
            line={"color": MODEL_COLOURS[model], "dash": dash},
            hovertemplate=f"%{{y:.{0 if scale == 100 else 2}f}}{'%' if scale == 100 else ''}",
        )


def _layout(title: str, y_title: str) -> dict:
    return dict(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        font={"family": FONT, "size": 13},
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        hovermode="x unified",
        xaxis={"title": {"text": "预测天数（起报日之后第几天）"}, "dtick": 1},
        yaxis={"title": {"text": y_title}, "gridcolor": "#eeeeee"},
        legend={"orientation": "h", "y": -0.25, "x": 0},
    )


def coverage_chart(rows: list[dict], title: str) -> go.Figure:
    """Calibration: observed coverage of the 90 % (solid) and 50 % (dashed) intervals by horizon, with the nominal
    levels as grey lines. ``rows``: data.forecasts.report()'s by-horizon records."""
    fig = figure()
    if not rows:
        return figure(no_data(title, "无回测结果"))
    _model_lines(fig, rows, "coverage_90", 100, suffix=" 90%区间")
    _model_lines(fig, rows, "coverage_50", 100, dash="dash", suffix=" 50%区间")
    fig.update_layout(**_layout(title, "真实值落在区间内的比例（%）"))
    for level in (50, 90):
        fig.add_hline(
            y=level,
            line={"color": "#999999", "width": 1, "dash": "dot"},
            annotation_text=f"名义 {level}%",
            annotation_position="top left",
        )
    fig.update_yaxes(range=[0, 100])
    return fig


def skill_chart(rows: list[dict], title: str) -> go.Figure:
    """Relative WIS by horizon (the baseline is 1; below 1 is better than carrying the last week forward)."""
    fig = figure()
    if not rows:
        return figure(no_data(title, "无回测结果"))
    _model_lines(fig, rows, "relative_wis", 1)
    fig.update_layout(**_layout(title, "相对 WIS（基线 = 1，越小越好）"))
    fig.add_hline(y=1, line={"color": "#999999", "width": 1, "dash": "dot"})
    return fig
