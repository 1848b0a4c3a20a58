"""Shared fixtures. Every test session gets its own store, filled from the shipped data as on a first start.

The backend is SQLite unless ``TEST_DATABASE=postgresql``: then every store of the session (the in-process app's,
each served app's) is a fresh database on the server ``TEST_PG_URL`` names, dropped at the end. With
``TEST_REDIS_URL`` the in-process and served apps share that Redis as their cache (``CACHE_REDIS_URL``), under a key
prefix of this session's own.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from pathlib import Path

import pytest
from playwright.sync_api import expect

# A page's first load runs a dozen callbacks and draws two WebGL maps in software: on a busy 2-core machine that
# takes more than playwright's default 5 s now and then. What the tests wait for is unchanged.
expect.set_options(timeout=15_000)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
sys.path.insert(0, str(ROOT))
_DB_DIR = tempfile.mkdtemp(prefix="dashboard-test-")
BACKEND = (
    "postgresql" if os.environ.get("TEST_DATABASE", "sqlite").lower() in ("postgresql", "postgres", "pg") else "sqlite"
)
PG_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg:///postgres?host=/var/run/postgresql")
_SESSION = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
_created: list[str] = []


def filled_database(label: str) -> str:
    """The URL of a new store the way a served app leaves it on its first start: on SQLite a copy of the shipped
    template (the served app then opens a filled store, ~4 s less each), else an empty database it fills."""
    url = new_database(label)
    if BACKEND == "sqlite":
        _copy_template(url)
    return url


def _copy_template(url: str) -> None:
    """The shipped template copied to the SQLite file ``url`` names."""
    shutil.copyfile(_shipped_template(), url.removeprefix("sqlite:///"))


def new_database(label: str) -> str:
    """The URL of a new, empty store on the session's backend: a SQLite file, or a PostgreSQL database of its own
    (dropped when the session ends)."""
    if BACKEND == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix=f'dashboard-{label}-', dir=_DB_DIR)}/{label}.sqlite"
    from sqlalchemy import create_engine, make_url, text

    name = f"dashboard_test_{_SESSION}_{label}_{len(_created)}".lower()[:63]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _created.append(name)
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _drop_databases() -> None:
    if not _created:
        return
    from sqlalchemy import create_engine, text

    from data import store

    for eng in store._engines:
        eng.dispose()
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in _created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _forget_redis_keys() -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{os.environ['CACHE_KEY_PREFIX']}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # a test may have stopped it; the entries expire by themselves


os.environ["DATABASE_URL"] = new_database("session")
if os.environ.get("TEST_REDIS_URL"):
    os.environ["CACHE_REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    os.environ["CACHE_KEY_PREFIX"] = f"dashboard-test-{_SESSION}:"
else:
    os.environ.pop("CACHE_REDIS_URL", None)  # the SQLite pass uses the in-process cache, whatever the shell says


def pytest_configure(config):
    """On SQLite, the session's store starts as a copy of a store filled with the shipped data (what a first start
    makes, byte for byte the same rows): the in-process app then finds it filled, and the tests that need a copy to
    write to (``shipped_sqlite``) use the same file, one fill a process instead of two (~4 s each). Not in the
    pytest-xdist controller, which runs no test."""
    if BACKEND != "sqlite" or (config.getoption("numprocesses", None) and not hasattr(config, "workerinput")):
        return
    _copy_template(os.environ["DATABASE_URL"])


_TEMPLATE: list[Path] = []


def _shipped_template() -> Path:
    """A SQLite store with the schema and the shipped data, as on a first start, made once a process; never written
    to after."""
    if not _TEMPLATE:
        from data import migrate, shipped, store

        path = Path(tempfile.mkdtemp(prefix="dashboard-shipped-", dir=_DB_DIR)) / "shipped.sqlite"
        eng = store.connect(f"sqlite:///{path}")
        migrate.upgrade(eng)  # the schema as every new store gets it
        shipped.ensure_loaded(eng)
        eng.dispose()  # the last connection closed: SQLite has moved the write-ahead log into the file
        assert not path.with_name(f"{path.name}-wal").exists(), "a copy of the file alone would miss rows"
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def pytest_report_header(config):
    return (
        f"store: {BACKEND} ({os.environ['DATABASE_URL']}); cache: {os.environ.get('CACHE_REDIS_URL') or 'in-process'}"
    )


BROWSER_FIXTURES = {"page", "browser"}
SERVER_FIXTURES = {"server_url", "own_server", "serve", "site", "deployed", "package"}
# a process of its own: a command, a served app, or the Chromium that draws the briefing's pictures (kaleido)
STARTS_A_PROCESS = re.compile(r"\bsubprocess\.|\bPopen\(|\bbriefing\.(?:write|_png)\(")


def pytest_collection_modifyitems(config, items):
    """Tiers by what a test needs, so a test cannot be put in the wrong one by hand."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & (SERVER_FIXTURES | BROWSER_FIXTURES) or _reaches(item, STARTS_A_PROCESS):
            item.add_marker(pytest.mark.server)
        if item.module.__name__.endswith("test_fuzz"):
            item.add_marker(pytest.mark.fuzz)
        if item.nodeid.endswith(f"::{getattr(item, 'originalname', item.name)}") and "[" in item.name:
            # schemathesis' items (one per API operation) all get the function's node id under pytest 9: give each its
            # own, so they are reported apart and pytest-xdist does not take them for one test
            item._id = type(item._id).parse(f"{item.nodeid}[{item.name.split('[', 1)[1]}")


def _reaches(item, pattern: re.Pattern) -> bool:
    """Whether the source of the test, of its fixtures or of the helpers of tests/ they name (followed name by name)
    matches ``pattern``: a test that starts a process through a helper or a fixture is found like one that does
    it itself."""
    info = getattr(item, "_fixtureinfo", None)
    fixtures = [d.func for defs in info.name2fixturedefs.values() for d in defs] if info else []
    todo, seen = [getattr(item, "function", None), *filter(_in_tests, fixtures)], set()
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        try:
            source = inspect.getsource(obj)
        except (OSError, TypeError):
            continue
        if pattern.search(source):
            return True
        namespace = getattr(obj, "__globals__", None) or vars(sys.modules.get(obj.__module__, sys))
        for name in set(re.findall(r"[A-Za-z_]\w*", source)):
            helper = namespace.get(name)
            if (inspect.isfunction(helper) or inspect.isclass(helper)) and _in_tests(helper):
                todo.append(helper)
    return False


def _in_tests(obj) -> bool:
    try:
        return Path(inspect.getsourcefile(obj)).is_relative_to(ROOT / "tests")
    except TypeError:
        return False


def pytest_unconfigure(config):
    _forget_redis_keys()
    _drop_databases()
    _remove_sqlite_stores()


def _remove_sqlite_stores() -> None:
    """The session's SQLite stores (~600 MB a session, left in /tmp they fill the disk); the served apps' logs stay."""
    for path in Path(_DB_DIR).glob("*/*.sqlite*"):
        path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def app_module():
    """The app module with the process's app made and serving (store opened and filled, callbacks registered)."""
    import app

    app.process_app()
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
    return filled_database("srv")


@pytest.fixture(scope="session")
def server_url(server_db):
    """The app served by `python app.py`, as a user starts it, on its own port and store."""
    yield from _serve(server_db)


@pytest.fixture(scope="module")
def own_server():
    """A served app with a store of its own, for tests that change the data under it: (url, database URL)."""
    db = filled_database("own")
    for url in _serve(db):
        yield url, db


SERVE_TIMEOUT = 240  # seconds a served app may take to answer /health on its first start
SERVER_LOGS: dict[str, Path] = {}  # served app URL -> its log (stdout and stderr)


def _serve(server_db, **extra_env):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": server_db, **extra_env}
    log_path = Path(_DB_DIR) / f"server-{port}.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    SERVER_LOGS[url] = log_path
    # a first start fills a new store with the shipped data: ~20 s alone, minutes when CI's two passes share 2 cores
    deadline = time.time() + SERVE_TIMEOUT
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"the app did not start within {SERVE_TIMEOUT} s")
    yield url
    if proc.poll() is not None:  # say so: later failures of its tests are about this, not about themselves
        warnings.warn(f"the app served at {url} exited early with {proc.returncode}; its log: {log_path}", stacklevel=1)
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    """A 1920x1080 page that records every request it makes and every console error."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
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


@pytest.fixture(scope="session")
def new_store():
    """new_store(label) -> the URL of a new, empty store on the session's backend."""
    return new_database


@pytest.fixture(scope="session")
def shipped_sqlite() -> Path:
    """A SQLite store with the schema and the shipped data, as on a first start: a test that needs a store of its
    own to write to starts from a copy of this file (filling one takes ~4 s). Never written to."""
    return _shipped_template()


@pytest.fixture()
def serve():
    """serve(database URL, **environment) -> (URL, log path) of an app served by `python app.py`, stopped after the
    test."""
    running = []

    def start(db, **env):
        served = _serve(db, **env)
        url = next(served)
        running.append(served)
        return url, SERVER_LOGS[url]

    yield start
    for served in running:
        next(served, None)


# ---- a case list full of (fake) personal data, for the tests that prove none of it ever comes out ---------------
PLANTED = {
    "names": ["司马测试甲", "欧阳测试乙", "诸葛测试丙", "上官测试丁", "东方测试戊"],
    "id_numbers": [
        "61100219900101123X",
        "611021198505054321",
        "611022197707078765",
        "611024200002021111",
        "611025199912125555",
    ],
    "phones": ["13912345678", "18687654321", "15011112222", "17733334444", "13566667777"],
    "addresses": [
        "商州区北新街88号3单元501室",
        "洛南县城关镇秦岭路17号",
        "丹凤县龙驹寨街道花园小区2栋",
        "山阳县城关街道十里铺村四组",
        "镇安县永乐街道东大街9号",
    ],
    "itineraries": [
        "1月20日乘G572次自武汉抵西安",
        "1月19日自汉口站乘K字头列车返乡",
        "1月21日驾车途经武汉东湖",
        "1月18日武汉天河机场乘MU2305抵咸阳机场",
        "1月22日乘长途客车自武汉傅家坡站到商洛",
    ],
}


def planted_case_list() -> bytes:
    """A case list of 商洛 counties: on 2020-02-10 商州区 1 case (suppressed), 洛南县 5 (complementary), 丹凤县 7;
    on 2020-02-11 山阳县 2 (suppressed), 镇安县 3 (complementary), 柞水县 4. Each case has a planted name, ID
    number, phone, address and itinerary; one extra row is rejected (age 130) and one repeats the first case's ID
    number (a duplicate report, rejected; its 高新区 would be placed by its address now), so the
    problem-row downloads carry them too, and a 性别 cell starts with a formula (echoed as written in the problem rows;
    病情 and 发现方式 are kept only as standard values)."""
    counts = [
        ("2020-02-10", "商州区", 1),
        ("2020-02-10", "洛南县", 5),
        ("2020-02-10", "丹凤县", 7),
        ("2020-02-11", "山阳县", 2),
        ("2020-02-11", "镇安县", 3),
        ("2020-02-11", "柞水县", 4),
    ]
    lines = ["报告日期,姓名,身份证号,电话,详细地址,行程,现住址区县,性别,年龄,病情,户籍地址"]
    n = 0
    for day, county, k in counts:
        for _ in range(k):
            i = n % 5
            id_number = PLANTED["id_numbers"][i][:-4] + f"{n:03d}" + PLANTED["id_numbers"][i][-1]
            lines.append(
                f"{day},{PLANTED['names'][i]},{id_number},{PLANTED['phones'][i]},{PLANTED['addresses'][i]},"
                f"{PLANTED['itineraries'][i]},{county},男,{30 + n},普通型,{PLANTED['addresses'][i]}"
            )
            n += 1
    lines.append(
        f"2020-02-10,{PLANTED['names'][0]},{PLANTED['id_numbers'][0]},{PLANTED['phones'][0]},"
        f"{PLANTED['addresses'][0]},{PLANTED['itineraries'][0]},商州区,\"=cmd|' /C calc'!A0\",130,普通型,"
        f"{PLANTED['addresses'][0]}"
    )
    first_id = PLANTED["id_numbers"][0][:-4] + "000" + PLANTED["id_numbers"][0][-1]
    lines.append(
        f"2020-02-11,{PLANTED['names'][1]},{first_id},{PLANTED['phones'][1]},"
        f"{PLANTED['addresses'][1]},{PLANTED['itineraries'][1]},高新区,男,40,普通型,{PLANTED['addresses'][1]}"
    )
    return ("\n".join(lines) + "\n").encode("utf-8")
