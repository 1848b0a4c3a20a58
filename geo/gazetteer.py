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
from geo.units import PROVINCE

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
    "陕西": PROVINCE, "全省": PROVINCE, "陕西全省": PROVINCE,
    "杨凌": "610403", "杨凌区": "610403", "杨凌示范区": "610403", "杨凌农业高新技术产业示范区": "610403",
    "杨凌农业示范区": "610403", "杨陵": "610403",
}
# Places that officials write but that are not counties; they resolve to nothing, with these candidates.
_ALL_UNITS = ("610100", "610200", "610300", "610400", "610403", "610500", "610581", "610600", "610700", "610800",
              "610900", "611000")
NOT_COUNTIES = {"西咸新区": ("610100", "610400"), "西咸": ("610100", "610400"),
                "高新区": _ALL_UNITS, "高新技术产业开发区": _ALL_UNITS, "经开区": _ALL_UNITS, "经济技术开发区": _ALL_UNITS}


@dataclass(frozen=True)
class Resolution:
    query: str
    status: str  # "resolved" | "ambiguous" | "unknown"
    adcode: str | None = None
    name: str | None = None
    candidates: tuple[tuple[str, str], ...] = field(default=())  # (adcode, name)
    note: str = ""

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
    for old_code, (new_code, old_name, _) in OLD_CODES.items():
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


def _resolve_name(raw: str, text: str, within: str | None) -> Resolution:
    index = _index()
    if text in NOT_COUNTIES:
        return Resolution(raw, "unknown", candidates=_named(NOT_COUNTIES[text]),
                          note=f"「{text}」不是县级行政区，请改为所属区县（开发区、新区没有行政区划代码）")
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
            rest = text[len(prefix):]
            inside = [c for c in index.get(rest, set()) if _inside(c, unit_code)]
            if len(inside) == 1:
                return _resolved(raw, inside[0])
            return Resolution(raw, "unknown", candidates=_named({unit_code}),
                              note=f"「{rest}」不是{regions.unit(unit_code).name}下的县级行政区")
    if text.startswith("陕西") and len(text) > 2:  # 陕西省雁塔区
        return _resolve_name(raw, text[3:] if text.startswith("陕西省") else text[2:], within)
    return Resolution(raw, "unknown", candidates=_similar(text), note=f"无法识别地区「{text}」")


def _inside(code: str, unit_code: str) -> bool:
    """Is this county (or unit) inside the territory of a unit, by GB/T parent or by reporting unit?"""
    if code == unit_code:
        return False
    return any(r.adcode == code and unit_code in (r.parent_adcode, r.admin_parent_adcode)
               for r in regions.counties())


def _similar(text: str) -> tuple[tuple[str, str], ...]:
    """Names that start with, contain, or look like the text: offered to the person, never chosen for them."""
    names = {}
    for r in regions.table().itertuples():
        names.setdefault(r.name, r.adcode)
    hits = [n for n in names if len(text) >= 1 and (n.startswith(text) or text in n)]
    hits += difflib.get_close_matches(text, list(names), n=5, cutoff=0.5)
    seen = dict.fromkeys(hits)
    return tuple((names[n], n) for n in list(seen)[:8])
