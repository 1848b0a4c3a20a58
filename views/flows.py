"""The population-flow views of `/` (and the wall's, the briefing's): the flow map with its ranking, the scale
index, the origin-destination matrix inside Shaanxi and the importation-risk ranking."""

from __future__ import annotations

import pandas as pd

from data import cache
from data import flow_queries as fq
from data import formatting as fmt
from figures import flows as flow_figures
from geo import china, regions
from geo.units import PROVINCE


def _places(ranking: pd.DataFrame) -> dict:
    """adcode -> (lon, lat, name) for the counterparts of a ranking."""
    out = {}
    for code, name in zip(ranking.counterpart_adcode, ranking.counterpart_name):
        place = china.get(code, "city") or china.get(code, "province")
        if place and place.lon is not None:
            out[code] = (place.lon, place.lat, name)
    return out


def flow_view(region: str, day: str, direction: str, scope: str, level: str, origin: str | None):
    """Figure, ranking rows (``ranking_rows``; None when there is no ranking to show), title and note of the main
    flow view."""
    focus, note = fq.focus_for(region)
    verb = "迁入来源" if direction == "in" else "迁出目的地"
    if focus is None:
        return flow_figures.no_data("人口流动", note or "无迁徙数据"), None, verb, note
    msg = outside(day)
    if msg:
        return flow_figures.no_data("人口流动", msg), None, verb, msg
    ranking = fq.ranking(focus, day, direction, level, scope)
    focus_region = regions.get(focus)
    point = (focus_region.lon, focus_region.lat)
    fig = flow_figures.flow_map(
        ranking,
        _places(ranking),
        focus_region.display_name,
        point,
        direction,
        scope,
        day,
        highlight=origin,
        shaanxi_bounds=regions.province().bounds,
    )
    aggregated = bool(len(ranking)) and bool(ranking["aggregated"].any())
    extra = "（按城市占比汇总到省）" if aggregated else ""
    title = f"{focus_region.display_name} {fmt.day(day)} {verb}排名{extra}"
    return fig, ranking_rows(ranking, origin), title, note


def outside(day: str) -> str | None:
    """Why a flow view of this day is empty, naming the days the flow data cover; None inside them."""
    data = fq.flow_data()
    if data.start is not None and data.start <= pd.Timestamp(day) <= data.end:
        return None
    span = f"{fmt.full_day(data.start)}至{fmt.full_day(data.end)}" if data.start is not None else "无（尚未导入）"
    return f"{fmt.full_day(day)}无迁徙数据（迁徙数据覆盖 {span}）"


def ranking_rows(ranking: pd.DataFrame, origin: str | None, top: int = 30) -> list[dict]:
    """The first ``top`` counterparts as the text of the ranking table's rows, the clicked origin highlighted."""
    rows = []
    for i, row in enumerate(ranking.head(top).itertuples(), start=1):
        change = row.share_change_7d
        rows.append(
            {
                "rank": str(i),
                "adcode": row.counterpart_adcode,
                "name": row.counterpart_name,
                "province": row.province,
                "share": f"{row.share_pct:.2f}",
                "volume": "—" if pd.isna(row.volume) else f"{row.volume:.3f}",
                "change": "新进前100" if pd.isna(change) else f"{change:+.2f}",
                "change_class": ""
                if pd.isna(change) or change == 0
                else ("change-up" if change > 0 else "change-down"),
                "highlighted": row.counterpart_adcode == origin,
            }
        )
    return rows


def region_scale_view(region: str, day: str) -> dict:
    """The scale-index chart of the flow focus of a region (a county's is its unit's)."""
    focus, _ = fq.focus_for(region)
    name = regions.get(focus).display_name if focus else regions.get(region).name
    return scale_view(focus, name, day)


@cache.memoize
def scale_view(focus: str | None, name: str, day: str) -> dict:
    """The scale-index chart, kept per data version in the shared cache."""
    series = fq.scale_series(focus) if focus else pd.DataFrame()
    if len(series) and not series.index.min() <= pd.Timestamp(day) <= series.index.max():
        span = f"{fmt.full_day(series.index.min())}至{fmt.full_day(series.index.max())}"
        return flow_figures.no_data(f"{name} 迁徙规模指数", f"{fmt.full_day(day)}无迁徙规模指数（覆盖 {span}）")
    return flow_figures.scale_chart(series, name, day).to_plotly_json()


def unit_names() -> dict[str, str]:
    return {u.adcode: u.name for u in regions.units()} | {PROVINCE: "陕西省（全省）"}


def od_view(day: str, mode: str, origin: str | None):
    """The matrix of flows between Shaanxi's cities on the day (``mode`` "change": against 7 days before)."""
    if msg := outside(day):
        return flow_figures.no_data("省内城市间迁入占比", msg)
    matrix = fq.od_matrix(day)
    change = matrix - fq.od_matrix(pd.Timestamp(day) - pd.Timedelta(days=7)) if mode == "change" else None
    return flow_figures.od_heatmap(matrix, unit_names(), day, change, highlight=origin)


@cache.memoize
def importation_view(region: str, day: str) -> dict:
    """The importation-risk ranking as plotly JSON, kept per data version in the shared cache."""
    if msg := outside(day):
        return flow_figures.no_data("输入风险", msg)
    risk = fq.risk_on_day(day)
    risk = risk[[c for c in risk.index if c != PROVINCE]]
    contributors = {}
    for code in risk.index:
        top = fq.top_contributors(code, day, 3)
        contributors[code] = "、".join(f"{n}（{c:.4f}）" for n, c in zip(top.counterpart_name, top.contribution))
    unit = regions.unit_of(region)
    return flow_figures.importation_chart(
        risk, unit_names(), day, unit.adcode if unit else None, contributors
    ).to_plotly_json()
