"""The shared cache of small results: Redis when ``CACHE_REDIS_URL`` is set (one cache for every worker and host),
otherwise an in-process cache. Both are Flask-Caching backends.

Which cache serves what (every data-derived entry is keyed by the database and its data version, so a new batch, a
revision or a rollback makes the older ones unreachable):

- ``store.per_version``, in each process's memory: derived frames and geometry (the day-by-day case table, the flow
  summary, a day's or a block's importation risk, coverage and its uncovered area, facility frames and totals,
  disclosure marks, alert metrics, the importation check). Keyed by database, data version and arguments; a new
  version drops the older ones' entries, and a few dozen argument sets a version are kept. The case list and the
  flow rows are never held whole: the store counts and finds them (data/queries.py, data/flow_queries.py).
- This shared cache, in Redis (or in each process's memory without it): small JSON-sized results, up to 2 MB and an
  hour each: a day's figures and rankings (``memoize``), maps and trends as plotly JSON, API responses
  (``cached_response``) and the answers of the callbacks declared ``cache="shared"`` (callbacks/declare.py). Keyed by
  database, data version and arguments; API responses and callback answers also by audience (the clearance).
- The instance folder, a file per store and data version: the published forecast backtest (data/forecasts.py, ~30 s
  to make), read by every process and kept over restarts.
- ``functools.lru_cache``, in each process's memory: what comes from files shipped with the code (boundaries and
  county polygons, regions, the gazetteer, the OpenAPI text), read once. The alert rules are read again when their
  file changes (data/alerts.py).
- The browser: assets and boundary files (kept a day, then revalidated by ETag); the uncovered-area GeoJSON, whose URL
  names the data version; the map's day values around the chosen day, which a date step recolours from without a
  request.

The data version itself is read at most once a second per process and database (``store.data_version``).

If Redis cannot be reached the app goes on with the in-process cache, says so once in the log, and tries Redis again
every 30 s; a caller never sees a Redis error. Big derived frames are never pickled into Redis.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import json
import logging
import os
import pickle
import re
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
from flask import Response, g, request
from flask_caching.backends.simplecache import SimpleCache

from data import store

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0  # how long to go without Redis after a failure before trying it again (CACHE_REDIS_RETRY_SECONDS)
TIMEOUT = 3600  # seconds an entry lives; a new data version makes it unreachable long before that
MAX_BYTES = 2_000_000  # larger results stay in the process
WARNING = "Redis 不可用（CACHE_REDIS_URL=%s）：改用进程内缓存，多进程间不再共享，速度会变慢"
_MISSING = object()


class SharedCache:
    """get/set over Redis with the in-process cache as a fallback; never raises a cache error to its caller."""

    def __init__(self, url: str | None = None, prefix: str | None = None):
        self.url = url if url is not None else os.environ.get("CACHE_REDIS_URL") or None
        self.prefix = prefix if prefix is not None else os.environ.get("CACHE_KEY_PREFIX", "dashboard:")
        self.retry_seconds = float(os.environ.get("CACHE_REDIS_RETRY_SECONDS", RETRY_SECONDS))
        self.local = SimpleCache(threshold=500, default_timeout=TIMEOUT)
        self.redis = None
        self.down_since: float | None = None  # when the current outage began (None: Redis is fine or not used)
        self.retry_at = 0.0
        self.lock = threading.Lock()
        if self.url:
            try:
                self.redis = self._connect(self.url)
            except Exception as err:  # noqa: BLE001  (a bad URL, no redis module: serve on without Redis)
                self.down_since = self.retry_at = float("inf")
                log.warning(WARNING + "（%s）", _safe_url(self.url), err)

    def _connect(self, url: str):
        import redis  # noqa: PLC0415  (only needed with CACHE_REDIS_URL)
        from flask_caching.backends.rediscache import RedisCache  # noqa: PLC0415  (as above)
        from redis.backoff import NoBackoff  # noqa: PLC0415  (as above)
        from redis.retry import Retry  # noqa: PLC0415  (as above)

        # short timeouts and no retries: a missing Redis must cost a request almost nothing
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0, retry=Retry(NoBackoff(), 0))
        return RedisCache(host=client, key_prefix=self.prefix, default_timeout=TIMEOUT)

    @property
    def shared(self) -> bool:
        """Whether entries are shared between processes right now."""
        return self.redis is not None and self.down_since is None

    def _remote(self):
        if self.redis is None:
            return None
        if self.down_since is not None and time.monotonic() < self.retry_at:
            return None
        return self.redis

    def _failed(self, err: Exception) -> None:
        with self.lock:
            now = time.monotonic()
            self.retry_at = now + self.retry_seconds
            if self.down_since is None:
                self.down_since = now
                log.warning(WARNING + "（%s）", _safe_url(self.url), err.__class__.__name__)

    def _worked(self) -> None:
        if self.down_since is not None:
            with self.lock:
                if self.down_since is not None:
                    self.down_since = None
                    log.info("Redis 已恢复（CACHE_REDIS_URL=%s）：缓存重新在各进程间共享", _safe_url(self.url))

    def check(self) -> bool:
        """Ping Redis now (at start): True when it answers; logs the warning when it does not."""
        if self.redis is None:
            return False
        try:
            self.redis._read_client.ping()  # noqa: SLF001  (flask-caching offers no ping of its own)
        except Exception as err:  # noqa: BLE001  (any failure of the cache means: go on without it)
            self._failed(err)
            return False
        self._worked()
        return True

    def get(self, key: str):
        """The value stored under key, or ``MISSING``."""
        remote = self._remote()
        if remote is not None:
            try:
                found = remote.get(key)
            except Exception as err:  # noqa: BLE001  (any failure of Redis means: go on without it)
                self._failed(err)
            else:
                self._worked()
                return found[0] if isinstance(found, tuple) else _MISSING
        found = self.local.get(key)
        return found[0] if isinstance(found, tuple) else _MISSING

    def set(self, key: str, value, timeout: int = TIMEOUT) -> None:
        boxed = (value,)  # so that None can be cached too
        try:
            if len(pickle.dumps(boxed, protocol=pickle.HIGHEST_PROTOCOL)) > MAX_BYTES:
                return  # too big to be worth shipping around: computed again when asked for
        except Exception:  # noqa: BLE001  (not picklable: keep nothing)
            return
        remote = self._remote()
        if remote is not None:
            try:
                remote.set(key, boxed, timeout=timeout)
            except Exception as err:  # noqa: BLE001  (any failure of Redis means: go on without it)
                self._failed(err)
            else:
                self._worked()
                return
        try:
            self.local.set(key, boxed, timeout=timeout)
        except Exception:  # noqa: BLE001  (a value the local cache cannot keep is simply not cached)
            pass

    def clear(self) -> None:
        """Forget this process's entries (Redis entries go by version and time)."""
        self.local.clear()


MISSING = _MISSING
_cache: SharedCache | None = None
_cache_lock = threading.Lock()
_builds = store.BuildLocks()  # see memoize


def shared_cache() -> SharedCache:
    """The process's cache, made on first use from the environment."""
    global _cache  # noqa: PLW0603  (one cache a process, shared by every caller)
    if _cache is None:
        with _cache_lock:
            if _cache is None:
                _cache = SharedCache()
    return _cache


def reset(url: str | None = None, prefix: str | None = None) -> SharedCache:
    """Make the cache again (tests, or after the environment changed)."""
    global _cache  # noqa: PLW0603  (one cache a process, shared by every caller)
    with _cache_lock:
        _cache = SharedCache(url, prefix)
    return _cache


def init_app(server) -> None:
    """Register the cache with the Flask server and check Redis once at start, so the log says at once when it is
    missing (a refused connection answers at once; an unreachable host costs the 0.5 s connect timeout)."""
    cache = shared_cache()
    server.extensions["dashboard_cache"] = cache
    if cache.redis is not None:
        cache.check()


def _after_fork() -> None:
    # a worker forked from a preloaded master: a lock taken by another thread at fork time would stay taken
    if _cache is not None:
        _cache.lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def _safe_url(url: str | None) -> str:
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
    except Exception:  # noqa: BLE001  (an unparsable URL is shown as written: it has no password to hide)
        pass
    return url


def _plain(value):
    """Arguments as a stable text: dates in one form whatever type they came as."""
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(_plain(v) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    return value


def database_key(eng) -> str:
    """The database and its current data version, as part of a key."""
    url = eng.url.render_as_string(hide_password=False)
    return f"{hashlib.sha1(url.encode()).hexdigest()[:12]}:{store.data_version(eng)}"


def key(name: str, arguments, eng=None) -> str:
    eng = eng or store.engine()
    digest = hashlib.sha1(repr(_plain(arguments)).encode()).hexdigest()
    return f"{name}:{database_key(eng)}:{digest}"


def memoize(fn=None, *, timeout: int = TIMEOUT):
    """Memoise a function of small arguments (a region code, a day) that returns a small result, in the shared
    cache, per database and data version. An ``eng`` argument names the database (default: the app's store) and is
    not part of the key otherwise. ``fn.uncached`` is the function itself."""
    if fn is None:
        return functools.partial(memoize, timeout=timeout)
    signature = inspect.signature(fn)
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def cached(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        eng = arguments.pop("eng", None) or store.engine()
        cache = shared_cache()
        k = key(name, sorted(arguments.items()), eng)
        found = cache.get(k)
        if found is not MISSING:
            return found
        # One thread a process builds a key; the others that ask for it meanwhile wait and take its result, rather
        # than build the same seconds-long answer side by side (a page's burst, the replays of a benchmark).
        with _builds.building(k):
            found = cache.get(k)
            if found is MISSING:
                found = fn(*args, **kwargs)
                cache.set(k, found, timeout)
        return found

    cached.uncached = fn
    return cached


def cached_response(audience: Callable[[], object]):
    """Cache a Flask view's response (body, status, type, headers) by path, query string and ``audience()`` (what
    else the answer depends on: who may see what), per data version. Errors raised by the view are never cached."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            cache = shared_cache()
            query = sorted(request.args.items(multi=True))
            k = key(f"response:{request.path}:{audience()}", query)
            found = cache.get(k)
            if found is not MISSING:
                body, status, content_type, headers = found
                return Response(body, status=status, content_type=content_type, headers=headers)
            response = view(*args, **kwargs)
            if isinstance(response, Response) and response.status_code == 200 and not response.direct_passthrough:
                headers = [(h, v) for h, v in response.headers.items() if h.lower() == "content-disposition"]
                cache.set(k, (response.get_data(), response.status_code, response.content_type, headers))
            return response

        return wrapper

    return decorate


# Callback answers that depend only on their request and the data (no side effect, no clock): the same request
# for the same data version and audience gets the answer sent before, without running the callback or encoding its
# figures again. A wall screen and dozens of officers ask for the same few views; the heaviest answers (a trend of
# three years, the flow charts) cost 5-15 ms to encode each time. Which callbacks these are is declared beside each
# one (``cache="shared"`` in callbacks/declare.py), which registers its Dash callback id here.
CACHED_CALLBACKS: set[str] = set()
CALLBACK_ANSWER_LIMIT = 4_000_000  # bytes; a 3-year trend is ~0.3 MB, a unit's map-days for a long epidemic a few MB
_OUTPUT = re.compile(rb'\{\s*"output"\s*:\s*"((?:[^"\\]|\\.)*)"')


def cache_answers_of(callback_id: str) -> None:
    """Answer the callback ``callback_id`` (Dash's id of it: its outputs) from the shared cache."""
    CACHED_CALLBACKS.add(callback_id)


def is_pure_callback(body: bytes) -> bool:
    """Whether a callback request is for one of ``CACHED_CALLBACKS``. dash-renderer writes "output" (the callback's
    id) first; a request in any other shape is not recognised, so never answered from the cache."""
    found = _OUTPUT.match(body[:2000])
    if not found:
        return False
    try:
        output = json.loads(b'"' + found.group(1) + b'"')
    except ValueError:
        return False
    return output in CACHED_CALLBACKS


def init_callback_cache(server, audience=lambda: ()) -> None:
    """Serve repeated requests of the ``CACHED_CALLBACKS`` from the shared cache. Register it after
    every other request hook (sign-in, CSRF), so those still run first; ``audience`` gives what else the answer
    depends on (who may see what)."""

    @server.before_request
    def _answer_from_cache():
        if request.path != "/_dash-update-component" or request.method != "POST":
            return None
        body = request.get_data(cache=True)
        if not is_pure_callback(body):
            return None
        g.callback_key = key("callback", (hashlib.sha1(body).hexdigest(), tuple(audience())))
        found = shared_cache().get(g.callback_key)
        if found is MISSING:
            return None
        g.callback_key = None  # answered from the cache: nothing to store afterwards
        return Response(found, status=200, mimetype="application/json")

    @server.after_request
    def _keep_answer(response):
        k = g.pop("callback_key", None)
        if (
            k
            and response.status_code == 200
            and not response.direct_passthrough
            and response.content_length
            and response.content_length <= CALLBACK_ANSWER_LIMIT
        ):
            shared_cache().set(k, response.get_data())
        return response
