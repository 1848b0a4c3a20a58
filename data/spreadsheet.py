"""Text that goes back to people in a CSV or XLSX file (the exports, the open-data package, an upload's problem
rows): any cell that Excel or LibreOffice would run as a formula is written as the text it is (CSV injection)."""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text that Excel or LibreOffice would run as a formula (=, +, -, @, tab or CR at the start: CSV injection)
    gets a leading apostrophe, so it is shown as the text it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and header neutralised (a header comes from an uploaded file too): the one rule for every
    CSV or XLSX that goes back to a user."""
    out = frame.map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out
