"""Shared fixtures. Every test session gets its own SQLite store, filled from the shipped data as on a first start."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
_DB_DIR = tempfile.mkdtemp(prefix="dashboard-test-")
os.environ["DATABASE_URL"] = f"sqlite:///{_DB_DIR}/test.sqlite"
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def app_module():
    import app  # noqa: PLC0415  (imported here so DATABASE_URL above is in force)
    return app


@pytest.fixture(scope="session")
def client(app_module):
    return app_module.server.test_client()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_db() -> str:
    """The store of the served app (not the one the in-process tests use)."""
    return f"sqlite:///{tempfile.mkdtemp(prefix='dashboard-srv-')}/srv.sqlite"


@pytest.fixture(scope="session")
def server_url(server_db):
    """The app served by `python app.py`, as a user starts it, on its own port and store."""
    yield from _serve(server_db)


@pytest.fixture(scope="module")
def own_server():
    """A served app with a store of its own, for tests that change the data under it: (url, database URL)."""
    db = f"sqlite:///{tempfile.mkdtemp(prefix='dashboard-own-')}/own.sqlite"
    for url in _serve(db):
        yield url, db


def _serve(server_db):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": server_db}
    log_path = Path(_DB_DIR) / f"server-{port}.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("the app did not start within 60 s")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright  # noqa: PLC0415
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium",
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    """A 1920x1080 page that records every request it makes and every console error."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    pg = context.new_page()
    pg.requests, pg.errors = [], []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
