"""The judgement strip of `/`: Rt, growth, risk level, days since the last case, each with how it was made."""

from __future__ import annotations

from analytics import growth, risk, rt
from data import formatting as fmt
from data import queries
from data.catalogue import field_named
from geo.units import PROVINCE

# part -> its class. Items ({"type": "assess-item"}) hold the parts ({"type": "assess"}) and are only shown or
# hidden; parts get text, visibility and class (layouts.dashboard.assessment_skeleton).
ASSESSMENT_ITEMS = ("rt", "growth", "risk", "last", "none")
ASSESSMENT_PARTS = {
    "rt": "item",
    "rt-value": "value",
    "rt-why": "why",
    "growth": "item",
    "growth-label": "",
    "growth-value": "value",
    "growth-why": "why",
    "risk": "item",
    "risk-label": "",
    **{f"badge-{level}": "risk-badge" for level in reversed(risk.LEVELS)},
    "risk-why": "why",
    "last": "item",
    "last-value": "value",
    "none": "item",
}


def assessment(region: str, day: str) -> dict[str, dict]:
    """The judgement strip: Rt, growth, risk level, days since the last case, each with how it was made.

    The strip is a fixed set of parts (layouts.dashboard.assessment_skeleton); this gives each part's text, whether
    it is hidden and its class, so a date step changes text only."""
    s = queries.summary(region, day)
    parts = {name: {"children": "", "hidden": True, "className": klass} for name, klass in ASSESSMENT_PARTS.items()}

    def show(name, text="", klass=None):
        parts[name].update(children=text, hidden=False, **({"className": klass} if klass else {}))

    if s["status"] in ("no_data", "missing"):
        show("none")
        return parts
    show("rt")
    if s["rt"] is not None:
        show("rt-value", fmt.rate(s["rt"]))
        show(
            "rt-why",
            f"（95%可信区间 {fmt.rate(s['rt_low'])}–{fmt.rate(s['rt_high'])}） 近{rt.WINDOW}"
            f"日{s['rt_cases_in_window']}例",
        )
    else:
        show("rt-value", "不估计")
        show("rt-why", f" 近{rt.WINDOW}日病例少于{rt.MIN_CASES}例")
    for key in ("doubling_time_days", "halving_time_days"):
        if s[key] is not None:
            f = field_named(key)
            show("growth"), show("growth-label", f"{f.label} "), show("growth-value", f"{s[key]:.{f.digits}f} {f.unit}")
            show("growth-why", f" 近{growth.WINDOW}日对数线性拟合（起始阶段用近{growth.YOUNG_WINDOW}日）")
            break
    if s.get("growth_trend") == "stable":  # a doubling time of a year says nothing; say what the fit shows
        show("growth"), show("growth-label", f"{field_named('growth_trend').label} "), show("growth-value", "稳定")
        show("growth-why", f" 日增长率在 ±{growth.STABLE_RATE:.1%} 以内（倍增或减半慢于60天）")
    if region == PROVINCE:  # the rule grades counties and cities; for the province, count its units
        levels = queries.on_day(day, "unit")["risk_level"].value_counts()
        show("risk"), show("risk-label", "各市（区）风险 ")
        for level in risk.LEVELS:
            show(f"badge-{level}", f"{risk.LEVEL_NAMES[level]} {int(levels.get(level, 0))}", f"risk-badge risk-{level}")
    elif s["risk_level"]:
        show("risk"), show("risk-label", f"{field_named('risk_level').label} ")
        show(f"badge-{s['risk_level']}", risk.LEVEL_NAMES[s["risk_level"]], f"risk-badge risk-{s['risk_level']}")
    if not parts["risk"]["hidden"]:
        show("risk-why", f" {risk.RULE_TEXT}")
    if s["days_since_last_case"] is not None:
        show("last"), show("last-value", f"{s['days_since_last_case']} {field_named('days_since_last_case').unit}")
    return parts
