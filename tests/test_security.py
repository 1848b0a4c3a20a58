"""Who may see what (issue 8): every route and a callback of every kind for every role, CSRF missing or wrong,
wall tokens and their revocation, region scope on uploads, the audit log (and that it cannot be changed), the
local demo, and the refusal to serve beyond this machine without accounts.

The accounts live in a store of this module's own (never the session's, whose served apps run as the local demo).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import ROOT, _serve, new_database
from sqlalchemy import text
from waiting import callbacks_done, map_drawn, next_tick

from data import store
from security import accounts, audit, roles

PASSWORD = "correct horse battery"
USERS = {
    "viewer": ("guanzhong-viewer", None),
    "officer": ("xian-officer", "610100"),
    "data_admin": ("root-admin", None),
}
# A concrete path for each route of the table (prefix routes get an example)
SAMPLE_PATHS = {"/api/v1/": "/api/v1/regions", "/assets/": "/assets/security.css", "/_dash-": "/_dash-layout"}


@pytest.fixture(scope="module")
def site():
    """(url, database URL, wall token id, wall token) of an app with accounts, served as `python app.py` is."""
    db = new_database("roles")
    eng = store.engine(db)
    for role, (name, region) in USERS.items():
        accounts.create_user(name, PASSWORD, role, region, eng=eng)
    token_id, token = accounts.create_wall_token("测试大屏", eng=eng)
    served = _serve(db, SECRET_KEY="test-secret-key-for-roles")
    url = next(served)
    yield url, db, token_id, token
    next(served, None)


def csrf_of(session: requests.Session, url: str, path: str = "/login") -> str:
    html = session.get(url + path).text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(url: str, role: str | None, token: str | None = None) -> requests.Session:
    """A browser-like session: anonymous (None), a wall (token) or signed in through the login form."""
    s = requests.Session()
    if role == "wall":
        r = s.get(f"{url}/wall?token={token}", allow_redirects=False)
        assert r.status_code == 302 and r.headers["Location"] == "/wall"
    elif role is not None:
        name = USERS[role][0]
        r = s.post(
            f"{url}/login",
            data={"username": name, "password": PASSWORD, "csrf_token": csrf_of(s, url)},
            allow_redirects=False,
        )
        assert r.status_code == 302, r.text
    return s


@pytest.fixture(scope="module")
def sessions(site):
    url, _, _, token = site
    return {role: signed_in(url, role, token) for role in [None, *roles.ROLES]}


def test_accounts_doc_shows_the_access_tables_the_gate_enforces():
    accounts_doc = (ROOT / "docs" / "accounts.md").read_text(encoding="utf-8")
    assert roles.access_table_markdown() in accounts_doc
    assert roles.permission_table_markdown() in accounts_doc


ROUTE_CASES = [
    (route, role)
    for route, _prefix, _what, _perm in roles.ROUTES
    if route != "/logout"
    for role in [None, *roles.ROLES]
]


@pytest.mark.parametrize(("route", "role"), ROUTE_CASES, ids=[f"{r}-{o}" for r, o in ROUTE_CASES])
def test_every_route_for_every_role(site, sessions, route, role):
    url = site[0]
    path = SAMPLE_PATHS.get(route, route)
    r = sessions[role].get(url + path, allow_redirects=False)
    if roles.allowed(role, roles.route_permission(path)):
        assert r.status_code == 200, (path, role, r.status_code)
    elif role is None:  # anonymous: to the login page (pages) or 401 (Dash's own routes)
        assert (r.status_code == 302 and r.headers["Location"].startswith("/login?next=")) or r.status_code == 401
    else:
        assert r.status_code == 403
        assert "无权" in r.text


def test_anonymous_reaches_only_login_health_and_the_public_api(site):
    url = site[0]
    s = requests.Session()
    assert s.get(url + "/login").status_code == 200
    assert s.get(url + "/health").json()["status"] == "ok"
    assert s.get(url + "/api/v1/summary?region=610100&date=2020-02-15").status_code == 200
    for path in ("/", "/wall", "/data", "/admin", "/anything", "/_dash-layout", "/_dash-dependencies"):
        r = s.get(url + path, allow_redirects=False)
        assert r.status_code in (302, 401), path
    page = s.get(url + "/data")  # follows to the login page, which brings the visitor back afterwards
    assert page.url.endswith("/login?next=/data") and "登录" in page.text


# ---- callbacks ----------------------------------------------------------------------------------------------------
def _outputs(key: str):
    key = key.split("@")[0]
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outs = [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]
    return outs if key.startswith("..") else outs[0]


_DEPENDENCIES: dict = {}


def callback_body(url: str, output_prefix: str, inputs: list, state: list | None = None, changed=None) -> dict:
    """The body Dash's renderer would send; the callback's output key as the app lists it."""
    if url not in _DEPENDENCIES:
        _DEPENDENCIES[url] = signed_in(url, "data_admin").get(url + "/_dash-dependencies").json()
    key = next(d["output"] for d in _DEPENDENCIES[url] if d["output"].startswith(output_prefix))
    return {
        "output": key,
        "outputs": _outputs(key),
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": changed or [f"{_id_text(inputs[0]['id'])}.{inputs[0]['property']}"],
    }


def _id_text(component_id) -> str:
    """A component id as Dash writes it in changedPropIds: a pattern-matching id as compact JSON."""
    return json.dumps(component_id, separators=(",", ":")) if isinstance(component_id, dict) else component_id


def post_callback(session: requests.Session, url: str, body: dict, token: str | None = "cookie"):
    headers = {"Content-Type": "application/json"}
    if token == "cookie":
        session.get(url + "/login")  # any page visit sets the cookie; make sure there is one
        token = session.cookies.get("_csrf_token")
    if token is not None:
        headers["X-CSRFToken"] = token
    return session.post(url + "/_dash-update-component", data=json.dumps(body), headers=headers)


def readable(response) -> str:
    """A callback's answer as text with its Chinese readable."""
    return json.dumps(response.json(), ensure_ascii=False)


def _bodies(url: str) -> dict:
    """One real callback of each permission, with plausible inputs."""
    return {
        "view": callback_body(
            url, "compare-box.hidden", [{"id": "trend-view", "property": "value", "value": "compare"}]
        ),
        "wall": callback_body(
            url,
            "data-version.data",
            [{"id": "data-poll", "property": "n_intervals", "value": 1}],
            [{"id": "data-version", "property": "data", "value": "stale"}],
        ),
        "export": callback_body(
            url,
            "table-download.data",
            [
                {"id": "table-download-button", "property": "n_clicks", "value": 1},
                {"id": "table-download-xlsx", "property": "n_clicks", "value": None},
            ],
            [
                {"id": "date-select", "property": "value", "value": "2020-02-15"},
                {"id": "table-sort", "property": "data", "value": None},
            ],
        ),
        "upload": callback_body(
            url, "..batch-table.children", [{"id": "batches-changed", "property": "data", "value": 0}]
        ),
        "rollback": callback_body(
            url,
            "batches-changed.data@",
            [[{"id": {"index": 99999, "type": "batch-rollback"}, "property": "n_clicks", "value": 1}]],
            [{"id": "batches-changed", "property": "data", "value": 0}],
            changed=['{"index":99999,"type":"batch-rollback"}.n_clicks'],
        ),
        "admin": callback_body(
            url, "..admin-users.children", [{"id": "admin-changed", "property": "data", "value": 0}]
        ),
        "report": callback_body(
            url,
            "report-history.children",
            [
                {"id": "report-region", "property": "value", "value": "610100"},
                {"id": "report-date", "property": "value", "value": "2020-02-15"},
                {"id": "report-saved", "property": "data", "value": 0},
            ],
        ),
        "page /data": callback_body(
            url,
            ".._pages_content",
            [
                {"id": "_pages_location", "property": "pathname", "value": "/data"},
                {"id": "_pages_location", "property": "search", "value": ""},
            ],
        ),
    }


@pytest.fixture(scope="module")
def bodies(site, sessions):
    return _bodies(site[0])


CALLBACK_CASES = [
    (kind, role)
    for kind in ("view", "wall", "export", "upload", "rollback", "admin", "report", "page /data")
    for role in [None, *roles.ROLES]
]


@pytest.mark.parametrize(("kind", "role"), CALLBACK_CASES, ids=[f"{k}-{r}" for k, r in CALLBACK_CASES])
def test_every_kind_of_callback_for_every_role(site, sessions, bodies, kind, role):
    permission = "upload" if kind == "page /data" else kind
    r = post_callback(sessions[role], site[0], bodies[kind])
    if roles.allowed(role, permission):
        assert r.status_code in (200, 204), (kind, role, r.status_code, r.text[:300])
    else:
        assert r.status_code == (401 if role is None else 403), (kind, role, r.status_code)
        assert "response" not in r.text


def test_callback_without_or_with_a_wrong_csrf_token_is_refused(site, sessions, bodies):
    url, s = site[0], sessions["officer"]
    assert post_callback(s, url, bodies["view"]).status_code == 200
    missing = post_callback(s, url, bodies["view"], token=None)
    assert missing.status_code == 400 and "安全令牌" in missing.json()["error"]
    wrong = post_callback(s, url, bodies["view"], token="IjAwMDAi.forged.token")
    assert wrong.status_code == 400
    other = signed_in(url, "viewer")  # a valid token of another session is no good either
    other.get(url + "/health")
    assert post_callback(s, url, bodies["view"], token=other.cookies.get("_csrf_token")).status_code == 400


def test_login_and_logout_need_the_csrf_token(site):
    url = site[0]
    s = requests.Session()
    r = s.post(f"{url}/login", data={"username": USERS["officer"][0], "password": PASSWORD}, allow_redirects=False)
    assert r.status_code == 400 and "安全令牌" in r.text
    s = signed_in(url, "officer")
    assert s.post(f"{url}/logout", allow_redirects=False).status_code == 400  # no token: still signed in
    assert s.get(f"{url}/", allow_redirects=False).status_code == 200
    copy = requests.Session()  # someone took the cookie before the officer signed out
    copy.cookies.update(s.cookies)
    assert copy.get(f"{url}/", allow_redirects=False).status_code == 200
    r = s.post(f"{url}/logout", data={"csrf_token": s.cookies["_csrf_token"]}, allow_redirects=False)
    assert r.status_code == 302
    assert s.get(f"{url}/", allow_redirects=False).status_code == 302  # signed out
    assert copy.get(f"{url}/", allow_redirects=False).status_code == 302  # and so is every copy of the cookie


def test_wrong_password_and_login_rate_limit(site):
    url = site[0]
    s = requests.Session()
    name = "someone-guessing"
    codes = [
        s.post(
            f"{url}/login", data={"username": name, "password": f"guess{i}", "csrf_token": csrf_of(s, url)}
        ).status_code
        for i in range(11)
    ]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    assert (
        "用户名或密码不正确"
        in s.post(
            f"{url}/login", data={"username": USERS["viewer"][0], "password": "nope", "csrf_token": csrf_of(s, url)}
        ).text
    )
    signed_in(url, "viewer")  # other accounts from the same address are not locked out


def test_behind_a_proxy_the_client_address_counts_not_the_proxys(serve):
    """PROXY_COUNT=1 (the documented nginx): the login limit and the audit log see the forwarded client, so someone
    guessing a name from one address does not lock it for the office behind the same proxy."""
    db = new_database("proxy")
    accounts.create_user("proxied-officer", PASSWORD, "officer", eng=store.engine(db))
    url, _ = serve(db, SECRET_KEY="proxy-test-secret-key-0123456789abcdef", PROXY_COUNT="1")

    def attempt(client: str, password: str) -> int:
        s = requests.Session()
        forwarded = {"X-Forwarded-For": client}
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{url}/login", headers=forwarded).text).group(1)
        return s.post(
            f"{url}/login",
            headers=forwarded,
            allow_redirects=False,
            data={"username": "proxied-officer", "password": password, "csrf_token": token},
        ).status_code

    assert [attempt("10.9.8.7", f"guess{i}") for i in range(11)] == [401] * 10 + [429]
    assert attempt("10.9.8.8", PASSWORD) == 302  # the officer at another desk still signs in
    with store.engine(db).connect() as conn:
        addresses = {
            r.address for r in conn.execute(text("SELECT address FROM audit_log WHERE action = 'login_failed'"))
        }
    assert addresses == {"10.9.8.7"}


def test_session_cookie_is_httponly_and_samesite(site):
    r = requests.get(site[0] + "/login")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"


# ---- wall tokens --------------------------------------------------------------------------------------------------
def test_wall_token_signs_in_read_only_and_revoking_ends_it_at_the_next_poll(site, bodies):
    url, db, _, _ = site
    eng = store.engine(db)
    assert requests.get(f"{url}/wall?token=not-a-token", allow_redirects=False).status_code == 403
    token_id, token = accounts.create_wall_token("将被撤销的大屏", eng=eng)
    wall = signed_in(url, "wall", token)
    assert wall.get(f"{url}/wall", allow_redirects=False).status_code == 200
    assert wall.get(f"{url}/", allow_redirects=False).status_code == 403
    assert post_callback(wall, url, bodies["wall"]).status_code == 200
    assert accounts.revoke_wall_token(token_id, eng=eng)
    assert post_callback(wall, url, bodies["wall"]).status_code == 401  # the next poll
    assert wall.get(f"{url}/wall", allow_redirects=False).status_code == 302
    assert requests.get(f"{url}/wall?token={token}", allow_redirects=False).status_code == 403


def test_disabled_account_is_signed_out_at_its_next_request(site):
    url, db, _, _ = site
    eng = store.engine(db)
    user_id = accounts.create_user("soon-disabled", PASSWORD, "viewer", eng=eng)
    s = requests.Session()
    s.post(f"{url}/login", data={"username": "soon-disabled", "password": PASSWORD, "csrf_token": csrf_of(s, url)})
    assert s.get(f"{url}/", allow_redirects=False).status_code == 200
    accounts.set_active(user_id, False, eng=eng)
    assert s.get(f"{url}/", allow_redirects=False).status_code == 302


# ---- region scope -------------------------------------------------------------------------------------------------
SCOPED_CSV = "地区,日期,累计确诊\n雁塔区,2020-02-20,5\n宝鸡市,2020-02-20,14\n".encode()


def test_scoped_officer_uploads_only_their_region(site, sessions):
    url = site[0]
    import base64

    contents = "data:text/csv;base64," + base64.b64encode(SCOPED_CSV).decode()
    body = callback_body(
        url,
        "..upload-preview.children",
        [
            {"id": "upload", "property": "contents", "value": contents},
            {"id": "upload-kind", "property": "value", "value": "cases"},
            [],
        ],
        [{"id": "upload", "property": "filename", "value": "日报.csv"}, []],
    )
    answer = readable(post_callback(sessions["officer"], url, body))
    assert "第3行：地区 宝鸡市（610300）不在您的数据范围 西安市 内" in answer
    assert "接收 1 行" in answer and "拒收 1 行" in answer
    admin = readable(post_callback(sessions["data_admin"], url, body))  # the province-wide admin takes both
    assert "接收 2 行" in admin and "不在您的数据范围" not in admin


def test_scoped_officer_reports_only_for_their_region(site, sessions):
    """/report: the 西安 officer may report for 西安 and its counties, not for 铜川 (checked as typed and at submit)."""
    url = site[0]
    ids = [
        "report-region",
        "report-date",
        "report-new-confirmed",
        "report-new-cured",
        "report-new-dead",
        "report-new-asymptomatic",
        "report-contacts",
        "report-fever-visits",
        "report-mask-stock",
        "report-correction",
        "report-revision-reason",
        "report-correction-reason",
    ]

    def check(region):
        values = [region, "2020-02-15", "1", "0", "0", "", "", "", "", "", "", ""]
        inputs = [{"id": i, "property": "value", "value": v} for i, v in zip(ids, values)]
        body = callback_body(
            url, "..report-check.children", inputs + [{"id": "report-saved", "property": "data", "value": 0}]
        )
        return readable(post_callback(sessions["officer"], url, body))

    assert "您的账号只能为 西安市 及其所辖县（区）直报，不能为 铜川市 直报" in check("610200")
    assert "不能为" not in check("610113") and "本次为修订" in check("610100")  # 雁塔区; 西安 reported that day


def test_officer_sees_no_rollback_buttons(site, sessions, bodies):
    url, db, _, _ = site
    from data.ingest import pipeline

    stored = pipeline.ingest(
        "地区,日期,累计确诊\n莲湖区,2020-02-21,3\n".encode(),
        "莲湖.csv",
        "cases",
        user=USERS["data_admin"][0],
        eng=store.engine(db),
    )
    assert stored.batch_id
    officer = post_callback(sessions["officer"], url, bodies["upload"]).text
    admin = post_callback(sessions["data_admin"], url, bodies["upload"]).text
    assert "batch-rollback" not in officer and "batch-rollback" in admin


# ---- audit log ----------------------------------------------------------------------------------------------------
def test_audit_log_records_who_did_what_and_cannot_be_changed(site, sessions, bodies):
    url, db, _, _ = site
    signed_in(url, "officer")
    requests.post(f"{url}/login", data={"username": "nobody"})  # refused by CSRF before it counts
    s = requests.Session()
    s.post(f"{url}/login", data={"username": USERS["viewer"][0], "password": "wrong", "csrf_token": csrf_of(s, url)})
    assert post_callback(sessions["officer"], url, bodies["export"]).status_code == 200
    for _ in range(3):  # anonymous downloads are counted, not logged a row each
        requests.get(f"{url}/api/v1/timeseries?region=610100&format=csv")
    sessions["viewer"].get(f"{url}/api/v1/regions?format=csv")  # a signed-in user's is logged
    eng = store.engine(db)
    with eng.connect() as conn:
        rows = conn.execute(text("SELECT user_name, role, action, detail FROM audit_log ORDER BY id")).all()
    actions = {(r.user_name, r.action) for r in rows}
    assert (USERS["officer"][0], "login") in actions
    assert (USERS["viewer"][0], "login_failed") in actions
    assert any(
        r.action == "export"
        and r.user_name == USERS["officer"][0]
        and "导出排名表" in r.detail
        and "2020-02-15" in r.detail
        for r in rows
    )
    assert not any(r.action == "api_download" and r.user_name.startswith("匿名") for r in rows)
    assert any(
        r.action == "api_download" and r.user_name == USERS["viewer"][0] and "/regions" in r.detail for r in rows
    )
    counts = audit.download_counts(eng)
    assert counts.loc[counts["接口"] == "/api/v1/timeseries", "匿名下载次数"].sum() >= 3
    shown = readable(post_callback(sessions["data_admin"], url, bodies["admin"]))
    assert "导出排名表" in shown and "登录失败" in shown and "匿名 CSV 下载" in shown and "/api/v1/timeseries" in shown
    for statement in ("UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="审计日志只可追加"), eng.begin() as conn:
            conn.execute(text(statement))
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() >= len(rows)  # nothing went


# ---- local demo and refusal ---------------------------------------------------------------------------------------
def test_local_demo_signs_in_a_demo_officer_and_says_so(server_url):
    s = requests.Session()
    assert s.get(server_url + "/", allow_redirects=False).status_code == 200
    assert "本地演示模式" in json.dumps(s.get(server_url + "/_dash-layout").json(), ensure_ascii=False)
    assert s.get(server_url + "/admin", allow_redirects=False).status_code == 403  # an officer, not an admin
    assert s.get(server_url + "/login", allow_redirects=False).status_code == 302


@pytest.mark.once  # start-up refusals: the same whatever the store
def test_refuses_to_serve_beyond_this_machine_without_accounts(tmp_path):
    env = {**os.environ, "DATABASE_URL": new_database("refuse"), "HOST": "0.0.0.0", "PORT": "1"}
    env.pop("SECRET_KEY", None)
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "拒绝在 0.0.0.0 上启动：缺少账号、SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    gunicorn = Path(sys.executable).parent / "gunicorn"
    done = subprocess.run(
        [str(gunicorn), "-c", "gunicorn.conf.py", "-b", "0.0.0.0:1", "app:server"],
        cwd=ROOT,
        env={**env, "HOST": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "拒绝在 0.0.0.0 上启动" in done.stderr
    # the other documented ways, each with the address given as that server takes it (HOST says loopback)
    flask = [sys.executable, "-m", "flask", "--app", "app:server", "run"]
    for how, args, cwd, extra in (
        (
            "gunicorn without its config file",
            [str(gunicorn), "--chdir", str(ROOT), "-b", "0.0.0.0:1", "app:server"],
            tmp_path,
            {},
        ),
        (
            "gunicorn by GUNICORN_CMD_ARGS",
            [str(gunicorn), "app:server"],
            tmp_path,
            {"GUNICORN_CMD_ARGS": f"--chdir {ROOT} --bind 0.0.0.0:1"},
        ),
        ("flask run -h0.0.0.0", [*flask, "-h0.0.0.0", "-p", "1"], ROOT, {}),
        ("flask run --host=0.0.0.0", [*flask, "--host=0.0.0.0", "-p", "1"], ROOT, {}),
    ):
        done = subprocess.run(
            args, cwd=cwd, env={**env, "HOST": "127.0.0.1", **extra}, capture_output=True, text=True, timeout=120
        )
        assert done.returncode != 0 and "拒绝在 0.0.0.0 上启动" in done.stderr, (how, done.stderr[-500:])
        assert "Traceback" not in done.stderr, how


def test_local_demo_is_for_this_machine_only(serve, new_store, app_module):
    """However it was started, the demo officer is not given to a request that came through a proxy or from
    another machine (the connection's addresses, not HOST, decide)."""
    url, _ = serve(new_store("demo-local"))
    assert requests.get(url + "/", allow_redirects=False).status_code == 200
    proxied = requests.get(url + "/", headers={"X-Forwarded-For": "10.20.30.40"}, allow_redirects=False)
    assert proxied.status_code == 403 and "仅限本机访问" in proxied.text
    api = requests.get(url + "/api/v1/regions", headers={"X-Real-IP": "10.20.30.40"})
    assert api.status_code == 403
    client = app_module.server.test_client()
    from security import web

    assert web.demo_mode()  # the session's store has no accounts
    remote = client.get("/", environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert remote.status_code == 403 and "仅限本机访问" in remote.get_data(as_text=True)


@pytest.mark.once  # start-up refusals: the same whatever the store
def test_refuses_a_short_secret_key_beyond_this_machine():
    db = new_database("shortkey")
    accounts.create_user("key-admin", PASSWORD, "data_admin", eng=store.engine(db))
    env = {**os.environ, "DATABASE_URL": db, "HOST": "0.0.0.0", "PORT": "1", "SECRET_KEY": "x"}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "SECRET_KEY 太短" in done.stderr


@pytest.mark.once  # start-up refusals: the same whatever the store
def test_refuses_without_secret_key_even_with_accounts():
    db = new_database("nokey")
    accounts.create_user("admin-nokey", PASSWORD, "data_admin", eng=store.engine(db))
    env = {**os.environ, "DATABASE_URL": db, "HOST": "0.0.0.0", "PORT": "1"}
    env.pop("SECRET_KEY", None)
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "缺少SECRET_KEY" in done.stderr


def test_cli_creates_the_first_admin_without_a_default_password():
    db = new_database("cli")
    env = {**os.environ, "DATABASE_URL": db}
    flask = [sys.executable, "-m", "flask", "--app", "app:server"]
    short = subprocess.run(
        [*flask, "create-admin", "boss"],
        cwd=ROOT,
        env=env,
        input="short\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert short.returncode == 2 and "密码至少10个字符" in short.stderr
    made = subprocess.run(
        [*flask, "create-admin", "boss"],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0 and "已创建数据管理员 boss" in made.stdout
    assert accounts.authenticate("boss", PASSWORD, eng=store.engine(db)).role == "data_admin"
    token = subprocess.run(
        [*flask, "wall-token", "create", "一号大屏"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert token.returncode == 0 and "/wall?token=" in token.stdout
    link_token = token.stdout.split("token=")[1].strip()
    assert accounts.wall_account(link_token, eng=store.engine(db)) is not None
    with store.engine(db).connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("scrypt:") and PASSWORD not in stored


# ---- a real browser ---------------------------------------------------------------------------------------------
def _no_errors(page):
    return [e for e in page.errors if "WebGL" not in e and "GL Driver" not in e]


def test_browser_signs_in_works_under_the_csp_and_signs_out(site, page, artifacts):
    """An officer signs in through the form; the dashboard draws its map and answers a date step (callbacks carry
    the CSRF header); /data opens; 退出 in the banner signs out. No CSP violation or other console error."""
    from playwright.sync_api import expect

    url = site[0]
    page.goto(f"{url}/data")
    expect(page).to_have_url(re.compile(r"/login\?next=/data$"))
    page.fill("#username", USERS["officer"][0])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#upload")).to_be_visible(timeout=20_000)  # back where the visitor was going
    expect(page.locator("#account-banner")).to_contain_text("值班员 · 西安市")
    page.goto(f"{url}/?region=610000&date=2020-02-15")
    expect(page.locator("#kpi-confirmed")).to_have_text("236", timeout=20_000)
    expect(page.locator("#region-map .maplibregl-canvas")).to_be_visible(timeout=20_000)
    page.click("#date-next")
    expect(page.locator("#as-of")).to_have_text("截至2020年2月16日24时")
    expect(page.locator("#kpi-confirmed")).to_have_text("240", timeout=20_000)
    map_drawn(page)
    page.screenshot(path=str(artifacts / "signed_in_officer_1920x1080.png"))
    assert _no_errors(page) == [], page.errors  # no CSP violation, no refused callback
    page.goto(f"{url}/admin")
    expect(page.locator("body")).to_contain_text("无权访问")
    page.goto(f"{url}/")
    # signs out from a page that has drawn and asked for what it asks once its map is drawn (the units' KPI books: a
    # Store, which callbacks_done cannot see pending): a request refused after the sign-out used to reload the page
    expect(page).to_have_url(re.compile(r"/\?region="))
    map_drawn(page)
    page.wait_for_function(
        "() => Object.keys(window.dash_component_api.getLayout('kpi-books').props.data || {}).length >= 12"
    )
    callbacks_done(page)
    page.locator("#account-banner").get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert [e for e in _no_errors(page) if "403" not in e] == [], page.errors  # /admin's 403 was expected


def test_browser_admin_page_and_wall_link(site, page, artifacts):
    """The admin makes a wall link on /admin; a second browser opens it and shows the wall, read-only."""
    from playwright.sync_api import expect

    url = site[0]
    page.goto(f"{url}/login")
    page.fill("#username", USERS["data_admin"][0])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{url}/admin")
    expect(page.locator("#admin-audit")).to_contain_text("登录", timeout=20_000)
    page.fill("#admin-token-label", "浏览器测试大屏")
    page.click("#admin-add-token")
    link = page.locator("#admin-token-link")
    expect(link).to_contain_text("/wall?token=", timeout=20_000)
    expect(page.locator("#admin-tokens")).to_contain_text("浏览器测试大屏")
    page.screenshot(path=str(artifacts / "admin_1920x1080.png"), full_page=True)
    wall_link = link.inner_text()
    from data.ingest import pipeline

    stored = pipeline.ingest(
        "地区,日期,累计确诊\n新城区,2020-02-22,4\n".encode(),
        "新城区日报.csv",
        "cases",
        user="xian-officer",
        eng=store.engine(site[1]),
    )
    page.goto(f"{url}/data")
    row = page.locator("#batch-table tr", has_text="新城区日报.csv")
    expect(row).to_contain_text("有效", timeout=20_000)
    row.get_by_role("button", name="回滚").click()
    expect(page.locator("#batch-table tr", has_text="新城区日报.csv")).to_contain_text("已回滚")
    with store.engine(site[1]).connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'rollback' AND detail = :d"),
                {"d": f"批次 {stored.batch_id}"},
            ).scalar_one()
            == 1
        )
    wall = page.context.browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    errors = []
    wall.on("console", lambda m: m.type == "error" and "GL" not in m.text and errors.append(m.text))
    wall.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url} {r.request.post_data}"[:300]))
    wall.clock.install()  # its timers, so the test can bring its next poll forward
    wall.goto(wall_link)
    expect(wall).to_have_url(re.compile(r"/wall$"))
    expect(wall.locator("#region-map .maplibregl-canvas")).to_be_visible(timeout=30_000)
    expect(wall.locator("#kpi-confirmed")).not_to_have_text("–", timeout=20_000)
    map_drawn(wall)
    wall.screenshot(path=str(artifacts / "wall_by_token_1920x1080.png"))
    shown_errors = list(errors)
    assert wall.goto(f"{url}/").status == 403
    wall.goto(f"{url}/wall")
    expect(wall.locator("#region-map .maplibregl-canvas")).to_be_visible(timeout=30_000)
    token_id = max(t["id"] for t in accounts.wall_tokens(eng=store.engine(site[1])))
    accounts.revoke_wall_token(token_id, eng=store.engine(site[1]))
    # the next poll (every 15 s, brought forward here) is refused; the screen leaves the figures for the sign-in page
    next_tick(wall, "data-poll")
    expect(wall).to_have_url(re.compile(r"/login\?next=/wall"), timeout=40_000)
    wall.context.close()
    assert shown_errors == [] and _no_errors(page) == [], (shown_errors, page.errors)


def test_browser_local_demo_pages_without_csp_violations(server_url, page):
    from playwright.sync_api import expect

    for path, ready in (("/wall", "#region-map .maplibregl-canvas"), ("/data", "#batch-table table")):
        page.goto(server_url + path)
        expect(page.locator(ready)).to_be_visible(timeout=30_000)
        expect(page.locator("#account-banner")).to_contain_text("本地演示模式")
    callbacks_done(page)  # every callback of the page answered: a refused one would be in the errors by now
    assert _no_errors(page) == [], page.errors


def test_every_server_callback_declares_its_permission(app_module):
    """Declared where it is defined (@declared_callback): a new or renamed callback cannot fall back to a default."""
    undeclared = [
        key
        for key, spec in app_module.app.callback_map.items()
        if spec.get("callback") is not None
        and "_pages_content" not in key  # Dash's page router: the route table decides (ROUTES)
        and roles.callback_permission(spec["callback"].__module__, spec["callback"].__name__)[0] == roles.UNDECLARED
    ]
    assert undeclared == []
    assert roles.callback_permission("callbacks.somewhere", "renamed") == (roles.UNDECLARED, None)
    assert not any(roles.allowed(role, roles.UNDECLARED) for role in roles.ROLES)


def test_resource_table_download_is_an_audited_export(site, sessions):
    url, db, _, _ = site
    body = callback_body(
        url,
        "adequacy-download.data",
        [
            {"id": "adequacy-download-csv", "property": "n_clicks", "value": 1},
            {"id": "adequacy-download-xlsx", "property": "n_clicks", "value": None},
        ],
        [
            {"id": "region-select", "property": "value", "value": "610000"},
            {"id": "date-select", "property": "value", "value": "2020-02-15"},
            {"id": "coverage-distance", "property": "value", "value": 10},
        ],
    )
    assert post_callback(sessions["viewer"], url, body).status_code == 403
    before = len(audit.recent(eng=store.engine(db)))
    answer = post_callback(sessions["officer"], url, body)
    assert answer.status_code == 200 and "csv" in answer.text.lower()
    latest = audit.recent(eng=store.engine(db)).iloc[0]
    assert len(audit.recent(eng=store.engine(db))) == before + 1 and "导出资源保障表" in latest["内容"]


def test_router_gate_reads_the_path_where_dash_binds_it(site, sessions):
    """A decoy input carrying the router's id does not pass another page's layout through the gate."""
    url, _, _, token = site
    for role, wanted, decoy in (("viewer", "/admin", "/"), ("viewer", "/data", "/"), ("wall", "/", "/wall")):
        body = callback_body(
            url,
            ".._pages_content",
            [
                {"id": "decoy", "property": "pathname", "value": wanted},
                {"id": "_pages_location", "property": "pathname", "value": decoy},
            ],
        )
        session = sessions[role] if role != "wall" else signed_in(url, "wall", token)
        answer = post_callback(session, url, body)
        assert answer.status_code == 403, (role, wanted, answer.status_code)


def test_the_layout_holds_only_a_page_the_visitor_may_see(site, sessions):
    """The first page comes drawn in the layout (layouts/container.py) for the page the browser says it is on (its
    Referer); the route table decides there as for the router: a viewer told it is on /admin gets no admin page, and
    a Referer from another site, or none, gets the empty container the router fills."""
    url, _, _, token = site

    def layout(session, referer):
        headers = {"Referer": referer} if referer else {}
        answer = session.get(url + "/_dash-layout", headers=headers)
        assert answer.status_code == 200
        return json.dumps(answer.json(), ensure_ascii=False)

    assert "admin-new-password" in layout(sessions["data_admin"], url + "/admin")
    for role in ("viewer", "officer"):
        assert "admin-new-password" not in layout(sessions[role], url + "/admin"), role
    shown = layout(sessions["viewer"], url + "/?region=610100")
    assert '"pathname": "/"' in shown and '"search": "?region=610100"' in shown and "kpi-books" in shown
    wall = signed_in(url, "wall", token)
    assert "kpi-books" not in layout(wall, url + "/")  # the wall role may not see `/`
    for referer in (None, "http://elsewhere.example/", "http://elsewhere.example/admin"):
        assert "kpi-books" not in layout(sessions["viewer"], referer) and '"pathname"' not in layout(
            sessions["viewer"], referer
        )


def test_scoped_officer_picks_counties_of_their_region_only(site, sessions):
    """The region control lists every unit, but counties only inside the account's scope (西安市 for the officer)."""
    body = callback_body(
        site[0],
        ".._pages_content",
        [
            {"id": "_pages_location", "property": "pathname", "value": "/"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
    )
    officer = readable(post_callback(sessions["officer"], site[0], body))
    viewer = readable(post_callback(sessions["viewer"], site[0], body))
    assert "雁塔区（西安市）" in officer and "宝鸡市" in officer and "渭滨区（宝鸡市）" not in officer
    assert "雁塔区（西安市）" in viewer and "渭滨区（宝鸡市）" in viewer


def test_only_officers_and_admins_acknowledge_alerts(site, sessions):
    """A viewer sees the alert list but its 确认 is not kept (and it gets no button); an officer's is, with its name."""
    url = site[0]
    listed = sessions["data_admin"].get(url + "/api/v1/alerts").json()
    assert listed, "the shipped data raises at least one alert on its last day"
    alert = listed[0]

    def acknowledge(role):
        body = callback_body(
            url,
            "..alerts-list.children",
            [
                {"id": "page-version", "property": "data", "value": None},
                {"id": "page-poll", "property": "n_intervals", "value": None},
                [{"id": {"index": alert["id"], "type": "alert-ack"}, "property": "n_clicks", "value": 1}],
                {"id": "view-day", "property": "data", "value": None},
                {"id": "map-drawn", "property": "data", "value": True},
            ],
            [{"id": "alerts-shown", "property": "data", "value": None}],
            changed=[json.dumps({"index": alert["id"], "type": "alert-ack"}, separators=(",", ":")) + ".n_clicks"],
        )
        return post_callback(sessions[role], url, body)

    answer = acknowledge("viewer")
    assert answer.status_code == 200 and '"type":"alert-ack"' not in answer.text  # no 确认 button
    after = {a["id"]: a for a in sessions["data_admin"].get(url + "/api/v1/alerts").json()}
    assert not after[alert["id"]]["acknowledged"]
    answer = acknowledge("officer")
    assert answer.status_code == 200
    after = {a["id"]: a for a in sessions["data_admin"].get(url + "/api/v1/alerts").json()}
    assert after[alert["id"]]["acknowledged"] and after[alert["id"]]["acknowledged_by"] == USERS["officer"][0]
