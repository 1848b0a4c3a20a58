"""Malformed and hostile files as officials and attackers make them, generated from a seed (tests/test_fuzz.py).

Each file starts as a plausible file of one kind (daily cumulative report, case list, facilities, flows) and gets a
few of the damages below: bad encodings and truncation, blank, NaN, infinite and absurd numbers, absurd dates,
over-long and formula cells, personal data in free text, duplicated rows, decreasing cumulatives, unknown places,
extra columns and rows, binary junk; a fifth are written as XLSX (some with formulas that have no cached value).
Sizes stay bounded (at most a few MB), so every file's time and memory can be bounded too.
"""

from __future__ import annotations

import csv
import io
import random

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

COUNTIES = ["雁塔区", "碑林区", "莲湖区", "长安区", "渭滨区", "秦都区", "宝塔区", "汉台区", "商州区", "榆阳区"]
UNITS = [
    "西安市",
    "宝鸡市",
    "咸阳市",
    "渭南市",
    "延安市",
    "汉中市",
    "榆林市",
    "安康市",
    "商洛市",
    "铜川市",
    "杨凌示范区",
]
BAD_NUMBERS = ["", " ", "nan", "NaN", "inf", "-inf", "1e400", "-5", "1e30", "3.7", "abc", "１２", "=1+1", "12例", "—"]
BAD_DATES = [
    "",
    "1900-01-01",
    "0001-01-01",
    "2099-12-31",
    "9999-12-31",
    "2262-04-12",
    "1700-01-01",
    "2020-13-45",
    "2020-02-30",
    "yesterday",
    "-2020-01-01",
    "0000-01-01",
    "2月30日",
    "99999",
    "2020/02/15 25:61",
    "tomorrow",
]
PII = [
    "张三 61100219900101123X",
    "联系电话13912345678",
    "李四，身份证611021198505054321，住雁塔区某小区",
    "王五 +86 139-1234-5678",
]
FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x")', "+1+1", "@SUM(A1)", "-2+3"]


def _cases(rng: random.Random) -> tuple[list[str], list[list[str]]]:
    header = ["地区", "日期", "累计确诊", "累计治愈", "累计死亡", "备注"]
    rows = []
    for place in rng.sample(UNITS + COUNTIES, rng.randint(1, 8)):
        cum = rng.randint(0, 200)
        for day in range(rng.randint(1, 6)):
            cum += rng.randint(0, 5)
            rows.append([place, f"2020-02-{10 + day:02d}", str(cum), str(rng.randint(0, cum // 2)), "0", ""])
    return header, rows


def _case_list(rng: random.Random) -> tuple[list[str], list[list[str]]]:
    header = ["报告日期", "现住址区县", "性别", "年龄", "病情", "发现方式", "姓名", "身份证号", "电话"]
    rows = [
        [
            f"2020-02-{rng.randint(1, 28):02d}",
            rng.choice(COUNTIES),
            rng.choice("男女"),
            str(rng.randint(1, 90)),
            rng.choice(["普通型", "轻型", "重型"]),
            rng.choice(["密接筛查", "主动就诊"]),
            "测试甲",
            f"6101{rng.randint(10, 99)}19{rng.randint(50, 99)}0101{rng.randint(100, 999)}X",
            f"139{rng.randint(10**7, 10**8 - 1)}",
        ]
        for _ in range(rng.randint(1, 40))
    ]
    return header, rows


def _facilities(rng: random.Random) -> tuple[list[str], list[list[str]]]:
    header = ["名称", "类型", "区县", "经度", "纬度", "地址", "口罩库存"]
    rows = [
        [
            f"测试设施{i}",
            rng.choice(["发热门诊", "定点药店", "物资保障点"]),
            rng.choice(COUNTIES),
            f"{108.9 + rng.random() * 0.1:.5f}",
            f"{34.2 + rng.random() * 0.1:.5f}",
            "某路1号",
            str(rng.randint(0, 5000)),
        ]
        for i in range(rng.randint(1, 20))
    ]
    return header, rows


def _flows(rng: random.Random) -> tuple[list[str], list[list[str]]]:
    header = ["迁出地", "迁入地", "日期", "占比"]
    rows = [
        [
            rng.choice(["武汉市", "北京市", "郑州市", "成都市"]),
            rng.choice(UNITS[:4]),
            f"2020-01-{rng.randint(10, 31):02d}",
            f"{rng.random() * 10:.2f}",
        ]
        for _ in range(rng.randint(1, 20))
    ]
    return header, rows


KINDS = {"cases": _cases, "case-list": _case_list, "facilities": _facilities, "flows": _flows}


def _damage(
    rng: random.Random, header: list[str], rows: list[list[str]]
) -> tuple[list[str], list[list[str]], list[str]]:
    """A few damages to the table; returns what was done, for the failure message."""
    done = []
    for _ in range(rng.randint(1, 4)):
        what = rng.choice(
            [
                "blank",
                "number",
                "date",
                "long",
                "formula",
                "pii",
                "duplicate",
                "decrease",
                "unknown",
                "columns",
                "rows",
                "junk_line",
                "shift",
                "header",
            ]
        )
        done.append(what)
        if not rows:
            rows.append(["" for _ in header])
        r = rng.randrange(len(rows))
        c = rng.randrange(len(header))
        if what == "blank":
            rows[r][c] = ""
        elif what == "number":
            rows[r][c] = rng.choice(BAD_NUMBERS)
        elif what == "date":
            j = next((k for k, h in enumerate(header) if "日期" in h), c)
            rows[r][j] = rng.choice(BAD_DATES)
        elif what == "long":
            rows[r][c] = "很长的文字" * rng.choice([300, 3000, 20000])
        elif what == "formula":
            rows[r][c] = rng.choice(FORMULAS)
        elif what == "pii":
            rows[r][c] = rng.choice(PII)
        elif what == "duplicate":
            rows += [list(rows[r]) for _ in range(rng.randint(1, 3))]
        elif what == "decrease":
            j = next((k for k, h in enumerate(header) if "累计" in h), c)
            rows.append(list(rows[r]))
            rows[-1][j] = "0"
        elif what == "unknown":
            rows[r][0] = rng.choice(["火星市", "高新区", "不详", "陕西", "Xi'an", "610199", "999999", "<script>"])
        elif what == "columns":
            extra = rng.choice([5, 50, 600])
            header += [f"多余列{k}" for k in range(extra)]
            rows = [row + ["x"] * extra for row in rows]
        elif what == "rows":
            rows += [list(rows[r]) for _ in range(rng.choice([100, 2000]))]
        elif what == "junk_line":
            rows.append(
                [rng.choice(["合计", "注：以上数据为初步统计", "######", "\x00\x01"])] + [""] * (len(header) - 1)
            )
        elif what == "shift":
            rows[r] = rows[r][1:] + rows[r][:1]
        elif what == "header":
            header[c] = rng.choice(["", "???", header[c] * 3, "列"])
    return header, rows, done


def _csv_bytes(rng: random.Random, header, rows) -> tuple[bytes, list[str]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if rng.random() < 0.2:
        writer.writerow(["陕西省疫情日报（测试）"])
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    how = rng.choice(["utf-8", "utf-8-sig", "gbk", "gbk", "utf-16", "latin-1-junk", "truncate", "binary", "utf-8"])
    if how in ("utf-8", "utf-8-sig", "utf-16"):
        return text.encode(how), [how]
    if how == "gbk":
        return text.encode("gbk", errors="replace"), [how]
    if how == "latin-1-junk":
        data = bytearray(text.encode("utf-8"))
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(128, 256)
        return bytes(data), [how]
    if how == "truncate":
        data = text.encode("utf-8")
        return data[: rng.randrange(1, len(data) + 1)], [how]
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 4000))), [how]


def _xlsx_bytes(rng: random.Random, header, rows) -> tuple[bytes, list[str]]:
    book = openpyxl.Workbook()
    sheet = book.active
    legal = lambda text: ILLEGAL_CHARACTERS_RE.sub("", text)  # noqa: E731  (Excel cannot hold control characters)
    sheet.append([legal(h) for h in header])
    for row in rows:
        sheet.append([legal(v) for v in row])
    done = ["xlsx"]
    if rng.random() < 0.5 and rows:  # a formula without a cached value (openpyxl writes none)
        sheet.cell(row=2, column=min(3, len(header)), value="=1/0")
        done.append("formula-no-cache")
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    if rng.random() < 0.2:
        data = data[: rng.randrange(1, len(data))]
        done.append("truncated-zip")
    return data, done


def generate(seed: int, count: int):
    """(name, bytes, kind given to the ingest or None, what was done) for ``count`` files from ``seed``."""
    rng = random.Random(seed)
    for n in range(count):
        kind = rng.choice(list(KINDS))
        header, rows = KINDS[kind](rng)
        header, rows, done = _damage(rng, list(header), [list(r) for r in rows])
        if rng.random() < 0.2:
            data, how = _xlsx_bytes(rng, header, rows)
            name = f"fuzz_{seed}_{n}.xlsx"
        else:
            data, how = _csv_bytes(rng, header, rows)
            name = f"fuzz_{seed}_{n}.csv"
        yield name, data, (kind if rng.random() < 0.6 else None), [kind, *done, *how]
