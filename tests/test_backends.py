"""The app on its scale-out backends: one Redis cache shared by several processes, the app serving on without it,
and the same figures from PostgreSQL as from SQLite. Real servers, no mocks: each test that stops Redis starts a
redis-server of its own on a free port."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import insert, select
from waiting import eventually

from data import cache, shipped, store

ROOT = Path(__file__).resolve().parent.parent
WARNING_TEXT = "Redis 不可用（CACHE_REDIS_URL="


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own, in a temporary directory."""

    def __init__(self, directory: Path, port: int | None = None):
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not installed (`scripts/setup.sh test` installs Debian's redis-server)")
        self.exe, self.directory, self.port = exe, directory, port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url)
        deadline = time.time() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def keys(self, pattern: str = "*") -> list[bytes]:
        import redis

        return list(redis.Redis.from_url(self.url).scan_iter(match=pattern))


@pytest.fixture()
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    if server.proc.poll() is None:
        server.kill()


def _small_store(url: str) -> None:
    """西安's cumulative counts for 2020-02-10..15 as one batch: enough for summaries, quick to make."""
    eng = store.engine(url)
    with eng.begin() as conn:
        batch = conn.execute(
            insert(store.batches).values(
                kind="cases",
                file_name="small.csv",
                checksum="small",
                size_bytes=1,
                created_by="test",
                status="active",
                source="测试",
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(store.case_reports),
            [
                {
                    "batch_id": batch,
                    "region_adcode": "610100",
                    "category": "reported",
                    "as_of_date": dt.date(2020, 2, 10) + dt.timedelta(days=i),
                    "confirmed_cum": 100 + i,
                    "cured_cum": 10,
                    "dead_cum": 0,
                }
                for i in range(6)
            ],
        )


def _revision_arrives(url: str, confirmed: int) -> None:
    eng = store.engine(url)
    with eng.begin() as conn:
        batch = conn.execute(
            insert(store.batches).values(
                kind="cases",
                file_name="revision.csv",
                checksum=f"revision-{confirmed}",
                size_bytes=1,
                created_by="test",
                status="active",
                source="测试",
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(store.case_reports).values(
                batch_id=batch,
                region_adcode="610100",
                category="reported",
                as_of_date=dt.date(2020, 2, 15),
                confirmed_cum=confirmed,
                cured_cum=10,
                dead_cum=0,
            )
        )


# One process of several workers: it asks the shared cache for a value only it could compute (its own process id),
# and for 西安's summary.
WORKER = """
import json, os
from data import cache, queries

@cache.memoize
def computed_by(region, day):
    return os.getpid()

print(json.dumps({"pid": os.getpid(), "by": computed_by("610100", "2020-02-15"), "shared": cache.shared_cache().shared,
                  "confirmed": queries.summary("610100", "2020-02-15")["confirmed_cum"]}))
"""


def _worker(db: str, redis_url: str, prefix: str) -> dict:
    env = {**os.environ, "DATABASE_URL": db, "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": prefix}
    done = subprocess.run(
        [sys.executable, "-c", WORKER], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_processes_share_cached_values_through_redis_and_a_new_batch_invalidates_them(redis_server, new_store):
    db = new_store("share")
    _small_store(db)
    prefix = f"share-{uuid.uuid4().hex[:8]}:"
    first = _worker(db, redis_server.url, prefix)
    assert first["shared"] and first["by"] == first["pid"] and first["confirmed"] == 105
    second = _worker(db, redis_server.url, prefix)
    assert second["pid"] != first["pid"]
    assert second["by"] == first["pid"]  # the first process's value, found in Redis
    assert second["confirmed"] == 105
    assert redis_server.keys(f"{prefix}data.queries.summary:*")

    _revision_arrives(db, 120)  # a new batch: a new data version, so every earlier entry is out of reach
    third = _worker(db, redis_server.url, prefix)
    assert third["by"] == third["pid"] and third["confirmed"] == 120
    fourth = _worker(db, redis_server.url, prefix)
    assert fourth["by"] == third["pid"] and fourth["confirmed"] == 120


def test_an_unreachable_redis_falls_back_to_the_process_and_says_so_once(caplog):
    url = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there: connections are refused
    shared = cache.SharedCache(url, "refused:")
    with caplog.at_level(logging.WARNING, logger="data.cache"):
        assert shared.check() is False
        for i in range(20):
            shared.set(f"k{i}", {"value": i})
            assert shared.get(f"k{i}") == {"value": i}  # served from the process
        assert shared.get("never stored") is cache.MISSING
    warnings = [r for r in caplog.records if WARNING_TEXT in r.getMessage()]
    assert len(warnings) == 1 and "改用进程内缓存" in warnings[0].getMessage() and not shared.shared


def test_an_answer_asked_for_by_many_threads_at_once_is_built_once(new_store):
    """A page's burst (or a benchmark's replays) asking for the same seconds-long answer at once: one thread builds
    it, the others wait and get the same answer, instead of each building it again."""
    eng = store.engine(new_store("once"))
    runs = []

    @cache.memoize
    def slow(region, eng=None):
        runs.append(region)
        time.sleep(0.5)
        return {"region": region, "run": len(runs)}

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: slow("610100", eng=eng), range(8)))
    assert runs == ["610100"] and answers == [{"region": "610100", "run": 1}] * 8
    assert slow("610200", eng=eng) == {"region": "610200", "run": 2}  # another key is built on its own


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, response.read()


def test_the_served_app_goes_on_without_redis_and_logs_it_once(redis_server, new_store, serve):
    db = new_store("noredis")
    url, log = serve(
        db,
        CACHE_REDIS_URL=redis_server.url,
        CACHE_KEY_PREFIX=f"served-{uuid.uuid4().hex[:8]}:",
        CACHE_REDIS_RETRY_SECONDS="1",
    )
    status, body = _get(f"{url}/api/v1/summary?region=610100&date=2020-02-15")
    assert status == 200 and json.loads(body)["confirmed_cum"] == 114
    assert redis_server.keys("served-*response:/api/v1/summary*")  # the response went to Redis

    redis_server.kill()
    for day in ("2020-02-15", "2020-02-16", "2020-02-17", "2020-02-15"):
        status, body = _get(f"{url}/api/v1/summary?region=610100&date={day}")
        assert status == 200 and json.loads(body)["status"] == "reported"
    status, body = _get(f"{url}/")
    assert status == 200 and b"<html" in body
    assert _get(f"{url}/api/v1/timeseries?region=610000&start=2020-02-01&end=2020-02-10")[0] == 200
    assert _get(f"{url}/api/v1/flows?region=610100&date=2020-02-15")[0] == 200
    time.sleep(1.5)  # the condition is the time itself: past the retry delay, the next request tries Redis again,
    assert _get(f"{url}/api/v1/summary?region=610100&date=2020-02-18")[0] == 200  # finds it still away, says nothing
    text = log.read_text()
    assert text.count(WARNING_TEXT) == 1, text
    assert "Traceback" not in text

    redis_server.start()  # back on the same port: after the retry delay the cache is shared again
    days = iter(pd.date_range("2020-02-19", "2020-12-07").strftime("%Y-%m-%d"))  # a new answer on every request
    eventually(
        lambda: (
            _get(f"{url}/api/v1/summary?region=610100&date={next(days)}")[0] == 200
            and "Redis 已恢复" in log.read_text()
        ),
        what="the served app back on Redis",
    )
    assert redis_server.keys("served-*response:/api/v1/summary*")


# ---- the same figures from every backend -------------------------------------------------------------------------
DAILY = """地区,日期,累计确诊,累计治愈,累计死亡,备注
西安市,2020-02-15,120,30,0,
西安市,2020-02-16,121,31,0,
宝鸡市,2020-02-16,14,3,0,
高新区,2020-02-16,2,0,0,
渭南市,2020-02-16,abc,0,0,
"""


def _case_list(n: int) -> str:
    counties = ["雁塔区", "碑林区", "新城区", "长安区", "临潼区", "宝塔区"]
    return "\n".join(
        ["报告日期,现住址区县,性别,年龄,病情"]
        + [
            f"2020-03-{1 + i % 20:02d},{counties[i % 6]},{'男女'[i % 2]},{i % 90 if i % 97 else ''},轻型"
            for i in range(n)
        ]
    )


def _figures(eng) -> dict:
    """What the dashboard shows of a store, as plain values."""
    from data import flow_queries, quality, queries

    data = queries.case_data(eng)
    summaries = {
        (c, d): queries.summary.uncached(c, d, eng)
        for c in ("610000", "610100", "610300", "610113", "610116", "610602")
        for d in ("2020-02-15", "2020-02-16", "2020-03-10")
    }
    on_day = queries.on_day.uncached("2020-02-16", "unit", eng)
    flows = flow_queries.flow_data(eng)
    return {
        "range": (str(data.start), str(data.end)),
        "sources": sorted(data.sources),
        "summaries": summaries,
        "on_day": on_day[["confirmed_cum", "new_confirmed", "active", "risk_level"]].astype(str).to_dict(),
        "daily_total": float(data.daily["confirmed_cum"].sum()),
        "flows": (len(flows.flows), round(float(flows.flows["share_pct"].sum()), 6), round(float(flows.risk.sum()), 6)),
        "facilities": len(queries.facilities(["fever_clinic", "pharmacy", "supply_point"], None, eng)),
        "revisions": quality.revisions(eng).to_dict("records"),
        "unresolved": quality.unresolved_names(eng).drop(columns="批次").to_dict("records"),
        "inconsistencies": quality.inconsistencies(eng).to_dict("records"),
    }


def _ingest_and_roll_back(url: str) -> dict:
    from data.ingest import pipeline

    eng = store.engine(url)
    shipped.ensure_loaded(eng)
    out = {"shipped": _figures(eng), "version": store.data_version(eng)}
    daily = pipeline.ingest(DAILY.encode("utf-8"), "日报.csv", eng=eng)
    cases = pipeline.ingest(_case_list(6000).encode("utf-8"), "个案.csv", eng=eng)  # > 5000 rows: the bulk path
    out["reports"] = [
        (
            r.kind,
            r.accepted,
            r.rejected,
            r.count("revision"),
            r.count("duplicate"),
            [(i.row, i.status, i.reasons) for i in r.issues][:10],
        )
        for r in (daily, cases)
    ]
    out["issues"] = pipeline.issues_of(daily.batch_id, eng).astype(str).to_dict("records")
    with eng.connect() as conn:
        out["stored"] = conn.execute(
            select(store.batches.c.rows_accepted, store.batches.c.rows_rejected, store.batches.c.status).order_by(
                store.batches.c.id
            )
        ).all()
    out["ingested"] = _figures(eng)
    assert pipeline.rollback(cases.batch_id, eng=eng) and pipeline.rollback(daily.batch_id, eng=eng)
    out["rolled_back"] = _figures(eng)
    out["versions"] = store.data_version(eng)
    eng.dispose()
    return out


@pytest.mark.skipif(
    os.environ.get("TEST_DATABASE", "sqlite").lower() not in ("postgresql", "postgres", "pg"),
    reason="compares the PostgreSQL pass (TEST_DATABASE=postgresql) with SQLite",
)
def test_ingest_and_rollback_give_the_same_figures_on_postgresql_as_on_sqlite(new_store, tmp_path):
    on_pg = _ingest_and_roll_back(new_store("figures"))
    on_sqlite = _ingest_and_roll_back(f"sqlite:///{tmp_path}/figures.sqlite")
    assert on_pg["ingested"]["summaries"][("610100", "2020-02-16")]["confirmed_cum"] == 121
    assert on_pg["rolled_back"] == on_pg["shipped"]
    for part in on_sqlite:
        assert on_pg[part] == on_sqlite[part], part


def test_bulk_insert_stores_json_nan_and_dates_alike_on_every_backend(new_store, tmp_path):
    """More than 5000 rows go to the driver directly: JSON columns serialised, NaN stored as NULL, dates as dates."""
    rows = [
        {
            "kind": "pharmacy",
            "name": f"药店{i}",
            "address": None,
            "county_adcode": "610113",
            "unit_adcode": "610100",
            "lon": 108.9 + i * 1e-6,
            "lat": 34.2,
            "status": "open",
            "attrs": {"mask_stock": i, "note": "口罩"},
            "is_demo": i % 2 == 0,
        }
        for i in range(6000)
    ]
    flows = [
        {
            "date": dt.date(2020, 1, 1) + dt.timedelta(days=i % 60),
            "direction": "in",
            "focus_adcode": "610100",
            "counterpart_adcode": "110000",
            "counterpart_name": "北京市",
            "counterpart_level": "city",
            "share_pct": float(i % 7),
            "volume": float("nan"),
        }
        for i in range(6000)
    ]
    results = []
    for url in (new_store("bulk"), f"sqlite:///{tmp_path}/bulk.sqlite"):
        eng = store.engine(url)
        with eng.begin() as conn:
            batch = conn.execute(
                insert(store.batches).values(kind="facilities", file_name="bulk", checksum="bulk", size_bytes=0)
            ).inserted_primary_key[0]
            store.bulk_insert(conn, store.facilities, [{**r, "batch_id": batch} for r in rows])
            store.bulk_insert(conn, store.flows, [{**r, "batch_id": batch} for r in flows])
        with eng.connect() as conn:
            facilities = store.frame(conn, select(store.facilities).order_by(store.facilities.c.id))
            stored_flows = store.frame(conn, select(store.flows).order_by(store.flows.c.id))
        eng.dispose()
        assert facilities["attrs"].iloc[5] == {"mask_stock": 5, "note": "口罩"}
        assert stored_flows.volume.isna().all() and isinstance(stored_flows.date.iloc[0], dt.date)
        results.append(
            (
                facilities.drop(columns="id").to_dict("records"),
                stored_flows.drop(columns="id").assign(date=stored_flows.date.astype(str)).to_dict("list"),
            )
        )
    assert results[0][0] == results[1][0]
    assert pd.DataFrame(results[0][1]).equals(pd.DataFrame(results[1][1]))
