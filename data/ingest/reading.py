"""Reading files as officials write them: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX, a title row or merged
header above the table, Chinese or English headers with synonyms, trailing 合计/总计 rows, and dates in any of the
usual forms. Everything is read as text first, so nothing is lost or silently converted before validation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_BYTES = 200 * 1024 * 1024  # a file on the command line
UPLOAD_MAX_BYTES = 50 * 1024 * 1024  # a file uploaded on /data (checked before it is decoded or parsed)
# An XLSX is a zip of XML: real sheets inflate 5-30x. A member inflating more than this, or a workbook whose members
# add up to more than XLSX_MAX_UNCOMPRESSED, is a zip bomb dressed as a workbook and is never opened.
XLSX_MAX_RATIO = 200
XLSX_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
# Limits checked before the heavy work (parsing, validation), each refused in one sentence:
MAX_COLUMNS = 500  # no report of ours has more than a few dozen columns
MAX_ROWS = 2_000_000  # a case list of a long wave; a CSV this size reads in ~20 s
XLSX_MAX_ROWS = 200_000  # openpyxl reads ~4k rows a second: a larger workbook is asked for as CSV
TOTAL_WORDS = ("合计", "总计", "小计", "全省合计", "总数", "共计", "total", "sum")


class ReadError(Exception):
    """The file as a whole cannot be read; the message is one sentence for the officer."""


class MissingColumns(ReadError):
    """The file reads, but a field it needs is under no column name we know: a column mapping can fix it.
    ``headers``: the file's own column names, to choose from."""

    def __init__(self, message: str, headers: list[str]):
        super().__init__(message)
        self.headers = headers


def _own_header(grid: pd.DataFrame) -> list[str]:
    """A file's own column names: the first of its top rows with the most filled cells (none under two)."""
    top = grid.head(15)
    if top.empty:
        return []
    filled = (top != "").sum(axis=1).to_numpy()
    if filled.max() < 2:
        return []
    return [h.strip() for h in top.iloc[int(np.argmax(filled))] if h.strip()]


@dataclass
class Table:
    frame: pd.DataFrame  # one column per recognised field (canonical names) plus unrecognised ones, all text
    rows: list[int]  # the file's line (CSV) or row (XLSX) number of each frame row, 1-based
    encoding: str
    header_row: int  # 1-based
    header: list[str]  # the file's own column names (_own_header): the key of a remembered mapping
    mapping: dict[str, str]  # canonical field -> the file's header
    unknown_columns: list[str]
    total_rows: list[int] = field(default_factory=list)  # rows recognised as totals and left out
    notes: list[str] = field(default_factory=list)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError(f"{name}：无法识别文件编码（不是 UTF-8 或 GBK），请另存为 UTF-8 或 Excel 文件后重新上传。")


def _raw_grid(data: bytes, name: str) -> tuple[pd.DataFrame, str]:
    """The file as a grid of strings without any header interpretation."""
    if len(data) == 0:
        raise ReadError(f"{name}：文件为空。")
    if len(data) > MAX_BYTES:
        raise ReadError(f"{name}：文件超过 {MAX_BYTES // 1024 // 1024} MB，请分批上传。")
    if data[:4] == b"PK\x03\x04" or name.lower().endswith((".xlsx", ".xlsm")):
        try:
            check_workbook(data, name)
            check_sheet_size(data, name)
            grid = pd.read_excel(io.BytesIO(data), header=None, dtype=object, engine="openpyxl")
        except ReadError:
            raise
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise ReadError(f"{name}：无法作为 Excel（.xlsx）文件读取，文件可能已损坏。") from exc
        return grid.map(_cell_text), "xlsx"
    text, encoding = _decode(data, name)
    if "\x00" in text:
        raise ReadError(f"{name}：不是文本表格（含二进制内容），请上传 CSV 或 XLSX 文件。")
    sample = text[:20000]
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",\t;|，").delimiter
    except csv.Error:
        sep = ","
    # width from the widest of the first lines (read whole, not cut at the sample's end): a title row above the
    # table is narrower than the table
    first_lines = list(itertools.islice(io.StringIO(text, newline=None), 50))  # \r, \n and \r\n alike
    try:
        width = max((len(next(csv.reader([line.rstrip("\n")], delimiter=sep), [])) for line in first_lines), default=1)
    except csv.Error:  # a stray quote or line break inside a cell: pandas below says what is wrong with the table
        width = max((line.count(sep) + 1 for line in first_lines), default=1)
    if width > MAX_COLUMNS:
        raise ReadError(f"{name}：有 {width:,} 列，超过上限 {MAX_COLUMNS} 列；请只保留需要导入的列。")
    lines = text.count("\n")
    if lines > MAX_ROWS:
        raise ReadError(f"{name}：有 {lines:,} 行，超过上限 {MAX_ROWS:,} 行；请分批导入。")
    try:
        grid = pd.read_csv(
            io.StringIO(text),
            header=None,
            names=range(width),
            dtype=str,
            keep_default_na=False,
            sep=sep,
            engine="c",
            skip_blank_lines=False,
            on_bad_lines="error",
        )
    except Exception as exc:
        raise ReadError(f"{name}：无法解析为表格（分隔符或引号不规范，或某行列数多于表头）。") from exc
    return grid, encoding


def check_workbook(data: bytes, name: str) -> None:
    """Refuse a workbook whose zip members would inflate out of proportion, before openpyxl opens it. The sizes
    checked are the ones zipfile enforces while reading (it stops a member at its declared size)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = z.infolist()
        total = sum(i.file_size for i in members)
        worst = max((i.file_size / max(i.compress_size, 1) for i in members if i.file_size > 1024 * 1024), default=0)
    if total > XLSX_MAX_UNCOMPRESSED or worst > XLSX_MAX_RATIO:
        raise ReadError(
            f"{name}：Excel 文件解压后过大（{total / 1024 / 1024:,.0f} MB，压缩比 {worst:,.0f}:1），"
            "疑似压缩炸弹，已拒绝；请另存为普通 Excel 或 CSV 文件后重新上传。"
        )


def check_sheet_size(data: bytes, name: str) -> None:
    """Refuse a workbook too large to read in reasonable time, from the sheet's own dimension, before reading it."""
    import openpyxl  # noqa: PLC0415  (only for workbooks)

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        rows, columns = (sheet.max_row or 0, sheet.max_column or 0) if sheet is not None else (0, 0)
    finally:
        book.close()
    if columns > MAX_COLUMNS:
        raise ReadError(f"{name}：有 {columns:,} 列，超过上限 {MAX_COLUMNS} 列；请只保留需要导入的列。")
    if rows > XLSX_MAX_ROWS:
        raise ReadError(
            f"{name}：Excel 表有 {rows:,} 行，超过 Excel 导入上限 {XLSX_MAX_ROWS:,} 行；"
            f"请另存为 CSV（上限 {MAX_ROWS:,} 行）后导入。"
        )


def safe_file_name(name: str) -> str:
    """The last part of a client's file name, for display and records only (never used as a path): no folders
    (../ or ..\\), no control characters, at most 255 characters."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().lstrip(".") or "upload"
    return base[:255]


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp) or hasattr(value, "strftime"):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    return str(value).strip()


def normalise_header(text: str) -> str:
    return re.sub(r"[\s（）()\[\]【】:：_/\-]", "", str(text)).lower()


def read_table(data: bytes, name: str, synonyms: dict[str, tuple[str, ...]]) -> Table:
    """Find the header row (the first of the top rows that names the most known fields), map its headers to
    canonical fields, and return the rows below it with totals set aside."""
    grid, encoding = _raw_grid(data, name)
    grid = grid.fillna("").astype(str)
    if grid.empty:
        raise ReadError(f"{name}：文件中没有表格内容。")
    lookup = {normalise_header(s): key for key, words in synonyms.items() for s in (key, *words)}
    best, best_hits = None, 0
    for i in range(min(15, len(grid))):
        hits = len({lookup[h] for h in map(normalise_header, grid.iloc[i]) if h in lookup})
        if hits > best_hits:
            best, best_hits = i, hits
    if best is None or best_hits < 2:
        raise MissingColumns(
            f"{name}：找不到表头（前15行中没有可识别的列名，如“地区”“日期”“累计确诊”）；"
            "如文件用了其他列名，可指定列对应（命令行 --columns 字段=列名；上传页的“列对应”）。",
            _own_header(grid),
        )
    header = list(grid.iloc[best])
    # a merged header cell spans several columns: an empty header takes the one to its left (上级表头), numbered
    for j, h in enumerate(header):
        if not h.strip() and j > 0 and header[j - 1].strip():
            header[j] = ""
    mapping, unknown, columns = {}, [], []
    for j, h in enumerate(header):
        key = lookup.get(normalise_header(h))
        if key and key not in mapping:
            mapping[key] = h
            columns.append(key)
        else:
            columns.append(f"_col{j}:{h}")
            if h.strip():
                unknown.append(h)
    body = grid.iloc[best + 1 :].copy()
    body.columns = columns
    line_numbers = [best + 2 + k for k in range(len(body))]
    body.insert(0, "_row", line_numbers)
    body = body[(body.drop(columns="_row") != "").any(axis=1)]  # blank lines
    notes = []
    if best > 0:
        notes.append(f"第1至{best}行为标题，已跳过")
    totals = []
    region_key = next((k for k in ("region", "county", "destination", "origin") if k in body), None)
    if region_key:
        first_col = body[region_key].str.replace(r"\s", "", regex=True)
        is_total = first_col.str.lower().isin(TOTAL_WORDS) | first_col.str.startswith(("合计", "总计"))
        totals = body.loc[is_total, "_row"].tolist()
        body = body[~is_total]
        if totals:
            notes.append(f"第{'、'.join(map(str, totals))}行为合计行，未计入")
    rows = body.pop("_row").tolist()
    return Table(
        body.reset_index(drop=True), rows, encoding, best + 1, _own_header(grid), mapping, unknown, totals, notes
    )


# ---- dates ---------------------------------------------------------------------------------------------------
# The window a row's date must fall in: the first reports of the epidemic (December 2019) to today. One row dated 1900
# once widened every derived daily table to 120 years and took the dashboard down; a future date is a typing error.
DATE_MIN = pd.Timestamp("2019-12-01")


CHINA_TIME = dt.timezone(dt.timedelta(hours=8))  # "today" is Beijing's, whatever the server's zone (often UTC)


def date_window() -> tuple[pd.Timestamp, pd.Timestamp]:
    return DATE_MIN, pd.Timestamp.now(tz=CHINA_TIME).tz_localize(None).normalize()


def date_reasons(raw: pd.Series, parsed: pd.Series) -> dict[int, str]:
    """Position -> why the date of that row cannot be used: unreadable, or outside the window."""
    first, last = date_window()
    reasons = {}
    for i in np.flatnonzero((parsed.isna() | (parsed < first) | (parsed > last)).to_numpy()):
        day = parsed.iloc[i]
        reasons[int(i)] = (
            f"日期无法识别：{raw.iloc[i]!r}"
            if pd.isna(day)
            else f"日期 {day:%Y-%m-%d} 超出允许范围（{first:%Y-%m-%d} 至今天 {last:%Y-%m-%d}）：{raw.iloc[i]!r}"
        )
    return reasons


_YMD = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*$")
_MD = re.compile(r"^\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def parse_dates(values: pd.Series, year: int | None) -> tuple[pd.Series, str]:
    """Dates as written: 2020-02-15, 2020/2/15, 2020年2月15日, 20200215, 2月15日 (year from ``year``, stated in the
    returned note), Excel serial numbers (43876 = 2020-02-15). Unreadable values become NaT."""
    used_year = False

    def one(text: str):
        nonlocal used_year
        text = str(text).strip()
        if not text:
            return pd.NaT
        for pattern in (_YMD, _COMPACT):
            m = pattern.match(text)
            if m:
                try:
                    return pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    return pd.NaT
        m = _MD.match(text)
        if m and year:
            used_year = True
            try:
                return pd.Timestamp(year, int(m.group(1)), int(m.group(2)))
            except ValueError:
                return pd.NaT
        if re.fullmatch(r"\d{5}(\.\d+)?", text):  # Excel's day count since 1899-12-30
            serial = float(text)
            if 20000 < serial < 80000:
                return EXCEL_EPOCH + pd.Timedelta(days=int(serial))
        return pd.NaT

    cache = {v: one(v) for v in pd.unique(values)}
    parsed = values.map(cache)
    note = f"“X月X日”形式的日期按{year}年理解" if used_year else ""
    return pd.to_datetime(parsed), note


def year_hint(name: str, values: pd.Series) -> int | None:
    """The year for dates written without one: from the file's other dates, else from its name."""
    for text in values.astype(str):
        m = re.search(r"(20\d{2})\s*[-/.年]", text) or _COMPACT.match(text)
        if m:
            return int(m.group(1))
    m = re.search(r"(20\d{2})", name)
    return int(m.group(1)) if m else None
