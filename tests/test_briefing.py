"""The briefing pack from the command line, as staff make it: PPTX and PDF with the same pages, Chinese intact."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

pytestmark = pytest.mark.once  # pictures and documents; the figures are compared across backends in test_backends

ROOT = Path(__file__).resolve().parent.parent


def _brief(*args, db):
    env = {**os.environ, "DATABASE_URL": db}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app:server", "brief", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(scope="module")
def db():
    return os.environ["DATABASE_URL"]


@pytest.fixture(scope="module")
def packs(tmp_path_factory, db, app_module):
    out = tmp_path_factory.mktemp("brief")
    pptx, pdf = out / "brief.pptx", out / "brief.pdf"
    for path in (pptx, pdf):
        result = _brief("--region", "610000", "--date", "2020-02-15", "--out", str(path), db=db)
        assert result.returncode == 0, result.stderr
        assert "已写入" in result.stdout
    return pptx, pdf


def test_pptx_holds_pictures_tables_and_the_summary(packs, artifacts):
    deck = Presentation(str(packs[0]))
    slides = list(deck.slides)
    assert len(slides) == 9  # title, summary, KPIs, map, trend, flow, forecast, risk, 口罩调配建议
    texts = ["\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in slides]
    assert "陕西省疫情态势汇报" in texts[0] and "截至2020年2月15日24时" in texts[0] and "数据来源" in texts[0]
    assert texts[1].count("截至2月15日24时，陕西省累计报告确诊病例236例") == 1
    pictures = [shape for slide in slides for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 4 and all(len(p.image.blob) > 20_000 for p in pictures)
    kpi_table = next(s for s in slides[2].shapes if s.has_table).table
    assert kpi_table.cell(1, 0).text == "累计确诊" and kpi_table.cell(1, 1).text == "236"
    forecast = next(s for s in slides[6].shapes if s.has_table).table  # the 14 days after the day, as the API says
    assert "预测" in texts[6] and "2月15日起报" in texts[6] and forecast.cell(1, 0).text == "2月16日"
    assert len(forecast.rows) == 15 and "仅用2月15日及以前的数据" in texts[6]
    assert forecast.cell(1, 1).text.isdigit() and "–" in forecast.cell(1, 3).text
    risk_table = next(s for s in slides[7].shapes if s.has_table).table
    assert risk_table.cell(1, 0).text == "西安市" and risk_table.cell(1, 1).text == "高风险"
    at = next(i for i, t in enumerate(texts) if t.startswith("口罩调配建议（演示数据）"))
    transfers = next(s for s in slides[at].shapes if s.has_table).table  # the 10 largest suggested transfers
    assert "直线距离（县区中心点之间），未用路网" in texts[at] and "建议调拨53笔" in texts[at]
    assert transfers.cell(0, 2).text == "口罩数量（只）" and len(transfers.rows) == 11
    (artifacts / "brief_map.png").write_bytes(pictures[0].image.blob)


def test_pdf_has_the_same_pages_with_chinese_text(packs, artifacts):
    pdf = packs[1]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "Pages:          9" in info or "Pages:           9" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "陕西省疫情态势汇报" in text and "累计报告确诊病例236例" in text.replace("\n", "")
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "4", "-l", "4", str(pdf), str(artifacts / "brief_pdf")], check=True
    )


@pytest.mark.parametrize(
    "args, words",
    [
        (["--region", "999999", "--date", "2020-02-15", "--out", "x.pptx"], "未知地区代码"),
        (["--region", "610000", "--date", "15/02/2020", "--out", "x.pptx"], "日期格式"),
        (["--region", "610000", "--date", "2019-02-15", "--out", "x.pptx"], "不在数据范围"),
        (["--region", "610000", "--date", "2020-02-15", "--out", "x.docx"], ".pptx 或 .pdf"),
    ],
)
def test_brief_refuses_bad_arguments_in_one_sentence(args, words, db, app_module):
    result = _brief(*args, db=db)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_a_hung_renderer_is_restarted_once_then_reported(app_module, monkeypatch):
    """The real renderer made to hang (its Chromium stopped with SIGSTOP): the picture comes from a restarted one;
    if that hangs too, one sentence says so instead of waiting for ever."""
    import signal

    import plotly.graph_objects as go
    import psutil

    from reports import briefing

    fig = go.Figure(go.Bar(x=["西安市", "宝鸡市"], y=[3, 1]))
    assert briefing._png(fig, (400, 300), "测试").startswith(b"\x89PNG")

    def stop_renderers() -> list:  # the renderer's own Chromium only (briefing._browsers), never a test's browser
        stopped = list(briefing._browsers())
        for p in stopped:
            p.send_signal(signal.SIGSTOP)
        return stopped

    monkeypatch.setattr(briefing, "RENDER_TIMEOUT", 12.0)  # a fresh Chromium and its first picture fit in it when busy
    hung = stop_renderers()
    assert hung
    started = time.monotonic()
    try:
        png = briefing._png(fig, (400, 300), "测试")
    finally:
        for p in hung:
            with contextlib.suppress(psutil.Error):
                p.kill()
    assert png.startswith(b"\x89PNG") and time.monotonic() - started < 45

    # every renderer hangs, the restarted one too: a clear sentence, bounded in time
    done = threading.Event()
    stopped: list = []

    def keep_stopping():
        while not done.is_set():
            stopped.extend(stop_renderers())
            done.wait(0.1)

    # nothing has to start within the timeout now: a short one makes the two waits for a hung renderer short
    monkeypatch.setattr(briefing, "RENDER_TIMEOUT", 3.0)
    # the warm renderer is stopped before the picture is asked for: left to the thread, a warm renderer could answer
    # before the thread's first round (CI saw the picture come); the thread stops the restarted one as it starts
    stopped.extend(stop_renderers())
    assert stopped
    stopper = threading.Thread(target=keep_stopping, daemon=True)
    stopper.start()
    started = time.monotonic()
    try:
        with pytest.raises(briefing.RenderTimeout, match="生成超时"):
            briefing._png(fig, (400, 300), "测试")
        assert time.monotonic() - started < 60
    finally:
        done.set()
        stopper.join()
        for p in stopped + list(briefing._browsers()):
            with contextlib.suppress(psutil.Error):
                p.kill()
        briefing._renderer = None
