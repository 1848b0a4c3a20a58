"""The layout Dash checks callbacks against: the banner, the page container and every page's layout at once.

Each page is one layout among several, so no single layout holds every id the callbacks name; with this one Dash can
check each callback's ids and properties (``suppress_callback_exceptions=False``). Ids made by callbacks themselves
(the rows of a table, the buttons of a list) are pattern-matching ids, which Dash does not look up in a layout."""

from __future__ import annotations

import dash
from dash import html

from security import banner


def validation_layout() -> html.Div:
    """Every page's layout as a visitor with no query string gets it (each page's defaults), under the banner."""
    pages = [page["layout"]() if callable(page["layout"]) else page["layout"] for page in dash.page_registry.values()]
    return html.Div([banner.banner(), dash.page_container, *pages])
