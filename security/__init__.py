"""Who is asking and what they may see.

Until accounts exist (issue 8) every visitor is the local demo officer: internal clearance, exact counts. The
accounts work replaces these two functions with the signed-in user's; everything else asks only through them.
"""
from __future__ import annotations

import flask

PUBLIC, INTERNAL = "公开", "内部"  # the levels of the classification: 公开 public, 内部 internal (敏感 never leaves)


def clearance() -> str:
    """公开 for anonymous callers of the public API (small counts suppressed); 内部 for signed-in staff."""
    return flask.g.get("clearance", INTERNAL) if flask.has_request_context() else PUBLIC


def user_name() -> str:
    """Who is acting, for audit lines and acknowledgements."""
    return flask.g.get("user_name", "演示值班员") if flask.has_request_context() else "命令行"
