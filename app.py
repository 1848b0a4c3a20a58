"""陕西省疫情防控态势感知看板 — entry point.

``create_app(config)`` builds the dashboard: a Flask server carrying the Dash app, the API and the commands. Building
it reads no data; importing this module does nothing at all. What a process needs of the store happens when it is
served or runs a command that needs it (``prepare``): the store's schema is checked, the shipped data loaded on a
first start and the caches warmed.

- ``python app.py`` serves on http://127.0.0.1:8050 (``HOST``/``PORT`` override).
- ``gunicorn -c gunicorn.conf.py app:server`` and ``flask --app app:server ...`` take ``server`` from this module: the
  process's app, created and prepared for its command on first access (``--help`` and the maintenance commands
  ``db``, ``backup``, ``restore`` leave the store alone).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import click
import dash
import diskcache
import flask
from dash import dcc, html
from flask import jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

import callbacks
import cli
import security
from api.resources import bp as api_resources
from api.v1 import bp as api_v1
from data import cache, flow_queries, queries, resources, shipped, store
from data.ingest.reading import UPLOAD_MAX_BYTES
from figures.metrics import DEFAULT_METRIC
from geo import regions
from layouts import container
from precompressed import Precompressed
from security import banner
from security import web as security_web
from views import kpis, maps

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("dashboard")

# What is worth compressing: pages, scripts, callback JSON and the boundary files (served as application/geo+json,
# which flask-compress leaves alone by default: 353 KB of counties over the wire instead of 90 KB).
COMPRESS_MIMETYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "image/svg+xml",
    "image/x-icon",
    "text/csv",
]
# Boundary files change only when geo/build.py runs; a content hash in their URL would be the cleanest key, but
# plotly asks for the plain URL, so the browser may keep them a day and revalidate by ETag after that.
GEO_MAX_AGE = 86_400


def settings(config: Mapping | None = None) -> dict:
    """The app's configuration: ``config`` over the environment over the defaults."""
    env = os.environ
    values = {
        "DATABASE_URL": env.get("DATABASE_URL") or None,  # None: the SQLite file in the instance folder
        "INSTANCE_PATH": env.get("INSTANCE_PATH") or str(ROOT / "instance"),
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        # Behind the documented nginx (deploy/nginx.conf) the client's address comes in X-Forwarded-For:
        # PROXY_COUNT=1 makes the login limiter, the audit log and the sessions see it instead of nginx's own. Off by
        # default: without a proxy that header is whatever the client wrote.
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "0") or 0),
    }
    values.update(config or {})
    return values


# dcc's dropdown, slider and graph are lazy components (React.lazy): a first render suspends until the component's
# chunk is fetched and run, and React draws it a pass later. Every page of the dashboard draws them at once (on `/` the
# KPIs are shown with the region and date controls), so they come with the page's other scripts (90 KB, ~25 KB
# compressed) and are there when React first draws.
EAGER_CHUNKS = ("dcc/async-dropdown.js", "dcc/async-slider.js", "dcc/async-graph.js")

# plotly.js is not a script of the page: dcc.Graph loads it once a graph is first drawn, from the address Dash's
# renderer gives it (window._dashPlotlyJSURL, Dash's own plotly.js when served locally). That address serves our
# partial bundle. Until a graph needs it, the ~150 ms plotly.js takes to run on 2 cores is not spent before the page's
# first draw (the KPIs). A page that draws charts (registered with draws_charts=True) asks for it in its head
# (preload), so its bytes are here when the first graph wants them; the other pages do not load it at all.
PLOTLY_JS = ROOT / "assets" / "plotly.min.js"
PLOTLY_JS_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"


def arrange_page_scripts() -> None:
    """The scripts Dash writes into every page, from its lists of them (Dash has no switch for any of this):
    - plotly.js is assets/plotly.min.js, a partial bundle of the trace types we draw (vendor/plotly/): the full
      bundle Dash would serve is 1.44 MB gzip of a first load we keep under 1.5 MB. dcc.Graph loads it (PLOTLY_JS_URL);
    - @babel/polyfill (99 KB, the first script, ~100 ms of evaluation before anything draws on 2 cores) is left out:
      ES2015+ built-ins every browser that runs React 18 has. Dash's scripts use one thing of it, the
      `regeneratorRuntime` global, which assets/regenerator-runtime.min.js gives (7 KB, built in vendor/plotly/);
    - dash_table's bundle (34 KB, ~15 ms) is left out: no page draws a DataTable. Add it back before one does;
    - dcc's EAGER_CHUNKS come as scripts of the page, not fetched on first draw."""
    dcc._js_dist[:] = [dist for dist in dcc._js_dist if dist.get("namespace") != "plotly"]  # noqa: SLF001
    for dist in dcc._js_dist:  # noqa: SLF001
        if dist.get("relative_package_path") in EAGER_CHUNKS:
            dist.pop("async", None)
    for dependency in dash._dash_renderer._js_dist_dependencies:  # noqa: SLF001
        for key in ("relative_package_path", "external_url"):
            for mode, paths in dependency[key].items():
                dependency[key][mode] = [path for path in paths if "polyfill" not in path]
    dash.dash_table._js_dist[:] = []  # noqa: SLF001


def preload_plotly_on_chart_pages(app: dash.Dash) -> None:
    """The page's head asks for plotly.js early on the pages that draw charts (see PLOTLY_JS_URL)."""
    interpolate = app.interpolate_index
    preload = f'\n        <link rel="preload" href="{PLOTLY_JS_URL}" as="script">'

    def interpolate_index(**parts) -> str:
        page = container.page_at(request.path)
        if page is not None and page.get("draws_charts"):
            parts["css"] = parts.get("css", "") + preload
        return interpolate(**parts)

    app.interpolate_index = interpolate_index


def create_app(config: Mapping | None = None) -> dash.Dash:
    """The dashboard for ``config`` (keys as in ``settings``). Reads and writes no data.

    Dash keeps the callbacks of ``dash.callback`` in one registry per process, handed to the first app served: a
    process serves one app."""
    conf = settings(config)
    store.configure(database_url=conf["DATABASE_URL"], instance_path=conf["INSTANCE_PATH"])

    server = flask.Flask(__name__, instance_path=str(store.instance_path()))
    server.config["COMPRESS_MIMETYPES"] = COMPRESS_MIMETYPES
    # Largest request body: an upload of twice the page's limit as base64 in a callback's JSON (4/3 of its size), so
    # the upload callback can still answer a too-large file in words; anything bigger gets 413 before it is read.
    server.config["MAX_CONTENT_LENGTH"] = 2 * UPLOAD_MAX_BYTES * 4 // 3 + 1024 * 1024
    server.config["SECRET_KEY"] = conf["SECRET_KEY"] or os.urandom(32).hex()
    server.json.ensure_ascii = False  # readable Chinese in API responses
    if conf["PROXY_COUNT"] > 0:
        hops = conf["PROXY_COUNT"]
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    # Long work (the briefing pack) runs in background processes so the page stays live, shows progress, can cancel.
    background = dash.DiskcacheManager(diskcache.Cache(str(store.instance_path() / "background")))
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "layouts"),
        title="陕西省疫情防控态势感知看板",
        update_title=None,  # no "Updating..." flicker in the tab title
        compress=True,  # gzip/brotli through flask-compress
        serve_locally=True,  # every script from this server: the intranet has no internet
        assets_ignore=rf"^{re.escape(PLOTLY_JS.name)}$",  # loaded by dcc.Graph, not by the page
        suppress_callback_exceptions=True,
        background_callback_manager=background,
    )
    arrange_page_scripts()
    app.index_string = app.index_string.replace("<html>", '<html lang="zh-CN">')
    preload_plotly_on_chart_pages(app)
    server.add_url_rule(PLOTLY_JS_URL, "plotly_js", lambda: flask.send_file(PLOTLY_JS, mimetype="text/javascript"))
    # per visit: who is signed in, and the page the browser is on drawn in its container (layouts/container.py)
    app.layout = lambda: html.Div([banner.banner(), container.page_container()])
    # static files brotli-compressed once (precompressed.py); its hook runs before flask-compress's, added by Dash
    server.extensions["precompressed"] = Precompressed(store.instance_path() / "compressed")
    server.extensions["precompressed"].install(server)

    @server.cli.command("precompress")
    def precompress() -> None:
        """预先压缩首次访问加载的脚本与边界文件（brotli 最高级，每个文件版本一次）。`make run` 在启动前执行：否则
        启动后的第一位访问者拿到的是快速压缩的较大文件，且服务端在其访问的同时压缩（plotly.js 约 6 秒 CPU）。"""
        # as `make run` serves: on this machine, the local demo when there are no accounts (with accounts, the
        # component suites need a signed-in visitor, and the first visits compress them)
        security_web.check_serving("127.0.0.1")
        done = precompress_static(app)
        click.echo(f"已预先压缩 {done} 个文件（其余此前已压缩）：{store.instance_path() / 'compressed'}")

    server.before_request(visits.seen)  # the warm-up's later steps wait for a quiet moment (warm_up)

    server.register_blueprint(api_v1)
    server.register_blueprint(api_resources)
    cli.register(server)
    callbacks.register()
    security_web.init_app(server, app)  # after every callback exists: the CSP hashes Dash's inline scripts
    # Last of the request hooks, so sign-in and CSRF checks run before an answer can come from the cache.
    cache.init_callback_cache(server, audience=lambda: (security.clearance(),))

    @server.after_request
    def _cache_headers(response):
        if request.path.startswith("/assets/geo/"):
            response.headers["Cache-Control"] = f"public, max-age={GEO_MAX_AGE}"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @server.get("/health")
    def health():
        return jsonify({"status": "ok", "data_version": store.data_version(store.engine())})

    return app


def open_store() -> None:
    """Check the store's schema (an empty store is created at the newest) and load the shipped data; a store whose
    schema is behind the code stops the process with one sentence saying what to run."""
    try:
        shipped.ensure_loaded(store.engine())
    except store.migrate.StoreNotCurrent as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


def start_serving(app: dash.Dash) -> threading.Thread:
    """What a serving process does before its first request: open the store, decide the local demo mode, set Dash
    up (under threaded workers two first requests could otherwise race its own lazy set-up) and warm the caches in
    a thread, so the first visitor does not wait for the day-by-day figures; a request that comes first waits on the
    same lock."""
    open_store()
    security_web.decide_demo()
    with app.server.test_client() as client:
        client.get("/_favicon.ico")  # Dash sets itself up (scripts, callback maps) on a process's first request
    thread = threading.Thread(target=warm_up, args=(app,), name="warm-caches", daemon=True)
    thread.start()
    return thread


def warm_up(app: dash.Dash) -> None:
    """Derive the day-by-day figures and flow aggregates now (a few seconds on the shipped data), and what the first
    page of `/` holds; then, each when no one has been served for a moment (they take the CPU a first visitor's
    requests need), the coverage, what a page fetches ahead of a region change, and the static files compressed
    small."""
    try:
        queries.case_data()
        flow_queries.flow_data()
        kpis.kpi_books("610000")  # the KPI rows every page of `/` holds (the province's and the units')
        # the day values for the default metric: the province's are what the first visitor's date steps recolour
        # from; a page asks for every unit's 2 s after it is drawn (assets/dashboard.js wantMapDays) when the range
        # is held whole. Built then, they took ~1.3 s of CPU just as a second visitor's page loaded; on such a range
        # they are built now, before this process listens (a longer range holds a window of days, built later).
        day_values = [
            functools.partial(maps.map_days, region, DEFAULT_METRIC, maps.clean_block(None))
            for region in regions.province_and_units()
        ]
        now = day_values if maps.whole_range() else day_values[:1]
        for step in now:
            step()
        first_page_ready.set()
        if "gunicorn" not in sys.modules:  # (gunicorn's master forks its workers after the whole warm-up)
            visits.mark()  # this process listens now: its first visitors (reloads after a restart) come first
        later = [
            resources.coverage,  # county polygons read and projected, default distance
            *day_values[len(now) :],
            functools.partial(precompress_static, app),
        ]
        for step in later:
            visits.wait_until_quiet()
            step()
    except Exception:  # never stop the server for this; the first request will try again and log
        log.exception("warming the caches failed")
    finally:
        first_page_ready.set()


# Set once the warm-up has what the first page of `/` needs. `python app.py` listens after it, as gunicorn's master
# forks its workers only after the whole warm-up (gunicorn.conf.py): a first visitor right after `/health` answered
# would otherwise load the page while the same tables are built, both on the same 2 cores (~2 s on the shipped data).
first_page_ready = threading.Event()


class Visits:
    """When this process last answered a visitor: the warm-up's later steps wait for a quiet moment."""

    # seconds without a request. At 1 s a step started in the pause between one visitor's page and the next
    # (the units' day values, the coverage: 0.1-0.6 s each) and the next first load waited on it: in three
    # alternating runs a warm server's first load took 1.28 s to its KPIs with 1 s, 1.11 s with 3 s.
    QUIET = 3.0
    LONGEST = 30.0  # seconds a step waits at most (a busy server still gets warm)
    WARM_UP_HEADER = "X-Warm-Up"  # the warm-up's own requests (precompress_static) do not count

    def __init__(self):
        self.last = time.monotonic()

    def seen(self) -> None:
        if not request.headers.get(self.WARM_UP_HEADER):
            self.mark()

    def mark(self) -> None:
        self.last = time.monotonic()

    def wait_until_quiet(self) -> None:
        started = time.monotonic()
        while time.monotonic() - self.last < self.QUIET and time.monotonic() - started < self.LONGEST:
            time.sleep(0.2)


visits = Visits()


def precompress_static(app: dash.Dash) -> int:
    """The scripts and styles the page `/` links, and the boundary files its map loads, compressed once (see
    precompressed.py). Returns how many files were compressed now (the others were kept from before)."""
    with app.server.test_client() as client:  # Dash lists its assets on a process's first request
        client.get("/_favicon.ico", headers={Visits.WARM_UP_HEADER: "1"})
    with app.server.test_request_context("/"):
        page = app.index()  # the page as Dash writes it, whether or not a visitor must sign in first
    linked = re.findall(r'(?:src|href)="(/(?:assets|_dash-component-suites)/[^"]+)"', page)
    boundaries = [f"/assets/geo/{p.name}" for p in sorted((ROOT / "assets" / "geo").glob("*.geojson"))]
    return app.server.extensions["precompressed"].warm(app.server, [*linked, *boundaries], {Visits.WARM_UP_HEADER: "1"})


def prepare(app: dash.Dash, command: str | None) -> None:
    """Make the store ready for what this process runs: serving (``command`` None or ``run``) opens it and warms the
    caches; a data command opens it; ``--help`` and the maintenance commands take the store as it is."""
    if command in cli.MAINTENANCE_COMMANDS or command == "--help":
        return
    if command in (None, "run"):
        start_serving(app)
    else:
        open_store()


def cli_command() -> str | None:
    """The `flask` command this process runs (`run`, `ingest`, `db`, ...; `--help` when none), or None when it is not
    the flask command (it serves)."""
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return None
    args = iter(sys.argv[1:])
    for arg in args:
        if arg in ("--app", "-A", "--env-file", "-e"):
            next(args, None)  # the option's value
        elif not arg.startswith("-"):
            return arg
    return "--help"


def _flask_run_host() -> str:
    """The address `flask --app app:server run [--host H | -hH | --host=H]` will listen on."""
    args = sys.argv[sys.argv.index("run") + 1 :]
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
    frame = sys._getframe()  # noqa: SLF001  (gunicorn offers no other way to ask an app what it is bound to)
    while frame is not None:
        bind = getattr(getattr(frame.f_locals.get("self"), "cfg", None), "bind", None)
        if isinstance(bind, list) and bind:
            return [
                "127.0.0.1" if b.startswith(("unix:", "fd://")) else b.rsplit(":", 1)[0].strip("[]") or "0.0.0.0"
                for b in bind
            ]
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


_process_app: dash.Dash | None = None
_process_lock = threading.Lock()


def process_app() -> dash.Dash:
    """The app of this process, made and prepared on first use: what `app:server` names for gunicorn and flask."""
    global _process_app  # noqa: PLW0603  (one app a process: see create_app)
    with _process_lock:
        if _process_app is None:
            logging.basicConfig(
                level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
            )
            app = create_app()
            command = cli_command()
            prepare(app, command)
            if command == "run":
                refuse_unless_safe(_flask_run_host())
            for host in _gunicorn_hosts() or []:
                refuse_unless_safe(host)
            _process_app = app
    return _process_app


def __getattr__(name: str):
    # `app:server` and `app:app` (gunicorn, flask --app, the tests) create the process's app on first access
    if name == "server":
        return process_app().server
    if name == "app":
        return process_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    HOST = os.environ.get("HOST", "127.0.0.1")
    dashboard = process_app()
    refuse_unless_safe(HOST)
    first_page_ready.wait(timeout=300)
    dashboard.run(host=HOST, port=int(os.environ.get("PORT", "8050")), debug=False)
