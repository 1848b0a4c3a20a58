"""Command-line interface: `flask --app app:server COMMAND`. Each command prints one clear sentence on failure
and exits 2 (no stack trace for a user's mistake)."""
from __future__ import annotations

import time
from pathlib import Path

import click
import pandas as pd

from geo import regions


def _fail(message: str):
    click.echo(message, err=True)
    raise SystemExit(2)


def register(server) -> None:
    @server.cli.command("brief")
    @click.option("--region", required=True, help="六位行政区划代码，如 610000（全省）、610100（西安市）")
    @click.option("--date", "day", required=True, help="截至日期 YYYY-MM-DD")
    @click.option("--out", required=True, type=click.Path(dir_okay=False), help="输出文件 .pptx 或 .pdf")
    def brief(region: str, day: str, out: str) -> None:
        """生成汇报材料（PPTX 或 PDF）：标题、摘要、关键指标、地图、趋势、人口流动、风险等级。"""
        from data import queries  # noqa: PLC0415
        from reports import briefing  # noqa: PLC0415
        if regions.get(region) is None:
            _fail(f"未知地区代码 {region}：请用六位行政区划代码，如 610000 或 610100。")
        try:
            when = pd.Timestamp(pd.to_datetime(day, format="%Y-%m-%d"))
        except (ValueError, TypeError):
            _fail(f"日期格式应为 YYYY-MM-DD，收到 {day!r}。")
        start, end = queries.view_range()
        if not pd.Timestamp(start) <= when <= pd.Timestamp(end):
            _fail(f"日期 {day} 不在数据范围 {start} 至 {end} 内。")
        if Path(out).suffix.lower() not in (".pptx", ".pdf"):
            _fail(f"--out 应以 .pptx 或 .pdf 结尾，收到 {out}。")
        t0 = time.perf_counter()
        click.echo(f"正在生成 {regions.get(region).display_name} {day} 的汇报材料 …")
        briefing.write(region, when.date().isoformat(), Path(out))
        click.echo(f"已写入 {out}（{Path(out).stat().st_size / 1024:.0f} KB，用时 {time.perf_counter() - t0:.1f} 秒）")
