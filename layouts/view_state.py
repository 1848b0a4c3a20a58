"""The view state of `/` and `/wall`: region, date, metric and layers, read from and written to the URL query, so
that a copied link reopens the same view. Bad or unknown values fall back to defaults, never to an error page."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pandas as pd

from figures.maps import FACILITY_STYLE
from figures.metrics import DEFAULT_METRIC, METRICS
from geo import regions
from geo.units import PROVINCE


@dataclass(frozen=True)
class ViewState:
    region: str
    date: str  # ISO YYYY-MM-DD, within the data's range
    metric: str
    layers: tuple[str, ...]

    def query(self) -> str:
        params = {"region": self.region, "date": self.date, "metric": self.metric}
        if self.layers:
            params["layers"] = ",".join(self.layers)
        return "?" + urlencode(params)


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
    raw_layers = args.get("layers") or ""
    if isinstance(raw_layers, str):
        raw_layers = raw_layers.split(",")
    layers = tuple(k for k in FACILITY_STYLE if k in raw_layers)
    return ViewState(region, day.date().isoformat(), metric, layers)
