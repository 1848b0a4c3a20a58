"""The data the dashboard ships with, stored on first start: the real 2020 case series and the demo facilities.

Each goes in as one batch keyed by its checksum, so a second start (or a second worker starting at the same time)
finds it there and stores nothing twice.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from pathlib import Path

import pandas as pd
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

from data import demo_facilities, mobility, store
from geo import gazetteer
from geo.units import PROVINCE

log = logging.getLogger(__name__)
CASES_CSV = Path(__file__).resolve().parent / "sources" / "shaanxi_city_daily.csv"
CASES_SOURCE = "陕西省及各市卫健委通报，经 canghailan/Wuhan-2019-nCoV 整理（MIT）"
CATEGORY = {"province": "reported", "city": "reported", "imported": "imported", "unassigned": "unassigned"}


def read_shipped_cases(path: Path = CASES_CSV) -> pd.DataFrame:
    """The 2020 city series as case_reports rows.

    - ``as_of_date`` is the data cut-off (the source switched from report date to publication date on 2020-02-07).
    - as_of 2020-02-06 occurs twice (source dates 02-06 and 02-07): the row with the earlier source date is kept,
      as the source's notes advise.
    - 境外输入 and 未公布来源 are kept as their own categories under the province, never added to a city.
    - Every city name goes through the gazetteer (韩城's postal code 715400 and 杨凌's code 610d12 included).
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw["source_row"] = raw.index + 2
    raw = raw.sort_values(["as_of_date", "date"]).drop_duplicates(["as_of_date", "city_name"], keep="first")
    codes = []
    for name, level, code in zip(raw.city_name, raw.level, raw.city_adcode):
        if level in ("province", "imported", "unassigned"):
            codes.append(PROVINCE)
            continue
        found = gazetteer.resolve(code or name)
        if not found.ok:
            raise ValueError(f"{path.name}: 无法识别地区「{name}」：{found.note}")
        codes.append(found.adcode)
    out = pd.DataFrame(
        {
            "region_adcode": codes,
            "category": raw.level.map(CATEGORY),
            "as_of_date": pd.to_datetime(raw.as_of_date).dt.date,
            "confirmed_cum": raw.confirmed_cum.astype(int),
            "cured_cum": raw.cured_cum.astype(int),
            "dead_cum": raw.dead_cum.astype(int),
            "suspected": raw.suspected.replace("", "0").astype(int),
            "source_date": pd.to_datetime(raw.date).dt.date,
            "source_name": raw.source_city_name.where(raw.source_city_name != "", raw.city_name),
            "source_row": raw.source_row,
        }
    )
    return out.reset_index(drop=True)


def _checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _exists(eng: Engine, kind: str, checksum: str) -> bool:
    with eng.connect() as conn:
        return (
            conn.execute(
                select(store.batches.c.id).where(store.batches.c.kind == kind, store.batches.c.checksum == checksum)
            ).first()
            is not None
        )


DEMO_FILE_NAME = "demo_facilities (generated)"


def _demo_set_stored(eng: Engine) -> bool:
    b = store.batches
    with eng.connect() as conn:
        query = select(b.c.id).where(b.c.kind == "facilities", b.c.file_name == DEMO_FILE_NAME, b.c.is_demo)
        return conn.execute(query).first() is not None


def _store_batch(eng: Engine, batch: dict, table, rows: list[dict]) -> bool:
    """Insert a batch and its rows in one transaction; False if the same batch is already stored."""
    if _exists(eng, batch["kind"], batch["checksum"]):
        return False
    with eng.begin() as conn:
        batch_id = conn.execute(insert(store.batches).values(**batch)).inserted_primary_key[0]
        store.bulk_insert(conn, table, [{**row, "batch_id": batch_id} for row in rows])
    return True


def ensure_loaded(eng: Engine) -> None:
    """Store the shipped data sets that are not in the store yet; one process at a time (several workers may start
    together), the others wait and then find everything there. On PostgreSQL the lock is the database's own, so
    app machines starting together on an empty database load the data once."""
    lock_path = store.instance_path() / "seed.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if eng.dialect.name == "postgresql":
                with eng.connect() as conn:  # a session lock, held while this process loads
                    conn.execute(text("SELECT pg_advisory_lock(610001)"))
                    try:
                        _ensure_loaded(eng)
                    finally:
                        conn.execute(text("SELECT pg_advisory_unlock(610001)"))
            else:
                _ensure_loaded(eng)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ensure_loaded(eng: Engine) -> None:
    # Each data set is parsed only when its checksum is not stored yet: a restart costs a few file reads.
    data = CASES_CSV.read_bytes()
    if not _exists(eng, "cases", _checksum(data)):
        cases = read_shipped_cases()
        if _store_batch(
            eng,
            {
                "kind": "cases",
                "file_name": CASES_CSV.name,
                "checksum": _checksum(data),
                "size_bytes": len(data),
                "rows_accepted": len(cases),
                "rows_rejected": 0,
                "created_by": "system",
                "is_demo": False,
                "source": CASES_SOURCE,
                "note": "随系统提供的2020年陕西省各市（区）累计病例数据",
            },
            store.case_reports,
            store.records(cases),
        ):
            log.info("stored the shipped case series: %d rows", len(cases))

    for kind, path, table, read, source, note in (
        (
            "flows",
            mobility.CITY_SHARES,
            store.flows,
            mobility.read_flows,
            mobility.FLOW_SOURCE,
            "百度迁徙：陕西各市及全省迁入迁出城市、省份占比，2020年第一季度",
        ),
        (
            "migration-index",
            mobility.SCALE_INDEX,
            store.migration_index,
            mobility.read_scale_index,
            mobility.FLOW_SOURCE,
            "百度迁徙规模指数：陕西10市及全省，2020-01-01至03-09",
        ),
        (
            "national-cases",
            mobility.NATIONAL_CASES,
            store.national_cases,
            mobility.read_national_cases,
            mobility.NATIONAL_SOURCE,
            "全国各地级市累计确诊、治愈、死亡，2020-01-15至04-30",
        ),
    ):
        data = path.read_bytes()
        if kind == "flows":  # one batch made of two files
            data += mobility.PROVINCE_SHARES.read_bytes()
        if _exists(eng, kind, _checksum(data)):
            continue
        rows = read()
        if _store_batch(
            eng,
            {
                "kind": kind,
                "file_name": path.name,
                "checksum": _checksum(data),
                "size_bytes": len(data),
                "rows_accepted": len(rows),
                "rows_rejected": 0,
                "created_by": "system",
                "is_demo": False,
                "source": source,
                "note": note,
            },
            table,
            store.records(rows),
        ):
            log.info("stored %s: %d rows", kind, len(rows))

    # The demo set is generated once per store. A store that has one keeps it (also one an administrator rolled
    # back), whichever version of the generator made it: a change to the generator's code (even its formatting, which
    # once made the fingerprint) must not add a second set beside the first.
    if _demo_set_stored(eng):
        return
    # what the set is a function of: the seed, the generator and the county polygons
    fingerprint = _checksum(
        f"{demo_facilities.SEED}|{Path(demo_facilities.__file__).read_text(encoding='utf-8')}".encode()
        + demo_facilities.COUNTIES.read_bytes()
    )
    points = demo_facilities.generate()
    if _store_batch(
        eng,
        {
            "kind": "facilities",
            "file_name": DEMO_FILE_NAME,
            "checksum": fingerprint,
            "size_bytes": 0,
            "rows_accepted": len(points),
            "rows_rejected": 0,
            "created_by": "system",
            "is_demo": True,
            "source": demo_facilities.SOURCE,
            "note": "演示数据：按人口在真实县界内随机生成",
        },
        store.facilities,
        store.records(points),
    ):
        log.info("stored %d demo facilities", len(points))
