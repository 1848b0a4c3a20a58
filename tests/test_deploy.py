"""The deployment as docs/deployment.md describes it: `gunicorn -c gunicorn.conf.py app:server` with two workers, behind
deploy/nginx.conf (Debian's nginx; the upstream port, the listen port and the log/pid/cache paths substituted into a
copy). Through nginx: the page, a callback, a compressed and long-cached Dash bundle, the API; and both workers
answer. Skipped only where nginx is not installed and this is not CI (in CI, scripts/setup.sh installs it)."""

from __future__ import annotations

import gzip
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ROOT, _free_port

NGINX = Path("/usr/sbin/nginx")
if not NGINX.exists() and os.environ.get("CI") != "true":
    pytest.skip("Debian's nginx is not installed (`make test` installs it; CI runs this test)", allow_module_level=True)

LONG_CACHE = "max-age=31536000"


def _wait(url: str, proc: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()[-4000:]) from None
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds} s:\n{log.read_text()[-4000:]}")


def nginx_conf(app_port: int, port: int, prefix: Path) -> str:
    """deploy/nginx.conf with this test's ports and paths; every substitution must apply, so a change to the
    shape of the file shows here."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    temp = "".join(
        f"    {kind}_temp_path {prefix}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    substitutions = [
        (r"^user www-data;$", "user root;" if os.geteuid() == 0 else ""),
        (r"^pid /run/nginx\.pid;$", f"pid {prefix}/nginx.pid;"),
        (r"/var/log/nginx/", f"{prefix}/"),
        (r"/var/lib/nginx/", f"{prefix}/"),  # the API cache: this run's own, never another's entries
        (r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{port};"),
        (r"^(\s*)server 127\.0\.0\.1:8050 ", rf"\g<1>server 127.0.0.1:{app_port} "),
        (r"^http \{$", "http {\n" + temp),
    ]
    for pattern, replacement in substitutions:
        text, n = re.subn(pattern, replacement, text, flags=re.M)
        assert n >= 1, f"deploy/nginx.conf no longer has {pattern!r}"
    return text


def gunicorn(tmp: Path, port: int, threads: int, **env) -> tuple[subprocess.Popen, Path]:
    """`gunicorn -c gunicorn.conf.py app:server` with two workers on a fresh store in tmp; (process, its log)."""
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": str(threads),
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{tmp}/app.sqlite",
        **env,
    }
    env.pop("CACHE_REDIS_URL", None)  # this store is its own; a shared cache would mix it with another
    log = tmp / "gunicorn.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return proc, log


@pytest.fixture(scope="module")
def deployed():
    """(nginx URL, gunicorn access log): gunicorn with 2 workers on a fresh store, nginx in front of it."""
    tmp = Path(tempfile.mkdtemp(prefix="dashboard-deploy-"))
    app_port, port = _free_port(), _free_port()
    access_log = tmp / "access.log"
    # as an office deploys it: an account and a full SECRET_KEY (the local demo is never served through a proxy),
    # and PROXY_COUNT=1 so the app sees the client's address nginx forwards
    from data import store
    from security import accounts

    accounts.create_user(*ADMIN, "data_admin", eng=store.engine(f"sqlite:///{tmp}/app.sqlite"))
    app, app_log = gunicorn(
        tmp,
        app_port,
        threads=2,
        GUNICORN_ACCESS_LOG=str(access_log),
        PROXY_COUNT="1",
        SECRET_KEY="deploy-test-secret-key-0123456789abcdef0123456789",
    )
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_conf(app_port, port, tmp))
    nginx_log = tmp / "nginx.log"
    web = None
    try:
        _wait(f"http://127.0.0.1:{app_port}/health", app, app_log, 180)
        check = subprocess.run(
            [str(NGINX), "-t", "-q", "-c", str(conf), "-p", str(tmp)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stderr
        web = subprocess.Popen(
            [str(NGINX), "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
            stdout=nginx_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        _wait(f"http://127.0.0.1:{port}/health", web, nginx_log, 30)
        yield f"http://127.0.0.1:{port}", access_log
    finally:
        if web is not None:
            web.send_signal(signal.SIGQUIT)  # graceful stop
            try:
                web.wait(10)
            except subprocess.TimeoutExpired:
                web.kill()
        app.terminate()
        try:
            app.wait(40)
        except subprocess.TimeoutExpired:
            app.kill()


ADMIN = ("deploy-admin", "deploy admin password")
_SIGNED: dict[str, urllib.request.OpenerDirector] = {}


def signed_in(url: str) -> urllib.request.OpenerDirector:
    """A browser that signed in through nginx with the login form (cookies kept)."""
    if url not in _SIGNED:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = opener.open(f"{url}/login", timeout=30).read().decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode({"username": ADMIN[0], "password": ADMIN[1], "csrf_token": csrf}).encode()
        opener.open(f"{url}/login", data=data, timeout=30).read()
        _SIGNED[url] = opener
    return _SIGNED[url]


def get(url: str, signed: bool = False, **headers):
    """(status, headers, body as sent over the wire), anonymous or as the signed-in admin."""
    base = re.match(r"https?://[^/]+", url).group()
    opener = signed_in(base) if signed else urllib.request.build_opener()
    with opener.open(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return r.status, r.headers, r.read()


def test_page_through_nginx(deployed):
    url, _ = deployed
    _, _, login = get(f"{url}/")  # anonymous: the login page, never a demo officer through a proxy
    assert 'name="csrf_token"' in login.decode() and 'id="_dash-config"' not in login.decode()
    status, headers, body = get(f"{url}/", signed=True)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    html = body.decode()
    assert "陕西省疫情防控态势感知看板" in html and 'id="_dash-config"' in html
    status, _, body = get(f"{url}/_dash-layout", signed=True)
    assert status == 200 and json.loads(body)


def test_callback_through_nginx(deployed):
    """The wall's data-version poll (a real callback of the app) with a stale version: answered with the current
    one, compressed by nginx."""
    url, _ = deployed
    body = json.dumps(
        {
            "output": "data-version.data",
            "outputs": {"id": "data-version", "property": "data"},
            "inputs": [{"id": "data-poll", "property": "n_intervals", "value": 1}],
            "changedPropIds": ["data-poll.n_intervals"],
            "state": [{"id": "data-version", "property": "data", "value": "stale"}],
        }
    ).encode()
    browser = signed_in(url)  # the page visit sets the CSRF cookie Dash echoes as X-CSRFToken
    browser.open(f"{url}/", timeout=30).read()
    jar = next(h.cookiejar for h in browser.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
    token = next(c.value for c in jar if c.name == "_csrf_token")
    request = urllib.request.Request(
        f"{url}/_dash-update-component",
        data=body,
        headers={"Content-Type": "application/json", "Accept-Encoding": "gzip", "X-CSRFToken": token},
    )
    with browser.open(request, timeout=30) as r:
        raw = r.read()
        answer = json.loads(gzip.decompress(raw) if r.headers.get("Content-Encoding") == "gzip" else raw)
    _, _, health = get(f"{url}/health")
    assert answer["response"]["data-version"]["data"] == json.loads(health)["data_version"]


def test_dash_bundle_gzipped_and_long_cached(deployed):
    url, _ = deployed
    _, _, html = get(f"{url}/", signed=True)
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+\.js)"', html.decode())
    fingerprinted = [s for s in scripts if re.search(r"/[^/.]+\.v[\w-]+m[0-9a-f]+\.", s)]
    assert fingerprinted, scripts
    status, headers, body = get(f"{url}{fingerprinted[0]}", signed=True, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert LONG_CACHE in headers["Cache-Control"]
    assert headers.get_all("Cache-Control") == [headers["Cache-Control"]]  # one header, not the app's and ours
    assert len(gzip.decompress(body)) > len(body)


def test_assets_keep_their_cache_rules(deployed):
    """A stylesheet linked with ?m=<mtime> is kept a year; a boundary file (plain URL) keeps the app's one day."""
    url, _ = deployed
    _, _, html = get(f"{url}/", signed=True)
    css = re.findall(r'href="(/assets/[^"]+\.css\?m=[^"]+)"', html.decode())
    assert css
    _, headers, _ = get(f"{url}{css[0]}", **{"Accept-Encoding": "gzip"})
    assert LONG_CACHE in headers["Cache-Control"] and headers["Content-Encoding"] == "gzip"
    geo = sorted((ROOT / "assets" / "geo").glob("*.geojson"))[0].name
    _, headers, _ = get(f"{url}/assets/geo/{geo}", **{"Accept-Encoding": "gzip"})
    assert headers.get_all("Cache-Control") == ["public, max-age=86400"]


def test_api_through_nginx(deployed):
    url, _ = deployed
    status, headers, body = get(f"{url}/api/v1/summary?region=610000&date=2020-02-15")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    summary = json.loads(body)
    assert summary["confirmed_cum"] > 0 and summary["data_as_of"]


def test_both_workers_answer(deployed):
    """Requests sent together through nginx are spread over both gunicorn workers (their pids in the access log).
    Each asks for a different range, so none is a cache hit: while one worker computes, the other accepts the
    next connection nginx opens."""
    url, access_log = deployed

    def pids() -> set[str]:
        return set(re.findall(r"pid=<?(\d+)", access_log.read_text())) if access_log.exists() else set()

    ranges = [(f"2020-01-{s}", f"2020-02-{e:02d}") for s in range(23, 32) for e in range(1, 29)]
    deadline = time.time() + 90
    with ThreadPoolExecutor(16) as pool:
        while len(pids()) < 2 and ranges and time.time() < deadline:
            batch, ranges = ranges[:16], ranges[16:]
            list(pool.map(lambda r: get(f"{url}/api/v1/timeseries?region=610100&start={r[0]}&end={r[1]}"), batch))
    assert len(pids()) == 2, pids()


def test_first_requests_of_fresh_workers_all_succeed():
    """A page load is a burst: the page and its scripts at once. Each fresh gunicorn worker (threads) must answer
    all of them, not fail a script with "dash is not a registered library" while another thread sets Dash up."""
    import socket

    tmp = Path(tempfile.mkdtemp(prefix="dashboard-burst-"))
    port = _free_port()
    app, log = gunicorn(tmp, port, threads=4)
    try:
        deadline = time.time() + 180
        while True:  # the port opens before the workers are up: the burst below is their very first work
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline and app.poll() is None, log.read_text()[-3000:]
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        paths = [
            "/",
            "/_dash-component-suites/dash/deps/react@18.3.1.min.js",
            "/_dash-component-suites/dash/deps/prop-types@15.8.1.min.js",
            "/_dash-component-suites/dash/dcc/dash_core_components.js",
        ] * 6

        def status(path):
            try:
                with urllib.request.urlopen(base + path, timeout=120) as r:
                    return r.status
            except urllib.error.HTTPError as err:
                return err.code

        with ThreadPoolExecutor(len(paths)) as pool:
            statuses = list(pool.map(status, paths))
        assert statuses == [200] * len(paths), (statuses, log.read_text()[-3000:])
    finally:
        app.terminate()
        app.wait(40)
