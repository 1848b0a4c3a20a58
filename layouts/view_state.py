"""The view state of `/` and `/wall`: region, date, metric, layers (and the rest), read from the URL query that the
browser writes (URL_DEFAULTS), so that a copied link reopens the same view. Bad or unknown values fall back to
defaults, never to an error page."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.coverage import DEFAULT_DISTANCE_KM, DISTANCES_KM
from figures.maps import MAP_LAYERS
from figures.metrics import DEFAULT_METRIC, METRICS
from figures.theme import DEFAULT_PALETTE, PALETTES
from geo import regions
from geo.units import PROVINCE
from views.trends import TREND_VIEWS

TREND_OPTIONS = ("log", "per100k")


@dataclass(frozen=True)
class ViewState:
    region: str
    date: str  # ISO YYYY-MM-DD, within the data's range
    metric: str
    layers: tuple[str, ...]
    trend: str = "region"
    options: tuple[str, ...] = ()
    compare: tuple[str, ...] = ()
    flow: str = "in"  # in | out
    scope: str = "national"  # national | province
    flow_level: str = "city"  # city | province
    distance: int = DEFAULT_DISTANCE_KM  # km, straight line, of fever-clinic coverage (DISTANCES_KM)
    palette: str = DEFAULT_PALETTE  # standard | cb (colour-blind safe), figures.theme.PALETTES


# What the address leaves out when the view holds it: assets/dashboard.js viewQuery writes the address from the
# controls, `parse` reads it back. Region, date and metric are always written.
URL_DEFAULTS = {
    "trend": "region",
    "flow": "in",
    "scope": "national",
    "flowlevel": "city",
    "palette": DEFAULT_PALETTE,
    "distance": DEFAULT_DISTANCE_KM,
}


def _listed(value) -> list[str]:
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return [str(v) for v in value or []]


def parse(args: dict, start, end) -> ViewState:
    """From URL query arguments (strings); ``start``/``end`` bound the date, which defaults to the latest day."""
    region = str(args.get("region") or PROVINCE)
    if regions.get(region) is None:
        region = PROVINCE
    try:
        day = pd.Timestamp(str(args.get("date")))
        day = min(max(day, pd.Timestamp(start)), pd.Timestamp(end))
    except (ValueError, TypeError):
        day = pd.Timestamp(end)
    metric = args.get("metric") if args.get("metric") in METRICS else DEFAULT_METRIC
    layers = tuple(k for k in MAP_LAYERS if k in _listed(args.get("layers")))
    trend = args.get("trend") if args.get("trend") in TREND_VIEWS else "region"
    options = tuple(o for o in TREND_OPTIONS if o in _listed(args.get("options")))
    compare = tuple(dict.fromkeys(c for c in _listed(args.get("compare")) if regions.get(c)))
    flow = args.get("flow") if args.get("flow") in ("in", "out") else "in"
    scope = args.get("scope") if args.get("scope") in ("national", "province") else "national"
    flow_level = args.get("flowlevel") if args.get("flowlevel") in ("city", "province") else "city"
    distance = next((d for d in DISTANCES_KM if str(d) == str(args.get("distance"))), DEFAULT_DISTANCE_KM)
    palette = args.get("palette") if args.get("palette") in PALETTES else DEFAULT_PALETTE
    return ViewState(
        region,
        day.date().isoformat(),
        metric,
        layers,
        trend,
        options,
        compare,
        flow,
        scope,
        flow_level,
        distance,
        palette,
    )
