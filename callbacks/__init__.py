"""The Dash callbacks: thin wiring between the pages' components and the views (views/). Each module declares its
callbacks when imported; some import their page's layout, which Dash accepts only once an app exists, so the app
factory calls ``register()`` after making the app."""

from __future__ import annotations

import importlib

MODULES = (
    "dashboard",
    "flows",
    "resources",
    "data_page",
    "exports",
    "wall",
    "alerts",
    "tasks",
    "admin",
    "models",
    "a11y",
    "report",
)


def register() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
