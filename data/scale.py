"""A large synthetic province for benchmarks (issue 7), seeded and deterministic, marked 演示数据 everywhere:

- daily cumulative reports of the 107 counties and the 12 reporting units (the sum of their counties) for three
  years, 2023-01-01 to 2025-12-31 — after the shipped 2020 data, so the real figures stay as they are;
- 1,000,000 case-list rows, one a case, whose counts per county and day are exactly the county reports' increases;
- 100,000 facility points (the demo generator at a higher density: pharmacies most, fever clinics fewest);
- 5,000,000 flow rows: for the 10 cities and the province, each day and direction, the ~230 prefecture cities with
  the largest gravity weight (population / distance), shares drifting day by day; with the scale index and a
  weekly national case series so importation risk has something to weigh.

``flask --app app:server scale-data`` writes it into the store of ``DATABASE_URL`` (use a store of its own);
``--factor 10`` makes the 10x set of issue 22 (10,000,000 case-list rows over the same days and counties;
50,000,000 flow rows: the 107 counties become flow regions too, since 357 counterpart cities cannot give more than
~8.6 million rows for 11 regions), for how memory, start time and view latency grow with the rows.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import insert

from data import demo_facilities, store
from geo import china, regions
from geo.units import PROVINCE

SEED = 20230101
START = date(2023, 1, 1)
DAYS = 1096  # 2023-01-01 .. 2025-12-31
SOURCE = "规模测试数据（合成，演示数据）"
FLOW_FOCUS = [
    "610100",
    "610200",
    "610300",
    "610400",
    "610500",
    "610600",
    "610700",
    "610800",
    "610900",
    "611000",
    PROVINCE,
]  # as Baidu Migration has them: no 杨凌, no 韩城
CHUNK = 250_000


def _days() -> pd.DatetimeIndex:
    return pd.date_range(START, periods=DAYS, freq="D")


def county_new_cases(total: int, rng: np.random.Generator) -> pd.DataFrame:
    """New cases per county (columns) and day (index): a few epidemic waves shared by the province, each county
    with its own timing and size, scaled so that the whole comes to ``total`` cases."""
    counties = sorted(regions.counties(), key=lambda r: r.adcode)
    t = np.arange(DAYS)
    waves = [(rng.uniform(60, 1030), rng.uniform(12, 40), rng.uniform(0.3, 1.0)) for _ in range(6)]
    rates = np.zeros((DAYS, len(counties)))
    for j, county in enumerate(counties):
        shift, size = rng.normal(0, 6), rng.lognormal(0, 0.5)
        curve = sum(h * np.exp(-0.5 * ((t - peak - shift) / width) ** 2) for peak, width, h in waves)
        rates[:, j] = (county.population or 100_000) * size * (curve + 0.02)
    rates *= total / rates.sum()
    new = rng.poisson(rates)
    return pd.DataFrame(new, index=_days(), columns=[c.adcode for c in counties])


def reports(new: pd.DataFrame) -> pd.DataFrame:
    """case_reports rows: each county's cumulative counts, and each unit's as the sum of its counties."""
    confirmed = new.cumsum()
    columns = {}
    for unit in regions.units():
        members = [c.adcode for c in regions.counties(unit.adcode) if c.adcode in confirmed]
        columns[unit.adcode] = confirmed[members].sum(axis=1)
    cum = pd.concat([confirmed, pd.DataFrame(columns)], axis=1)
    cum = cum.loc[:, ~cum.columns.duplicated()]
    cured = (cum.shift(14).fillna(0) * 0.99).round().astype(int)
    dead = (cum.shift(10).fillna(0) * 0.004).round().astype(int)
    long = cum.stack().rename("confirmed_cum").reset_index()
    long.columns = ["as_of_date", "region_adcode", "confirmed_cum"]
    long["cured_cum"] = cured.stack().to_numpy()
    long["dead_cum"] = dead.stack().to_numpy()
    long["category"] = "reported"
    long["as_of_date"] = long["as_of_date"].dt.date
    return long


def case_list(new: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row a case, matching ``new`` exactly; no personal data (keys are random, as a keyed hash would be)."""
    stacked = new.stack()
    stacked = stacked[stacked > 0]
    n = int(stacked.sum())
    days = np.repeat(stacked.index.get_level_values(0).date, stacked.to_numpy())
    places = np.repeat(stacked.index.get_level_values(1), stacked.to_numpy())
    raw = rng.bytes(32 * n)  # 64 hex digits, the form of the HMAC-SHA256 the ingest stores
    keys = np.array([raw[i : i + 32].hex() for i in range(0, len(raw), 32)])
    contact = np.where(rng.random(n) < 0.3, np.roll(keys, 1), None)
    return pd.DataFrame(
        {
            "report_date": days,
            "region_adcode": places,
            "sex": rng.choice(["男", "女"], n),
            "age": rng.integers(1, 90, n),
            "severity": rng.choice(["轻型", "普通型", "重型", "危重型"], n, p=[0.55, 0.38, 0.06, 0.01]),
            "detection": rng.choice(["发热门诊", "密接筛查", "社区筛查", "入境检疫"], n, p=[0.3, 0.4, 0.25, 0.05]),
            "person_key": keys,
            "contact_of_key": contact,
            "source_row": np.arange(2, n + 2),
        }
    )


def flow_focus(rows: int, cities: int) -> list[str]:
    """The regions flows are generated for: Baidu's 10 cities and the province; when ``rows`` is more than their
    counterparts can give over the days (a size factor above ~1.7), the 107 counties as well."""
    if rows <= len(FLOW_FOCUS) * 2 * DAYS * cities:
        return FLOW_FOCUS
    return FLOW_FOCUS + sorted(r.adcode for r in regions.counties() if r.adcode not in FLOW_FOCUS)


def flow_parts(rows: int, rng: np.random.Generator, index_rows: list):
    """flows rows, a frame per focus and direction (so 50 million rows never sit in memory at once), and the scale
    index appended to ``index_rows``: per focus and direction a fixed set of counterpart cities (gravity), their
    shares drifting from day to day and summing to about 90 % of the day's movement."""
    cities = [
        p
        for (_, level), p in china.places().items()
        if level == "city" and p.lon and p.population and not p.adcode.startswith("61")
    ]
    focus_list = flow_focus(rows, len(cities))
    per_key = max(1, min(len(cities), math.ceil(rows / (len(focus_list) * 2 * DAYS))))
    days = _days()
    for focus in focus_list:
        region = regions.get(focus)
        lon, lat = ((region.bounds[0] + region.bounds[2]) / 2, (region.bounds[1] + region.bounds[3]) / 2)
        weight = np.array([c.population / max(math.hypot(c.lon - lon, c.lat - lat), 0.3) ** 2 for c in cities])
        chosen = np.argsort(-weight)[:per_key]
        for direction in ("in", "out"):
            base = weight[chosen] / weight[chosen].sum() * 90
            drift = np.exp(np.cumsum(rng.normal(0, 0.03, (DAYS, per_key)), axis=0))
            shares = base * drift
            shares = shares / shares.sum(axis=1, keepdims=True) * 90
            season = 1 + 0.8 * np.exp(-0.5 * ((days.day_of_year.to_numpy() - 25) / 6) ** 2)  # around Spring Festival
            index_rows.append(
                pd.DataFrame(
                    {
                        "date": days.date,
                        "adcode": focus,
                        "direction": direction,
                        "scale_index": np.round(rng.uniform(2, 6) * season * rng.lognormal(0, 0.05, DAYS), 4),
                    }
                )
            )
            yield pd.DataFrame(
                {
                    "date": np.repeat(days.date, per_key),
                    "direction": direction,
                    "focus_adcode": focus,
                    "counterpart_adcode": np.tile([cities[i].adcode for i in chosen], DAYS),
                    "counterpart_name": np.tile([cities[i].name for i in chosen], DAYS),
                    "counterpart_level": "city",
                    "share_pct": np.round(shares.ravel(), 4),
                }
            )


def flows(rows: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """flows rows and the scale index, each as one frame (``flow_parts``, whole)."""
    index_rows: list = []
    frames = list(flow_parts(rows, rng, index_rows))
    return pd.concat(frames, ignore_index=True), pd.concat(index_rows, ignore_index=True)


def national_cases(rng: np.random.Generator) -> pd.DataFrame:
    """Weekly cumulative cases of every prefecture city (the importation risk holds the last value between)."""
    cities = [p for (_, level), p in china.places().items() if level == "city" and p.population]
    weeks = _days()[::7]
    rows = []
    for c in cities:
        new = rng.poisson(c.population / 1e5 * rng.lognormal(0, 1) * 0.5, len(weeks))
        cum = np.cumsum(new)
        rows.append(
            pd.DataFrame(
                {
                    "as_of_date": weeks.date,
                    "adcode": c.adcode,
                    "name": c.name,
                    "confirmed_cum": cum,
                    "cured_cum": (cum * 0.9).astype(int),
                    "dead_cum": 0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def facilities(count: int, seed: int) -> pd.DataFrame:
    """The demo facility generator at the density that gives about ``count`` points."""
    people = sum(c.population or 0 for c in regions.counties()) / 100_000
    factor = count / (people * sum(demo_facilities.PER_100K.values()))
    return demo_facilities.generate(seed, {kind: rate * factor for kind, rate in demo_facilities.PER_100K.items()})


def generate(
    eng=None,
    seed: int = SEED,
    case_rows: int = 1_000_000,
    facility_rows: int = 100_000,
    flow_rows: int = 5_000_000,
    say=print,
) -> dict[str, int]:
    """Write the scale data set into the store, one batch a kind (all 演示数据); returns the rows per table."""
    eng = eng or store.engine()
    rng = np.random.default_rng(seed)
    counts = {}
    new = county_new_cases(case_rows, rng)
    index_rows: list = []
    parts = [
        ("cases", store.case_reports, lambda: reports(new)),
        ("case-list", store.case_list, lambda: case_list(new, rng)),
        ("facilities", store.facilities, lambda: facilities(facility_rows, seed)),
        ("flows", store.flows, lambda: flow_parts(flow_rows, rng, index_rows)),  # stored part by part
        ("migration-index", store.migration_index, lambda: pd.concat(index_rows, ignore_index=True)),
        ("national-cases", store.national_cases, lambda: national_cases(rng)),
    ]
    for kind, table, make in parts:
        made = make()
        rows = _store(eng, kind, table, [made] if isinstance(made, pd.DataFrame) else made, seed)
        say(f"{kind}: {rows:,} rows")
        counts[table.name] = counts.get(table.name, 0) + rows
    return counts


def _store(eng, kind: str, table, frames, seed: int) -> int:
    """Write the frames as one batch (its checksum names the kind, the seed and the row count); returns the rows."""
    with eng.begin() as conn:
        batch_id = conn.execute(
            insert(store.batches).values(
                kind=kind,
                file_name=f"scale-{kind}",
                checksum="",
                size_bytes=0,
                created_by="scale-data",
                rows_accepted=0,
                rows_rejected=0,
                is_demo=True,
                source=SOURCE,
                note="规模测试用合成数据，非真实数据",
            )
        ).inserted_primary_key[0]
        rows = 0
        for frame in frames:
            frame = frame.assign(batch_id=batch_id)
            for start in range(0, len(frame), CHUNK):
                store.bulk_insert(conn, table, store.records(frame.iloc[start : start + CHUNK]))
            rows += len(frame)
        checksum = hashlib.sha256(f"scale:{kind}:{seed}:{rows}".encode()).hexdigest()
        conn.execute(
            store.batches.update().where(store.batches.c.id == batch_id).values(checksum=checksum, rows_accepted=rows)
        )
    return rows
