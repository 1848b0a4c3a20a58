"""The briefing pack (汇报材料) for a region and day, as PPTX or PDF, made from the same figure builders as the page.

Pages: title (region, as-of date, generated time, sources, 演示数据 where demo data are included); a generated
summary in Chinese; the KPIs as a table; the map; the trend; the flow view; the forecast (the fan of the last weeks
and the next 14 days, their numbers as a table, the backtest's verdict); the risk list; the mask transfers.
Pictures come from kaleido with Debian's chromium, kept warm between figures (one browser for the whole pack);
the PDF is the same pages printed by the same chromium, so Chinese comes out in the installed CJK font.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import html
import io
import json
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import kaleido
import pandas as pd
import psutil

from analytics import allocation
from analytics import forecast as forecast_model
from analytics.risk import LEVEL_NAMES, RULE_TEXT
from data import catalogue, flow_queries, forecasts, queries
from data import formatting as fmt
from data.resources import mask_transfers
from geo import regions
from views.flows import flow_view
from views.maps import build_map
from views.trends import forecast_fan, trend_figure

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)
SIZE = {"map": (1100, 820), "trend": (1200, 560), "flow": (1200, 640), "forecast": (1000, 620)}
PPTX_FONT = "Microsoft YaHei"
PICTURES = {"map": "地图", "trend": "趋势图", "flow": "人口流动图", "forecast": "预测图"}
STEPS = len(PICTURES) + 2  # gathering, the pictures, laying out
KPI_FIELDS = ("confirmed_cum", "active", "new_confirmed", "new_7d", "cured_cum", "dead_cum")  # the key figures' table
# the risk table's headers, in the order of Brief.risk_rows
RISK_HEADS = tuple(catalogue.title(c) for c in ("name", "risk_level", "new_7d", "days_since_last_case"))


@dataclass
class Brief:
    region: str
    region_name: str
    day: str
    generated: dt.datetime
    summary: str
    kpis: list[tuple[str, str, str]]  # label, value, change
    risk_rows: list[tuple[str, str, str, str]]  # region, level, new 7 days, days since last case
    images: dict[str, bytes] = field(default_factory=dict)  # key -> PNG
    captions: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    demo: bool = False
    forecast_rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # day, median, 50 %, 90 % intervals
    forecast_note: str = ""
    transfers: list[tuple[str, str, str, str]] = field(default_factory=list)  # 口罩调配建议: from, to, masks, km
    transfer_summary: str = ""


def _inline_boundaries(fig: dict) -> dict:
    """The page's figures name boundary files by URL; kaleido's page cannot fetch them, so put them inline."""
    cache = {}

    def load(url):
        if url not in cache:
            cache[url] = json.loads((ROOT / url.lstrip("/")).read_text(encoding="utf-8"))
        return cache[url]

    def walk(obj):
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        if isinstance(obj, str) and obj.startswith("/assets/geo/"):
            return load(obj)
        return obj

    return walk(fig)


def _png(fig, size: tuple[int, int], title: str) -> bytes:
    """A figure as PNG through the warm renderer; the title says what it shows. A renderer that does not answer
    within RENDER_TIMEOUT is replaced once; then one sentence says so (RenderTimeout)."""
    fig = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else dict(fig)
    fig = _inline_boundaries(fig)
    layout = fig.setdefault("layout", {})
    layout["title"] = {"text": title, "x": 0.01, "font": {"size": 18}}
    layout["margin"] = {**(layout.get("margin") or {}), "t": 60}
    layout.pop("uirevision", None)
    global _renderer  # noqa: PLW0603  (one warm renderer a process, replaced when it hangs)
    with _render_lock:
        for attempt in (1, 2):  # a renderer that does not answer is replaced once
            if _renderer is None:
                _renderer = Renderer()
            renderer = _renderer
            done = _within(RENDER_TIMEOUT, lambda renderer=renderer: renderer.png(fig, size))
            if done is not None:
                return done
            log.warning("renderer gave no picture within %s s (attempt %d): replacing it", RENDER_TIMEOUT, attempt)
            _renderer.abandon()
            _renderer = None
    raise RenderTimeout(
        f"图片“{title}”生成超时：渲染器 {RENDER_TIMEOUT:.0f} 秒无响应，重启后重试仍未完成；请稍后再试，"
        "如持续出现请联系管理员（详情见日志）。"
    )


# A picture takes 0.2-2 s (a map ~2 s, up to ~15 s on a busy machine); past this the renderer is taken as hung.
RENDER_TIMEOUT = float(os.environ.get("RENDER_TIMEOUT_SECONDS", "60"))
_render_lock = threading.Lock()
_renderer = None


class RenderTimeout(RuntimeError):
    """The picture renderer did not answer, even after a restart: one sentence for the user."""


class Renderer:
    """One Chromium kept warm for the pictures (0.2-2 s each instead of 3-4 s for a fresh browser), on a thread and
    event loop of its own. kaleido's own warm server is a process-wide singleton that cannot be replaced once a
    call into it hangs; this one is simply abandoned (its Chromium killed) and a new one made."""

    def __init__(self):
        before = _browsers()
        self._tasks: queue.Queue = queue.Queue()
        self._results: queue.Queue = queue.Queue()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(self._tasks, self._results),), name="renderer", daemon=True
        )
        self._thread.start()
        self._before = before

    @staticmethod
    async def _serve(tasks: queue.Queue, results: queue.Queue) -> None:
        try:
            async with kaleido.Kaleido(timeout=RENDER_TIMEOUT) as k:
                while (task := tasks.get()) is not None:  # this loop's only work: blocking between pictures is fine
                    try:
                        results.put(await k.calc_fig(task[0], opts=task[1]))
                    except Exception as exc:  # noqa: BLE001  (raised in the caller's thread)
                        results.put(exc)
        except Exception as exc:  # noqa: BLE001  (the browser would not start, or was killed when abandoned)
            log.info("renderer ended: %s", exc)
            results.put(exc)  # a caller waiting on it learns at once

    def png(self, fig: dict, size: tuple[int, int]) -> bytes:
        self._tasks.put((fig, {"format": "png", "width": size[0], "height": size[1], "scale": 1.5}))
        result = self._results.get()
        if isinstance(result, BaseException):
            raise result
        return result

    def abandon(self) -> None:
        """Stop this renderer's Chromium; its hung call then ends with an error nobody waits for."""
        self._tasks.put(None)
        for process in _browsers() - self._before:
            with contextlib.suppress(psutil.Error):
                process.kill()


def _browsers() -> set:
    """The browsers this process started itself for kaleido: choreographer's wrapper processes (direct children whose
    command runs its chromium wrapper) and the Chromium each runs. Never a browser of another process below us (a
    background job's own renderer, a test's browser): those are not our direct children."""
    found = set()
    with contextlib.suppress(psutil.Error):  # a process may end while it is listed: it is then no browser to stop
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.Error):
                if any("choreographer" in part for part in child.cmdline()[:2]):
                    found |= {child, *child.children(recursive=True)}
    return found


def _within(seconds: float, work):
    """``work()``'s result, or None when it has not finished within ``seconds`` (it is then left behind on a daemon
    thread: a hung renderer call cannot be interrupted, only abandoned). Its exceptions are raised here."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001  (handed to the caller)
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="render", daemon=True)
    worker.start()
    worker.join(seconds)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def summary_text(region: str, day: str) -> str:
    """截至2月15日24时，西安市累计报告确诊病例114例…: the paragraph a briefing opens with, from the same figures."""
    s = queries.summary(region, day)
    name = regions.get(region).display_name
    when = fmt.as_of(day).replace(f"{pd.Timestamp(day).year}年", "")
    if s["confirmed_cum"] is None:
        return f"{when}，{name}{'未上报' if s['status'] == 'missing' else '暂无'}病例数据。"
    parts = [
        f"{when}，{name}累计报告确诊病例{fmt.count(s['confirmed_cum'])}例，现有确诊{fmt.count(s['active'])}例，"
        f"累计治愈{fmt.count(s['cured_cum'])}例，死亡{fmt.count(s['dead_cum'])}例；"
        f"当日新增{fmt.count(s['new_confirmed'])}例，近7日新增{fmt.count(s['new_7d'])}例"
        f"（每10万人{fmt.rate(s['incidence_7d_per_100k'], 3)}例）。"
    ]
    if s["rt"] is not None:
        trend = "仍在扩散" if s["rt_low"] > 1 else "得到控制" if s["rt_high"] < 1 else "处于平台"
        parts.append(
            f"实时再生数Rt为{fmt.rate(s['rt'])}（95%可信区间{fmt.rate(s['rt_low'])}–{fmt.rate(s['rt_high'])}），"
            f"疫情{trend}"
        )
        if s["doubling_time_days"]:
            parts.append(f"，倍增时间约{s['doubling_time_days']:.1f}天。")
        elif s["halving_time_days"]:
            parts.append(f"，减半时间约{s['halving_time_days']:.1f}天。")
        else:
            parts.append("。")
    else:
        parts.append("近7日病例不足12例，不作Rt估计。")
    units = queries.on_day(day, "unit")
    levels = units["risk_level"].value_counts()
    high = units[units["risk_level"] == "high"]["name"].tolist()
    parts.append(
        f"按{RULE_TEXT}，各市（区）中高风险{int(levels.get('high', 0))}个"
        + (f"（{'、'.join(high)}）" if high else "")
        + f"，中风险{int(levels.get('medium', 0))}个，低风险{int(levels.get('low', 0))}个。"
    )
    risk = flow_queries.risk_on_day(day).drop(labels=["610000"], errors="ignore").dropna()
    if len(risk):
        top = risk.idxmax()
        parts.append(f"输入风险指数最高的是{regions.get(top).display_name}（{risk[top]:.4f}）。")
    return "".join(parts)


def build(region: str, day: str, progress=None) -> Brief:
    """Everything the pack holds; the slow part is the three pictures. ``progress(step, total, text)`` is told
    before each step (the page shows it as a progress bar)."""
    progress = progress or (lambda *_: None)
    progress(0, STEPS, "正在汇总数据")
    s = queries.summary(region, day)
    name = regions.get(region).display_name
    kpis = []
    missing = "未上报" if s["status"] == "missing" else "无数据"
    for column in KPI_FIELDS:
        change = s.get(f"{column}_change")
        kpis.append(
            (
                catalogue.title(column),
                fmt.count(s[column], missing=missing),
                "" if change is None else f"较前日 {fmt.signed(change)}",
            )
        )
    units = queries.on_day(day, "unit")
    risk_rows = [
        (
            row["name"],
            LEVEL_NAMES.get(row["risk_level"], "—") if isinstance(row["risk_level"], str) else "—",
            fmt.count(row["new_7d"], missing="—"),
            fmt.count(row["days_since_last_case"], missing="—"),
        )
        for _, row in units.sort_values(["new_7d", "confirmed_cum"], ascending=False).iterrows()
    ]
    brief = Brief(
        region,
        name,
        day,
        dt.datetime.now(),
        summary_text(region, day),
        kpis,
        risk_rows,
        sources=list(s["sources"]) + list(flow_queries.flow_data().sources[:2]),
    )
    when = fmt.as_of(day)
    flow_fig, _, flow_title, flow_note = flow_view(region, day, "in", "national", "city", None)
    figures = {
        "map": (build_map(region, day, "confirmed_cum", []), f"{name} 累计确诊（{when}）"),
        "trend": (trend_figure("region", region, day, [], []), f"{name} 每日新增与累计确诊（{when}）"),
        "flow": (flow_fig, flow_title or "人口流动"),
        "forecast": (_forecast(brief), f"{name} 每日新增确诊预测：{fmt.day(day)}起报，未来14天"),
    }
    for step, (key, (fig, title)) in enumerate(figures.items(), start=1):
        progress(step, STEPS, f"正在绘制{PICTURES[key]}")
        brief.images[key] = _png(fig, SIZE[key], title)
        brief.captions[key] = title
    if flow_note:
        brief.captions["flow"] += f"（{flow_note}）"
    _add_transfers(brief)
    return brief


FORECAST_HEADS = ("日期", "中位数（例）", "50%区间", "90%区间")
LOOK_BACK_DAYS = 27  # the forecast's picture: four weeks before the origin, then the 14 days after


def _forecast(brief: Brief):
    """The forecast of the brief's region and day: its rows and note on the brief, the zoomed trend as the figure."""
    fan = forecast_fan(brief.region, brief.day)
    if fan is not None:
        brief.forecast_rows = [
            (fmt.day(d), str(r["median"]), f"{r['lower_50']}–{r['upper_50']}", f"{r['lower_90']}–{r['upper_90']}")
            for d, r in fan.iterrows()
        ]
    tested = forecasts.published()
    verdict = "".join(tested["verdicts"]) if tested else "回测结果见看板“模型评估”页（/models）。"
    brief.forecast_note = (
        f"{forecast_model.MODEL_NAMES['ensemble']}（更新方程模型与基线的分位数平均），"
        f"仅用{fmt.day(brief.day)}及以前的数据；假定防控措施与报告方式不变。{verdict}"
    )
    fig = trend_figure("region", brief.region, brief.day, [], [])  # a dict in plotly's JSON form
    day = pd.Timestamp(brief.day)
    xaxis = fig["layout"]["xaxis"]
    xaxis["range"] = [day - pd.Timedelta(days=LOOK_BACK_DAYS), day + pd.Timedelta(days=14.5)]
    xaxis["rangeselector"] = {**(xaxis.get("rangeselector") or {}), "visible": False}
    return fig


def _pptx_table(slide, heads, rows, left: int, top: int, width: int, row_height: int, size: int) -> None:
    """A table of strings on a slide: a header row, then ``rows``, in the pack's font at ``size`` points."""
    from pptx.util import Emu, Pt  # noqa: PLC0415  (python-pptx only when a PPTX is made, as in to_pptx)

    table = slide.shapes.add_table(
        len(rows) + 1, len(heads), Emu(left), Emu(top), Emu(width), Emu(row_height * (len(rows) + 1))
    ).table
    for row, values in enumerate([heads, *rows]):
        for col, content in enumerate(values):
            cell = table.cell(row, col)
            cell.text = content
            for para in cell.text_frame.paragraphs:
                for run in para.runs:
                    run.font.size, run.font.name = Pt(size), PPTX_FONT


def _forecast_slide(deck, brief: Brief, text, m: int) -> None:
    from pptx.util import Emu  # noqa: PLC0415  (python-pptx only when a PPTX is made, as in to_pptx)

    slide = deck.slides.add_slide(deck.slide_layouts[6])
    w = deck.slide_width
    text(slide, brief.captions["forecast"], m, 250000, w - 2 * m, 500000, 22, True)
    picture = slide.shapes.add_picture(_as_file(brief.images["forecast"]), Emu(m), Emu(850000))
    scale = (w * 0.58) / picture.width
    picture.width, picture.height = int(picture.width * scale), int(picture.height * scale)
    rows = brief.forecast_rows or [("无可预测的数据", "", "", "")]
    left = m + picture.width + 150000
    _pptx_table(slide, FORECAST_HEADS, rows, left, 850000, w - left - m, 250000, 10)
    text(slide, brief.forecast_note, m, 850000 + picture.height + 100000, int(w * 0.58), 1200000, 11)


def _forecast_section(brief: Brief) -> str:
    e = html.escape
    data = base64.b64encode(brief.images["forecast"]).decode()
    rows = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in brief.forecast_rows)
    heads = "".join(f"<th>{e(h)}</th>" for h in FORECAST_HEADS)
    return (
        f'<section><h2>{e(brief.captions["forecast"])}</h2><div style="display:flex;gap:5mm">'
        f'<div style="flex:0 0 60%"><img src="data:image/png;base64,{data}" style="max-height:100mm">'
        f'<p style="font-size:10pt;line-height:1.4">{e(brief.forecast_note)}</p></div>'
        f'<table style="font-size:9pt">{"<tr>" + heads + "</tr>"}'
        f"{rows or '<tr><td colspan=4>无可预测的数据</td></tr>'}</table></div></section>"
    )


# ---- PPTX ---------------------------------------------------------------------------------------------------
def to_pptx(brief: Brief, path: Path) -> None:
    from pptx import Presentation  # noqa: PLC0415  (python-pptx only when a PPTX is made, not for a PDF)
    from pptx.util import Emu, Pt  # noqa: PLC0415  (as above)

    deck = Presentation()
    deck.slide_width, deck.slide_height = Emu(12192000), Emu(6858000)  # 16:9
    blank = deck.slide_layouts[6]
    font = PPTX_FONT

    def text(slide, content, left, top, width, height, size=18, bold=False):
        box = slide.shapes.add_textbox(Emu(left), Emu(top), Emu(width), Emu(height))
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(content.split("\n")):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            run = para.add_run()
            run.text = line
            run.font.size, run.font.bold, run.font.name = Pt(size), bold, font
        return box

    w, h = deck.slide_width, deck.slide_height
    m = 457200  # half an inch
    slide = deck.slides.add_slide(blank)
    text(slide, f"{brief.region_name}疫情态势汇报", m, 1600000, w - 2 * m, 900000, 40, True)
    text(slide, fmt.as_of(brief.day), m, 2600000, w - 2 * m, 500000, 24)
    lines = [f"生成时间：{brief.generated:%Y年%m月%d日 %H:%M}", "数据来源：" + "；".join(brief.sources)]
    if brief.demo:
        lines.append("本材料含演示数据（演示数据）")
    text(slide, "\n".join(lines), m, 3400000, w - 2 * m, 2400000, 14)

    slide = deck.slides.add_slide(blank)
    text(slide, "态势摘要", m, m, w - 2 * m, 600000, 28, True)
    text(slide, brief.summary, m, 1300000, w - 2 * m, 4500000, 20)

    slide = deck.slides.add_slide(blank)
    text(slide, f"关键指标（{fmt.as_of(brief.day)}）", m, m, w - 2 * m, 600000, 28, True)
    _pptx_table(slide, ("指标", "数值（例）", "较前日"), brief.kpis, m, 1300000, w - 2 * m, 4200000 // 7, 18)

    for key in ("map", "trend", "flow"):
        slide = deck.slides.add_slide(blank)
        text(slide, brief.captions[key], m, 250000, w - 2 * m, 500000, 22, True)
        picture = slide.shapes.add_picture(_as_file(brief.images[key]), Emu(m), Emu(850000))
        scale = min((w - 2 * m) / picture.width, (h - 1000000) / picture.height)
        picture.width, picture.height = int(picture.width * scale), int(picture.height * scale)
        picture.left = int((w - picture.width) / 2)

    _forecast_slide(deck, brief, text, m)
    slide = deck.slides.add_slide(blank)
    text(slide, f"各市（区）风险等级（{RULE_TEXT}）", m, 250000, w - 2 * m, 500000, 22, True)
    _pptx_table(slide, RISK_HEADS, brief.risk_rows, m, 900000, w - 2 * m, 380000, 14)
    _transfer_slide(deck, brief, text, m)
    deck.save(str(path))


# ---- 口罩调配建议 (analytics/allocation.py): one table slide, the 10 largest transfers ----------------------------
TRANSFER_ROWS = 10


def _add_transfers(brief: Brief) -> None:
    """The suggested mask transfers of the brief's scope (the province's counties, or its unit's)."""
    unit = regions.unit_of(brief.region)
    s = mask_transfers(brief.day, unit.adcode if unit else None)
    brief.transfers = [
        (t.from_name, t.to_name, f"{int(t.masks):,}", f"{t.distance_km:.1f}")
        for t in s.transfers.head(TRANSFER_ROWS).itertuples()
    ]
    shown = f"表中为口罩数量最多的{len(brief.transfers)}笔。" if len(s.transfers) > TRANSFER_ROWS else ""
    brief.transfer_summary = (
        f"{allocation.summary_text(s, unit.display_name if unit else '全省')}{shown}{allocation.DISTANCE_NOTE}。"
    )
    brief.demo = brief.demo or s.demo


TRANSFER_TITLE = "口罩调配建议（演示数据）"
TRANSFER_HEADS = ("调出县区", "调入县区", "口罩数量（只）", "直线距离（公里）")


def _transfer_slide(deck, brief: Brief, text, m: int) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    w = deck.slide_width
    text(slide, TRANSFER_TITLE, m, 250000, w - 2 * m, 500000, 22, True)
    text(slide, brief.transfer_summary, m, 800000, w - 2 * m, 900000, 13)
    rows = brief.transfers or [("无调拨建议", "", "", "")]
    _pptx_table(slide, TRANSFER_HEADS, rows, m, 1800000, w - 2 * m, 340000, 14)


def _transfer_section(brief: Brief) -> str:
    e = html.escape
    rows = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in brief.transfers)
    heads = "".join(f"<th>{e(h)}</th>" for h in TRANSFER_HEADS)
    return (
        f'<section><h2>{e(TRANSFER_TITLE)}</h2><p style="font-size:11pt">{e(brief.transfer_summary)}</p>'
        f"<table><tr>{heads}</tr>{rows or '<tr><td colspan=4>无调拨建议</td></tr>'}</table></section>"
    )


def _as_file(png: bytes):
    return io.BytesIO(png)


# ---- PDF: the same pages, printed by chromium ----------------------------------------------------------------
def to_html(brief: Brief) -> str:
    e = html.escape

    def img(key):
        data = base64.b64encode(brief.images[key]).decode()
        return f'<section><h2>{e(brief.captions[key])}</h2><img src="data:image/png;base64,{data}"></section>'

    kpi_rows = "".join(f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td></tr>" for a, b, c in brief.kpis)
    risk_rows = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in brief.risk_rows)
    risk_heads = "".join(f"<th>{e(h)}</th>" for h in RISK_HEADS)
    demo = "<p>本材料含演示数据（演示数据）</p>" if brief.demo else ""
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page {{ size: 297mm 167mm; margin: 10mm; }}
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #1f2933; margin: 0; }}
section {{ page-break-after: always; height: 145mm; overflow: hidden; }}
h1 {{ font-size: 34pt; margin: 30mm 0 6mm; }} h2 {{ font-size: 18pt; margin: 0 0 4mm; }}
p {{ font-size: 14pt; line-height: 1.7; }} .summary {{ font-size: 17pt; }}
img {{ max-width: 100%; max-height: 128mm; display: block; margin: 0 auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12pt; }}
td, th {{ border: 1px solid #c8ced6; padding: 2mm 3mm; text-align: left; }}
</style></head><body>
<section><h1>{e(brief.region_name)}疫情态势汇报</h1><p style="font-size:20pt">{e(fmt.as_of(brief.day))}</p>
<p>生成时间：{brief.generated:%Y年%m月%d日 %H:%M}<br>数据来源：{e("；".join(brief.sources))}</p>{demo}</section>
<section><h2>态势摘要</h2><p class="summary">{e(brief.summary)}</p></section>
<section><h2>关键指标（{e(fmt.as_of(brief.day))}）</h2><table><tr><th>指标</th><th>数值（例）</th><th>较前日</th></tr>
{kpi_rows}</table></section>
{img("map")}{img("trend")}{img("flow")}
{_forecast_section(brief)}
<section><h2>各市（区）风险等级（{e(RULE_TEXT)}）</h2><table><tr>{risk_heads}</tr>{risk_rows}</table></section>
{_transfer_section(brief)}
</body></html>"""


def to_pdf(brief: Brief, path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        raise RuntimeError("需要 Debian 的 chromium 才能生成 PDF：apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "brief.html"
        page.write_text(to_html(brief), encoding="utf-8")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp}/profile",
                "--no-pdf-header-footer",
                f"--print-to-pdf={Path(path).resolve()}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def write(region: str, day: str, out: Path, progress=None) -> Brief:
    out = Path(out)
    if out.suffix.lower() not in (".pptx", ".pdf"):
        raise ValueError(f"--out 应以 .pptx 或 .pdf 结尾：{out}")
    brief = build(region, day, progress)
    if progress:
        progress(STEPS - 1, STEPS, "正在排版")
    (to_pptx if out.suffix.lower() == ".pptx" else to_pdf)(brief, out)
    return brief
