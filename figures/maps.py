"""The region map: a MapLibre choropleth of the 12 reporting units, drilled down to a unit's counties, with
facility layers on top. Pure: frames in, a plotly figure out; the page, the briefing and the tests share it.

The figure is a plain dict in plotly's JSON form rather than ``go.Figure``: the object layer validates every
property and cost ~30 ms a map, a dict costs well under a millisecond (``go.Figure(fig)`` gives the object back).

Boundaries are not in the figure: ``geojson`` is the URL of a static, simplified file the browser fetches once
and caches, so a redraw sends only codes, values and hover text. ``map_style="white-bg"`` needs no tiles and no
outside request, so it works on an intranet with no internet.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics.adequacy import floored
from analytics.risk import LEVEL_NAMES
from data import catalogue
from data import formatting as fmt
from figures.metrics import METRICS, NO_DATA_COLOUR, colour_axis, map_values

UNITS_URL = "/assets/geo/units.geojson"
COUNTIES_URL = "/assets/geo/counties.geojson"
CHINA_URL = "/assets/geo/china.geojson"
FACILITY_STYLE = {  # kind -> (label, colour)
    "fever_clinic": ("发热门诊", "#1f5fbf"),
    "pharmacy": ("定点药店", "#16a085"),
    "supply_point": ("物资保障点", "#8e44ad"),
}
GAP_LAYER = "coverage_gap"  # layer-select value of the area beyond reach of an open fever clinic
GAP_COLOUR = "rgba(38, 50, 56, 0.5)"  # dark slate: apart from every colour scale and the facility dots
MAP_LAYERS = {**{k: label for k, (label, _) in FACILITY_STYLE.items()}, GAP_LAYER: "发热门诊未覆盖区域"}
# Above this many points of a kind in view, the map draws clusters (see _clusters): tens of thousands of markers
# with hover text would be megabytes per redraw and slow MapLibre down; the clusters stay a few hundred.
POINT_LIMIT = 3000
# The trace order is fixed so that a date or metric change can patch values in place (see callbacks).
TRACE_UNITS, TRACE_UNITS_NODATA, TRACE_COUNTIES, TRACE_COUNTIES_NODATA, TRACE_SELECTED = range(5)
# The page holds the map's values of the days around the chosen one, in blocks of this many days from the first
# day of the range (views.maps.map_days): a date step within them recolours the map with no request.
DAY_BLOCK = 64


def view_for(bounds: tuple[float, float, float, float], width_px: int = 900, height_px: int = 640) -> dict:
    """Centre and MapLibre zoom that fit a lon/lat box into a map of the given pixel size."""
    min_lon, min_lat, max_lon, max_lat = bounds

    def merc(lat):
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_span = max(max_lon - min_lon, 0.05)
    y_span = max(merc(max_lat) - merc(min_lat), 0.001)
    zoom_x = math.log2(width_px / 512 * 360 / lon_span)
    zoom_y = math.log2(height_px / 512 * 2 * math.pi / y_span)
    centre_lat = math.degrees(math.atan(math.sinh((merc(max_lat) + merc(min_lat)) / 2)))
    return {"center": {"lon": (min_lon + max_lon) / 2, "lat": centre_lat}, "zoom": min(zoom_x, zoom_y) - 0.15}


HOVER_COLUMNS = ("confirmed_cum", "active", "new_7d", "confirmed_per_100k", "rt", "risk_level")
_CUM, _ACTIVE, _NEW_7D, _PER_100K, _RT = (catalogue.field_named(c) for c in HOVER_COLUMNS[:5])


def columns_for(metric: str) -> list[str]:
    """The columns of a day's frame that the map of a metric reads."""
    return list(dict.fromkeys(["name", metric, *HOVER_COLUMNS]))


def _hover_lines(column: dict[str, list]) -> list[str]:
    """Per-region hover lines from the hover columns as lists; missing data is said in words."""
    lines = []
    # plain lists, zipped: the map's day values build this for every day of the range, where pandas' row iterator
    # was most of the time
    for cum, active, new_7d, per_100k, rt, risk in zip(*(column[c] for c in HOVER_COLUMNS)):
        if fmt.is_missing(cum):
            lines.append(fmt.MISSING)
            continue
        lines.append(
            f"{_CUM.title} {fmt.count(cum)} {_CUM.unit}<br>{_ACTIVE.title} {fmt.count(active)} {_ACTIVE.unit}<br>"
            f"{_NEW_7D.title} {fmt.count(new_7d)} {_NEW_7D.unit}<br>每10万人累计"
            f" {fmt.rate(per_100k, _PER_100K.digits)}<br>"
            f"{_RT.title} {fmt.rate(rt, _RT.digits, missing='病例不足，不估计')}"
            + (f"<br>{LEVEL_NAMES[risk]}" if isinstance(risk, str) else "")
        )
    return lines


def columns_of(frame: pd.DataFrame, metric: str) -> tuple[list, dict[str, list], list[bool]]:
    """A day's frame as plain lists (index, the columns the map reads, whether each region has the metric): a
    frame of a dozen rows costs pandas ~0.2 ms an operation, and the map's day values build a map for every day.
    Also a frame of many days at once, cut into days by ``day_columns``."""
    n = len(frame)
    column = {c: frame[c].tolist() if c in frame else [None] * n for c in {"name", metric, *HOVER_COLUMNS}}
    has = [not fmt.is_missing(v) for v in column[metric]] if metric in frame else [False] * n
    return frame.index.tolist(), column, has


def day_columns(columns: tuple, day: int, size: int) -> tuple[list, dict[str, list], list[bool]]:
    """The ``day``-th day's ``columns_of`` out of those of a frame of days of ``size`` rows each."""
    index, column, has = columns
    cut = slice(day * size, (day + 1) * size)
    return index[cut], {c: values[cut] for c, values in column.items()}, has[cut]


def day_traces(unit_columns: tuple, county_columns: tuple, metric: str) -> list[dict]:
    """The traces a day changes (TRACE_UNITS .. TRACE_COUNTIES_NODATA), from ``columns_of`` of units and counties."""
    return [
        _choropleth(unit_columns, UNITS_URL, metric, "市（区）", 1.2),
        _nodata(unit_columns, UNITS_URL, metric, "无数据的市（区）", 1.2),
        _choropleth(county_columns, COUNTIES_URL, metric, "县（区）", 0.6),
        # translucent, so the unit's own colour still shows under counties that have no figures of their own
        _nodata(county_columns, COUNTIES_URL, metric, "无数据的县（区）", 0.8, opacity=0.45),
    ]


def day_colour_axis(unit_columns: tuple, county_columns: tuple, metric: str, palette: str | None = None) -> dict:
    """The colour axis over a day's values of units and counties."""
    values = [*unit_columns[1][metric], *county_columns[1][metric]]
    values = pd.Series(values, dtype=object if METRICS[metric].kind == "categorical" else float)
    return colour_axis(metric, map_values(metric, values) if len(values) else values, palette)


def _choropleth(columns: tuple, url: str, metric: str, name: str, line_width: float) -> dict:
    index, column, has = columns
    keep = [i for i, h in enumerate(has) if h]
    part = {c: [values[i] for i in keep] for c, values in column.items()}
    values = pd.Series(part[metric], dtype=object if METRICS[metric].kind == "categorical" else float)
    return dict(
        type="choroplethmap",
        geojson=url,
        featureidkey="properties.adcode",
        locations=[index[i] for i in keep],
        z=map_values(metric, values).tolist() if keep else [],
        coloraxis="coloraxis",
        name=name,
        customdata=[[n, h] for n, h in zip(part["name"], _hover_lines(part))] if keep else [],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
        marker={"line": {"width": line_width, "color": "#ffffff"}, "opacity": 0.92},
    )


def _nodata(columns: tuple, url: str, metric: str, name: str, line_width: float, opacity: float = 0.9) -> dict:
    """Regions with no value for the metric, in grey, saying why: not reported, or (Rt) too few cases."""
    index, column, has = columns
    missing = [i for i, h in enumerate(has) if not h]
    reported = [not fmt.is_missing(v) for v in column["confirmed_cum"]]
    unfit = "病例不足，不估计" if metric == "rt" else "无数据"
    return dict(
        type="choroplethmap",
        geojson=url,
        featureidkey="properties.adcode",
        locations=[index[i] for i in missing],
        z=[0] * len(missing),
        showscale=False,
        colorscale=[[0, NO_DATA_COLOUR], [1, NO_DATA_COLOUR]],
        name=name,
        customdata=[[column["name"][i], unfit if reported[i] else f"{fmt.MISSING}（无数据）"] for i in missing],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
        marker={"line": {"width": line_width, "color": "#ffffff"}, "opacity": opacity},
    )


def region_map(
    units: pd.DataFrame,
    metric: str,
    selected: str,
    bounds,
    counties: pd.DataFrame | None = None,
    facilities: pd.DataFrame | None = None,
    title: str = "",
    gaps: dict | None = None,
    palette: str | None = None,
) -> dict:
    """The main map.

    units: one row per reporting unit (index adcode; ``name`` and metric columns, NaN = no data).
    counties: the selected unit's counties in the same form, drawn over it (None at province level).
    facilities: rows with kind, name, lon, lat, status, attrs, is_demo; one WebGL-free MapLibre layer per kind.
    gaps: the uncovered-area trace (``gap_trace``), drawn over the regions and under the facility points.
    palette: the colour scales' palette (figures.theme.PALETTES), standard by default.
    """
    counties = counties if counties is not None else units.iloc[:0]
    highlight = selected if selected in units.index else None
    unit_columns, county_columns = columns_of(units, metric), columns_of(counties, metric)
    traces = [
        *day_traces(unit_columns, county_columns, metric),
        dict(  # the selected unit's outline, drawn on top
            type="choroplethmap",
            geojson=UNITS_URL,
            featureidkey="properties.adcode",
            locations=[highlight] if highlight else [],
            z=[0] if highlight else [],
            showscale=False,
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
            marker={"line": {"width": 3, "color": "#1a1a1a"}},
            hoverinfo="skip",
            name="所选地区",
        ),
    ]
    if gaps is not None:
        traces.append(gaps)
    traces += facility_traces(facilities, bounds)
    for i, trace in enumerate(traces):  # a fixed uid (facilities carry their kind): plotly updates layers in place
        trace.setdefault("uid", f"trace-{i}")
    layout = dict(
        map={
            "style": "white-bg",
            # The neighbouring provinces as outlines, not a fill: a fill over the whole map is one more pass over
            # every pixel of every frame, ~20 ms a frame in software WebGL (a PC without a GPU), and a zoom draws
            # several frames.
            "layers": [
                {"source": CHINA_URL, "type": "line", "color": "#c8ced6", "line": {"width": 0.8}, "below": "traces"}
            ],
            **view_for(bounds),
        },
        coloraxis=day_colour_axis(unit_columns, county_columns, metric, palette),
        margin={"l": 0, "r": 0, "t": 36 if title else 0, "b": 0},
        showlegend=bool(facilities is not None and len(facilities)) or gaps is not None,
        legend={"x": 0.01, "y": 0.01, "bgcolor": "rgba(255,255,255,0.85)"},
        uirevision=selected,
        paper_bgcolor="#ffffff",
        meta={"bounds": [float(v) for v in bounds]},  # a phone refits the view to its map (assets/phone.js)
        font={"family": "Microsoft YaHei, PingFang SC, Noto Sans CJK SC, sans-serif"},
    )
    if title:
        layout["title"] = {"text": title, "x": 0.01, "font": {"size": 15}}
    return {"data": traces, "layout": layout}


def facility_traces(facilities: pd.DataFrame | None, bounds) -> list[dict]:
    """One trace per facility kind: every point in view with its details, or clusters where a kind has more than
    POINT_LIMIT points in the view (``bounds``: the map's visible lon/lat box)."""
    traces = []
    for kind, frame in facilities.groupby("kind") if facilities is not None and len(facilities) else []:
        label, colour = FACILITY_STYLE[kind]
        demo = "（演示数据）" if frame["is_demo"].any() else ""
        if len(frame) > POINT_LIMIT:
            min_lon, min_lat, max_lon, max_lat = bounds
            inside = frame[frame["lon"].between(min_lon, max_lon) & frame["lat"].between(min_lat, max_lat)]
            if len(inside) > POINT_LIMIT:
                traces.append(_clusters(inside, bounds, f"{label}{demo}", colour) | {"uid": kind})
                continue
            frame = inside  # zoomed in far enough: the points themselves
        traces.append(
            dict(
                uid=kind,
                type="scattermap",
                lon=frame["lon"].tolist(),
                lat=frame["lat"].tolist(),
                mode="markers",
                name=f"{label}{demo}",
                marker={"size": 7 if kind == "fever_clinic" else 5, "color": colour, "opacity": 0.85},
                customdata=np.stack([frame["name"], frame["address"], _facility_detail(frame)], axis=-1).tolist()
                if len(frame)
                else [],
                hovertemplate=f"<b>%{{customdata[0]}}</b>{demo}<br>%{{customdata[1]}}<br>%{{customdata[2]}}"
                f"<extra>{label}</extra>",
            )
        )
    return traces


def _clusters(frame: pd.DataFrame, bounds, name: str, colour: str, cells_across: int = 48) -> dict:
    """Many points as clusters: a grid over the view (finer as the map zooms in: the page sends the visible box
    after each zoom or pan), one circle a cell at the mean position of its points, area by count."""
    min_lon, min_lat, max_lon, max_lat = bounds
    size = max(max_lon - min_lon, max_lat - min_lat) / cells_across
    cell = np.floor((frame["lon"].to_numpy() - min_lon) / size).astype(np.int64) * 100_000 + np.floor(
        (frame["lat"].to_numpy() - min_lat) / size
    ).astype(np.int64)
    grouped = (
        frame.assign(cell=cell, open=(frame["status"] == "open").astype(int))
        .groupby("cell")
        .agg(lon=("lon", "mean"), lat=("lat", "mean"), n=("lon", "size"), open=("open", "sum"))
    )
    n = grouped["n"].to_numpy()
    return dict(
        type="scattermap",
        mode="markers",
        lon=grouped["lon"].round(5).tolist(),
        lat=grouped["lat"].round(5).tolist(),
        name=f"{name}（{fmt.count(len(frame))}处，按{size * 111:.0f}公里网格聚合）",
        marker={"size": (4 + 3 * np.sqrt(n)).clip(max=40).round(1).tolist(), "color": colour, "opacity": 0.7},
        customdata=np.stack([n, grouped["open"].to_numpy()], axis=-1).tolist(),
        hovertemplate=f"{name}<br>本格 %{{customdata[0]}} 处，其中开放 %{{customdata[1]}} 处<br>"
        "放大地图可看更细的分布直至单个设施<extra></extra>",
    )


def _facility_detail(frame: pd.DataFrame) -> list[str]:
    out = []
    for kind, status, attrs in zip(frame["kind"], frame["status"], frame["attrs"]):
        state = "开放" if status == "open" else "暂停"
        if kind == "fever_clinic":
            extra = (
                f"{attrs.get('hospital_level', '')}医院 · 床位 {attrs.get('beds', '-')} · "
                f"日接诊能力 {attrs.get('daily_capacity', '-')} 人次 · 今日 {attrs.get('daily_visits', '-')}"
            )
        elif kind == "pharmacy":
            extra = f"口罩库存 {fmt.count(attrs.get('mask_stock'))} 只"
        else:
            extra = f"储备菜 {attrs.get('vegetable_stock_t', '-')} 吨 · {attrs.get('opening_hours', '')}"
        out.append(f"{state} · {extra}")
    return out


def gap_trace(url: str, counties: pd.DataFrame, distance_km: float, demo: bool) -> dict:
    """The part of each county beyond ``distance_km`` (straight line) of an open fever clinic, translucent red.

    ``url``: the GeoJSON of the uncovered parts (one feature per county, id adcode), fetched once per data version
    and distance; ``counties``: index adcode, name, covered_share, population, covered_population, area_km2,
    covered_km2 (data.resources.Coverage.counties), for the hover text.
    """
    part = counties[counties["covered_km2"] < counties["area_km2"] - 1e-6]
    label = f"发热门诊{distance_km:g}公里外（未覆盖）" + ("（演示数据）" if demo else "")
    # the uncovered share as 100 % minus the covered share written down (as the panel writes it), so both add up
    hover = [
        f"未覆盖人口约 {fmt.count(p - c)} 人，占 {100 - floored(s * 100, 0):.0f}%<br>"
        f"未覆盖面积 {fmt.count(a - ca)} 平方公里"
        for p, c, s, a, ca in zip(
            part["population"], part["covered_population"], part["covered_share"], part["area_km2"], part["covered_km2"]
        )
    ]
    return dict(
        type="choroplethmap",
        geojson=url,
        featureidkey="id",
        locations=list(part.index),
        z=[1] * len(part),
        showscale=False,
        colorscale=[[0, GAP_COLOUR], [1, GAP_COLOUR]],
        name=label,
        showlegend=True,
        marker={"line": {"width": 0}},
        customdata=[[n, h] for n, h in zip(part["name"], hover)],
        hovertemplate=f"<b>%{{customdata[0]}}</b><br>距开放发热门诊直线{distance_km:g}公里以外<br>"
        f"%{{customdata[1]}}<extra>{label}</extra>",
    )


TRANSFER_COLOUR = "#1f5fbf"
DONOR_COLOUR = "#16a085"
RECIPIENT_COLOUR = "#b2182b"


def _arrows(transfers: pd.DataFrame, centroids: pd.DataFrame, span: float) -> tuple[list, list]:
    """Lon and lat of every transfer's line and arrowhead (a V at the recipient's end), None between them.
    Drawn on a local plane (lon scaled by cos(lat)), so the heads keep their shape at Shaanxi's latitudes."""
    lons, lats = [], []
    for a, b in zip(transfers["from_adcode"], transfers["to_adcode"]):
        (lon1, lat1), (lon2, lat2) = centroids.loc[a, ["lon", "lat"]], centroids.loc[b, ["lon", "lat"]]
        k = math.cos(math.radians((lat1 + lat2) / 2))
        dx, dy = (lon2 - lon1) * k, lat2 - lat1
        length = math.hypot(dx, dy) or 1e-9
        ux, uy = dx / length, dy / length
        back = min(0.2 * length, 0.02 * span)  # the tip stops short of the recipient's dot, so it shows
        tip = (lon2 * k - ux * back, lat2 - uy * back)
        head = min(0.4 * length, 0.03 * span)
        wings = []
        for angle in (math.radians(25), -math.radians(25)):
            wx = ux * math.cos(angle) - uy * math.sin(angle)
            wy = ux * math.sin(angle) + uy * math.cos(angle)
            wings.append(((tip[0] - head * wx) / k, tip[1] - head * wy))
        lons += [lon1, tip[0] / k, None, wings[0][0], tip[0] / k, wings[1][0], None]
        lats += [lat1, tip[1], None, wings[0][1], tip[1], wings[1][1], None]
    return [None if v is None else round(v, 5) for v in lons], [None if v is None else round(v, 5) for v in lats]


def transfer_map(
    transfers: pd.DataFrame,
    counties: pd.DataFrame,
    centroids: pd.DataFrame,
    bounds,
    demo: bool = False,
    width_px: int = 760,
    height_px: int = 560,
) -> dict:
    """The suggested mask transfers (analytics.allocation) as arrows from donor to recipient county over the county
    boundaries. ``counties``: the suggestion's per-county table (need, received, unmet, given, ...);
    ``centroids``: index adcode, lon, lat. The boundaries are layers from the same static files as the main map,
    with no tiles; the transfers' trace carries the table alternative's columns (``meta.columns``)."""
    label = "（演示数据）" if demo else ""
    min_lon, min_lat, max_lon, max_lat = bounds
    span = max((max_lon - min_lon) * math.cos(math.radians((min_lat + max_lat) / 2)), max_lat - min_lat)
    traces = []
    for uid, kind, part, colour, hover in (
        (
            "allocation-to",
            "调入县区",
            counties[counties["need"] > 0],
            RECIPIENT_COLOUR,
            lambda r: (
                f"需{fmt.count(r.need)}只，调入{fmt.count(r.received)}只"
                + (f"，仍缺{fmt.count(r.unmet)}只" if r.unmet else "")
            ),
        ),
        (
            "allocation-from",
            "调出县区",
            counties[counties["given"] > 0],
            DONOR_COLOUR,
            lambda r: f"调出{fmt.count(r.given)}只，调出后可用{floored(r.days_after, 1):.1f}天",
        ),
    ):
        where = centroids.reindex(part.index)
        traces.append(
            dict(
                type="scattermap",
                mode="markers",
                lon=where["lon"].round(5).tolist(),
                lat=where["lat"].round(5).tolist(),
                name=f"{kind}{label}",
                marker={"size": 9, "color": colour, "opacity": 0.85},
                uid=uid,
                customdata=[[r.name, hover(r)] for r in part.itertuples()],
                hovertemplate=f"<b>%{{customdata[0]}}</b><br>%{{customdata[1]}}<extra>{kind}</extra>",
            )
        )
    lons, lats = _arrows(transfers, centroids, span)
    traces.append(
        dict(
            type="scattermap",
            mode="lines",
            lon=lons,
            lat=lats,
            name=f"调拨方向{label}",
            line={"width": 2, "color": TRANSFER_COLOUR},
            hoverinfo="skip",
            uid="allocation-lines",
        )
    )
    if len(transfers):
        start = centroids.loc[transfers["from_adcode"]].to_numpy()
        end = centroids.loc[transfers["to_adcode"]].to_numpy()
        middle = (start + end) / 2
        traces.append(
            dict(
                type="scattermap",
                mode="markers",
                lon=middle[:, 0].round(5).tolist(),
                lat=middle[:, 1].round(5).tolist(),
                name="调拨量（悬停查看）",
                marker={"size": 6, "color": TRANSFER_COLOUR, "opacity": 0.9},
                uid="allocation-moves",
                meta={"columns": ["调出县区", "调入县区", "口罩数量（只）", "直线距离（公里）"]},
                customdata=[
                    [a, b, int(m), round(float(d), 1)]
                    for a, b, m, d in zip(
                        transfers["from_name"], transfers["to_name"], transfers["masks"], transfers["distance_km"]
                    )
                ],
                hovertemplate="%{customdata[0]} → %{customdata[1]}<br>口罩 %{customdata[2]:,} 只"
                "<br>直线距离 %{customdata[3]} 公里<extra></extra>",
            )
        )
    layers = [
        {
            "source": CHINA_URL,
            "type": "fill",
            "color": "#eef1f4",
            "fill": {"outlinecolor": "#c8ced6"},
            "below": "traces",
        },
        {"source": COUNTIES_URL, "type": "line", "color": "#b8c0ca", "line": {"width": 0.6}, "below": "traces"},
        {"source": UNITS_URL, "type": "line", "color": "#6b7785", "line": {"width": 1.2}, "below": "traces"},
    ]
    return {
        "data": traces,
        "layout": dict(
            map={"style": "white-bg", "layers": layers, **view_for(bounds, width_px, height_px)},
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            showlegend=True,
            paper_bgcolor="#ffffff",
            legend={"x": 0.01, "y": 0.01, "bgcolor": "rgba(255,255,255,0.85)"},
            font={"family": "Microsoft YaHei, PingFang SC, Noto Sans CJK SC, sans-serif"},
        ),
    }
