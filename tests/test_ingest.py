"""Taking in files as officials write them: each kind from realistic files made here, the store never corrupted."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as text_sql

from data import queries, store
from data.ingest import pipeline, reading
from data.ingest.reading import ReadError

pytestmark = pytest.mark.once  # every test works on its own SQLite copy (the `db` fixture)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def db(shipped_sqlite, tmp_path):
    """A store filled with the shipped data, the test's own copy."""
    path = tmp_path / "store.sqlite"
    shutil.copyfile(shipped_sqlite, path)
    eng = store.engine(f"sqlite:///{path}")
    yield eng, path
    eng.dispose()


def dump(path: Path) -> str:
    """The whole store as SQL text, to compare byte for byte."""
    con = sqlite3.connect(path)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


@pytest.fixture(scope="module")
def shipped_dump(shipped_sqlite) -> str:
    """What every fresh copy (``db``) dumps to, taken once: each dump of the whole store takes ~1 s."""
    return dump(shipped_sqlite)


def gbk_daily_report() -> bytes:
    rows = [
        ["陕西省各区县新冠肺炎疫情日报（2020年2月）", "", "", "", ""],
        ["地区", "日期", "累计确诊", "累计治愈", "备注"],
        ["西安市雁塔区", "2020-02-20", "12", "3", ""],
        ["雁塔", "2020/2/21", "13", "3", ""],
        ["长安区", "2020年2月20日", "5", "1", ""],
        ["户县", "2月20日", "2", "0", ""],
        ["高新区", "2020-02-20", "4", "0", ""],
        ["长安区", "2020-02-21", "4", "1", ""],
        ["长安区", "2020-02-21", "6", "1", ""],
        ["碑林区", "2020-02-20", "abc", "0", ""],
        ["莲湖区", "2020-02-20", "3", "5", ""],
        ["合计", "", "49", "14", ""],
    ]
    buffer = io.StringIO()
    pd.DataFrame(rows).to_csv(buffer, index=False, header=False)
    return buffer.getvalue().encode("gbk")


def test_gbk_report_with_title_total_mixed_dates_and_name_variants(db):
    eng, _ = db
    report = pipeline.ingest(gbk_daily_report(), "日报.csv", eng=eng)
    assert report.kind == "cases" and report.batch_id
    assert report.accepted == 4  # 雁塔 twice, 长安 02-20, 户县
    reasons = {i.row: (i.status, "；".join(i.reasons)) for i in report.issues}
    assert reasons[7][0] == "unresolved" and "高新区" in reasons[7][1]
    assert "小于前一报告日" in reasons[8][1]  # 长安 went from 5 to 4 without saying it is a correction
    assert "与第8行重复" in reasons[9][1]
    assert "累计确诊不是数字" in reasons[10][1]
    assert "累计治愈与死亡之和大于累计确诊" in reasons[11][1]
    assert any("合计行" in n for n in report.notes) and any("按2020年理解" in n for n in report.notes)
    assert any("gb18030" in n for n in report.notes)
    county = queries.summary("610113", "2020-02-21", eng)
    assert county["confirmed_cum"] == 13 and county["new_confirmed"] == 1  # 雁塔区 now has data of its own
    assert queries.summary("610118", "2020-02-20", eng)["confirmed_cum"] == 2  # 户县 -> 鄠邑区
    issues = pipeline.issues_of(report.batch_id, eng)
    assert set(issues["原因"]) >= {reasons[8][1]} and "地区" in issues.columns  # original headers, original content


def test_xlsx_with_merged_title_and_total_row(db):
    eng, _ = db
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2020年2月20日各市疫情统计"])
    sheet.merge_cells("A1:D1")
    sheet.append(["区域", "通报日期", "确诊人数", "死亡"])
    sheet.append(["西安", pd.Timestamp("2020-02-25").to_pydatetime(), 125, 1])
    sheet.append(["宝鸡市", 43886, 14, 0])  # an Excel serial date: 2020-02-25
    sheet.append(["总计", None, 139, 1])
    buffer = io.BytesIO()
    book.save(buffer)
    report = pipeline.ingest(buffer.getvalue(), "各市统计.xlsx", eng=eng)
    assert report.accepted == 2 and report.count("revision") == 2
    assert queries.summary("610100", "2020-02-25", eng)["confirmed_cum"] == 125  # the revision is what is shown
    assert any("第5行为合计行" in n for n in report.notes)


def test_same_file_twice_is_a_no_op_and_rollback_restores(db):
    eng, _ = db
    before = queries.summary("610113", "2020-02-21", eng)["confirmed_cum"]
    first = pipeline.ingest(gbk_daily_report(), "日报.csv", eng=eng)
    version = store.data_version(eng)
    again = pipeline.ingest(gbk_daily_report(), "日报（副本）.csv", eng=eng)
    assert again.already["id"] == first.batch_id and "未重复入库" in again.summary()
    assert store.data_version(eng) == version
    assert pipeline.rollback(first.batch_id, eng=eng)
    assert store.data_version(eng) != version
    assert queries.summary("610113", "2020-02-21", eng)["confirmed_cum"] == before


def test_case_list_keeps_no_personal_data_and_gives_county_counts(db):
    eng, path = db
    rows = [
        "报告日期,姓名,身份证号,电话,现住址区县,性别,年龄,病情",
        "2020-02-20,张三,610102199001011234,13800000000,雁塔区,男,30,普通型",
        "2020-02-20,李四,610102199001015678,13900000000,西安市雁塔区,女,45,轻型",
        "2020-02-21,王五,610102199001019999,13700000000,碑林,男,200,轻型",
        "2020-02-21,张三,610102199001011234,13800000000,雁塔区,男,30,普通型",
        "2020-02-22,赵六,610102199001010000,13600000000,经开区,女,50,轻型",
    ]
    report = pipeline.ingest("\n".join(rows).encode("utf-8-sig"), "个案.csv", eng=eng)
    assert report.kind == "case-list" and report.accepted == 3
    status = {i.row: (i.status, "；".join(i.reasons)) for i in report.issues}
    assert "年龄不能大于 120" in status[4][1] and "身份证号与第2行相同" in status[5][1]
    assert status[6][0] == "partial"  # 经开区 of which city? counted at the province, listed with the cities
    assert "西安市(610100)" in next(i.candidates for i in report.issues if i.row == 6)
    text = dump(path)
    for secret in ("张三", "李四", "610102199001011234", "13800000000", "王五", "13700000000"):
        assert secret not in text
    assert queries.summary("610113", "2020-02-20", eng)["confirmed_cum"] == 2


def test_facilities_are_checked_to_lie_in_shaanxi_and_gcj_is_flagged(db):
    import numpy as np
    import shapely

    eng, _ = db
    yanta = pipeline.county_shapes()["610113"]
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = yanta.bounds
    while True:  # a point of 雁塔区 whose GCJ-02 coordinates fall outside it, as an Amap-picked point would
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        glon, glat = _gcj(lon, lat)
        if shapely.contains_xy(yanta, lon, lat) and not shapely.contains_xy(yanta, glon, glat):
            break
    rows = [
        "类型,名称,区县,经度,纬度,日接诊能力",
        "发热门诊,测试医院发热门诊,碑林区,108.9450,34.2500,120",
        "定点药店,北京某药房,东城区,116.40,39.91,",
        "医院,无类型,雁塔区,108.9,34.2,",
        f"定点药店,测试药房,雁塔区,{glon:.6f},{glat:.6f},",
    ]
    report = pipeline.ingest("\n".join(rows).encode(), "设施.csv", eng=eng)
    reasons = {i.row: "；".join(i.reasons) for i in report.issues}
    assert "不在陕西省境内" in reasons[3] and "类型无法识别" in reasons[4]
    assert "GCJ-02" in reasons[5]
    assert report.accepted == 2
    clinics = queries.facilities(["fever_clinic"], "610100", eng)
    assert not clinics[clinics.name == "测试医院发热门诊"].is_demo.any()
    pharmacy = queries.facilities(["pharmacy"], "610100", eng).set_index("name").loc["测试药房"]
    assert pharmacy.county_adcode == "610113" and abs(pharmacy.lon - lon) < 2e-5 and abs(pharmacy.lat - lat) < 2e-5


def _gcj(lon, lat):
    """WGS84 -> GCJ-02 by iterating the inverse: enough to check the inverse round-trips."""
    from data.ingest.pipeline import gcj_to_wgs

    x, y = lon, lat
    for _ in range(5):
        wx, wy = gcj_to_wgs(x, y)
        x, y = x + (lon - wx), y + (lat - wy)
    return x, y


def test_flows_file(db):
    eng, _ = db
    rows = [
        "日期,迁出地,迁入地,占比",
        "2020-03-31,武汉,西安,1.5",
        "2020-03-31,恩施州,宝鸡,0.4",
        "2020-03-31,吉林,西安,0.3",
        "2020-03-31,北京,上海,2",
    ]
    report = pipeline.ingest("\n".join(rows).encode(), "flows.csv", eng=eng)
    assert report.kind == "flows" and report.accepted == 2
    reasons = {i.row: (i.status, "；".join(i.reasons)) for i in report.issues}
    assert reasons[4][0] == "unresolved" and "吉林" in reasons[4][1]  # 吉林省 or 吉林市: asked, not guessed
    assert "均不在陕西省" in reasons[5][1]


@pytest.mark.parametrize(
    "data, name, words",
    [
        (b"", "empty.csv", "文件为空"),
        (b"\x00\x01\x02\xff\xfe\x00garbage", "x.csv", ""),
        ("就是一段话，没有表格".encode(), "x.csv", "找不到表头"),
        (b"PK\x03\x04not really a zip", "x.xlsx", "Excel"),
        ("地区,日期,累计确诊\n".encode(), "x.csv", "没有数据行"),
        ("姓名,电话\n张三,1\n".encode(), "x.csv", ""),
    ],
)
def test_unreadable_files_change_nothing(db, data, name, words):
    eng, path = db
    watcher = sqlite3.connect(path)  # SQLite counts the commits other connections make: none may happen
    version = watcher.execute("PRAGMA data_version").fetchone()[0]
    before = _fingerprint(path)
    with pytest.raises(ReadError) as err:
        pipeline.ingest(data, name, eng=eng)
    assert words in str(err.value) and name in str(err.value)
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == version and _fingerprint(path) == before
    watcher.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.binary(max_size=400), st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=5), min_size=1, max_size=6)
    )
)
def test_arbitrary_input_never_crashes_and_rejection_changes_nothing(db, blob):
    eng, path = db
    if isinstance(blob, list):  # an arbitrary table, with a header that may or may not mean anything
        blob = "\n".join(",".join(cell.replace(",", " ").replace("\n", " ") for cell in row) for row in blob).encode()
    before = _fingerprint(path)
    try:
        pipeline.ingest(blob, "fuzz.csv", eng=eng)  # stored if anything could be read, as a batch
        stored = True
    except ReadError as exc:
        assert str(exc).startswith("fuzz.csv")
        stored = False
    if not stored:
        assert _fingerprint(path) == before  # rejected: nothing changed


def _fingerprint(path: Path) -> tuple:
    """Row count and largest id of every table: cheap enough for many examples (the dump is compared elsewhere)."""
    con = sqlite3.connect(path)
    try:
        return tuple(
            con.execute(f"select count(*), max(rowid) from {t.name}").fetchone() for t in store.metadata.sorted_tables
        )
    finally:
        con.close()


def _cli(args, db_url):
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:server", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_exit_codes_and_messages(db, tmp_path):
    eng, path = db
    good = tmp_path / "日报.csv"
    good.write_bytes(gbk_daily_report())
    bad = tmp_path / "bad.csv"
    bad.write_text("没有表格")
    before = dump(path)
    result = _cli(["ingest", str(bad)], f"sqlite:///{path}")
    assert result.returncode == 2 and "找不到表头" in result.stderr and "Traceback" not in result.stderr
    assert dump(path) == before
    result = _cli(["ingest", str(good), "--dry-run"], f"sqlite:///{path}")
    assert result.returncode == 0 and "预检" in result.stdout and dump(path) == before
    result = _cli(["ingest", str(good)], f"sqlite:///{path}")
    assert result.returncode == 0 and "接收 4 行" in result.stdout and "问题行" in result.stdout
    written = Path(result.stdout.split("已写入：")[1].split()[0])
    assert written.exists() and "高新区" in written.read_text(encoding="utf-8-sig")
    again = _cli(["ingest", str(good)], f"sqlite:///{path}")
    assert again.returncode == 0 and "未重复入库" in again.stdout


def test_an_ingest_killed_midway_leaves_the_store_as_it_was(db, tmp_path):
    """The `flask ingest` process killed (SIGKILL, no clean-up) at the worst moment: every row of the batch written in
    its transaction, not yet committed (the DASHBOARD_FAULT_AT hook in data/ingest/pipeline.py)."""
    eng, path = db
    big = tmp_path / "big.csv"
    counties = ["雁塔区", "碑林区", "新城区", "长安区", "临潼区"]
    lines = ["报告日期,现住址区县,性别,年龄"] + [
        f"2020-03-{1 + i % 28:02d},{counties[i % 5]},男,{i % 90}" for i in range(20_000)
    ]
    big.write_text("\n".join(lines))
    before = dump(path)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "DASHBOARD_FAULT_AT": "before-commit"}
    killed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:server", "ingest", str(big)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr  # it died at that point, not before or after
    assert dump(path) == before  # nothing of the batch, not even its batch row
    # the same file goes in whole afterwards: what was cut off was the real write of all its rows
    report = pipeline.ingest(big.read_bytes(), big.name, eng=eng)
    assert report.batch_id and report.accepted == 20_000
    assert sqlite3.connect(path).execute("select count(*) from case_list").fetchone()[0] == 20_000


def test_upload_page_previews_and_commits(server_url, browser, tmp_path, artifacts):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server_url}/data")
    report = tmp_path / "日报.csv"
    report.write_bytes(gbk_daily_report())
    page.set_input_files("#upload input[type=file]", str(report))
    from playwright.sync_api import expect

    expect(page.locator("#upload-preview")).to_contain_text("预检每日病例文件 日报.csv：接收 4 行", timeout=30_000)
    expect(page.locator("#upload-preview")).to_contain_text(
        "高新区"
    )  # the unresolved row, shown before anything is stored
    page.screenshot(path=str(artifacts / "data_upload_preview.png"), full_page=True)
    page.click("#upload-commit")
    expect(page.locator("#upload-result")).to_contain_text("已存为批次", timeout=30_000)
    batch = page.inner_text("#upload-result").split("已存为批次 ")[1].split("，")[0]
    row = page.locator("#batch-table tr", has_text="日报.csv")
    expect(row).to_contain_text("有效")
    # the local demo's visitor is an officer: uploads yes, rollbacks are data_admin's (the browser rollback is in
    # tests/test_security.py, signed in as one)
    expect(row.get_by_role("button", name="回滚")).to_have_count(0)
    assert batch.isdigit()
    page.close()


# ---- hardening (issue 18): what a careless or hostile file once did, each kept found ---------------------------
def test_blank_nan_infinite_and_absurd_counts_are_row_reasons_not_a_crash(db, tmp_path):
    """An ordinary report with one empty 累计治愈 cell is taken in; nan, inf, 1e400, 1e30 are refused per row."""
    eng, path = db
    text = (
        "地区,日期,累计确诊,累计治愈,累计死亡\n西安市,2020-12-01,130,,3\n宝鸡市,2020-12-01,nan,20,1\n"
        "咸阳市,2020-12-01,inf,17,0\n渭南市,2020-12-01,1e400,17,0\n榆林市,2020-12-01,1e30,3,0\n注：以上为初步统计,,,,\n"
    )
    file = tmp_path / "日报.csv"
    file.write_text(text, encoding="utf-8")
    result = _cli(["ingest", str(file), "--kind", "cases"], f"sqlite:///{path}")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "接收 1 行" in result.stdout
    report = pipeline.ingest(text.replace("130", "131").encode(), "日报2.csv", "cases", dry_run=True, eng=eng)
    reasons = {i.row: "；".join(i.reasons) for i in report.issues}
    for row, raw in ((3, "nan"), (4, "inf"), (5, "1e400"), (6, "1e30")):
        assert f"累计确诊不是数字或超出范围：'{raw}'" in reasons[row]
    assert queries.summary("610100", "2020-12-01", eng)["confirmed_cum"] == 130


def test_dates_outside_the_epidemic_window_are_refused_per_row_and_never_widen_the_data(db):
    eng, _ = db
    start, end = queries.view_range(eng)
    days = [
        "2020-02-10",
        "1900-01-01",
        "0001-01-01",
        "1700-01-01",
        "2099-12-31",
        "2262-04-12",
        # tomorrow in Beijing, the window's last day being Beijing's today (from 16:00 UTC, tomorrow in UTC is today)
        (reading.date_window()[1] + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
    ]
    text = "地区,日期,累计确诊\n" + "".join(f"铜川市,{d},{9 + k}\n" for k, d in enumerate(days))
    report = pipeline.ingest(text.encode(), "日期.csv", "cases", eng=eng)
    assert report.accepted == 1
    reasons = {i.row: "；".join(i.reasons) for i in report.issues}
    assert all("超出允许范围（2019-12-01 至今天" in reasons[row] for row in range(3, 9)), reasons
    assert queries.view_range(eng) == (start, end)  # one absurd row no longer stretches every view


def test_personal_data_typed_into_free_text_is_never_stored_or_shown(db):
    eng, _ = db
    text = (
        "报告日期,现住址区县,性别,年龄,病情,发现方式\n"
        "2020-02-10,雁塔区,男,40,普通型 联系电话13912345678,张三 61100219900101123X 密接筛查\n"
        "2020-02-10,碑林区,女,30,重型,李四说是在超市被传染的\n"
    )
    report = pipeline.ingest(text.encode(), "个案.csv", "case-list", eng=eng)
    assert report.accepted == 2
    shown = report.preview.to_string() + json.dumps([r for r in report.rows], default=str, ensure_ascii=False)
    with eng.connect() as conn:
        stored = conn.execute(
            text_sql("SELECT severity, detection FROM case_list WHERE batch_id = :b"), {"b": report.batch_id}
        ).all()
    assert sorted(stored) == [("普通型", "密接筛查"), ("重型", "其他")]
    for secret in ("13912345678", "张三", "61100219900101123X", "李四", "超市"):
        assert secret not in shown
    assert any("记为“其他”" in note for note in report.notes)


def test_a_cumulative_below_the_stored_one_needs_a_correction_note(db):
    eng, _ = db
    series = queries.region_series("610100", eng)["confirmed_cum"].dropna()
    last, stored = series.index[-1], int(series.iloc[-1])
    day = (last + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    drop = f"地区,日期,累计确诊,备注\n西安市,{day},{stored - 50},\n".encode()
    report = pipeline.ingest(drop, "下降.csv", "cases", eng=eng)
    assert report.accepted == 0 and f"小于已存的{last:%m月%d日}累计{stored}" in report.issues[0].reasons[0]
    noted = f"地区,日期,累计确诊,备注\n西安市,{day},{stored - 50},订正：核减重复病例\n".encode()
    assert pipeline.ingest(noted, "订正.csv", "cases", eng=eng).accepted == 1


def test_duplicate_facilities_oversized_values_and_over_long_cells_are_row_reasons(db):
    eng, _ = db
    long_text = "很长" * 2000
    text = (
        "名称,类型,区县,经度,纬度,地址,口罩库存\n"
        "甲医院发热门诊,发热门诊,雁塔区,108.95,34.22,某路1号,100\n"
        "甲医院发热门诊,发热门诊,雁塔区,108.95,34.22,某路1号,100\n"
        f"乙药店,定点药店,碑林区,108.94,34.25,某街2号,{10**30}\n"
        f"丙药店,定点药店,碑林区,108.94,34.26,{long_text},10\n"
    )
    report = pipeline.ingest(text.encode(), "设施.csv", "facilities", eng=eng)
    reasons = {i.row: "；".join(i.reasons) for i in report.issues}
    assert report.accepted == 1
    assert "与第2行重复" in reasons[3] and "口罩库存" in reasons[4] and "内容过长（4,000 字符" in reasons[5]


def test_files_past_the_limits_are_refused_in_one_sentence_before_they_are_parsed(db, shipped_dump):
    eng, path = db
    wide = "地区,日期,累计确诊," + ",".join(f"列{i}" for i in range(10_000)) + "\n西安市,2020-02-10,5" + ",1" * 10_000
    with pytest.raises(ReadError, match="有 10,003 列，超过上限 500 列"):
        pipeline.ingest(wide.encode(), "宽表.csv", eng=eng)
    big = _workbook_with_rows(200_001)
    started = time.perf_counter()
    with pytest.raises(ReadError, match="超过 Excel 导入上限 200,000 行；请另存为 CSV"):
        pipeline.ingest(big, "大表.xlsx", eng=eng)
    assert time.perf_counter() - started < 10 and dump(path) == shipped_dump  # neither file changed anything


def _workbook_with_rows(count: int) -> bytes:
    """The workbook openpyxl saves for a header and ``count`` rows of 西安市, 2020-02-10, i — its sheet written as
    openpyxl writes it, but as text in one go (openpyxl's own save of 200,000 rows takes 8-15 s)."""
    book = openpyxl.Workbook()
    book.active.append(["地区", "日期", "累计确诊"])
    header_only = io.BytesIO()
    book.save(header_only)
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>西安市</t></is></c><c r="B{r}" t="inlineStr">'
        f'<is><t>2020-02-10</t></is></c><c r="C{r}" t="n"><v>{r - 2}</v></c></row>'
        for r in range(2, count + 2)
    )
    out = io.BytesIO()
    with zipfile.ZipFile(header_only) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                sheet = data.decode()
                assert '<dimension ref="A1:C1"/>' in sheet and "</row></sheetData>" in sheet
                sheet = sheet.replace('<dimension ref="A1:C1"/>', f'<dimension ref="A1:C{count + 1}"/>')
                data = sheet.replace("</row></sheetData>", f"</row>{rows}</sheetData>").encode()
            target.writestr(entry, data)
    return out.getvalue()


def test_a_unit_reporting_after_the_provinces_last_row_keeps_its_imported_cases(db):
    """The shipped province rows end on the last data day; a unit's report of the next day makes the province the
    sum of its parts, and its 境外输入 and 未公布来源 cumulatives carry on as parts (they do not vanish)."""
    eng, _ = db
    before = queries.summary("610000", "2020-12-07", eng)
    unit = queries.summary("610200", "2020-12-07", eng)
    text = (
        "地区代码,地区,日期,累计确诊,累计治愈,累计死亡\n"
        f"610200,铜川市,2020-12-08,{unit['confirmed_cum'] + 3},{unit['cured_cum']},{unit['dead_cum']}\n"
    )
    report = pipeline.ingest(text.encode(), "铜川直报.csv", "cases", user="test", eng=eng)
    assert report.batch_id and report.accepted == 1
    after = queries.summary("610000", "2020-12-08", eng)
    assert after["confirmed_cum"] == before["confirmed_cum"] + 3 and after["new_confirmed"] == 3
    assert "下级" in after["basis"] and after["status"] == "reported"
