"""Command-line interface: `flask --app app:server COMMAND`. Each command prints one clear sentence on failure
and exits 2 (no stack trace for a user's mistake)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import click
import pandas as pd
from sqlalchemy import select

from data import backup, forecasts, migrate, open_data, queries, scale, store
from data.ingest import kinds, pipeline
from data.ingest.reading import ReadError
from geo import regions
from security import audit
from security import cli as security_cli


def _fail(message: str):
    click.echo(message, err=True)
    raise SystemExit(2)


def kinds_columns(text: str, kind: str | None) -> dict[str, str]:
    return kinds.parse_columns(text, kind)


def register(server) -> None:
    security_cli.register(server)  # accounts and wall tokens

    @server.cli.command("ingest")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option(
        "--kind", type=click.Choice(["cases", "case-list", "facilities", "flows"]), help="文件类型；不指定时按表头判断"
    )
    @click.option("--dry-run", is_flag=True, help="只检查不入库")
    @click.option("--columns", help="列对应：字段=文件中的列名，多对用逗号分隔，如 迁入地=dest,迁出地=origin,流量=idx")
    def ingest(file: str, kind: str | None, dry_run: bool, columns: str | None) -> None:
        """导入 CSV/XLSX（UTF-8 或 GBK）：校验、地区名称标准化，作为一个批次入库。"""
        path = Path(file)
        if not path.is_file():
            _fail(f"找不到文件 {file}。")
        t0 = time.perf_counter()
        try:
            mapping = kinds_columns(columns, kind) if columns else None
            report = pipeline.ingest(path.read_bytes(), path.name, kind, dry_run=dry_run, user="cli", columns=mapping)
        except ReadError as exc:
            _fail(f"{exc} 未做任何改动。")
        except Exception:  # a fault of ours, not the officer's: details to the log, one sentence to them
            logging.getLogger("ingest").exception("ingest of %s failed", path)
            _fail(f"{path.name}：导入时发生内部错误，未做任何改动；详情已写入日志，请联系管理员。")
        click.echo(report.summary())
        for note in report.notes:
            click.echo(f"  · {note}")
        issues = pipeline.write_issues(report)
        if issues:
            click.echo(f"未入库或需注意的行及原因已写入：{issues}")
        if report.batch_id:
            audit.record("upload", f"批次 {report.batch_id}：{report.summary()}")
            click.echo(f"批次 {report.batch_id}，用时 {time.perf_counter() - t0:.1f} 秒。")
        elif dry_run:
            click.echo(f"预检完成（未入库），用时 {time.perf_counter() - t0:.1f} 秒。")

    @server.cli.command("rollback")
    @click.argument("batch_id", type=int)
    def rollback(batch_id: int) -> None:
        """回滚一个批次：其数据不再计入，看板随之更新。"""
        if not pipeline.rollback(batch_id, user="cli"):
            _fail(f"批次 {batch_id} 不存在或已回滚。")
        audit.record("rollback", f"批次 {batch_id}")
        click.echo(f"批次 {batch_id} 已回滚。")

    @server.cli.command("brief")
    @click.option("--region", required=True, help="六位行政区划代码，如 610000（全省）、610100（西安市）")
    @click.option("--date", "day", required=True, help="截至日期 YYYY-MM-DD")
    @click.option("--out", required=True, type=click.Path(dir_okay=False), help="输出文件 .pptx 或 .pdf")
    def brief(region: str, day: str, out: str) -> None:
        """生成汇报材料（PPTX 或 PDF）：标题、摘要、关键指标、地图、趋势、人口流动、风险等级。"""
        from reports import briefing  # noqa: PLC0415  (kaleido loads only for this command, not with every app)

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
        try:
            briefing.write(region, when.date().isoformat(), Path(out))
        except briefing.RenderTimeout as exc:
            _fail(str(exc))
        click.echo(f"已写入 {out}（{Path(out).stat().st_size / 1024:.0f} KB，用时 {time.perf_counter() - t0:.1f} 秒）")

    @server.cli.command("backtest")
    @click.option("--region", "codes", multiple=True, help="只回测这些地区（六位代码，可重复）；默认全省与12个报告单位")
    @click.option("--start", help="第一个起报日 YYYY-MM-DD；默认 2020-01-29")
    @click.option("--end", help="最后一个起报日 YYYY-MM-DD；默认数据末日（其后须有14天实际数据）")
    @click.option("--out", type=click.Path(dir_okay=False), help="写入 JSON 文件；不指定时只打印摘要")
    def backtest(codes: tuple[str, ...], start: str | None, end: str | None, out: str | None) -> None:
        """预测模型回测：滚动起报日，1–14天，各模型的 WIS、相对WIS（对基线）与50%/90%区间覆盖率。"""
        for code in codes:
            if regions.get(code) is None:
                _fail(f"未知地区代码 {code}：请用六位行政区划代码，如 610000 或 610100。")
        days = []
        for name, value in (("--start", start), ("--end", end)):
            try:
                days.append(None if value is None else pd.Timestamp(pd.to_datetime(value, format="%Y-%m-%d")))
            except (ValueError, TypeError):
                _fail(f"{name} 日期格式应为 YYYY-MM-DD，收到 {value!r}。")
        if days[0] is not None and days[1] is not None and days[0] > days[1]:
            _fail("--start 晚于 --end。")
        t0 = time.perf_counter()
        if not codes and start is None and end is None:
            report = forecasts.evaluation()  # the published one (made now if this data version has none yet)
        else:
            report = forecasts.report(forecasts.run_backtest(list(codes) or None, days[0], days[1]))
        if not report["by_horizon"]:
            _fail("所选范围内没有可回测的起报日（每个起报日之后须有14天实际数据）。")
        click.echo(
            f"起报日 {report['first_origin']} 至 {report['last_origin']}（{report['origins']} 个），"
            f"{report['regions']} 个地区，用时 {time.perf_counter() - t0:.1f} 秒"
        )
        for row in report["province_by_horizon"] or report["by_horizon"]:
            if row["horizon"] in (1, 7, 14):
                click.echo(
                    f"  {row['model']:>8}  {row['horizon']:>2}天  WIS {row['wis']:.3f}  相对WIS "
                    f"{row['relative_wis']:.2f}  覆盖 50% {row['coverage_50']:.0%} / 90% {row['coverage_90']:.0%}"
                )
        for verdict in report["verdicts"]:
            click.echo(verdict)
        if out:
            Path(out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
            click.echo(f"已写入 {out}")

    @server.cli.command("export-open-data")
    @click.option("--out", required=True, type=click.Path(file_okay=False), help="输出目录（不存在则创建）")
    def export_open_data(out: str) -> None:
        """导出开放数据包（Frictionless Data Package：datapackage.json + CSV）：
        公开的汇总数据，县级数经小数抑制，不含个人信息。"""
        target = Path(out)
        if target.exists() and any(p.name != "datapackage.json" and p.suffix != ".csv" for p in target.iterdir()):
            _fail(f"{out} 中已有其他文件；请指定空目录或此前导出的开放数据目录。")
        descriptor = open_data.export(target)
        for resource in descriptor["resources"]:
            rows = sum(1 for _ in (target / resource["path"]).open(encoding="utf-8")) - 1
            click.echo(f"  {resource['path']}：{rows:,} 行 · {resource['title']}")
        click.echo(f"已写入 {target / 'datapackage.json'}（许可 {descriptor['licenses'][0]['name']}）")

    @server.cli.command("scale-data")
    @click.option("--seed", type=int, default=None, help="随机种子（默认 20230101）")
    @click.option("--cases", "case_rows", type=int, default=1_000_000, show_default=True, help="病例个案行数")
    @click.option("--facilities", "facility_rows", type=int, default=100_000, show_default=True, help="设施点数")
    @click.option("--flows", "flow_rows", type=int, default=5_000_000, show_default=True, help="人口流动行数")
    @click.option(
        "--factor",
        type=int,
        default=1,
        show_default=True,
        help="规模倍数：病例个案与人口流动行数乘以此数（设施点不变）",
    )
    def scale_data(seed: int | None, case_rows: int, facility_rows: int, flow_rows: int, factor: int) -> None:
        """写入规模测试数据（合成，标为演示数据）：107县×3年日报、病例个案、设施点、人口流动。请用单独的数据库。"""
        if factor < 1:
            _fail("--factor 应为正整数。")
        case_rows, flow_rows = case_rows * factor, flow_rows * factor
        with store.engine().connect() as conn:
            if conn.execute(select(store.batches.c.id).where(store.batches.c.created_by == "scale-data")).first():
                _fail("该数据库已有规模测试数据；请换一个 DATABASE_URL。")
        t0 = time.perf_counter()
        counts = scale.generate(
            seed=seed or scale.SEED,
            case_rows=case_rows,
            facility_rows=facility_rows,
            flow_rows=flow_rows,
            say=click.echo,
        )
        click.echo(f"已写入 {sum(counts.values()):,} 行（{time.perf_counter() - t0:.0f} 秒）：{counts}")

    register_store_commands(server)


# Commands that work on the store as it is, before the app may use it: importing the app must not create, fill or
# refuse the store for them (app.py asks MAINTENANCE_COMMANDS).
MAINTENANCE_COMMANDS = ("db", "backup", "restore")


def register_store_commands(server) -> None:
    @server.cli.group("db")
    def db() -> None:
        """数据库结构版本：upgrade 升级、current 当前版本、history 全部版本。"""

    @db.command("upgrade")
    def db_upgrade() -> None:
        """把数据库升级到本程序的结构版本（先备份；已是最新则不做任何事）。"""
        eng = store.connect()
        t0 = time.perf_counter()
        try:
            applied = migrate.upgrade(eng, say=click.echo)
        except migrate.StoreNotCurrent as exc:
            _fail(str(exc))
        if applied:
            audit.record("db_upgrade", f"结构版本升级：{' → '.join(applied)}", user="命令行", eng=eng)
            click.echo(f"已升级到 {migrate.head()}（{len(applied)} 步，用时 {time.perf_counter() - t0:.1f} 秒）。")
        else:
            click.echo(f"数据库已是最新结构版本 {migrate.head()}。")

    @db.command("current")
    def db_current() -> None:
        """显示数据库当前的结构版本，以及是否需要升级。"""
        what, revision = migrate.state(store.connect())
        words = {
            "current": "最新",
            "behind": f"需要升级（运行 {migrate.UPGRADE_COMMAND}）",
            "unversioned": f"2026-12-04 版（未编号），需要升级（运行 {migrate.UPGRADE_COMMAND}）",
            "empty": "空数据库（首次启动时建立）",
            "ahead": "比本程序新",
            "foreign": "不是本看板的数据库",
        }
        click.echo(f"{revision or '-'}  {words[what]}；本程序的结构版本 {migrate.head()}")

    @db.command("history")
    def db_history() -> None:
        """列出全部结构版本（从旧到新）。"""
        for revision, doc in migrate.history():
            click.echo(f"{revision}  {doc}")

    @server.cli.command("backup")
    @click.option("--out", required=True, type=click.Path(dir_okay=False), help="备份文件路径")
    def backup_command(out: str) -> None:
        """备份数据库（看板运行时也可进行）：SQLite 用在线备份，PostgreSQL 用 pg_dump。"""
        eng = store.connect()
        try:
            done = backup.backup(eng, Path(out))
        except backup.BackupError as exc:
            _fail(str(exc))
        audit.record("backup", f"备份到 {done.path.name}（{done.size_bytes / 1e6:.1f} MB）", user="命令行", eng=eng)
        click.echo(
            f"已备份到 {done.path}（{done.size_bytes / 1e6:.1f} MB，结构版本 {done.revision or '未编号'}，"
            f"用时 {done.seconds:.1f} 秒）。"
        )

    @server.cli.command("restore")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--replace", is_flag=True, help="覆盖非空的数据库（请先停止看板）")
    def restore_command(file: str, replace: bool) -> None:
        """从备份恢复数据库到 DATABASE_URL（默认须为空库）；旧版本的备份恢复后自动升级结构。"""
        eng = store.connect()
        try:
            done = backup.restore(eng, Path(file), replace=replace, say=click.echo)
        except (backup.BackupError, migrate.StoreNotCurrent) as exc:
            _fail(str(exc))
        counts = backup.table_counts(eng)
        audit.record("restore", f"从 {done.path.name} 恢复", user="命令行", eng=eng)
        click.echo(
            f"已从 {done.path} 恢复（结构版本 {done.revision}，用时 {done.seconds:.1f} 秒）："
            f"批次 {counts.get('batches', 0)}，账号 {counts.get('users', 0)}，审计记录 {counts.get('audit_log', 0)}。"
        )
