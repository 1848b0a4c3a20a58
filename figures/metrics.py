"""The map metrics offered in ``metric-select``: what each is called, its unit and how it is coloured."""
from __future__ import annotations

from dataclasses import dataclass

# White to dark red, as Chinese epidemic maps colour case counts; the first stop is for zero.
CASE_SCALE = ["#fff7ec", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"]
NO_DATA_COLOUR = "#d9d9d9"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    digits: int = 0


METRICS = {m.key: m for m in [
    Metric("confirmed_cum", "累计确诊", "例"),
    Metric("active", "现有确诊", "例"),
    Metric("new_7d", "近7日新增", "例"),
    Metric("confirmed_per_100k", "每10万人累计确诊", "例/10万人", 2),
    Metric("incidence_7d_per_100k", "每10万人近7日新增", "例/10万人", 2),
]}
DEFAULT_METRIC = "confirmed_cum"
