"""Trend views. Pure: daily frames (from ``data.queries``) in, plotly figures out.

- ``trend``: one region: daily new (bars), 7-day average, cumulative and active, corrections (▼) and unreported
  days (×) shown as such, first case / peak / last new case annotated;
- ``small_multiples``: the 12 units on one shared axis;
- ``comparison``: two or more regions' 7-day averages on one chart;
- ``rt_chart``: Rt with its 95 % credible band and a line at 1.

Every view marks the selected day with the first layout shape (``SELECTED_SHAPE``), so a date change only moves it.
Options: ``log`` (logarithmic y), ``per100k`` (rates per 100,000 residents instead of counts).

Each figure is a plain dict in plotly's JSON form (``figures.theme.FigureDict``), as the maps are (figures/maps.py):
plotly's object layer (``go.Figure``, ``add_scatter``, ``make_subplots``) validated every property and made a trend
cost 45-90 ms to build; the dicts cost a few milliseconds. They hold what ``go.Figure.to_plotly_json()`` gave, so
the browser gets the same JSON: columns of numbers as base64 typed arrays (``_numbers``), days as plotly's encoder
wrote them (``_dates``), plotly's default template in the layout (``theme.default_template``), and the small
multiples' grid laid out as ``make_subplots`` does (``_subplot_grid``).
"""

from __future__ import annotations

import base64
import copy

import numpy as np
import pandas as pd
from _plotly_utils.utils import to_typed_array_spec

from analytics import rt as rt_model
from data import catalogue
from data import formatting as fmt
from figures.theme import FigureDict, default_template
from figures.theme import palette as palette_named

# Okabe-Ito: distinguishable with colour-blindness, for several regions on one chart
SERIES_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
FONT = "Microsoft YaHei, PingFang SC, Noto Sans CJK SC, sans-serif"
SELECTED_SHAPE = 0  # index of the selected-day line in layout.shapes, patched on a date change
RANGE_BUTTONS = {
    "buttons": [
        {"count": 30, "label": "近30天", "step": "day", "stepmode": "backward"},
        {"count": 90, "label": "近90天", "step": "day", "stepmode": "backward"},
        {"step": "all", "label": "全部"},
    ],
    "x": 0,
    "y": 1.0,
    "yanchor": "bottom",
    "font": {"size": 12},
}


def _numbers(values) -> dict | list:
    """A column of numbers as go.Figure wrote it: a base64 typed array (plotly's to_typed_array_spec; float64 here)."""
    v = np.asarray(values)
    if v.dtype == np.float64 and v.ndim == 1 and v.size:
        return {"dtype": "f8", "bdata": base64.b64encode(v.tobytes()).decode("ascii")}
    out = to_typed_array_spec(v)
    return out.tolist() if isinstance(out, np.ndarray) else out


_DATE_TEXTS: dict[str, dict[int, str]] = {}  # datetime64 dtype -> value -> its text: each day's is made once


def _dates(index) -> list[str]:
    """Days as plotly's JSON encoder wrote a trace's DatetimeIndex (numpy.datetime_as_string of its values)."""
    values = np.asarray(index)
    if values.dtype.kind != "M":
        return _numbers(values)
    ints = values.view("i8").tolist()
    texts = _DATE_TEXTS.setdefault(values.dtype.str, {})
    new = sorted({i for i in ints if i not in texts})
    if new:
        texts.update(zip(new, np.datetime_as_string(np.array(new, dtype="i8").view(values.dtype)).tolist()))
    return [texts[i] for i in ints]


def _iso(day) -> str:
    """A pd.Timestamp as plotly's JSON encoder wrote it in the layout (its isoformat)."""
    return day.isoformat()


def _figure(data: list[dict], layout: dict) -> FigureDict:
    template = default_template()
    if template is not None:
        layout["template"] = template
    return FigureDict(data=data, layout=layout)


def selected_day_shape(day) -> dict:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": day,
        "x1": day,
        "y0": 0,
        "y1": 1,
        "line": {"color": "#1a1a1a", "width": 1.5, "dash": "dot"},
    }


def _y_scale(log: bool) -> dict:
    """Linear from zero, or log with a tick at each power of ten (plotly's default minor labels read badly)."""
    return {"type": "log", "dtick": 1, "tickformat": ",~g"} if log else {"type": "linear", "rangemode": "tozero"}


# Day and month within a few months, month and year over longer spans, the year alone over several years: a data
# set of three years must not read "1月1日" under every January.
DATE_TICKS = [
    {"dtickrange": [None, "M1"], "value": "%-m月%-d日"},
    {"dtickrange": ["M1", "M12"], "value": "%Y年%-m月"},
    {"dtickrange": ["M12", None], "value": "%Y年"},
]


LONG_GAP_DAYS = 60  # a stretch without any figure this long separates two waves


def as_of(series: pd.DataFrame | None, day) -> pd.DataFrame | None:
    """The series up to the as-of day: a view of a day shows nothing after it."""
    return None if series is None else series.loc[: pd.Timestamp(day)]


def long_gaps(series: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Stretches of LONG_GAP_DAYS or more without a figure between two days with one (the year between waves)."""
    known = series.index[series["status"].isin(("reported", "before_first"))]
    if len(known) < 2:
        return []
    steps = known[1:] - known[:-1]
    return [
        (known[i] + pd.Timedelta(days=1), known[i + 1] - pd.Timedelta(days=1))
        for i in np.flatnonzero(steps > pd.Timedelta(days=LONG_GAP_DAYS))
    ]


def gap_marks(series: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    """A grey band and a label over each long gap, so the year between waves reads 无数据, not as a flat line."""
    shapes, notes = [], []
    for start, end in long_gaps(series):
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": _iso(start),
                "x1": _iso(end),
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(0,0,0,0.06)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
        notes.append(
            {
                "x": _iso(start + (end - start) / 2),
                "y": 0.5,
                "yref": "paper",
                "showarrow": False,
                "name": f"gap:{start.date().isoformat()}",  # the page hides it on a day before the gap
                "text": f"{fmt.full_day(start)}至<br>{fmt.full_day(end)}<br>无数据",
                "font": {"size": 11, "color": "#666"},
            }
        )
    return shapes, notes


def epidemic_window(frames, selected_day) -> list:
    """The x range worth showing: the wave of the selected day, from 3 days before its first case to 10 days after
    the later of its last new case and the selected day (the whole year squeezes a wave into a sliver; an earlier
    wave, a year before, stays one click away in the range buttons)."""
    firsts, lasts = [], []
    for s in frames:
        gaps = [end for _, end in long_gaps(s) if end < pd.Timestamp(selected_day)]
        wave = s.loc[gaps[-1] :] if gaps else s
        days = wave.index[wave["new_confirmed"].fillna(0) > 0]
        if len(days):
            firsts.append(days[0])
            lasts.append(days[-1])
    if not firsts:
        return None
    end = max(max(lasts), pd.Timestamp(selected_day)) + pd.Timedelta(days=10)
    return [min(firsts) - pd.Timedelta(days=3), end]


def _base_layout(title: str, day, log: bool, y_title: str) -> dict:
    return dict(
        margin={"l": 56, "r": 56, "t": 70, "b": 36},
        hovermode="x unified",
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        font={"family": FONT, "size": 13},
        title={"text": title, "x": 0.01, "y": 0.98, "yanchor": "top", "font": {"size": 15}},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right", "font": {"size": 12}},
        xaxis={
            "type": "date",
            "tickformatstops": copy.deepcopy(DATE_TICKS),  # copies: a caller may change its figure's parts
            "hoverformat": "%Y年%-m月%-d日",
            "showgrid": False,
            "rangeselector": copy.deepcopy(RANGE_BUTTONS),
        },
        yaxis={"title": {"text": y_title}, "gridcolor": "#eeeeee", **_y_scale(log)},
        shapes=[selected_day_shape(day)],
        clickmode="event",
    )


def _empty(layout: dict, message: str) -> FigureDict:
    layout["annotations"] = [
        {
            "text": message,
            "showarrow": False,
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
            "font": {"size": 16},
        }
    ]
    layout["xaxis"]["visible"] = layout["yaxis"]["visible"] = False
    return _figure([], layout)


def _active_period(series: pd.DataFrame) -> pd.DataFrame:
    """From the first report on: the days before a region's first case carry no information."""
    started = series["status"] != "before_first"
    return series.loc[started] if started.any() else series


def _scaled(series: pd.DataFrame, column: str, per100k: bool) -> pd.Series:
    values = series[column]
    return values / series["population"] * 100_000 if per100k else values


def _for_log(values: pd.Series, log: bool) -> pd.Series:
    """A log axis cannot show 0: zero days are left out of the line there (a gap, not a fake small value)."""
    return values.where(values > 0) if log else values


def _values(series: pd.DataFrame, column: str, per100k: bool, log: bool) -> np.ndarray:
    """``_for_log(_scaled(series, column, per100k), log)`` as an array, with the same float arithmetic in numpy (pandas
    cost ~0.2 ms an operation, the small multiples do 24)."""
    values = series[column].to_numpy()
    if values.dtype != np.float64:
        return np.asarray(_for_log(_scaled(series, column, per100k), log))
    with np.errstate(all="ignore"):
        if per100k:
            values = values / series["population"].to_numpy() * 100_000
        if log:
            values = np.where(values > 0, values, np.nan)
    return values


def milestones(series: pd.DataFrame) -> list[tuple[pd.Timestamp, str]]:
    """First case, peak day (most new cases, the first if tied) and last new case, for annotations."""
    new = series["new_confirmed"].fillna(0)
    if new.sum() == 0:
        return []
    days = new[new > 0].index
    peak = new.idxmax()
    out = [(days[0], f"首例 {fmt.day(days[0])}"), (peak, f"单日最多 {int(new[peak])} 例（{fmt.day(peak)}）")]
    if days[-1] != peak:
        out.append((days[-1], f"最近新增 {fmt.day(days[-1])}"))
    return out


FORECAST_COLOUR = "#6a3d9a"
FORECAST_BANDS = (
    ("lower_90", "upper_90", "90%", "rgba(106,61,154,0.14)"),
    ("lower_50", "upper_50", "50%", "rgba(106,61,154,0.28)"),
)


def add_forecast(fig: dict, fan: pd.DataFrame | None, scale: float = 1.0, log: bool = False) -> None:
    """The forecast after the selected day as a fan (analytics/forecast.py, the ensemble): 90 % and 50 % bands and
    the median, one legend entry for all (a click hides the fan). Every trace carries ``meta.forecast`` (its quantile),
    so the page can put another day's forecast into them (assets/dashboard.js showForecast) and the table
    alternative names each column. An empty fan gives the traces without points. ``fig``: a figure dict."""
    x = [] if fan is None else [_iso(d) for d in fan.index]

    def y(field):
        return [] if fan is None else _for_log(fan[field] * scale, log).tolist()

    unit = "例/10万人" if scale != 1 else "例"
    value = "%{y:,.2f}" if scale != 1 else "%{y:,}"
    data = fig["data"]
    for low, high, width, fill in FORECAST_BANDS:
        data.append(
            {
                "type": "scatter",
                "x": list(x),
                "y": y(low),
                "mode": "lines",
                "line": {"width": 0},
                "legendgroup": "forecast",
                "showlegend": False,
                "name": f"预测{width}下限",
                "hovertemplate": f"{value} {unit}",
                "meta": {"forecast": low, "column": f"预测{width}区间下限（{unit}）"},
            }
        )
        data.append(
            {
                "type": "scatter",
                "x": list(x),
                "y": y(high),
                "mode": "lines",
                "line": {"width": 0},
                "fill": "tonexty",
                "fillcolor": fill,
                "legendgroup": "forecast",
                "showlegend": False,
                "name": f"预测{width}上限",
                "hovertemplate": f"{value} {unit}",
                "meta": {"forecast": high, "column": f"预测{width}区间上限（{unit}）"},
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": list(x),
            "y": y("median"),
            "mode": "lines",
            "line": {"color": FORECAST_COLOUR, "width": 2, "dash": "dot"},
            "legendgroup": "forecast",
            "name": "预测（阴影：50%、90%区间）",
            "hovertemplate": f"{value} {unit}",
            "meta": {"forecast": "median", "column": f"预测中位数（{unit}）"},
        }
    )


def trend(
    series: pd.DataFrame | None,
    region_name: str,
    selected_day,
    title: str = "",
    log: bool = False,
    per100k: bool = False,
    palette: str | None = None,
    clip: bool = True,
    fan: pd.DataFrame | None = None,
) -> FigureDict:
    """One region. ``series`` is None when the region has no data. ``palette``: figures.theme.PALETTES.
    ``clip``: the data end on the selected day (a figure of that day: the wall, the briefing); without it the figure
    holds every day and the page hides the later ones itself (assets/dashboard.js clipTrend), so that a date step
    needs no new figure. The notes (first case, peak, last new case) are of the selected day either way.
    ``fan``: the forecast made on the selected day (data.forecasts), drawn after it."""
    colours = palette_named(palette)
    unit = "例/10万人" if per100k else "例"
    layout = _base_layout(title or f"{region_name} 每日新增与累计确诊", selected_day, log, f"每日新增（{unit}）")
    layout["yaxis2"] = {
        "title": {"text": f"累计 / 现有（{unit}）"},
        "overlaying": "y",
        "side": "right",
        "showgrid": False,
        "tickmode": "auto",
        **_y_scale(log),
    }
    shown = as_of(series, selected_day)
    if shown is None or shown["confirmed_cum"].notna().sum() == 0:
        return _empty(layout, f"{region_name}：截至{fmt.full_day(selected_day)}暂无病例数据")

    s = _active_period(shown if clip else series)
    x = _dates(s.index)
    fmt_y = "%{y:,.2f}" if per100k else "%{y:,}"
    data = [
        {
            "type": "bar",
            "x": x,
            "y": _numbers(_values(s, "new_confirmed", per100k, log)),
            "name": "每日新增",
            "marker": {"color": colours.new},
            "hovertemplate": f"{fmt_y} {unit}",
        },
        {
            "type": "scatter",
            "x": list(x),
            "y": _numbers(_values(s, "new_7d_avg", per100k, log)),
            "name": catalogue.title("new_7d_avg"),
            "line": {"color": colours.average, "width": 2.5},
            "hovertemplate": f"%{{y:,.{3 if per100k else 1}f}} {unit}",
        },
        {
            "type": "scatter",
            "x": list(x),
            "y": _numbers(_values(s, "confirmed_cum", per100k, log)),
            "name": catalogue.title("confirmed_cum"),
            "yaxis": "y2",
            "line": {"color": colours.cumulative, "width": 1.5},
            "hovertemplate": f"{fmt_y} {unit}",
        },
        {
            "type": "scatter",
            "x": list(x),
            "y": _numbers(_values(s, "active", per100k, log)),
            "name": catalogue.title("active"),
            "yaxis": "y2",
            "line": {"color": colours.active, "width": 1.5, "dash": "dash"},
            "hovertemplate": f"{fmt_y} {unit}",
        },
    ]
    base = 0 if not log else None
    corrections = s[s["correction_confirmed"] < 0]
    if len(corrections) and base is not None:
        data.append(
            {
                "type": "scatter",
                "x": _dates(corrections.index),
                "y": [0] * len(corrections),
                "mode": "markers+text",
                "name": "订正（核减）",
                "marker": {"symbol": "triangle-down", "color": "#7f3b08", "size": 10},
                "text": [f"{int(v)}" for v in corrections["correction_confirmed"]],
                "textposition": "bottom center",
                "hovertemplate": "核减 %{text} 例",
                "meta": {"column": "订正（核减，例）"},
            }
        )
    missing = s[s["status"] == "missing"]
    if len(missing) and base is not None:
        data.append(
            {
                "type": "scatter",
                "x": _dates(missing.index),
                "y": [0] * len(missing),
                "mode": "markers",
                "name": fmt.MISSING,
                "marker": {"symbol": "x-thin", "line": {"width": 2, "color": "#888888"}, "size": 9},
                "hovertemplate": fmt.MISSING,
                "meta": {"column": "上报状态", "text": fmt.MISSING},
            }
        )
    population = s["population"].dropna()
    scale = 100_000 / population.iloc[-1] if per100k and len(population) else 1.0
    fig = _figure(data, layout)
    add_forecast(fig, fan, scale, log)
    shapes, notes = gap_marks(s)
    gaps = long_gaps(s)
    before = [end for _, end in gaps if end < pd.Timestamp(selected_day)]
    visible = _active_period(shown)
    wave = visible.loc[before[-1] :] if before else visible  # the milestones of the selected day's wave
    layout["annotations"] = [
        {
            "x": _iso(day),
            "y": 1,
            "yref": "paper",
            "text": text,
            "showarrow": True,
            "arrowhead": 0,
            "ax": 0,
            "ay": 14 + 20 * i,  # a note box is ~18 px high at size 11
            "font": {"size": 11, "color": "#444"},
            "bgcolor": "rgba(255,255,255,0.85)",
            "name": name,
        }
        for i, ((day, text), name) in enumerate(zip(milestones(wave), ("first", "peak", "last")))
    ] + notes
    layout["shapes"] = layout["shapes"] + shapes
    layout["meta"] = {"gaps": [[a.date().isoformat(), b.date().isoformat()] for a, b in gaps], "per100k": per100k}
    window = _window([shown], selected_day) if gaps else None
    if window is not None:  # no range: plotly's autorange (go.Figure dropped a None)
        layout["xaxis"]["range"] = window
    return fig


def _window(frames, selected_day) -> list[str] | None:
    """epidemic_window as the layout's JSON text."""
    window = epidemic_window(frames, selected_day)
    return None if window is None else [_iso(d) for d in window]


def _subplot_grid(rows: int, cols: int, h_space: float, v_space: float) -> list[tuple[list, list, list]]:
    """The cells of ``make_subplots(rows, cols, horizontal_spacing=h_space, vertical_spacing=v_space)`` from the top
    left, row by row: (x domain, y domain, the domain its title is placed by), with plotly's arithmetic, so that the
    floats are the same."""
    widths = [(1.0 - h_space * (cols - 1)) / cols] * cols
    heights = [(1.0 - v_space * (rows - 1)) / rows] * rows
    cells = []
    for r in range(rows):  # make_subplots' start_cell="top-left": the grid is built from the bottom row up
        y_start = sum(heights[: rows - 1 - r]) + (rows - 1 - r) * v_space
        for c in range(cols):
            x_s = sum(widths[:c]) + c * h_space + 0.0
            x_e = sum(widths[:c]) + c * h_space + widths[c] - 0.0
            y_s, y_e = y_start + 0.0, y_start + heights[-1 - r] - 0.0
            # a float's error beyond [0, 1] is clamped as plotly does: here (the titles sit on these) and again below
            y_s, y_e = (0.0 if -0.01 < v < 0.0 else 1.0 if 1.0 < v < 1.01 else v for v in (y_s, y_e))
            cells.append(([max(0.0, x_s), min(1.0, x_e)], [max(0.0, y_s), min(1.0, y_e)], [x_s, x_e, y_s, y_e]))
    return cells


def small_multiples(
    frames: dict[str, pd.DataFrame],
    names: dict[str, str],
    selected_day,
    log: bool = False,
    per100k: bool = False,
    palette: str | None = None,
    clip: bool = True,
) -> FigureDict:
    """The units side by side on one shared y axis: 7-day average of daily new cases (bars: daily new).
    Each trace's ``meta.column`` names it in the table alternative (the legend names only the first).
    The grid is ``make_subplots(rows, 4, shared_xaxes=True, shared_yaxes="all")``'s, written out: each column's x axes
    match its bottom one's (only the bottom row has tick labels), every y axis matches the bottom-left one's (only
    the left column has tick labels), a title over each cell."""
    colours = palette_named(palette)
    frames = {code: as_of(f, selected_day) for code, f in frames.items()} if clip else frames
    codes = list(frames)
    cols = 4
    rows = int(np.ceil(len(codes) / cols))
    unit = "例/10万人" if per100k else "例"
    data = []
    for i, code in enumerate(codes):
        s = frames[code]
        axis = "" if i == 0 else str(i + 1)
        x = _dates(s.index)
        data.append(
            {
                "type": "bar",
                "x": x,
                "y": _numbers(_values(s, "new_confirmed", per100k, log)),
                "marker": {"color": colours.new},
                "name": "每日新增",
                "legendgroup": "new",
                "showlegend": i == 0,
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
                "meta": {"column": f"{names[code]} 每日新增（{unit}）"},
                "hovertemplate": f"{names[code]} %{{y:,.2f}} {unit}" if per100k else f"{names[code]} %{{y:,}} {unit}",
            }
        )
        data.append(
            {
                "type": "scatter",
                "x": list(x),
                "y": _numbers(_values(s, "new_7d_avg", per100k, log)),
                "line": {"color": colours.average},
                "name": "7日平均",
                "legendgroup": "avg",
                "showlegend": i == 0,
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
                "meta": {"column": f"{names[code]} 7日平均（{unit}）"},
                "hovertemplate": f"{names[code]} 7日平均 %{{y:,.2f}}",
            }
        )
    layout = {
        "annotations": [],
        "margin": {"l": 44, "r": 16, "t": 70, "b": 28},
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "font": {"family": FONT, "size": 12},
        "hovermode": "x unified",
        "clickmode": "event",
        "title": {
            "text": f"各市（区）每日新增（{unit}，共用纵轴）",
            "x": 0.01,
            "y": 0.98,
            "yanchor": "top",
            "font": {"size": 15},
        },
        "legend": {"orientation": "h", "y": 1.06, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        "shapes": [{**selected_day_shape(selected_day), "xref": "x", "yref": "paper"}]
        + [
            {**selected_day_shape(selected_day), "xref": f"x{i + 1}", "yref": f"y{i + 1} domain", "y0": 0, "y1": 1}
            for i in range(1, len(codes))
        ],
    }
    window = _window(frames.values(), selected_day)
    bottom_left = f"y{(rows - 1) * cols + 1 if rows > 1 else ''}"
    for k, (x_domain, y_domain, placed) in enumerate(_subplot_grid(rows, cols, 0.03, 0.09)):
        r, c = divmod(k, cols)
        n = "" if k == 0 else str(k + 1)
        xaxis = {"domain": x_domain, "anchor": f"y{n}", "showgrid": False, "nticks": 4}
        xaxis["tickformatstops"] = copy.deepcopy(DATE_TICKS)
        if window is not None:
            xaxis["range"] = list(window)
        if r < rows - 1:  # x axes shared down each column
            bottom = (rows - 1) * cols + c + 1
            xaxis.update(matches=f"x{bottom if bottom > 1 else ''}", showticklabels=False)
        yaxis = {"domain": y_domain, "anchor": f"x{n}", "gridcolor": "#eeeeee", **_y_scale(log)}
        if f"y{n}" != bottom_left:  # one y axis for all
            yaxis["matches"] = bottom_left
            if c > 0:
                yaxis["showticklabels"] = False
        layout[f"xaxis{n}"], layout[f"yaxis{n}"] = xaxis, yaxis
        if k < len(codes) and names[codes[k]]:
            layout["annotations"].append(
                {
                    "y": placed[3],
                    "xref": "paper",
                    "x": sum(placed[:2]) / 2.0,
                    "yref": "paper",
                    "text": names[codes[k]],
                    "showarrow": False,
                    "font": {"size": 12},
                    "xanchor": "center",
                    "yanchor": "bottom",
                }
            )
    return _figure(data, layout)


def comparison(
    frames: dict[str, pd.DataFrame],
    names: dict[str, str],
    selected_day,
    log: bool = False,
    per100k: bool = False,
    clip: bool = True,
) -> FigureDict:
    """Two or more regions: 7-day average of daily new cases on one chart."""
    unit = "例/10万人" if per100k else "例"
    layout = _base_layout(f"地区对比：每日新增7日平均（{unit}）", selected_day, log, f"7日平均（{unit}）")
    if len(frames) < 2:
        return _empty(layout, "请在“对比地区”中选择两个或更多地区")
    frames = {code: as_of(f, selected_day) for code, f in frames.items()} if clip else frames
    data = []
    for i, (code, s) in enumerate(frames.items()):
        s = _active_period(s)
        data.append(
            {
                "type": "scatter",
                "x": _dates(s.index),
                "y": _numbers(_values(s, "new_7d_avg", per100k, log)),
                "name": names[code],
                "line": {"color": SERIES_COLOURS[i % len(SERIES_COLOURS)], "width": 2},
                "hovertemplate": f"%{{y:,.{3 if per100k else 1}f}} {unit}",
            }
        )
    window = _window(frames.values(), selected_day)
    if window is not None:
        layout["xaxis"]["range"] = window
    return _figure(data, layout)


def rt_chart(
    series: pd.DataFrame | None, region_name: str, selected_day, palette: str | None = None, clip: bool = True
) -> FigureDict:
    """Rt with its 95 % credible interval and a line at 1; days without an estimate say why."""
    colours = palette_named(palette)
    layout = _base_layout(
        f"{region_name} 实时再生数 Rt（{rt_model.WINDOW}日窗口，95%可信区间）", selected_day, False, "Rt"
    )
    shown = as_of(series, selected_day)
    if shown is None or shown["rt"].notna().sum() == 0:
        return _empty(
            layout,
            f"{region_name}：截至{fmt.full_day(selected_day)}，任一{rt_model.WINDOW}日窗口内病例均少于"
            f"{rt_model.MIN_CASES}例，不作 Rt 估计",
        )
    series = shown if clip else series
    s = series.loc[series["rt"].notna().idxmax() - pd.Timedelta(days=7) :]
    s = s.loc[: s["rt"].last_valid_index() + pd.Timedelta(days=14)]
    x = _dates(s.index)
    data = [
        {
            "type": "scatter",
            "x": x,
            "y": _numbers(s["rt_high"]),
            "line": {"width": 0},
            "showlegend": False,
            "hoverinfo": "skip",
            "meta": {"column": "95%可信区间上限"},
        },
        {
            "type": "scatter",
            "x": list(x),
            "y": _numbers(s["rt_low"]),
            "fill": "tonexty",
            "fillcolor": colours.band,
            "line": {"width": 0},
            "name": "95%可信区间",
            "hovertemplate": "%{y:.2f}",
            "meta": {"column": "95%可信区间下限"},
        },
        {
            "type": "scatter",
            "x": list(x),
            "y": _numbers(s["rt"]),
            "line": {"color": colours.average, "width": 2.5},
            "name": catalogue.title("rt"),
            "hovertemplate": "%{y:.2f}",
        },
    ]
    too_few = s[s["rt"].isna() & (s["rt_cases"].notna())]
    if len(too_few):
        data.append(
            {
                "type": "scatter",
                "x": _dates(too_few.index),
                "y": [1] * len(too_few),
                "mode": "markers",
                "name": f"病例<{rt_model.MIN_CASES}，不估计",
                "marker": {"symbol": "line-ew", "line": {"width": 2, "color": "#999"}, "size": 8},
                "hovertemplate": "窗口内病例不足，不估计",
            }
        )
    layout["shapes"].append(
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": 1,
            "y1": 1,
            "line": {"color": colours.reference, "width": 1.5},
        }
    )
    layout["annotations"] = [
        {
            "xref": "paper",
            "x": 1,
            "y": 1,
            "text": "Rt = 1",
            "showarrow": False,
            "xanchor": "right",
            "yanchor": "bottom",
            "font": {"size": 11, "color": colours.reference},
        }
    ]
    return _figure(data, layout)
