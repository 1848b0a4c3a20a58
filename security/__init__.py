"""Who is asking and what they may see.

Anonymous callers (the public API, the login page) have 公开 PUBLIC clearance: the API's small counts are
suppressed for them. Every signed-in role (viewer, wall, officer, data_admin) and the local demo officer have
内部 INTERNAL clearance and see exact counts. Everything else asks only through the functions below; the accounts,
the gate and the audit log live in this package (accounts.py, web.py, audit.py, roles.py).
"""

from __future__ import annotations

import flask

from data.catalogue import INTERNAL, PUBLIC  # a caller's clearance is one of the catalogue's levels (敏感 never leaves)
from security import roles, web


def _account():
    if not flask.has_request_context():
        return None
    return web.current()


def clearance() -> str:
    """公开 for anonymous callers of the public API (small counts suppressed); 内部 for signed-in staff."""
    if not flask.has_request_context():
        return PUBLIC
    if "clearance" in flask.g:  # set by a caller that knows better (a test, a background job)
        return flask.g.clearance
    return INTERNAL if _account() is not None else PUBLIC


def user_name() -> str:
    """Who is acting, for audit lines and acknowledgements."""
    if not flask.has_request_context():
        return "命令行"
    if "user_name" in flask.g:
        return flask.g.user_name
    account = _account()
    return account.name if account is not None else f"匿名（{flask.request.remote_addr}）"


def current_role() -> str | None:
    """The acting role: None for anonymous callers, 'cli' on the command line."""
    if not flask.has_request_context():
        return "cli"
    account = _account()
    return account.role if account is not None else None


def current_scope() -> str | None:
    """The adcode the acting account is limited to (uploads, county detail), None for the whole province."""
    account = _account()
    return account.region if account is not None else None


def may(permission: str) -> bool:
    """May the acting account do ``permission`` (see roles.PERMISSIONS)? The command line may do everything."""
    if not flask.has_request_context():
        return True
    return roles.allowed(current_role(), permission)
