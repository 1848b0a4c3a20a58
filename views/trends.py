"""The trend views of `/` (and the wall's, the briefing's): one region with its forecast fan, the 12 units side by
side, a comparison of regions, Rt; the note under each; the fan of a day as values for a date step."""

from __future__ import annotations

import uuid

import pandas as pd

from analytics import forecast as forecast_model
from analytics import rt
from data import cache, forecasts, queries
from figures import trends
from geo import regions

# value of the trend-view control (and of ``trend=`` in the URL) -> its label on the page
TREND_VIEWS = {"region": "单地区", "units": "各市（区）", "compare": "地区对比", "rt": "Rt"}


def trend_figure(
    view: str, region: str, day: str, options, compare, palette: str | None = None, clip: bool = True
) -> trends.FigureDict:
    """The trend view chosen in ``trend-view``, for the region (or regions) and day, in the palette. ``clip``: the
    data end on the day (the wall, the briefing); `/` takes every day and hides the later ones in the browser. A dict
    in plotly's JSON form (figures.trends)."""
    log, per100k = "log" in (options or []), "per100k" in (options or [])
    name = regions.get(region).display_name
    if view == "units":
        units = sorted(regions.units(), key=lambda r: r.adcode)
        frames = {u.adcode: queries.region_series(u.adcode) for u in units}
        frames = {c: f.loc["2020-01-20":] for c, f in frames.items() if f is not None}
        return trends.small_multiples(
            frames, {u.adcode: u.display_name for u in units}, day, log, per100k, palette, clip=clip
        )
    if view == "compare":
        codes = [c for c in dict.fromkeys(compare or []) if regions.get(c)]
        frames = {c: queries.region_series(c) for c in codes}
        frames = {c: f for c, f in frames.items() if f is not None}
        return trends.comparison(frames, {c: regions.get(c).display_name for c in frames}, day, log, per100k, clip=clip)
    if view == "rt":
        return trends.rt_chart(queries.region_series(region), name, day, palette, clip=clip)
    return trends.trend(
        queries.region_series(region),
        name,
        day,
        log=log,
        per100k=per100k,
        palette=palette,
        clip=clip,
        fan=forecast_fan(region, day),
    )


def forecast_fan(region: str, day: str) -> pd.DataFrame | None:
    """The ensemble forecast made on ``day`` for the region (None: nothing to forecast from)."""
    made = forecasts.forecast(region, day)
    return None if made is None else made["ensemble"]


@cache.memoize
def shared_trend(view: str, region: str, day: str, options: tuple, compare: tuple, palette: str | None = None) -> dict:
    """trend_figure as plotly JSON with every day (the page hides those after the day shown: dashboard.js
    clipTrend), kept per data version in the shared cache (see views.maps.shared_map). ``figure_key`` tells the
    page a figure from one it has already clipped."""
    figure = trend_figure(view, region, day, options, compare, palette, clip=False)
    meta = {**(figure["layout"].get("meta") or {}), "figure_key": uuid.uuid4().hex, "day": day}
    return {**figure, "layout": {**figure["layout"], "meta": meta}}


def forecast_values(region: str, day: str, options) -> dict:
    """The fan made on the day, as the values the trend's forecast traces take (a date step; a new trend figure
    brings its own): {day, x, median, lower_50, ...}, per 100,000 and without zeros on a log axis as the chart."""
    fan = forecast_fan(region, day)
    per100k, log = "per100k" in (options or []), "log" in (options or [])
    scale = 100_000 / regions.get(region).population if per100k else 1.0
    out = {"day": day, "x": [] if fan is None else [d.date().isoformat() for d in fan.index]}
    for field in forecast_model.FIELDS:
        values = [] if fan is None else (fan[field] * scale).tolist()
        out[field] = [None if log and v <= 0 else v for v in values]
    return out


TREND_NOTES = {
    "region": "点击柱形可将该日设为当前日期；▼为核减订正，×为未上报；紫色虚线与阴影为预测（中位数、50%与90%区间）。",
    "units": "各市（区）共用纵轴，便于比较大小；点击任一小图的某日可设为当前日期。",
    "compare": "各地区每日新增的7日平均；勾选“每10万人”按常住人口比较。",
    "rt": f"Rt：Cori 等（2013）方法，{rt.WINDOW}日滑动窗口，先验均值5、标准差5；{rt.SI_SOURCE}；"
    f"窗口内病例少于{rt.MIN_CASES}例不估计；按报告日计，较感染时间滞后。绿线为 Rt=1。",
}


def trend_note(view: str | None) -> dict:
    """The note under the trend, and (the single-region view, which draws a forecast) how the forecast is made,
    shown one click away; ``method`` is None for the other views."""
    return {"note": TREND_NOTES.get(view, ""), "method": forecast_model.METHOD if view in (None, "region") else None}
