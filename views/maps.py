"""The map of `/` (and the wall's, the briefing's): the units on the day, the counties of the chosen unit, the
facility and coverage layers; and the map's day values, which let the browser recolour it on a date step."""

from __future__ import annotations

import datetime as dt

from analytics import risk, rt
from analytics.coverage import DEFAULT_DISTANCE_KM
from data import cache, catalogue, queries, resources, store
from figures import maps
from geo import regions
from geo.units import PROVINCE


def map_frames(region: str, day: str):
    """The units on the day, and the counties of the selected unit (None at province level)."""
    units = queries.on_day(day, "unit")
    unit = regions.unit_of(region)
    counties = queries.on_day(day, "county", parent=unit.adcode) if unit else None
    return units, counties, unit


def build_map(
    region: str, day: str, metric: str, layers, distance_km: float = DEFAULT_DISTANCE_KM, palette: str | None = None
) -> dict:
    units, counties, unit = map_frames(region, day)
    bounds = (unit or regions.province()).bounds
    kinds = [k for k in layers or [] if k in maps.FACILITY_STYLE]
    facilities = queries.facilities(kinds, unit.adcode if unit else None) if kinds else None
    gaps = None
    if maps.GAP_LAYER in (layers or []):
        covered = resources.coverage(distance_km)
        gaps = maps.gap_trace(resources.gaps_url(distance_km), covered.counties, distance_km, covered.demo)
    return maps.region_map(
        units, metric, unit.adcode if unit else PROVINCE, bounds, counties, facilities, gaps=gaps, palette=palette
    )


@cache.memoize
def shared_map(
    region: str,
    day: str,
    metric: str,
    layers: tuple,
    distance_km: float = DEFAULT_DISTANCE_KM,
    palette: str | None = None,
) -> dict:
    """build_map, kept per data version in the shared cache: the wall, dozens of officers and the replays of a
    benchmark ask for the same few views; each is built once."""
    return build_map(region, day, metric, layers, distance_km, palette)


def background_later(figure: dict) -> dict:
    """The map as the page first draws it: the national background (China's provinces as outlines) and the colour bar
    hidden, and shown by the page once the map is drawn (assets/dashboard.js showBackground). MapLibre tiles the
    background's 287 KB on the same 2 cores as the choropleth, and the first map waited ~150-250 ms for a context
    layer; the colour bar's ticks, each measured in the page, were ~25 ms of the map's first Plotly.react (measured).
    The bar lies inside the map (figures/metrics.py colour_axis), so showing it does not resize the map."""
    layout = figure["layout"]
    layers = [
        {**layer, "visible": False} if layer.get("source") == maps.CHINA_URL else layer
        for layer in layout["map"].get("layers", [])
    ]
    hidden = {"map": {**layout["map"], "layers": layers}}
    if "coloraxis" in layout:
        hidden["coloraxis"] = {**layout["coloraxis"], "showscale": False}
    return {**figure, "layout": {**layout, **hidden}}


MAP_DAY_TRACES = (maps.TRACE_UNITS, maps.TRACE_UNITS_NODATA, maps.TRACE_COUNTIES, maps.TRACE_COUNTIES_NODATA)
DAY_VALUE_KEYS = ("locations", "z", "customdata")


def day_values(fig: dict) -> dict:
    """What a date step changes in the map, by name: each choropleth's trace index with its locations, values and
    hover text, and the colour axis. The browser (assets/dashboard.js recolourMap) and ``values_patch`` read it
    by these names, so neither depends on the order of the traces."""
    return {
        "traces": [{"index": i, **{k: fig["data"][i][k] for k in DAY_VALUE_KEYS}} for i in MAP_DAY_TRACES],
        "coloraxis": fig["layout"]["coloraxis"],
    }


# The page holds every day's values of a view when the range is this short (2020's 342 days: ~150 KB of JSON per
# region before compression, ~5 KB on the wire), so that no date step waits for the server; a longer range (years
# of later waves, the scale set) in windows of three blocks of ``maps.DAY_BLOCK`` days that follow the slider.
WHOLE_RANGE_DAYS = 400


def whole_range() -> bool:
    start, end = queries.view_range()
    return (end - start).days + 1 <= WHOLE_RANGE_DAYS


def clean_block(block) -> int | str | None:
    """The block of days (``maps.DAY_BLOCK`` long, counted from the first day of the view range) a request asks
    for, kept inside the range; the last block (the latest day's, the default view) when it makes no sense; None
    (every day) when the range is short enough to hold whole. ``{"day": ISO}`` asks for that one day (its ISO date,
    kept inside the range): on a long range the page holds the day shown for every region, so that a region change
    finds its values without a window of days per region."""
    if whole_range():
        return None
    start, end = queries.view_range()
    if isinstance(block, dict) and isinstance(block.get("day"), str):
        try:
            day = dt.date.fromisoformat(block["day"])
        except ValueError:
            day = end
        return min(max(day, start), end).isoformat()
    last = (end - start).days // maps.DAY_BLOCK
    index = block.get("index") if isinstance(block, dict) else block
    return min(max(index, 0), last) if isinstance(index, int) and not isinstance(index, bool) else last


def map_region(region: str) -> str:
    """The region whose map a region shows: a county shows its unit's map (its counties, the unit outlined)."""
    unit = regions.unit_of(region)
    return unit.adcode if unit else PROVINCE


def map_key(region: str, metric: str) -> str:
    return f"{map_region(region)}|{metric}"


def map_days(region: str, metric: str, block: int | str | None) -> dict:
    """The map's day values of a region's view (``_map_days``, kept per unit: a county shows its unit's map)."""
    return _held_map_days(None, map_region(region), metric, block)


# Also held in each process per data version (store.per_version): the shared cache's in-process fallback keeps its
# newest 500 answers, and under load (`make load`) a minute of random views pushed these out; a rebuild is ~1 s of
# Python holding the GIL, which stalled every other request of the worker.
_held_map_days = store.per_version(
    lambda _eng, _version, region, metric, block: _map_days(region, metric, block), keep=4 * 16
)


@cache.memoize
def _map_days(region: str, metric: str, block: int | str | None) -> dict:
    """The map's day values for every day of the range (``block`` None), for the days around the chosen one (its
    block of ``maps.DAY_BLOCK`` days and the blocks either side: a step into the next block still finds its day while
    the page asks for the next window), or for one day (an ISO date); built with the same code as the map itself;
    kept per data version. Days with the same values share one entry of ``frames`` (``days``: day -> its index):
    after an outbreak most days repeat. ``view``: what a region change alters besides the values (the unit's
    outline, the map's centre and zoom), so that the browser switches to this region's map without asking for a
    figure."""
    unit = regions.unit_of(region)
    bounds = (unit or regions.province()).bounds
    start, end = queries.view_range()
    if isinstance(block, str):  # one day (clean_block)
        first = last = dt.date.fromisoformat(block)
    elif block is None:
        first, last = start, end
    else:
        first = start + dt.timedelta(days=(block - 1) * maps.DAY_BLOCK)
        last = first + dt.timedelta(days=3 * maps.DAY_BLOCK - 1)
    window = {"first": first, "last": last, "columns": maps.columns_for(metric)}
    # The window's rows as lists once, cut into days: the same trace and colour-axis code as the map's figure
    # (figures/maps.py day_traces), without pandas' cost of a frame a day (0.3-0.5 s a region for 2020's days).
    dates, units = queries.days_frame("unit", **window)
    counties = queries.days_frame("county", parent=unit.adcode, **window)[1] if unit else units.iloc[:0]
    unit_columns, county_columns = maps.columns_of(units, metric), maps.columns_of(counties, metric)
    n_units, n_counties = len(units) // max(len(dates), 1), len(counties) // max(len(dates), 1)
    frames, seen, days = [], {}, {}
    for i, day in enumerate(dates):
        on_day = maps.day_columns(unit_columns, i, n_units), maps.day_columns(county_columns, i, n_counties)
        # the day's traces stand first in the map's figure, as day_values reads them (MAP_DAY_TRACES)
        values = day_values(
            {"data": maps.day_traces(*on_day, metric), "layout": {"coloraxis": maps.day_colour_axis(*on_day, metric)}}
        )
        days[day] = seen.setdefault(repr(values), len(frames))
        if days[day] == len(frames):
            frames.append(values)
    selected = unit.adcode if unit else PROVINCE  # the view (outline, centre, zoom) from the last day's map
    fig = maps.region_map(units.tail(n_units), metric, selected, bounds, counties.tail(n_counties)) if dates else None
    return {
        "key": f"{region}|{metric}",
        "block": block,
        "frames": frames,
        "days": days,
        "view": region_view(fig) if fig else None,
    }


def region_view(fig: dict) -> dict:
    """What tells one region's map from another's besides the day's values, by name: the outline of the selected
    unit (a trace) and the layout's centre, zoom, bounds and uirevision (assets/dashboard.js pickRegion)."""
    outline = fig["data"][maps.TRACE_SELECTED]
    layout = fig["layout"]
    return {
        "trace": {"index": maps.TRACE_SELECTED, "locations": outline["locations"], "z": outline["z"]},
        "layout": {
            "map.center": layout["map"]["center"],
            "map.zoom": layout["map"]["zoom"],
            "meta.bounds": layout["meta"]["bounds"],
            "uirevision": layout["uirevision"],
        },
    }


def held_map_days(region: str, metric: str, day_index: int) -> dict:
    """What a page of `/` holds of the map's day values when it opens: each county's and unit's map region, and,
    when the range is held whole (~5 KB compressed), its own view's days, so that its first date steps need no
    request. A long range's window (a city's 192 days at the scale set, ~1.6 MB of JSON) is asked for after the
    page is drawn instead (assets/dashboard.js wantMapDays)."""
    held = {"units": region_units()}
    if whole_range():
        days = map_days(region, metric, None)
        held[days["key"]] = days
    return held


def region_units() -> dict[str, str]:
    """Each county and unit -> the region whose map it shows (``map_region``), for the browser."""
    return {r.adcode: map_region(r.adcode) for r in [*regions.units(), *regions.counties()]}


_IMPORTATION = catalogue.field_named("importation_risk")
MAP_NOTES = {
    "importation_risk": f"{_IMPORTATION.label}：{_IMPORTATION.description}。",
    "rt": f"Rt：Cori 等（2013）方法，{rt.WINDOW}日窗口；灰色为窗口内病例少于{rt.MIN_CASES}例，不作估计。",
    "risk_level": f"风险等级：{risk.RULE_TEXT}。{risk.CLUSTER_ASSUMPTION}。",
}


def map_note_text(metric: str, region: str) -> str:
    """The line under the map: where a click leads (or where it led), and how the metric is made."""
    unit = regions.unit_of(region)
    drill = (
        f"已下钻至{unit.display_name}各县（区）；灰色为无县级数据。"
        if unit
        else "点击地图上的市（区）可下钻到县（区）。"
    )
    return f"{drill}{MAP_NOTES.get(metric, '')}"


def facility_traces_in(region: str, layers, bounds) -> dict[int, dict]:
    """The facility layers' traces for the visible box after a zoom or pan (clusters coarse to fine, then single
    points), by their index in the map's figure; empty when no facility layer is on."""
    kinds = [k for k in layers or [] if k in maps.FACILITY_STYLE]
    if not kinds or not bounds:
        return {}
    unit = regions.unit_of(region)
    frame = queries.facilities(kinds, unit.adcode if unit else None)
    first = maps.TRACE_SELECTED + 1 + (maps.GAP_LAYER in layers)  # the uncovered area comes before the points
    return {first + i: trace for i, trace in enumerate(maps.facility_traces(frame, tuple(bounds)))}
