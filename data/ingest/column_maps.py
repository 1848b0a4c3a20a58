"""Column mappings remembered by header: the mapping an officer gives for a file whose headers no synonym knows
(``--columns`` or the form on `/data`) is kept with the file's column names, so the next file with the same header
is read the same way without asking again."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, insert, select

from data import store
from data.ingest.reading import normalise_header


def header_key(headers: list[str]) -> str:
    """The same header, however it is spaced or bracketed, gives the same key."""
    return hashlib.sha256("\x1f".join(normalise_header(h) for h in headers if str(h).strip()).encode()).hexdigest()


def remembered(headers: list[str], kind: str | None, eng) -> tuple[str, dict[str, str]] | None:
    """(kind, mapping) given before for this header (of this kind, or of any kind when ``kind`` is None)."""
    t = store.column_maps
    query = select(t.c.kind, t.c.mapping).where(t.c.header_key == header_key(headers)).order_by(t.c.id.desc())
    if kind:
        query = query.where(t.c.kind == kind)
    with eng.connect() as conn:
        row = conn.execute(query).first()
    return (row.kind, dict(row.mapping)) if row else None


def remember(headers: list[str], kind: str, mapping: dict[str, str], user: str, eng) -> None:
    t = store.column_maps
    key = header_key(headers)
    with eng.begin() as conn:
        conn.execute(delete(t).where(t.c.header_key == key, t.c.kind == kind))
        conn.execute(insert(t).values(header_key=key, kind=kind, mapping=mapping, created_by=user))
