"""HTTP caching of /api/v1 (api/http_cache.py, deploy/nginx.conf): public answers carry Cache-Control and an ETag
of data version, path, query and format, and a matching If-None-Match is a 304 built from nothing; a new batch
changes the ETag; signed-in answers are private; nginx keeps public answers and never a signed-in one.

The first part runs in-process (fast tier). The in-process app serves the local demo (no accounts: every visitor is
the demo officer, signed in with internal clearance); an anonymous caller is the same app with the demo switched off,
so the gate sees nobody signed in. The last part runs gunicorn behind deploy/nginx.conf with real accounts."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, _free_port

from api import http_cache, openapi
from data import store
from data.ingest import pipeline
from security import web

XIAN_FEB_2 = "/api/v1/summary?region=610100&date=2020-02-02"  # 西安's report of 2020-02-02 is missing in the data
NEW_BATCH = "地区,日期,累计确诊,累计治愈,累计死亡\n西安市,2020-02-02,53,0,0\n"


@pytest.fixture()
def anonymous(monkeypatch):
    """Requests as an anonymous caller: the local demo (every visitor the demo officer) switched off."""
    monkeypatch.setitem(web._demo, "on", False)


@pytest.fixture()
def signed_in(monkeypatch):
    """Requests as a signed-in user with internal clearance: the local demo's officer."""
    monkeypatch.setitem(web._demo, "on", True)
    monkeypatch.setitem(web._demo, "checked", time.monotonic() + 3600)  # no account check during the test


def _etag(response) -> str:
    return response.headers["ETag"]


def test_an_anonymous_answer_is_public_with_an_etag(client, anonymous):
    r = client.get("/api/v1/summary?region=610000&date=2020-02-15")
    assert r.status_code == 200 and r.get_json()["confirmed_cum"] > 0
    assert r.headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=30"
    assert re.fullmatch(r'"[0-9-]+\.[0-9a-f]{24}"', _etag(r))
    assert r.headers["ETag"].strip('"').split(".")[0] == store.data_version(store.engine())
    for path in (
        "/api/v1/regions",
        "/api/v1/timeseries?region=610100&start=2020-02-01&end=2020-02-10&format=csv",
        "/api/v1/facilities?region=610100&kind=fever_clinic",
        "/api/v1/flows?region=610100&date=2020-02-01",
        "/api/v1/forecast?region=610000&date=2020-02-10&horizon=3",
        "/api/v1/coverage?level=unit",
        "/api/v1/adequacy?level=unit",
        "/api/v1/openapi.json",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["Cache-Control"].startswith("public, max-age=60") and "ETag" in r.headers, path


def test_a_matching_if_none_match_is_a_304_without_a_body(client, anonymous):
    url = "/api/v1/timeseries?region=610100&start=2020-02-01&end=2020-02-10"
    first = client.get(url)
    tag = _etag(first)
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag and again.headers["Cache-Control"] == first.headers["Cache-Control"]
    # weak comparison: the tag nginx's gzip makes weak, and flask-compress's tag of a gzipped answer
    assert client.get(url, headers={"If-None-Match": f"W/{tag}"}).status_code == 304
    gzipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert client.get(url, headers={"If-None-Match": gzipped.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-None-Match": f'"other", {tag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304  # any current answer: there is one
    assert client.get("/api/v1/summary?region=999999", headers={"If-None-Match": "*"}).status_code == 404
    stale = client.get(url, headers={"If-None-Match": '"0-0-0.000000000000000000000000"'})
    assert stale.status_code == 200 and stale.get_json() == first.get_json()


def test_the_304_is_decided_before_the_answer_is_looked_up_or_built(client, anonymous, monkeypatch):
    import api.v1
    from data import cache

    url = "/api/v1/summary?region=610500&date=2020-02-20"
    tag = _etag(client.get(url))

    def must_not_run(*args, **kwargs):
        raise AssertionError("the answer was looked up or built for a request that matched its ETag")

    monkeypatch.setattr(api.v1.queries, "summary", must_not_run)
    monkeypatch.setattr(cache.SharedCache, "get", must_not_run)
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304


def test_different_queries_and_formats_never_share_an_etag(client, anonymous):
    urls = [
        "/api/v1/summary?region=610100&date=2020-02-15",
        "/api/v1/summary?region=610100&date=2020-02-16",
        "/api/v1/summary?region=610200&date=2020-02-15",
        "/api/v1/summary?region=610100&date=2020-02-15&format=csv",
        "/api/v1/summary?region=610100&date=2020-02-15&format=json",
        "/api/v1/timeseries?region=610100&start=2020-02-15&end=2020-02-15",
        "/api/v1/facilities?region=610100&kind=fever_clinic",
        "/api/v1/facilities?region=610100&kind=fever_clinic&kind=pharmacy",
        "/api/v1/regions",
        "/api/v1/regions?format=csv",
    ]
    tags = {url: _etag(client.get(url)) for url in urls}
    assert len(set(tags.values())) == len(urls), tags
    # the same parameters in another order are the same query: the same answer, the same tag
    assert _etag(client.get("/api/v1/summary?date=2020-02-15&region=610100")) == tags[urls[0]]
    csv = client.get(urls[3], headers={"If-None-Match": tags[urls[4]]})  # the JSON answer's tag
    assert csv.status_code == 200 and csv.content_type.startswith("text/csv")


@pytest.fixture()
def new_batch(app_module):
    """A batch with 西安's missing report of 2020-02-02, stored in the session's store and rolled back afterwards."""
    report = pipeline.ingest(NEW_BATCH.encode(), "西安日报.csv", "cases", user="test")
    assert report.batch_id and report.accepted == 1, report.summary()
    yield report
    pipeline.rollback(report.batch_id, user="test")


def test_a_new_batch_changes_the_etag_and_the_old_one_gets_the_new_numbers(client, anonymous, request):
    before = client.get(XIAN_FEB_2)
    assert before.status_code == 200 and before.get_json()["confirmed_cum"] is None  # no report that day
    old = _etag(before)
    assert client.get(XIAN_FEB_2, headers={"If-None-Match": old}).status_code == 304
    request.getfixturevalue("new_batch")
    after = client.get(XIAN_FEB_2, headers={"If-None-Match": old})
    assert after.status_code == 200 and after.get_json()["confirmed_cum"] == 53
    assert _etag(after) != old
    assert client.get(XIAN_FEB_2, headers={"If-None-Match": _etag(after)}).status_code == 304


def test_a_signed_in_answer_is_private_and_has_no_etag(client, signed_in):
    r = client.get("/api/v1/summary?region=610113&date=2020-02-15")  # a county: exact figures for staff
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "private, no-store" and "ETag" not in r.headers
    assert (
        client.get("/api/v1/summary?region=610113&date=2020-02-15", headers={"If-None-Match": "*"}).status_code == 200
    )
    assert client.get("/api/v1/regions", headers={"If-None-Match": '"x"'}).headers["Cache-Control"] == (
        "private, no-store"
    )


def test_errors_and_answers_that_change_without_a_new_version_are_never_stored(client, anonymous):
    for url, status in (
        ("/api/v1/summary?region=999999", 404),
        ("/api/v1/summary?region=610100&date=2020-13-01", 400),
        ("/api/v1/summary?region=610100&format=xml", 400),
        ("/api/v1/forecast?region=610113", 403),
        ("/api/v1/nothing", 404),
        ("/api/v1/tasks", 401),
        ("/api/v1/alerts", 200),
        ("/api/v1/reporting-status?date=2020-12-07", 200),
    ):
        r = client.get(url)
        assert r.status_code == status, url
        assert r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers, url
    gaps = client.get("/api/v1/coverage/gaps.geojson?distance_km=10")  # its URL names the data version (v=)
    assert gaps.headers["Cache-Control"] == "public, max-age=86400"


def test_the_openapi_document_tells_the_caching(app_module):
    doc = openapi.document()
    server = app_module.server
    marked = {
        rule.rule
        for rule in server.url_map.iter_rules()
        if getattr(server.view_functions[rule.endpoint], "public_cache", False)
    }
    assert marked == set(openapi.CACHED)
    for path in (
        "/api/v1/regions",
        "/api/v1/summary",
        "/api/v1/timeseries",
        "/api/v1/forecast",
        "/api/v1/facilities",
        "/api/v1/flows",
        "/api/v1/coverage",
        "/api/v1/adequacy",
        "/api/v1/openapi.json",
    ):
        op = doc["paths"][path]["get"]
        assert "If-None-Match" in [p["name"] for p in op["parameters"] if p["in"] == "header"], path
        assert "304" in op["responses"], path
        assert {"ETag", "Cache-Control"} <= set(op["responses"]["200"]["headers"]), path
    for path in ("/api/v1/alerts", "/api/v1/reporting-status", "/api/v1/tasks"):
        op = doc["paths"][path]["get"]
        assert "304" not in op["responses"] and "Cache-Control" in op["responses"]["200"]["headers"], path
    assert str(http_cache.MAX_AGE) in json.dumps(doc, ensure_ascii=False)


def test_the_api_location_keeps_the_servers_proxy_headers():
    """nginx: a proxy_set_header inside a location replaces every one of the server's. The API location sets its
    own Accept-Encoding, so it must repeat the others: the client's address for the app (PROXY_COUNT, the local
    demo's refusal behind a proxy) and keep-alive to the app."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    server_level = re.findall(r"^ {8}proxy_set_header (\S+) (.+);", text, flags=re.M)
    api = re.search(r"location /api/v1/ \{(.*?)\n {8}\}", text, flags=re.S).group(1)
    in_api = dict(re.findall(r"^ {12}proxy_set_header (\S+) (.+);", api, flags=re.M))
    assert {name for name, _ in server_level} <= set(in_api)
    assert all(in_api[name] == value for name, value in server_level if name != "Accept-Encoding")


# ---- through nginx (deploy/nginx.conf) -------------------------------------------------------------------------
OFFICER = ("cache-officer", "correct horse battery")  # 西安's officer: signed in, scoped to 610100
NGINX = Path("/usr/sbin/nginx")


@pytest.fixture(scope="module")
def behind_nginx():
    """gunicorn (two workers, accounts, PROXY_COUNT=1) behind deploy/nginx.conf, as tests/test_deploy.py runs them."""
    if not NGINX.exists() and os.environ.get("CI") != "true":
        pytest.skip("Debian's nginx is not installed (`make test` installs it; CI runs this test)")
    from test_deploy import _wait, gunicorn, nginx_conf

    from security import accounts

    tmp = Path(tempfile.mkdtemp(prefix="dashboard-api-cache-"))
    app_port, port = _free_port(), _free_port()
    accounts.create_user(*OFFICER, "officer", "610100", eng=store.engine(f"sqlite:///{tmp}/app.sqlite"))
    app, app_log = gunicorn(
        tmp, app_port, threads=2, PROXY_COUNT="1", SECRET_KEY="api-cache-test-secret-key-0123456789abcdef"
    )
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_conf(app_port, port, tmp))
    web_server = None
    try:
        _wait(f"http://127.0.0.1:{app_port}/health", app, app_log, 180)
        nginx_log = tmp / "nginx.log"
        web_server = subprocess.Popen(
            [str(NGINX), "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
            stdout=nginx_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        _wait(f"http://127.0.0.1:{port}/health", web_server, nginx_log, 30)
        yield f"http://127.0.0.1:{port}", f"sqlite:///{tmp}/app.sqlite"
    finally:
        if web_server is not None:
            web_server.send_signal(signal.SIGQUIT)
            try:
                web_server.wait(10)
            except subprocess.TimeoutExpired:
                web_server.kill()
        app.terminate()
        try:
            app.wait(40)
        except subprocess.TimeoutExpired:
            app.kill()


def fetch(url: str, opener=None, **headers):
    """(status, headers, body); a 304 or an error is an answer like any other."""
    opener = opener or urllib.request.build_opener()
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def officer_browser(base: str):
    import http.cookiejar

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(f"{base}/login", timeout=30).read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"username": OFFICER[0], "password": OFFICER[1], "csrf_token": csrf}).encode()
    opener.open(f"{base}/login", data=data, timeout=30).read()
    return opener


def test_nginx_keeps_public_answers_and_answers_their_revalidation(behind_nginx):
    base, _ = behind_nginx
    url = f"{base}/api/v1/timeseries?region=610300&start=2020-02-01&end=2020-02-20"
    status, first, body = fetch(url)
    assert status == 200 and first["X-Cache-Status"] == "MISS"
    assert first["Cache-Control"].startswith("public, max-age=60") and first["ETag"]
    status, again, body_again = fetch(url)
    assert status == 200 and again["X-Cache-Status"] == "HIT" and body_again == body
    status, revalidated, empty = fetch(url, **{"If-None-Match": first["ETag"]})
    assert status == 304 and empty == b"" and revalidated["X-Cache-Status"] == "HIT"
    assert json.loads(body)[0]["date"] == "2020-02-01"  # a client that takes no gzip gets it unzipped
    # the entry is kept compressed (gzipped once by the app) and sent as it is to a client that takes gzip
    status, zipped, packed = fetch(url, **{"Accept-Encoding": "gzip"})
    assert zipped["Content-Encoding"] == "gzip" and zipped["X-Cache-Status"] == "HIT"
    assert gzip.decompress(packed) == body
    assert fetch(url, **{"If-None-Match": zipped["ETag"]})[0] == 304
    # another query is another entry
    assert fetch(url.replace("610300", "610400"))[1]["X-Cache-Status"] == "MISS"


def test_nginx_never_keeps_signed_in_or_scoped_answers(behind_nginx):
    base, _ = behind_nginx
    officer = officer_browser(base)
    # a county's forecast goes to staff only (anonymous: 403); the officer's own tasks are within 西安
    for path in ("/api/v1/forecast?region=610113&date=2020-02-15&horizon=3", "/api/v1/tasks"):
        for _ in range(2):
            status, headers, _ = fetch(base + path, officer)
            assert status == 200 and headers["X-Cache-Status"] == "BYPASS", path
            assert headers["Cache-Control"] == "private, no-store" and "ETag" not in headers, path
        status, headers, _ = fetch(base + path)  # anonymous, right after: never the officer's answer
        assert status in (401, 403) and headers["X-Cache-Status"] == "MISS", path
    url = f"{base}/api/v1/summary?region=610100&date=2020-02-15"
    assert fetch(url)[1]["X-Cache-Status"] == "MISS"
    assert fetch(url)[1]["X-Cache-Status"] == "HIT"
    assert fetch(url, officer)[1]["X-Cache-Status"] == "BYPASS"  # the public entry is not given to the officer
    assert fetch(url, Authorization="Bearer x")[1]["X-Cache-Status"] == "BYPASS"


def test_nginx_never_keeps_errors_or_unversioned_answers(behind_nginx):
    base, _ = behind_nginx
    for path in ("/api/v1/summary?region=999999", "/api/v1/summary?region=610100&date=2020-13-01", "/api/v1/alerts"):
        statuses = [fetch(base + path)[1]["X-Cache-Status"] for _ in range(2)]
        assert statuses == ["MISS", "MISS"], path


def test_the_app_answers_an_old_etag_with_the_new_batch(behind_nginx):
    """What nginx asks the app when an entry is past its minute (If-None-Match with the entry's ETag): after a new
    batch, the new answer (asked past the cache here, so as not to wait the minute)."""
    base, db = behind_nginx
    url = f"{base}{XIAN_FEB_2}"
    status, headers, body = fetch(url)
    assert status == 200 and json.loads(body)["confirmed_cum"] is None
    old = headers["ETag"]
    eng = store.engine(db)
    report = pipeline.ingest(NEW_BATCH.encode(), "西安日报.csv", "cases", user="test", eng=eng)
    assert report.accepted == 1
    time.sleep(1.5)  # each worker reads the data version at most once a second
    direct = fetch(url, Authorization="Bearer x", **{"If-None-Match": old})  # past nginx's cache: the app itself
    assert direct[0] == 200 and json.loads(direct[2])["confirmed_cum"] == 53
