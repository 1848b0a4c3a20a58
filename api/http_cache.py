"""HTTP caching of ``/api/v1`` answers: ``Cache-Control``, ``ETag`` and ``304 Not Modified``.

- An anonymous caller's successful GET of an endpoint marked ``@conditional`` (the answers that follow the data
  only: regions, summary, timeseries, forecast, facilities, flows, coverage, adequacy, the OpenAPI document) is
  ``Cache-Control: public, max-age=60, stale-while-revalidate=30`` with an ``ETag`` made of the store and its data
  version, the path, the query (its parameters in order), the answer's format and the code's revision: two
  different queries never share one, and a new batch, a revision or a rollback (or a new release) changes every
  one. A request whose ``If-None-Match`` names the
  current ETag gets ``304`` with no body, checked before the answer is looked up or built. So nginx's cache
  (deploy/nginx.conf) and browsers keep a public answer at most a minute, then revalidate it cheaply.
- A signed-in caller's answers (exact county figures, a region's own tasks) are ``private, no-store``: no shared
  cache keeps them, no ETag is given.
- Errors (4xx, 5xx) and the answers that change without a new data version (alerts, the reporting board, tasks)
  are ``no-store``. An answer that set its own ``Cache-Control`` keeps it (the uncovered area, whose URL names the
  data version).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import Response, make_response, request

import security
from data import cache, store
from data.catalogue import PUBLIC

MAX_AGE = 60  # seconds: a batch is loaded a few times a day; a minute-old public answer is fresh enough
STALE_WHILE_REVALIDATE = 30  # seconds an expired answer may still be served while a fresh one is fetched
PUBLIC_CACHE = f"public, max-age={MAX_AGE}, stale-while-revalidate={STALE_WHILE_REVALIDATE}"
PRIVATE = "private, no-store"
NO_STORE = "no-store"


def anonymous() -> bool:
    """Whether this caller gets the public answer (suppressed county figures), the same for every anonymous caller."""
    return security.clearance() == PUBLIC


CODE = Path(__file__).resolve().parent.parent
CODE_PACKAGES = ("analytics", "api", "data", "figures", "geo", "security", "views")


@functools.lru_cache(maxsize=1)
def _revision() -> str:
    """The code that makes the answers (its Python files, read once a process, ~30 ms): a release that changes an
    answer's fields or figures changes every ETag, though the data version stays."""
    digest = hashlib.sha1()
    for package in CODE_PACKAGES:
        for path in sorted((CODE / package).rglob("*.py")):
            digest.update(path.relative_to(CODE).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def etag() -> str:
    """The ETag of this request's public answer: store and data version, path, query and format."""
    version = cache.database_key(store.engine())  # the database and its data version (cheap: read once a second)
    query = sorted(request.args.items(multi=True))
    fmt = request.args.get("format", "json")
    text = "\n".join((_revision(), version, request.path, fmt, repr(query)))
    return f"{version.rsplit(':', 1)[1]}.{hashlib.sha1(text.encode()).hexdigest()[:24]}"


def _match(tag: str) -> str | None:
    """The tag of ``If-None-Match`` that names ``tag`` (weak comparison; flask-compress's ``tag:gzip`` for a
    compressed answer counts too), or None. ``*`` is left to the caller: it matches only an answer that exists."""
    wanted = request.if_none_match
    if not wanted or wanted.star_tag:
        return None
    for candidate in wanted.as_set(include_weak=True):
        if candidate.split(":", 1)[0] == tag:
            return candidate
    return None


def conditional(view):
    """Mark a view's answer as public, with an ETag and 304 for a matching ``If-None-Match``; put it outside the
    response cache, so a 304 costs no lookup and no build."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method not in ("GET", "HEAD") or not anonymous():
            return view(*args, **kwargs)  # finish() marks it private
        tag = etag()
        matched = _match(tag)
        if matched is not None:
            response = Response(status=304)
            response.set_etag(matched)
            response.headers["Cache-Control"] = PUBLIC_CACHE
            return response
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200:
            if request.if_none_match.star_tag:  # "*": any current answer; there is one (not an error)
                response = Response(status=304)
            response.set_etag(tag)
            response.headers["Cache-Control"] = PUBLIC_CACHE
        return response

    wrapper.public_cache = True  # for the OpenAPI document's test: the operations it lists as cached are these
    return wrapper


def finish(response):
    """After every ``/api/v1`` request: what ``conditional`` or the view did not mark is never kept by a shared
    cache (nginx caches what carries no Cache-Control at all)."""
    if response.status_code >= 400:
        response.headers["Cache-Control"] = NO_STORE
        response.headers.pop("ETag", None)
    elif "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = NO_STORE if anonymous() else PRIVATE
    return response
