"""What `/wall` shows for a view state and rotation step: the same views as `/`, restyled for the dark wall by
``figures.theme.wall``, the KPIs with their change against the day before, and the units at risk."""

from __future__ import annotations

from analytics.risk import LEVEL_NAMES
from data import flow_queries, queries
from data import formatting as fmt
from figures import theme
from geo import regions
from geo.units import PROVINCE
from views.flows import flow_view
from views.kpis import KPI_COLUMNS, kpis
from views.maps import build_map
from views.trends import trend_figure

MAP_STEPS = ["confirmed_cum", "active", "incidence_7d_per_100k", "risk_level", "importation_risk"]
TREND_STEPS = ["region", "units", "rt"]
FLOW_STEPS = ["in", "out"]
RISING_IS_BAD = {"confirmed", "active", "new", "dead"}


def kpi_changes(summary: dict) -> dict[str, dict | None]:
    """Each tile's change against the day before as {text, class} ("worse", "better", "flat"); None: no change
    known."""
    out = {}
    for key, column in KPI_COLUMNS.items():
        change = summary.get(f"{column}_change")
        if change is None:
            out[key] = None
        elif change == 0:
            out[key] = {"text": "较前日 持平", "class": "flat"}
        else:
            bad = (change > 0) == (key in RISING_IS_BAD)
            out[key] = {
                "text": f"较前日 {'▲' if change > 0 else '▼'}{abs(change):,}",
                "class": "worse" if bad else "better",
            }
    return out


def risk_rows(day: str) -> dict:
    """The units at medium or high risk (highest first, then by cases in 7 days) as {level, level_name, name,
    cases}; when there are none, a message and the five units with the most cases in 7 days."""
    units = queries.on_day(day, "unit")
    flagged = units[units["risk_level"].isin(["medium", "high"])].copy()
    if len(flagged):
        flagged["order"] = flagged["risk_level"].map({"high": 0, "medium": 1})
        ordered = flagged.sort_values(["order", "new_7d"], ascending=[True, False])
        return {
            "message": None,
            "rows": [
                {
                    "level": row["risk_level"],
                    "level_name": LEVEL_NAMES[row["risk_level"]],
                    "name": row["name"],
                    "cases": f"近7日 {fmt.count(row['new_7d'])} 例",
                }
                for _, row in ordered.iterrows()
            ],
        }
    top = units.sort_values("new_7d", ascending=False).head(5)
    message = "全省各市（区）均为低风险" if units["risk_level"].notna().any() else "该日无风险等级数据"
    return {
        "message": message,
        "rows": [
            {"level": None, "level_name": None, "name": row["name"], "cases": f"近7日 {fmt.count(row['new_7d'])} 例"}
            for _, row in top.iterrows()
        ],
    }


def wall_view(state: dict, step: int, scale: float = 1.0) -> dict:
    """Everything the wall shows for a view state and rotation step (a plain function, tested without a browser)."""
    region = state["region"]
    day = state["date"] if state.get("pinned_date") else queries.view_range()[1].isoformat()
    metrics = [state["metric"]] + [m for m in MAP_STEPS if m != state["metric"]]
    metric = metrics[step % len(metrics)]
    trend_view = TREND_STEPS[step % len(TREND_STEPS)]
    direction = FLOW_STEPS[step % len(FLOW_STEPS)]
    values = kpis(region, day)
    flow_fig, *_ = flow_view(region, day, direction, "national", "city", None)
    return {
        "kpis": values,
        "deltas": kpi_changes(values["summary"]),
        "day": day,
        "map": theme.wall(build_map(region, day, metric, [], palette=state.get("palette")), scale=scale),
        "trend": theme.wall(trend_figure(trend_view, region, day, [], [], state.get("palette")), scale=scale),
        "flow": theme.wall(flow_fig, 16, scale=scale),
        "risk": risk_rows(day),
    }


def wall_texts(region: str, summary: dict) -> dict:
    """The wall's title, the freshness line and the sources line."""
    updated = queries.last_update()
    sources = "；".join(summary["sources"] + list(flow_queries.flow_data().sources[:1]))
    name = regions.get(region).display_name
    return {
        "fresh": f"数据更新于 {updated:%m月%d日 %H:%M}" if updated is not None else "",
        "sources": f"数据来源：{sources}",
        "title": "陕西省新冠肺炎疫情态势" if region == PROVINCE else f"{name}新冠肺炎疫情态势",
    }
