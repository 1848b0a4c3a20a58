"""Gazetteer: resolve the names and codes that real reports use to GB/T 2260 adcodes, never guessing silently.

Handles full names (雁塔区), short names (雁塔, 西安), prefixed names (西安市雁塔区, 陕西省西安市雁塔区, 西安雁塔),
杨凌 / 杨凌示范区 / 杨凌区 / 杨陵区, names with a note in brackets (渭南市（不含韩城）), full-width characters and
spaces, current codes (610113, and 12-digit statistical codes), codes and names from before a county became a
district or city (610125 户县 -> 610118 鄠邑区), and the non-standard codes of the 2020 case files (715400 韩城,
610d12 杨凌). Anything else comes back ``unknown`` or ``ambiguous`` with candidates for a person to choose.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from geo import regions
from geo.units import PROVINCE, REPORTING_UNIT_COUNTIES

# GB/T 2260 codes and names retired since 2015 in Shaanxi (NBS code history; geo/sources/SOURCES.md).
OLD_CODES = {
    "610521": ("610503", "华县", "2015年撤县设华州区"),
    "610624": ("610603", "安塞县", "2016年撤县设安塞区"),
    "610823": ("610803", "横山县", "2015年撤县设横山区"),
    "610125": ("610118", "户县", "2016年撤县设鄠邑区"),
    "610721": ("610703", "南郑县", "2017年撤县设南郑区"),
    "610821": ("610881", "神木县", "2017年撤县设神木市"),
    "610427": ("610482", "彬县", "2018年撤县设彬州市"),
    "610623": ("610681", "子长县", "2019年撤县设子长市"),
    "610322": ("610305", "凤翔县", "2021年撤县设凤翔区"),
    "610928": ("610981", "旬阳县", "2021年撤县设旬阳市"),
}
# Codes seen in 2020 case files that are not GB/T 2260 codes.
NONSTANDARD_CODES = {"715400": ("610581", "韩城（邮政编码）"), "610d12": ("610403", "杨凌示范区（源文件代码）")}
ALIASES = {
    "陕西": PROVINCE,
    "全省": PROVINCE,
    "陕西全省": PROVINCE,
    "杨凌": "610403",
    "杨凌区": "610403",
    "杨凌示范区": "610403",
    "杨凌农业高新技术产业示范区": "610403",
    "杨凌农业示范区": "610403",
    "杨陵": "610403",
}
_ALL_UNITS = (
    "610100",
    "610200",
    "610300",
    "610400",
    "610403",
    "610500",
    "610581",
    "610600",
    "610700",
    "610800",
    "610900",
    "611000",
)
# Functional zones (开发区、新区、功能区): places bulletins name that have no GB/T 2260 code and no boundary. Each is
# reported under a unit (西咸新区 under 西安, which administers it since 2017 and counts its residents); the name on the
# left, as written, gives the zone's name and the units that have a zone of that name. A generic name (高新区) needs
# the unit written before it (西安市高新区); a unique one (曲江新区) names its unit by itself.
_XIAN = "610100"
ZONES: dict[str, tuple[str, tuple[str, ...]]] = {
    **{
        n: ("高新区", ("610100", "610300", "610400", "610500", "610800", "610900", "611000"))
        for n in ("高新区", "高新技术产业开发区", "高新技术开发区", "高新开发区")
    },
    **{
        n: ("经开区", ("610100", "610500", "610700"))
        for n in ("经开区", "经济技术开发区", "经济开发区", "经济技术开发区")
    },
    **{n: ("新区", ("610200", "610600")) for n in ("新区",)},
    "铜川新区": ("新区", ("610200",)),
    "延安新区": ("新区", ("610600",)),
    **{n: ("曲江新区", (_XIAN,)) for n in ("曲江新区", "曲江")},
    **{n: ("浐灞生态区", (_XIAN,)) for n in ("浐灞生态区", "浐灞国际港", "浐灞")},
    **{n: ("国际港务区", (_XIAN,)) for n in ("国际港务区", "港务区")},
    **{n: ("航天基地", (_XIAN,)) for n in ("航天基地", "航天城", "国家民用航天产业基地")},
    **{n: ("航空基地", (_XIAN,)) for n in ("航空基地", "航空城", "阎良航空基地")},
    **{
        n: ("西咸新区", (_XIAN,))
        for n in ("西咸新区", "西咸", "沣东新城", "沣西新城", "秦汉新城", "空港新城", "泾河新城")
    },
    **{n: ("卤阳湖开发区", ("610500",)) for n in ("卤阳湖开发区", "卤阳湖")},
    **{n: ("恒口示范区", ("610900",)) for n in ("恒口示范区", "恒口")},
    "瀛湖生态旅游区": ("瀛湖生态旅游区", ("610900",)),
    "榆横工业区": ("榆横工业区", ("610800",)),
}


def zone_names(unit_adcode: str) -> list[str]:
    """The zones reported under a unit, by their standard names, in a stable order."""
    return sorted({name for name, units in ZONES.values() if unit_adcode in units})


@dataclass(frozen=True)
class Resolution:
    query: str
    status: str  # "resolved" | "ambiguous" | "unknown"
    adcode: str | None = None
    name: str | None = None
    candidates: tuple[tuple[str, str], ...] = field(default=())  # (adcode, name)
    note: str = ""
    zone: str | None = None  # a functional zone (西咸新区, 高新区, ...): adcode is then the unit it is reported under

    @property
    def level(self) -> str | None:
        """province | unit | county of the place found (a zone counts as its unit; 杨陵区/杨凌示范区 and 韩城市, a unit
        and a county under one code, count as the county: their territory is that one county)."""
        if self.adcode in REPORTING_UNIT_COUNTIES and self.zone is None:
            return "county"
        region = regions.get(self.adcode) if self.adcode else None
        return region.level if region is not None else None

    @property
    def ok(self) -> bool:
        return self.status == "resolved"


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), no spaces, no bracketed notes: 'ｘ 渭南市（不含韩城）' -> '渭南市'."""
    text = unicodedata.normalize("NFKC", str(text))
    text = re.sub(r"[\(\[（【].*?[\)\]）】]", "", text)
    return re.sub(r"\s+", "", text).strip()


@lru_cache(maxsize=1)
def _index() -> dict[str, set[str]]:
    """Every name and short name -> the adcodes it can mean."""
    index: dict[str, set[str]] = {}
    for r in regions.table().itertuples():
        for key in {r.name, r.short_name}:
            index.setdefault(key, set()).add(r.adcode)
    for new_code, old_name, _ in OLD_CODES.values():
        index.setdefault(old_name, set()).add(new_code)
    for key, code in ALIASES.items():
        index.setdefault(key, set()).add(code)
    return index


def _resolved(query: str, adcode: str, note: str = "") -> Resolution:
    return Resolution(query, "resolved", adcode, regions.get(adcode).name, note=note)


def _named(codes) -> tuple[tuple[str, str], ...]:
    return tuple((c, regions.get(c).name) for c in sorted(codes))


def _prefixes() -> list[tuple[str, str]]:
    """(written prefix, unit adcode), longest first: 陕西省西安市 is tried before 西安."""
    out = []
    for u in regions.units():
        for p in {u.name, u.short_name}:
            out += [(p, u.adcode), ("陕西省" + p, u.adcode), ("陕西" + p, u.adcode)]
    return sorted(out, key=lambda item: -len(item[0]))


def resolve(query, within: str | None = None) -> Resolution:
    """Resolve a name or code. ``within`` (a unit's adcode) narrows a name to that unit's counties."""
    raw = "" if query is None else str(query)
    text = normalise(raw)
    if not text:
        return Resolution(raw, "unknown", note="地区为空")
    code = text.lower()
    if re.fullmatch(r"\d{12}", code):
        code = code[:6]
    if code in NONSTANDARD_CODES:
        new, what = NONSTANDARD_CODES[code]
        return _resolved(raw, new, f"{what} {code} -> {new}")
    if code in OLD_CODES:
        new, old_name, why = OLD_CODES[code]
        return _resolved(raw, new, f"旧代码 {code}（{old_name}，{why}）-> {new}")
    if re.fullmatch(r"\d{6}", code):
        if regions.get(code):
            return _resolved(raw, code)
        return Resolution(raw, "unknown", note=f"代码 {code} 不是陕西省的县级以上行政区划代码")
    return _resolve_name(raw, text, within)


def _zone(raw: str, text: str, unit_code: str | None) -> Resolution | None:
    """A functional zone, inside a known unit (or one whose name gives its unit); None when the text is no zone."""
    if text not in ZONES:
        return None
    name, units = ZONES[text]
    if unit_code is not None and unit_code not in units:
        return Resolution(
            raw,
            "unknown",
            candidates=_named({unit_code}),
            note=f"{regions.unit(unit_code).name}没有名为「{name}」的功能区",
        )
    unit_code = unit_code or (units[0] if len(units) == 1 else None)
    if unit_code is None:
        return Resolution(
            raw,
            "ambiguous",
            candidates=_named(units),
            note=f"「{text}」是功能区，多个市都有，请写明所属市（如 西安市{name}）",
        )
    return Resolution(
        raw,
        "resolved",
        unit_code,
        regions.unit(unit_code).name,
        zone=name,
        note=f"功能区「{name}」，计入{regions.unit(unit_code).name}",
    )


def _resolve_name(raw: str, text: str, within: str | None) -> Resolution:
    index = _index()
    zone = _zone(raw, text, within if within in _ALL_UNITS else None)
    if zone is not None:
        return zone
    codes = index.get(text, set())
    if within and len(codes) > 1:
        codes = {c for c in codes if c == within or (regions.unit_of(c) and regions.unit_of(c).adcode == within)}
    if len(codes) == 1:
        code = next(iter(codes))
        old = next((f"旧名称「{n}」（{why}）" for _, (new, n, why) in OLD_CODES.items() if n == text), "")
        return _resolved(raw, code, old)
    if len(codes) > 1:
        return Resolution(raw, "ambiguous", candidates=_named(codes), note=f"「{text}」可指多个地区，请写全称")

    for prefix, unit_code in _prefixes():
        if text.startswith(prefix) and len(text) > len(prefix):
            rest = text[len(prefix) :]
            inside = [c for c in index.get(rest, set()) if _inside(c, unit_code)]
            if len(inside) == 1:
                return _resolved(raw, inside[0])
            zone = _zone(raw, rest, unit_code)
            if zone is not None:
                return zone
            return Resolution(
                raw,
                "unknown",
                candidates=_named({unit_code}),
                note=f"「{rest}」不是{regions.unit(unit_code).name}下的县级行政区",
            )
    if text.startswith("陕西") and len(text) > 2:  # 陕西省雁塔区
        return _resolve_name(raw, text[3:] if text.startswith("陕西省") else text[2:], within)
    return Resolution(raw, "unknown", candidates=_similar(text), note=f"无法识别地区「{text}」")


def _inside(code: str, unit_code: str) -> bool:
    """Is this county (or unit) inside the territory of a unit, by GB/T parent or by reporting unit?"""
    if code == unit_code:
        return False
    return any(r.adcode == code and unit_code in (r.parent_adcode, r.admin_parent_adcode) for r in regions.counties())


def _similar(text: str) -> tuple[tuple[str, str], ...]:
    """Names that start with, contain, or look like the text: offered to the person, never chosen for them."""
    names = {}
    for r in regions.table().itertuples():
        names.setdefault(r.name, r.adcode)
    hits = [n for n in names if len(text) >= 1 and (n.startswith(text) or text in n)]
    hits += difflib.get_close_matches(text, list(names), n=5, cutoff=0.5)
    seen = dict.fromkeys(hits)
    return tuple((names[n], n) for n in list(seen)[:8])


def _county_names() -> list[tuple[str, str]]:
    """(full name, adcode) of every county, old names included, longest first: what an address may contain."""
    names = [(r.name, r.adcode) for r in regions.counties()]
    names += [(old_name, new) for _, (new, old_name, _) in OLD_CODES.items()]
    return sorted(set(names), key=lambda item: -len(item[0]))


def locate(text) -> Resolution:
    """Place a residence as written (现住址: 西安市雁塔区曲江新区某小区) at the lowest level it names.

    A name or code ``resolve`` knows is taken as it is. Otherwise the text is searched: a county named in it wins
    over a zone (…雁塔区曲江新区… -> 雁塔区, the zone kept as a note); a zone gives its unit; a unit alone gives the
    unit. What names nothing in Shaanxi is placed at the province (地区不详). The status is ``resolved`` at the county,
    ``partial`` above it, with the counties it could be as candidates; the caller counts it at that level.
    """
    raw = "" if text is None else str(text)
    found = resolve(raw)
    if found.ok and found.zone is None and found.level == "county":
        return found
    body = normalise(raw)
    unit_code = found.adcode if found.ok and found.level == "unit" else None
    for prefix, code in _prefixes():  # the unit written first: 西安市…, 陕西省西安市…
        if body.startswith(prefix):
            unit_code, body = code, body[len(prefix) :]
            break
    zone = found.zone
    for name in sorted(ZONES, key=len, reverse=True):  # a zone's name may hold a county's (沣东新城区 / 新城区)
        if name in body and (z := _zone(raw, name, unit_code)) is not None and z.ok:
            zone, unit_code, body = z.zone, z.adcode, body.replace(name, "|")
            break
    named = [(body.find(name), code) for name, code in _county_names() if name in body]
    counties = [code for _, code in sorted(named, key=lambda item: item[0])]  # the first named, as written
    if unit_code is not None:
        counties = [c for c in counties if regions.unit_of(c).adcode == unit_code] or counties
    if counties:
        county = counties[0]
        return Resolution(
            raw,
            "resolved",
            county,
            regions.county(county).name,
            zone=zone,
            note=f"由地址识别为{regions.county(county).name}" + (f"（功能区{zone}）" if zone else ""),
        )
    if unit_code in REPORTING_UNIT_COUNTIES:  # 杨凌示范区, 韩城市: the unit is one county
        return Resolution(
            raw,
            "resolved",
            unit_code,
            regions.county(unit_code).name,
            zone=zone,
            note=f"由地址识别为{regions.county(unit_code).name}",
        )
    if unit_code is not None:
        unit = regions.unit(unit_code)
        where = f"功能区{zone}" if zone else "区县不详"
        return Resolution(
            raw,
            "partial",
            unit_code,
            unit.name,
            candidates=_named(r.adcode for r in regions.counties(unit_code)),
            zone=zone,
            note=f"{where}，计入{unit.name}",
        )
    return Resolution(
        raw,
        "partial",
        PROVINCE,
        regions.province().name,
        candidates=found.candidates if raw.strip() else (),
        note="地区为空，计入全省（地区不详）"
        if not body
        else f"地址「{body[:20]}」未指明陕西省的市或区县，计入全省（地区不详）",
    )
