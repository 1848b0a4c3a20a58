"""Colour palettes of the figures, and the wall screen's dark theme for any figure (dict or go.Figure): readable
from several metres.

Two palettes: ``standard`` (the colours of Chinese epidemic maps: white to dark red, green/amber/red risk) and
``cb``, safe for colour-blind readers (deuteranopia, protanopia, tritanopia): a viridis sequential scale, a
blue-white-orange scale for Rt and Okabe–Ito-derived risk and trend colours, distinguishable by lightness as well as
hue. The palette is part of the view state (``palette=cb`` in the URL of `/` and `/wall`)."""

from __future__ import annotations

import base64
import copy
import functools
import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from analytics.risk import LEVEL_COLOURS


@dataclass(frozen=True)
class Palette:
    name: str
    sequential: tuple  # colours from zero to the maximum, evenly spaced
    diverging: tuple  # ((position, colour), ...) centred on the metric's midpoint (Rt = 1)
    risk: dict  # level -> colour
    new: str  # daily new cases (bars)
    average: str  # 7-day average, Rt
    band: str  # Rt's credible interval
    cumulative: str
    active: str
    reference: str  # the Rt = 1 line


PALETTES = {
    "standard": Palette(
        "标准配色",
        ("#fff7ec", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"),
        ((0.0, "#1a9850"), (0.5, "#f7f7f7"), (1.0, "#b2182b")),
        dict(LEVEL_COLOURS),
        new="#e8846b",
        average="#b2182b",
        band="rgba(178,24,43,0.18)",
        cumulative="#4a4a4a",
        active="#2166ac",
        reference="#1b7837",
    ),
    # viridis reversed (light = few), Okabe & Ito (2008) colours for the categories and lines
    "cb": Palette(
        "色觉友好配色",
        ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"),
        ((0.0, "#2166ac"), (0.5, "#f7f7f7"), (1.0, "#b35806")),
        {"low": "#56b4e9", "medium": "#e69f00", "high": "#8e0152"},
        new="#f0b45a",
        average="#0072b2",
        band="rgba(0,114,178,0.18)",
        cumulative="#000000",
        active="#cc79a7",
        reference="#00795a",
    ),
}
DEFAULT_PALETTE = "standard"


def palette(name: str | None) -> Palette:
    """The palette of that name; the standard one for anything else."""
    return PALETTES.get(name or DEFAULT_PALETTE, PALETTES[DEFAULT_PALETTE])


WALL_BG, WALL_PANEL, WALL_INK, WALL_GRID = "#07162b", "#0d2240", "#e9f0f8", "#23395a"
DARK_INKS = {"#000000", "#111111", "#1a1a1a", "#4a4a4a"}  # figure inks drawn light on the wall
WORLD = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-180, -85], [180, -85], [180, 85], [-180, 85], [-180, -85]]],
            },
        }
    ],
}


def wall(fig, font_px: int = 18, scale: float = 1.0) -> dict:
    """A copy of the figure with dark backgrounds, light ink and large type; the data are untouched.
    ``scale`` multiplies type and margins (2 on a 3840-wide wall)."""
    out = copy.deepcopy(fig.to_plotly_json() if isinstance(fig, go.Figure) else fig)
    font_px = round(font_px * scale)
    layout = out.setdefault("layout", {})
    if isinstance(layout.get("margin"), dict):
        layout["margin"] = {k: round(v * scale) for k, v in layout["margin"].items()}
    layout.update(paper_bgcolor=WALL_PANEL, plot_bgcolor=WALL_PANEL)
    font = layout.setdefault("font", {})
    font.update(color=WALL_INK, size=font_px)
    if isinstance(layout.get("title"), dict):
        layout["title"].setdefault("font", {}).update(size=font_px + 4, color=WALL_INK)
    for key in list(layout):
        if key.startswith(("xaxis", "yaxis")) and isinstance(layout[key], dict):
            layout[key].update(gridcolor=WALL_GRID, linecolor=WALL_GRID, zerolinecolor=WALL_GRID)
            layout[key].pop("rangeselector", None)  # nobody clicks a wall
    if "legend" in layout:
        layout["legend"].update(bgcolor="rgba(0,0,0,0)", font={"size": font_px - 2, "color": WALL_INK})
        legend = layout["legend"]
        if legend.get("orientation") == "h" and legend.get("yanchor") == "bottom" and legend.get("y", 0) >= 1:
            # A row of entries over the plot, in the wall's large type, wraps onto the chart's title: under the
            # plot instead, below the date axis
            legend.update(x=0, xanchor="left", y=-0.1, yanchor="top")
            margin = layout.setdefault("margin", {})
            margin["b"] = margin.get("b", 36) + round(2 * font_px * 1.4)
    if "coloraxis" in layout and "colorbar" in layout["coloraxis"]:
        bar = layout["coloraxis"]["colorbar"]
        bar.update(bgcolor="rgba(13,34,64,0.85)", tickfont={"color": WALL_INK, "size": font_px - 2})
        bar.setdefault("title", {}).setdefault("font", {}).update(color=WALL_INK, size=font_px - 2)
    for annotation in layout.get("annotations", []) or []:
        was = annotation.get("font", {}).get("size")
        annotation.setdefault("font", {}).update(color=WALL_INK, size=font_px - 2)
        if was and isinstance(annotation.get("ay"), (int, float)):
            # notes stacked by their arrows' length (the trend's first case, peak, last case) keep their spacing in
            # the larger type; unscaled, each covered the one above it
            annotation["ay"] = round(annotation["ay"] * (font_px - 2) / was)
        if "bgcolor" in annotation:
            annotation["bgcolor"] = "rgba(13,34,64,0.85)"
    for trace in out.get("data", []):  # black and dark grey lines and markers vanish on the dark panel
        for key in ("line", "marker"):
            part = trace.get(key)
            if isinstance(part, dict) and isinstance(part.get("color"), str) and part["color"].lower() in DARK_INKS:
                part["color"] = WALL_INK
    for shape in layout.get("shapes", []) or []:
        if shape.get("line", {}).get("color") == "#1a1a1a":
            shape["line"]["color"] = WALL_INK
    if "map" in layout and "zoom" in layout["map"]:
        layout["map"]["zoom"] += math.log2(scale)  # the same area on a screen with twice the pixels
    if "map" in layout:
        # The style stays "white-bg" (a style object makes MapLibre reload its style on every update and fail);
        # a dark rectangle over the whole world, drawn first, is the wall's background.
        for layer in layout["map"].get("layers", []):
            if layer.get("type") == "line":
                layer.update(color="#36527a")
            else:
                layer.update(color="#132b4d", fill={"outlinecolor": "#36527a"})
        layout["map"]["layers"] = [
            {"source": WORLD, "type": "fill", "color": WALL_PANEL, "below": "traces"},
            *layout["map"].get("layers", []),
        ]
    return out


def figure(*args, **kwargs) -> go.Figure:
    """A ``go.Figure`` that does not validate each property as it is set. Validation made a trend figure cost ~90
    ms to build (plotly's object layer checking ~2,000 properties); the JSON it gives was the same for the trend
    views (compared before the switch), and the figures' contents are checked by the tests of the views that draw
    them (test_callbacks, test_new_wave, test_forecast, test_flows, test_exports)."""
    return go.Figure(*args, _validate=False, **kwargs)


class FigureDict(dict):
    """A figure as a plain dict in plotly's JSON form (``{"data": [...], "layout": {...}}``), built without plotly's
    object layer (see figures/trends.py): dcc.Graph, plotly.io, kaleido and ``wall`` take it as it is. For code
    written against ``go.Figure``, ``to_plotly_json()`` gives it as a plain dict, and ``data`` and ``layout`` read it
    through a ``go.Figure`` made on each access (typed arrays decoded to numpy): for reading only, a change made
    there does not reach the dict."""

    __slots__ = ()

    def to_plotly_json(self) -> dict:
        """A plain dict, copied one level deep (a caller may set a top-level key of ``layout`` without changing this
        figure; deeper parts, such as the shared template, are not copied)."""
        return {k: dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v for k, v in self.items()}

    @property
    def data(self):
        return self._view().data

    @property
    def layout(self):
        return self._view().layout

    def _view(self) -> go.Figure:
        return go.Figure(_decoded(dict(self)), _validate=False)


# plotly.js typed arrays ({"dtype", "bdata"}: _plotly_utils.utils.to_typed_array_spec) -> numpy dtypes
TYPED_ARRAY_DTYPES = {
    "f8": "float64",
    "f4": "float32",
    "i1": "int8",
    "u1": "uint8",
    "i2": "int16",
    "u2": "uint16",
    "i4": "int32",
    "u4": "uint32",
}


def _decoded(value):
    """The figure with its base64 typed arrays as numpy arrays (what a go.Figure built from frames holds)."""
    if isinstance(value, dict):
        if "bdata" in value and value.get("dtype") in TYPED_ARRAY_DTYPES and "shape" not in value:
            return np.frombuffer(base64.b64decode(value["bdata"]), dtype=TYPED_ARRAY_DTYPES[value["dtype"]])
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def default_template() -> dict | None:
    """The ``layout.template`` that ``go.Figure`` puts into every figure (plotly.io.templates.default), as JSON, for a
    figure built as a dict to give the browser the same JSON. One dict shared by every such figure: read only (the
    wall and the exports copy a figure before they change it)."""
    default = pio.templates.default
    if default is None:
        return None
    return _template_json(default) if isinstance(default, str) else default.to_plotly_json()


@functools.lru_cache(maxsize=8)
def _template_json(name: str) -> dict:
    return pio.templates[name].to_plotly_json()
