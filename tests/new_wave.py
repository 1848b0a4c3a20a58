"""Files of a new wave in the shapes duty offices meet, each with the truth it was made from (not read back from
the file): a bulletin-style case list of 西安's December 2021 wave (residence as the bulletin wrote it: districts,
functional zones, a district and a zone together, 西安 with no district, a few cases in other cities, rows without
residence, quiet days), a county-level daily report of a later wave (districts and zone rows, cumulative counts),
and a flow file with English headers for ``--columns``.

Deterministic: the same seed gives the same file and truth.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

# residence as written -> (the county or unit or province it counts under, the zone named)
PLACES = [
    ("西安市雁塔区{}街道{}号", "610113", None),
    ("西安市雁塔区曲江新区{}小区{}栋", "610113", "曲江新区"),
    ("西安市高新区{}小区{}栋", "610100", "高新区"),
    ("西安市西咸新区沣东新城{}村{}组", "610100", "西咸新区"),
    ("西咸新区{}社区{}号", "610100", "西咸新区"),
    ("西安市国际港务区{}小区{}号", "610100", "国际港务区"),
    ("西安市未央区{}社区{}号", "610112", None),
    ("西安市未央区经开区{}小区{}栋", "610112", "经开区"),
    ("西安市灞桥区{}街道{}号", "610111", None),
    ("西安市灞桥区浐灞生态区{}小区{}栋", "610111", "浐灞生态区"),
    ("西安市长安区{}村{}组", "610116", None),
    ("西安市碑林区雁塔路{}小区{}号", "610103", None),
    ("西安市莲湖区{}街道{}号", "610104", None),
    ("西安市新城区{}路{}号", "610102", None),
    ("陕西省西安市鄠邑区{}镇{}村", "610118", None),
    ("西安市航天基地{}小区{}号", "610100", "航天基地"),
    ("西安市{}街道{}号", "610100", None),
]
ELSEWHERE = [
    ("咸阳市秦都区{}小区{}号", "610402", None),
    ("延安市宝塔区{}街道{}号", "610602", None),
    ("渭南市临渭区{}路{}号", "610502", None),
]
NO_RESIDENCE = ("", "610000", None)
START, DAYS = dt.date(2021, 12, 9), 42
QUIET_DAY = dt.date(2021, 12, 11)  # no case anywhere that day


def _curve(day: int) -> int:
    """Cases a day: a wave rising to ~90 around day 20 and falling."""
    return max(0, round(106 * 2.718 ** (-(((day - 20) / 8) ** 2))))


def bulletin_case_list(seed: int = 17) -> tuple[bytes, list[tuple[dt.date, str, str | None]]]:
    """(CSV bytes, [(report date, adcode it counts under, zone)] one per case)."""
    rng = random.Random(seed)
    lines = ["病例编号,报告日期,性别,年龄,现居"]
    truth = []
    n = 0
    for k in range(DAYS):
        day = START + dt.timedelta(days=k)
        if day == QUIET_DAY:
            continue
        for _ in range(_curve(k) + (1 if k == 0 else 0)):
            roll = rng.random()
            text, code, zone = (
                NO_RESIDENCE if roll < 0.01 else rng.choice(ELSEWHERE) if roll < 0.04 else rng.choice(PLACES)
            )
            n += 1
            written = text.format(rng.choice("东西南北中") + rng.choice("华兴安康乐"), rng.randint(1, 99))
            lines.append(
                f"病例{n},{day:%Y年%m月%d日},{rng.choice('男女')},{rng.randint(1, 90)},{written if text else ''}"
            )
            truth.append((day, code, zone))
    return ("\n".join(lines) + "\n").encode("utf-8"), truth


COUNTY_REPORT_START, COUNTY_REPORT_DAYS = dt.date(2022, 3, 10), 8
COUNTY_ROWS = [
    ("雁塔区", "610113", None),
    ("未央区", "610112", None),
    ("长安区", "610116", None),
    ("西安市高新区", "610100", "高新区"),
    ("西咸新区", "610100", "西咸新区"),
]


def county_daily_report(seed: int = 22) -> tuple[bytes, dict[tuple[dt.date, str, str | None], int]]:
    """A later wave's county-level daily report: (CSV bytes, {(day, adcode, zone): new cases that day}).
    Cumulative counts from the wave's start, as such reports are kept."""
    rng = random.Random(seed)
    lines = ["日期,区县,新增确诊,累计确诊"]
    new = {}
    cum = Counter()
    for k in range(COUNTY_REPORT_DAYS):
        day = COUNTY_REPORT_START + dt.timedelta(days=k)
        for name, code, zone in COUNTY_ROWS:
            n = rng.choice([0, 0, 1, 2, 3, 5])
            cum[name] += n
            new[(day, code, zone)] = n
            lines.append(f"{day:%Y-%m-%d},{name},{n},{cum[name]}")
    return ("\n".join(lines) + "\n").encode("utf-8"), new


def foreign_flows() -> tuple[bytes, dict[tuple[str, str], float]]:
    """Flows with headers no synonym knows: (CSV bytes, {(origin, destination): index})."""
    rows = [("北京市", "西安市", 3.5), ("上海市", "西安市", 1.25), ("西安市", "咸阳市", 8.0), ("成都市", "西安市", 2.0)]
    lines = ["day,origin_city,dest_city,idx"] + [f"2021-12-20,{o},{d},{v}" for o, d, v in rows]
    return ("\n".join(lines) + "\n").encode("utf-8"), {(o, d): v for o, d, v in rows}
