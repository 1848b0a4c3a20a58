"""The wall screen's dark theme for any figure (dict or go.Figure): readable from several metres."""
from __future__ import annotations

import copy
import math

import plotly.graph_objects as go

WALL_BG, WALL_PANEL, WALL_INK, WALL_GRID = "#07162b", "#0d2240", "#e9f0f8", "#23395a"
WORLD = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
    "type": "Polygon", "coordinates": [[[-180, -85], [180, -85], [180, 85], [-180, 85], [-180, -85]]]}}]}


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
    if "coloraxis" in layout and "colorbar" in layout["coloraxis"]:
        bar = layout["coloraxis"]["colorbar"]
        bar.update(bgcolor="rgba(13,34,64,0.85)", tickfont={"color": WALL_INK, "size": font_px - 2})
        bar.setdefault("title", {}).setdefault("font", {}).update(color=WALL_INK, size=font_px - 2)
    for annotation in layout.get("annotations", []) or []:
        annotation.setdefault("font", {}).update(color=WALL_INK, size=font_px - 2)
        if "bgcolor" in annotation:
            annotation["bgcolor"] = "rgba(13,34,64,0.85)"
    for shape in layout.get("shapes", []) or []:
        if shape.get("line", {}).get("color") == "#1a1a1a":
            shape["line"]["color"] = WALL_INK
    if "map" in layout and "zoom" in layout["map"]:
        layout["map"]["zoom"] += math.log2(scale)  # the same area on a screen with twice the pixels
    if "map" in layout:
        # The style stays "white-bg" (a style object makes MapLibre reload its style on every update and fail);
        # a dark rectangle over the whole world, drawn first, is the wall's background.
        for layer in layout["map"].get("layers", []):
            layer.update(color="#132b4d", fill={"outlinecolor": "#36527a"})
        layout["map"]["layers"] = [{"source": WORLD, "type": "fill", "color": WALL_PANEL, "below": "traces"},
                                   *layout["map"].get("layers", [])]
    return out
