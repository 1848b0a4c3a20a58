"""The shared cache of small results: Redis when ``CACHE_REDIS_URL`` is set (one cache for every worker and host),
otherwise an in-process cache. Both are Flask-Caching backends.

What goes here are small, JSON-sized things: API responses, a region's summary on a day, a day's ranking. The big
derived frames stay in each process (``store.per_version``); they are never pickled into Redis.

Every key holds the database (a hash of its URL) and its data version, so a new batch, a revision or a rollback
makes every older entry unreachable (they expire by themselves). If Redis cannot be reached the app goes on with the
in-process cache, says so once in the log, and tries Redis again every 30 s; a caller never sees a
Redis error.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import logging
import os
import pickle
import re
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
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
        from flask_caching.backends.rediscache import RedisCache  # noqa: PLC0415
        from redis.backoff import NoBackoff  # noqa: PLC0415
        from redis.retry import Retry  # noqa: PLC0415
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
            self.redis._read_client.ping()
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
            except Exception as err:  # noqa: BLE001
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
            except Exception as err:  # noqa: BLE001
                self._failed(err)
            else:
                self._worked()
                return
        try:
            self.local.set(key, boxed, timeout=timeout)
        except Exception:  # noqa: BLE001
            pass

    def clear(self) -> None:
        """Forget this process's entries (Redis entries go by version and time)."""
        self.local.clear()


MISSING = _MISSING
_cache: SharedCache | None = None
_cache_lock = threading.Lock()
_building: dict[str, threading.Lock] = {}  # key -> the lock of the thread building it (see memoize)
_building_lock = threading.Lock()


def shared_cache() -> SharedCache:
    """The process's cache, made on first use from the environment."""
    global _cache
    if _cache is None:
        with _cache_lock:
            if _cache is None:
                _cache = SharedCache()
    return _cache


def reset(url: str | None = None, prefix: str | None = None) -> SharedCache:
    """Make the cache again (tests, or after the environment changed)."""
    global _cache
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
    global _building_lock
    if _cache is not None:
        _cache.lock = threading.Lock()
    _building_lock = threading.Lock()
    _building.clear()


os.register_at_fork(after_in_child=_after_fork)


def _safe_url(url: str | None) -> str:
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
    except Exception:  # noqa: BLE001
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
        with _building_lock:
            building = _building.setdefault(k, threading.Lock())
        try:
            with building:
                found = cache.get(k)
                if found is MISSING:
                    found = fn(*args, **kwargs)
                    cache.set(k, found, timeout)
        finally:
            with _building_lock:
                _building.pop(k, None)
        return found

    cached.uncached = fn
    return cached


def cached_response(view):
    """Cache a Flask view's response (body, status, type, headers) by path and query string, per data version.
    Errors raised by the view are never cached."""
    from flask import Response, request  # noqa: PLC0415

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        cache = shared_cache()
        from security import clearance  # noqa: PLC0415  (public callers get suppressed county figures)
        query = sorted(request.args.items(multi=True))
        k = key(f"response:{request.path}:{clearance()}", query)
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


# Callback answers that depend only on their request and the data (no side effect, no clock): the same request
# for the same data version and audience gets the answer sent before, without running the callback or encoding its
# figures again. A wall screen and dozens of officers ask for the same few views; the heaviest answers (a trend of
# three years, the flow charts) cost 5-15 ms to encode each time.
PURE_CALLBACK_OUTPUTS = (
    "region-map.figure", "map-days.data", "trend-chart.figure", "kpi-confirmed.children", "unit-order.data",
    '"type":"assess-item"', "flow-chart.figure", "scale-chart.figure", "od-chart.figure", "import-chart.figure",
    "map-note.children", "adequacy-table.children",
)


CALLBACK_ANSWER_LIMIT = 4_000_000  # bytes; a 3-year trend is ~0.3 MB, a unit's map-days for a long epidemic a few MB
_OUTPUT = re.compile(rb'\{\s*"output"\s*:\s*"((?:[^"\\]|\\.)*)"')


def is_pure_callback(body: bytes) -> bool:
    """Whether a callback request is for one of ``PURE_CALLBACK_OUTPUTS``. dash-renderer writes "output" first;
    a request in any other shape is not recognised, so never answered from the cache."""
    found = _OUTPUT.match(body[:2000])
    return bool(found) and any(name.replace('"', '\\"').encode() in found.group(1) for name in PURE_CALLBACK_OUTPUTS)


def init_callback_cache(server, audience=lambda: ()) -> None:
    """Serve repeated pure callback requests (``PURE_CALLBACK_OUTPUTS``) from the shared cache. Register it after
    every other request hook (sign-in, CSRF), so those still run first; ``audience`` gives what else the answer
    depends on (who may see what)."""
    from flask import Response, g, request  # noqa: PLC0415

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
        if k and response.status_code == 200 and not response.direct_passthrough \
                and response.content_length and response.content_length <= CALLBACK_ANSWER_LIMIT:
            shared_cache().set(k, response.get_data())
        return response
