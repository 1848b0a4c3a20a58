"""The map metrics offered in ``metric-select``: the fields the catalogue lists as map metrics (their names, units
and decimals are the catalogue's) and how each is coloured."""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics.risk import LEVEL_NAMES, LEVELS
from data import catalogue
from figures.theme import palette as palette_named

# Colour scales are in figures/theme.py: white to dark red for case counts (as Chinese epidemic maps colour them;
# the first stop is for zero), green-white-red for Rt centred on 1, and their colour-blind-safe counterparts.
NO_DATA_COLOUR = "#d9d9d9"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    digits: int = 0
    kind: str = "sequential"  # sequential | diverging (centred on ``mid``) | categorical
    mid: float | None = None
    categories: tuple = field(default=())


# How a metric is coloured when not white to dark red by magnitude: the one choice here, the rest is the catalogue's.
COLOURING = {
    "rt": {"kind": "diverging", "mid": 1.0},  # above or below 1: growing or shrinking
    "risk_level": {"kind": "categorical", "categories": LEVELS},
}


def _metric(name: str) -> Metric:
    f = catalogue.field_named(name)
    return Metric(name, f.label, f.unit, f.digits, **COLOURING.get(name, {}))


METRICS = {name: _metric(name) for name in catalogue.MAP_METRICS}
DEFAULT_METRIC = "confirmed_cum"


def colour_axis(metric: str, values, palette: str | None = None) -> dict:
    """The colour axis of a metric for the given values (a pandas Series, NaN allowed), in the named palette."""
    m = METRICS[metric]
    colours = palette_named(palette)
    title = {"text": f"{m.label}<br>（{m.unit}）" if m.unit else m.label, "side": "top"}
    bar = {
        "title": title,
        "thickness": 14,
        "len": 0.6,
        "x": 0.99,
        "xanchor": "right",
        "bgcolor": "rgba(255,255,255,0.85)",
    }
    if m.kind == "categorical":
        n = len(m.categories)
        scale = []
        for i, level in enumerate(m.categories):
            scale += [[i / n, colours.risk[level]], [(i + 1) / n, colours.risk[level]]]
        return {
            "colorscale": scale,
            "cmin": -0.5,
            "cmax": n - 0.5,
            "colorbar": {**bar, "tickvals": list(range(n)), "ticktext": [LEVEL_NAMES[c] for c in m.categories]},
        }
    finite = values.dropna()
    top = float(finite.max()) if len(finite) else 1.0
    if m.kind == "diverging":
        span = max(abs(top - m.mid), abs(float(finite.min()) - m.mid) if len(finite) else 0, 0.5)
        return {
            "colorscale": [list(stop) for stop in colours.diverging],
            "cmin": m.mid - span,
            "cmax": m.mid + span,
            "colorbar": bar,
        }
    sequential = colours.sequential
    scale = [[i / (len(sequential) - 1), c] for i, c in enumerate(sequential)]
    return {"colorscale": scale, "cmin": 0, "cmax": top if top > 0 else 1.0, "colorbar": bar}


def map_values(metric: str, column):
    """Numbers to colour by: risk levels become 0, 1, 2."""
    m = METRICS[metric]
    if m.kind == "categorical":
        return column.map({c: i for i, c in enumerate(m.categories)})
    return column
