"""陕西省疫情防控态势感知看板 — entry point.

``python app.py`` serves on http://127.0.0.1:8050 (``HOST``/``PORT`` override); ``gunicorn app:server`` and
``flask --app app:server ...`` use the Flask server below. The store is filled with the shipped data on first start.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

import dash
import diskcache
import flask
from dash import dcc, html
from flask import jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

import cli
from api.resources import bp as api_resources
from api.v1 import bp as api_v1
import security
from data import cache, shipped, store
from data.ingest.reading import UPLOAD_MAX_BYTES
from security import banner
from security import web as security_web

ROOT = Path(__file__).resolve().parent
logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("dashboard")

# Long work (the briefing pack) runs in background processes so the page stays live, shows progress, can cancel.
background_manager = dash.DiskcacheManager(diskcache.Cache(str(ROOT / "instance" / "background")))

# What is worth compressing: pages, scripts, callback JSON and the boundary files (served as application/geo+json,
# which flask-compress leaves alone by default: 353 KB of counties over the wire instead of 90 KB).
server = flask.Flask(__name__)
server.config["COMPRESS_MIMETYPES"] = ["text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
                                       "application/json", "application/geo+json", "image/svg+xml", "image/x-icon", "text/csv"]

app = dash.Dash(
    __name__,
    server=server,
    use_pages=True,
    pages_folder=str(ROOT / "layouts"),
    title="陕西省疫情防控态势感知看板",
    update_title=None,  # no "Updating..." flicker in the tab title
    compress=True,  # gzip/brotli through flask-compress
    serve_locally=True,  # every script from this server: the intranet has no internet
    suppress_callback_exceptions=True,
    background_callback_manager=background_manager,
)
# plotly.js comes from assets/plotly.min.js, a partial bundle of the trace types we draw (vendor/plotly/): the full
# bundle Dash would add is 1.44 MB gzip of a first load we keep under 1.5 MB. dcc.Graph uses window.Plotly when set.
dcc._js_dist[:] = [dist for dist in dcc._js_dist if dist.get("namespace") != "plotly"]  # noqa: SLF001
app.index_string = app.index_string.replace("<html>", '<html lang="zh-CN">')
# Largest request body: an upload of twice the page's limit as base64 in a callback's JSON (4/3 of its size), so
# the upload callback can still answer a too-large file in words; anything bigger gets 413 before it is read.
server.config["MAX_CONTENT_LENGTH"] = 2 * UPLOAD_MAX_BYTES * 4 // 3 + 1024 * 1024
server.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or os.urandom(32).hex()
server.json.ensure_ascii = False  # readable Chinese in API responses
# Behind the documented nginx (deploy/nginx.conf) the client's address comes in X-Forwarded-For: PROXY_COUNT=1 makes
# the login limiter, the audit log and the sessions see it instead of nginx's own. Off by default: without a proxy
# that header is whatever the client wrote, and trusting it would let anyone pick the address they are counted as.
if int(os.environ.get("PROXY_COUNT", "0") or 0) > 0:
    _hops = int(os.environ["PROXY_COUNT"])
    server.wsgi_app = ProxyFix(server.wsgi_app, x_for=_hops, x_proto=_hops, x_host=_hops)
server.register_blueprint(api_v1)
server.register_blueprint(api_resources)
cli.register(server)

import callbacks.dashboard  # noqa: E402,F401  (registers the callbacks of `/`)
import callbacks.flows  # noqa: E402,F401
import callbacks.resources  # noqa: E402,F401
import callbacks.data_page  # noqa: E402,F401
import callbacks.exports  # noqa: E402,F401
import callbacks.wall  # noqa: E402,F401
import callbacks.alerts  # noqa: E402,F401
import callbacks.tasks  # noqa: E402,F401  (follow-up tasks: `/`, `/report`, `/wall`)
import callbacks.admin  # noqa: E402,F401
import callbacks.models  # noqa: E402,F401  (`/models`: backtest and importation check)
import callbacks.a11y  # noqa: E402,F401  (table alternatives, palette)
import callbacks.report  # noqa: E402,F401  (`/report` direct reporting; the reporting board on `/data`, `/`, `/wall`)

app.layout = lambda: html.Div([banner.banner(), dash.page_container])  # per visit: who is signed in


def _cli_command() -> str | None:
    """The `flask` command this process runs (`run`, `ingest`, `db`, ...), or None when it serves."""
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return None
    args = iter(sys.argv[1:])
    for arg in args:
        if arg in ("--app", "-A", "--env-file", "-e"):
            next(args, None)  # the option's value
        elif not arg.startswith("-"):
            return arg
    return None


def _open_store() -> None:
    """Check the store's schema (an empty store is created at the newest) and load the shipped data; a store whose
    schema is behind the code stops the process with one sentence saying what to run."""
    try:
        shipped.ensure_loaded(store.engine())
    except store.migrate.StoreNotCurrent as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


_COMMAND = _cli_command()
_SERVING = _COMMAND not in cli.MAINTENANCE_COMMANDS  # upgrade, backup and restore take the store as it is
if _SERVING:
    _open_store()


# Dash sets itself up (scripts, assets, callback maps) on the first request of a process, flagging it done first.
# Under threaded gunicorn workers a second request can arrive meanwhile and find no scripts registered ("dash is
# not a registered library"). Set up now, once, at import: under --preload the workers inherit it.
with server.test_request_context("/"):
    app._setup_server()  # noqa: SLF001
security_web.init_app(server, app, serving=_SERVING)  # after every callback exists: the CSP hashes Dash's inline scripts

# Last of the request hooks, so sign-in and CSRF checks run before an answer can come from the cache.
cache.init_callback_cache(server, audience=lambda: (security.clearance(),))

# Boundary files change only when geo/build.py runs; a content hash in their URL would be the cleanest key, but
# plotly asks for the plain URL, so the browser may keep them a day and revalidate by ETag after that.
GEO_MAX_AGE = 86_400


@server.after_request
def _cache_headers(response):
    if request.path.startswith("/assets/geo/"):
        response.headers["Cache-Control"] = f"public, max-age={GEO_MAX_AGE}"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@server.get("/health")
def health():
    version = store.data_version(store.engine())
    return jsonify({"status": "ok", "data_version": version})


def _warm_caches() -> None:
    """Derive the day-by-day figures and flow aggregates now, in the background, so the first visitor does not
    wait for them (a few seconds on the shipped data); a request that comes first waits on the same lock."""
    from data import flow_queries, queries, resources  # noqa: PLC0415
    try:
        queries.case_data()
        flow_queries.flow_data()
        # the province's day values for the default metric: what the first visitor's date steps recolour from
        from callbacks.dashboard import clean_block, map_days  # noqa: PLC0415
        from figures.metrics import DEFAULT_METRIC  # noqa: PLC0415
        map_days("610000", DEFAULT_METRIC, clean_block(None))  # the latest day's block
        resources.coverage()  # county polygons read and projected, default distance
    except Exception:  # never stop the server for this; the first request will try again and log
        log.exception("warming the caches failed")


if _COMMAND in (None, "run"):  # a one-off command needs no warm-up
    threading.Thread(target=_warm_caches, name="warm-caches", daemon=True).start()


def _flask_run_host() -> str:
    """The address `flask --app app:server run [--host H | -hH | --host=H]` will listen on."""
    args = sys.argv[sys.argv.index("run") + 1:]
    for i, arg in enumerate(args):
        if arg in ("--host", "-h") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--host="):
            return arg.split("=", 1)[1]
        if arg.startswith("-h") and not arg.startswith("--"):
            return arg[2:]
    return os.environ.get("FLASK_RUN_HOST", "127.0.0.1")


def _gunicorn_hosts() -> list[str] | None:
    """Under gunicorn, the hosts it binds, read from its own settings (whatever started it: with or without its
    config file, -b, GUNICORN_CMD_ARGS): the arbiter (preloading) or the worker importing us holds them as
    ``self.cfg.bind`` a few frames up. A unix socket is this machine's only."""
    if "gunicorn" not in sys.modules:
        return None
    frame = sys._getframe()  # noqa: SLF001
    while frame is not None:
        bind = getattr(getattr(frame.f_locals.get("self"), "cfg", None), "bind", None)
        if isinstance(bind, list) and bind:
            return ["127.0.0.1" if b.startswith(("unix:", "fd://")) else b.rsplit(":", 1)[0].strip("[]") or "0.0.0.0"
                    for b in bind]
        frame = frame.f_back
    return None


def refuse_unless_safe(host: str) -> None:
    """Serving anywhere but this machine needs accounts and a SECRET_KEY: say so in one sentence and stop."""
    try:
        mode = security_web.check_serving(host)
    except security_web.Refused as refused:
        print(refused, file=sys.stderr)
        # 4 is gunicorn's "app failed to load": its master stops instead of starting the worker again and again
        raise SystemExit(4 if "gunicorn" in sys.modules else 2) from None
    if mode == "demo":
        log.warning("本地演示模式：没有账号，每位访问者都是演示值班员（只在 %s 上提供）", host)


if os.environ.get("FLASK_RUN_FROM_CLI") == "true" and "run" in sys.argv:
    refuse_unless_safe(_flask_run_host())
for _host in _gunicorn_hosts() or []:
    refuse_unless_safe(_host)

if __name__ == "__main__":
    HOST = os.environ.get("HOST", "127.0.0.1")
    refuse_unless_safe(HOST)
    app.run(host=HOST, port=int(os.environ.get("PORT", "8050")), debug=False)
