"""The page container of a visit, with the page the browser is on already drawn in it.

Dash's `page_container` comes empty: once the shell is drawn, its router (a callback on the container's location)
asks the server for the page, and only then draws it. On the first load of `/` that is a round trip and one more
pass of Dash's renderer over the page's ~400 components before the KPIs and the map can show.

The request for the layout already says which page: the browser sends the page's address as its Referer (same-origin,
security/web.py). When the visitor may see that page, the container holds it, and the container's location holds the
path and query the browser already shows, so the router is not asked (dcc.Location sets none of its props that it
already has). Without a Referer, with another site's, with a path no page has or a page the visitor may not see, the
container is Dash's own and the router decides, as before: the gate in security/web.py judges its callback."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import dash
import flask
from dash import dcc, html

import security
from security import roles

log = logging.getLogger(__name__)


def page_container() -> html.Div:
    """Dash's page container, with the visited page in it when the request says which and the visitor may see it."""
    visited = _visited_page()
    if visited is None:
        return dash.page_container
    pathname, search, content, title = visited
    location, shown, store, dummy = dash.page_container.children  # Dash's ids, which its router's callback names
    return html.Div(
        [
            dcc.Location(id=location.id, refresh=location.refresh, pathname=pathname, search=search),
            html.Div(content, id=shown.id, disable_n_clicks=True),
            dcc.Store(id=store.id, data={"title": title}),  # the tab's title, set from it as after the router
            html.Div(id=dummy.id, disable_n_clicks=True),
        ]
    )


def page_at(url_path: str) -> dict | None:
    """The registered page (its dash.page_registry entry) at a path of this app's URLs; None when no page is there."""
    path = (dash.get_app().strip_relative_path(url_path) or "").strip("/")
    return next((p for p in dash.page_registry.values() if p["path"].strip("/") == path), None)


def _visited_page() -> tuple[str, str, object, str] | None:
    """(pathname, search, layout, title) of the page the layout is asked for, as the router would draw it."""
    referer = urlsplit(flask.request.referrer or "")
    if f"{referer.scheme}://{referer.netloc}/" != flask.request.host_url:
        return None
    page = page_at(referer.path)
    if page is None or not security.may(roles.route_permission("/" + page["path"].strip("/"))):
        return None
    search = f"?{referer.query}" if referer.query else ""
    # the query as the router hands it to a layout: one value per key as a string, a repeated key as a list
    query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(referer.query).items()}
    try:
        content = page["layout"](**query) if callable(page["layout"]) else page["layout"]
    except Exception:  # the router will draw it, or show its error, as for any page; the shell must still come
        log.exception("page %s not drawn with the layout; the router will draw it", referer.path)
        return None
    title = page["title"]
    return referer.path, search, content, title() if callable(title) else title
