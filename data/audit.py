"""The audit log's write: one row in ``audit_log`` (append-only: the store's triggers refuse UPDATE and DELETE on
both SQLite and PostgreSQL). Who is acting is said by the caller; security/audit.py says it for the signed-in user
of the current request, and data/tasks.py writes its task steps here with the acting account it is given."""

from __future__ import annotations

import logging

import flask
from sqlalchemy import insert

from data import store

log = logging.getLogger(__name__)


def append(action: str, detail: str, user: str, role: str | None, eng=None) -> None:
    """One line in the audit log, from the address of the current request (none on the command line)."""
    address = flask.request.remote_addr if flask.has_request_context() else None
    with (eng or store.engine()).begin() as conn:
        conn.execute(
            insert(store.audit_log).values(
                user_name=user[:64], role=role, action=action, detail=(detail or "")[:1000], address=address
            )
        )
    log.info("audit %s %s: %s", user, action, detail)
