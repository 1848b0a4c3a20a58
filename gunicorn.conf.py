"""Gunicorn settings for the dashboard: ``gunicorn -c gunicorn.conf.py app:server``.

Environment: ``HOST``/``PORT`` (127.0.0.1:8050, as ``python app.py``), ``WEB_CONCURRENCY`` (worker processes,
default one per core), ``GUNICORN_THREADS`` (threads per worker, default 4), ``GUNICORN_ACCESS_LOG`` (a file or
``-`` for stderr; off by default), ``GUNICORN_TIMEOUT`` (seconds, default 120), ``LOG_LEVEL``.

Why these numbers (measured with ``make load`` on 2 cores / 24 GB, results in docs/benchmarks.md "负载测试"):

- The callbacks are CPU-bound pandas/plotly work under the GIL, so more busy processes than cores only adds
  context switches; one process per core uses the machine. Threads (gthread) let a worker overlap the short
  polls, database reads and response writes with a long figure, so a 2 ms wall poll does not queue behind a
  100 ms chart. Memory is not the limit: a worker holds ~0.3 GB once warm.
- ``preload_app``: the app is imported once in the master; the shipped data is loaded (first start) and the derived
  tables are built there before any worker is forked, so workers start warm and share those pages copy-on-write.
  ``gc.freeze()`` before forking keeps the collector from touching (and so copying) them.
- ``max_requests`` with jitter recycles a worker now and then (a fresh fork of the warm master, not a cold start),
  which bounds any slow growth of a long-lived process; the jitter keeps the workers from restarting together.
"""

from __future__ import annotations

import gc
import os
import sys
import threading

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
preload_app = True

# A request that runs long is an upload of up to 200 MB being checked and stored (the briefing pack runs in a
# background process and is polled). gthread workers keep beating while a thread works, so this only ends a
# worker that is truly stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
# Seconds an idle keep-alive connection is kept. Longer than nginx keeps its idle upstream connections (60 s,
# deploy/nginx.conf): otherwise gunicorn may close one just as nginx sends a callback on it, and nginx cannot
# retry a POST, so the user would get a 502. gthread parks idle connections in its poller, not in a thread.
keepalive = 75

max_requests = 5000
max_requests_jitter = 500

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s'
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "dashboard"

# gunicorn >= 25 opens a control socket at one fixed path per user; two instances on one machine (tests, load
# runs, a second deployment) would fight over it. Nothing here uses gunicornc.
control_socket_disable = True


def when_ready(server):
    """In the master, after the preloaded import and before the first fork: refuse to serve beyond this machine
    without accounts and a SECRET_KEY (whatever -b says), then let the cache warm-up that app.py
    started in a thread finish. A thread does not survive fork, and a lock it held at that moment would stay held
    in the child for ever, so forking mid-warm-up could hang a worker's first request."""
    from security import web  # noqa: PLC0415  (the config file is read before the app is imported)

    for address in server.cfg.bind:
        host = address.rsplit(":", 1)[0].strip("[]") if not address.startswith("unix:") else "127.0.0.1"
        try:
            web.check_serving(host)
        except web.Refused as refused:
            server.log.error("%s", refused)
            sys.exit(2)
    for thread in threading.enumerate():
        if thread.name == "warm-caches":
            server.log.info("waiting for the cache warm-up before forking workers")
            thread.join()
    gc.collect()
    gc.freeze()  # everything built so far is shared with the workers; keep the collector off those pages
    # Each forked worker opens database connections of its own and drops the locks of the master's threads:
    # data/store.py and data/cache.py do that at any fork (os.register_at_fork), gunicorn's or another's.
