"""The ranking of the units on `/`: the grid's text in the chosen order, the next sort after a click, and the
ranking as a download (CSV or XLSX)."""

from __future__ import annotations

import base64
import io

import pandas as pd

from data import formatting as fmt
from data import queries
from data.catalogue import title
from figures import tables
from geo import regions

DEFAULT_SORT = {"column": "confirmed_cum", "ascending": False}


def view_ranking(region: str, day: str, sort: dict | None = None) -> dict:
    """``ranking_cells`` of a view of `/`: the unit of ``region`` marked (none for the province), ``sort`` or the
    default order. The page is drawn with it and the table's callback answers with it."""
    unit = regions.unit_of(region)
    sort = sort or DEFAULT_SORT
    return ranking_cells(day, unit.adcode if unit else "", sort["column"], sort["ascending"])


def ranking_cells(day: str, selected: str, column: str, ascending: bool) -> dict:
    """The units on the day, sorted, as the text of the ranking grid (layouts.dashboard.ranking_skeleton):
    the adcode of each row, its name and class, each cell's text keyed (row, column), and the header labels."""
    units = tables.sort_ranking(queries.on_day(day, "unit"), column, ascending)
    arrow = "▲" if ascending else "▼"
    cells = {}
    for i, (_, row) in enumerate(units.iterrows()):
        missing = fmt.MISSING if row.get("status") == "missing" else "无数据"
        for c, (_, formatter) in tables.RANKING_COLUMNS.items():
            cells[(i, c)] = formatter(row.get(c), missing=missing)
    heads = {"name": title("name")} | {c: header for c, (header, _) in tables.RANKING_COLUMNS.items()}
    return {
        "order": list(units.index),
        "names": list(units["name"]),
        "cells": cells,
        "row_class": ["selected" if adcode == selected else "" for adcode in units.index],
        "heads": {c: f"{header}{arrow if c == column else ''}" for c, header in heads.items()},
        "aria_sort": {c: ("ascending" if ascending else "descending") if c == column else "none" for c in heads},
    }


def next_sort(current: dict, column: str) -> dict:
    """Clicking the sorted column flips the order; another column sorts descending (largest first)."""
    if current and current.get("column") == column:
        return {"column": column, "ascending": not current.get("ascending")}
    return {"column": column, "ascending": column == "name"}


def ranking_title(day: str) -> str:
    return f"各市（区）{fmt.day(day)}排名"


def ranking_download(day: str, sort: dict | None, kind: str) -> dict:
    """The ranking as sorted on screen, CSV or XLSX, with Chinese headers."""
    sort = sort or DEFAULT_SORT
    frame = tables.sort_ranking(queries.on_day(day, "unit"), sort["column"], sort["ascending"])
    zones = queries.zone_rows(day)  # functional zones as 其中 rows under their unit
    if kind == "xlsx":
        table = pd.read_csv(
            io.StringIO(tables.ranking_csv(frame, day, zones).lstrip("\ufeff")), dtype={title("adcode"): str}
        )
        return {
            "content": base64.b64encode(tables.to_xlsx(table, "各市区排名")).decode(),
            "base64": True,
            "filename": f"各市区排名_{day}.xlsx",
        }
    return {"content": tables.ranking_csv(frame, day, zones), "filename": f"各市区排名_{day}.csv", "type": "text/csv"}
