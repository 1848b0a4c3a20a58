"""One decorator for every server callback: the Dash callback and the rules it runs under, side by side.

``@declared_callback(*outputs_inputs_states, permission=..., audit=None, cache=None, **dash_options)`` registers the
function with Dash (``dash.callback``, which takes everything but the three below) and declares:

- ``permission``: what a role needs to call it (one of security/roles.py ``ACTIONS``); the gate refuses the rest;
- ``audit``: for a callback that hands data out of the system (an export), the label each call is written to the
  audit log under;
- ``cache="shared"``: its answer depends on nothing but its request, the data version and the audience (no side
  effect, no clock), so a repeated request is answered from the shared cache (data/cache.py ``CACHED_CALLBACKS``).

The gate's permissions and audit labels (security.roles.DECLARED) and the cached callbacks are generated from these
declarations, nowhere written by hand; tests/test_declarations.py fails when a server callback has none. Clientside
callbacks need none: they never reach the server.
"""

from __future__ import annotations

from dataclasses import dataclass

import dash
from dash._callback import GLOBAL_CALLBACK_LIST, GLOBAL_CALLBACK_MAP

from data import cache as data_cache
from security import roles

SHARED = "shared"  # cache=: answered from the shared cache, per data version, request and audience
# Dash adds the cancel of a background job (``cancel=``) as a callback of its own, this function of dash.dash, when the
# app is set up; cancelling a job needs what starting it needs.
CANCEL = "dash.dash.cancel_call"


@dataclass(frozen=True)
class Declaration:
    name: str  # "module.function"
    permission: str
    audit: str | None
    cache: str | None


# The first view of `/` (KPIs, map, judgement strip, ranking) comes drawn with the page. Its other parts (the trend,
# the reporting strip, alerts, tasks, notes, the flow and resource panels) wait for its first map: with this
# input and ``prevent_initial_call=True`` they are asked once the map is drawn (`map-drawn`, set by
# assets/dashboard.js, or after 2.5 s). Asked at once, their ~12 requests and answers took the browser's main thread
# from the map for ~0.3 s on 2 cores.
AFTER_THE_MAP = dash.Input("map-drawn", "data")

DECLARATIONS: dict[str, Declaration] = {}  # by Dash's callback id (the ``callback_map`` key: its outputs)


def declared_callback(*args, permission: str, audit: str | None = None, cache: str | None = None, **dash_options):
    """``dash.callback`` with the callback's permission, audit label and cacheability declared beside it."""
    if permission not in roles.ACTIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if cache not in (None, SHARED):
        raise ValueError(f"cache: {SHARED!r} or None, not {cache!r}")
    if cache and (audit or dash_options.get("background")):
        raise ValueError("an export or a background job runs at every call: it is never answered from the cache")

    def register(func):
        name = f"{func.__module__}.{func.__name__}"
        registered = dash.callback(*args, **dash_options)(func)
        callback_id = GLOBAL_CALLBACK_LIST[-1]["output"]
        if getattr(GLOBAL_CALLBACK_MAP[callback_id]["callback"], "__wrapped__", None) is not func:
            raise RuntimeError(f"{name}: Dash did not register it as expected")
        roles.declare(name, permission, audit)
        if dash_options.get("cancel"):
            roles.declare(CANCEL, permission)
        if cache == SHARED:
            data_cache.cache_answers_of(callback_id)
        DECLARATIONS[callback_id] = Declaration(name, permission, audit, cache)
        return registered

    return register
