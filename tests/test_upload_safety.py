"""Hostile uploads: path-traversal names, files over the limit, zip bombs dressed as XLSX, and formulas that would
run when an export is opened in Excel."""

from __future__ import annotations

import base64
import io
import zipfile

import openpyxl
import pandas as pd
import pytest

import callbacks.data_page as data_cb
from data import store
from data.ingest import pipeline, reading
from data.ingest.reading import ReadError
from figures import tables

CASES = "地区,日期,累计确诊\n西安市,2020-02-15,114\n".encode()


def _upload(data: bytes, name: str = "x.csv") -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "name, kept",
    [
        ("../../x.csv", "x.csv"),
        ("..\\..\\windows\\日报.csv", "日报.csv"),
        ("/etc/passwd.csv", "passwd.csv"),
        ("a\x00b\n.csv", "ab.csv"),
        ("..", "upload"),
    ],
)
def test_a_client_file_name_is_a_name_never_a_path(new_store, tmp_path, name, kept):
    eng = store.engine(new_store("names"))
    report = pipeline.ingest(CASES, name, "cases", user="test", eng=eng)
    assert report.file_name == kept and report.batch_id
    with eng.connect() as conn:
        stored = conn.execute(store.batches.select().where(store.batches.c.id == report.batch_id)).one()
    assert stored.file_name == kept
    eng.dispose()


def test_the_upload_page_keeps_only_the_name(app_module):
    report, error = data_cb.run(_upload(CASES), "../../../../tmp/evil.csv", "cases", dry_run=True)
    assert error is None and report.file_name == "evil.csv"


def test_an_oversized_upload_is_refused_in_words_before_it_is_decoded(app_module, monkeypatch):
    monkeypatch.setattr(data_cb, "UPLOAD_MAX_BYTES", 1000)
    monkeypatch.setattr(data_cb, "_decode", lambda _c: pytest.fail("decoded a file over the limit"))
    report, error = data_cb.run(_upload(b"x" * 5000), "大文件.csv", "auto", dry_run=True)
    assert report is None and "超过上传上限" in error and "大文件.csv" in error and "未做任何改动" in error


def test_a_request_over_the_server_limit_gets_413(app_module, client, monkeypatch):
    limit = app_module.server.config["MAX_CONTENT_LENGTH"]
    assert limit >= reading.UPLOAD_MAX_BYTES * 4 // 3  # a file at the limit still arrives as base64 JSON
    monkeypatch.setitem(app_module.server.config, "MAX_CONTENT_LENGTH", 1000)  # the mechanism, without 130 MB
    response = client.post(
        "/_dash-update-component", data=b'{"output": "' + b"x" * 2000 + b'"}', content_type="application/json"
    )
    assert response.status_code == 413


def _zip_bomb(member_bytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * member_bytes)
    return buffer.getvalue()


def test_a_zip_bomb_dressed_as_xlsx_is_refused_before_openpyxl_opens_it(monkeypatch):
    bomb = _zip_bomb(30 * 1024 * 1024)  # 30 MB of zeros in ~30 KB
    assert len(bomb) < 100_000
    monkeypatch.setattr(pd, "read_excel", lambda *a, **k: pytest.fail("opened the bomb"))
    with pytest.raises(ReadError, match="压缩炸弹"):
        reading.read_table(bomb, "日报.xlsx", {})


def test_the_upload_page_says_so_for_a_bomb(app_module):
    report, error = data_cb.run(_upload(_zip_bomb(30 * 1024 * 1024)), "日报.xlsx", "auto", dry_run=True)
    assert report is None and "压缩炸弹" in error and "日报.xlsx" in error


def test_a_real_workbook_passes_the_bomb_check():
    buffer = io.BytesIO()
    pd.DataFrame({"地区": ["西安市"] * 3000, "日期": ["2020-02-15"] * 3000, "累计确诊": range(3000)}).to_excel(
        buffer, index=False
    )
    reading.check_workbook(buffer.getvalue(), "日报.xlsx")  # no exception


HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", '=HYPERLINK("http://x")']


def test_formulas_in_cells_come_back_as_text_in_xlsx_and_csv():
    frame = pd.DataFrame({"原文": HOSTILE, "数": range(len(HOSTILE))})
    frame["=列名"] = "x"
    book = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx(frame, "数据")))
    sheet = book.active
    cells = [sheet.cell(row=i + 2, column=1) for i in range(len(HOSTILE))]
    assert all(c.data_type == "s" and c.value.startswith("'") for c in cells)
    assert [c.value for c in cells] == ["'" + v for v in HOSTILE]
    assert sheet.cell(row=1, column=3).value == "'=列名"
    assert [sheet.cell(row=i + 2, column=2).value for i in range(3)] == [0, 1, 2]  # numbers stay numbers
    text = tables.to_csv(frame)
    rows = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False)
    assert all(v.startswith("'") for v in rows["原文"])
