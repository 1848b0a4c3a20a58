"""Every server callback is declared where it is defined (callbacks/declare.py): what calling it needs, whether each
call is audited, whether its answer may come from the shared cache; the registries the gate and the cache read are
those declarations. And every id a callback names is in the validation layout (layouts/validation.py)."""

from __future__ import annotations

import json
import re

import pytest
from dash import dcc
from dash._utils import split_callback_id

from callbacks import declare
from data import cache
from security import roles

ROUTER = "_pages_content"  # Dash's page router: the route table decides (security/roles.py ROUTES)


@pytest.fixture(scope="module")
def callback_map(app_module):
    return app_module.app.callback_map


def _server_callbacks(callback_map) -> dict:
    """Dash's callbacks that run on the server (a clientside one has no function), by id, without Dash's own."""
    return {
        key: spec
        for key, spec in callback_map.items()
        if spec.get("callback") is not None and ROUTER not in key and spec["callback"].__name__ != "cancel_call"
    }


def test_every_server_callback_is_declared(callback_map):
    undeclared = [key for key in _server_callbacks(callback_map) if key not in declare.DECLARATIONS]
    assert undeclared == []
    for key, spec in _server_callbacks(callback_map).items():
        declared = declare.DECLARATIONS[key]
        func = spec["callback"]
        assert declared.name == f"{func.__module__}.{func.__name__}"
        assert roles.callback_permission(func.__module__, func.__name__) == (declared.permission, declared.audit)
    assert set(declare.DECLARATIONS) <= set(callback_map)


def test_the_cancel_of_a_background_job_needs_what_starting_it_needs(callback_map):
    cancels = [
        spec["callback"]
        for spec in callback_map.values()
        if spec.get("callback") is not None and spec["callback"].__name__ == "cancel_call"
    ]
    assert cancels, "the briefing pack can be cancelled"
    for func in cancels:
        assert roles.callback_permission(func.__module__, func.__name__) == ("export", None)


def _components(layout):
    yield layout
    yield from layout._traverse()  # Dash has no public walk over a layout


def _downloads(layout) -> set[str]:
    return {c.id for c in _components(layout) if isinstance(c, dcc.Download)}


def _outputs(key: str) -> list[dict]:
    if "." not in key:
        return []  # a callback without outputs: Dash's id for it is a hash
    parts = split_callback_id(key)
    return parts if isinstance(parts, list) else [parts]


def test_the_audited_callbacks_are_the_downloads(app_module, callback_map):
    """Whatever hands a file out of the system is written to the audit log, and only that."""
    from layouts.validation import validation_layout

    with app_module.server.test_request_context("/"):
        downloads = _downloads(validation_layout())
    assert len(downloads) >= 6
    writes_a_download = {
        key
        for key in _server_callbacks(callback_map)
        if any(o["id"] in downloads and o["property"].split("@")[0] == "data" for o in _outputs(key))
    }
    audited = {key for key, declared in declare.DECLARATIONS.items() if declared.audit}
    assert audited == writes_a_download
    assert roles.audited() == {d.name: d.audit for d in declare.DECLARATIONS.values() if d.audit}
    assert all(declare.DECLARATIONS[key].permission in ("export", "upload") for key in audited)


def test_the_cached_callbacks_are_the_declared_ones(callback_map):
    shared = {key for key, declared in declare.DECLARATIONS.items() if declared.cache == declare.SHARED}
    assert shared and cache.CACHED_CALLBACKS == shared
    for key in shared:  # views anyone who may see the page gets alike: no export, no job, nothing a role adds to
        assert declare.DECLARATIONS[key].permission in ("view", "wall") and not declare.DECLARATIONS[key].audit
        assert not callback_map[key].get("background")
        assert cache.is_pure_callback(f'{{"output":{json.dumps(key)},"outputs":[]}}'.encode())
    for key in set(_server_callbacks(callback_map)) - shared:
        assert not cache.is_pure_callback(f'{{"output":{json.dumps(key)}}}'.encode()), key


def test_a_declaration_states_a_known_permission_and_a_consistent_cache():
    for bad in (
        {"permission": "everything"},
        {"permission": "view", "cache": "browser"},
        {"permission": "export", "audit": "导出", "cache": declare.SHARED},
    ):
        with pytest.raises(ValueError):
            declare.declared_callback(**bad)


WILDCARD_PROPS = re.compile(r"^(data|aria)-[\w-]+$")


def test_every_id_a_callback_names_is_in_the_validation_layout(app_module, callback_map):
    """What Dash checks in the browser with ``suppress_callback_exceptions=False``: each id of each callback's
    outputs, inputs and states is a component of some page (pattern-matching ids excepted: callbacks make those),
    and the property is one that component has."""
    from layouts.validation import validation_layout

    with app_module.server.test_request_context("/"):
        layout = validation_layout()
    components = {c.id: c for c in _components(layout) if isinstance(getattr(c, "id", None), str)}
    missing, unknown = [], []
    for key, spec in callback_map.items():
        for dependency in _outputs(key) + list(spec.get("inputs", [])) + list(spec.get("state", [])):
            component_id, prop = dependency["id"], dependency["property"].split("@")[0]
            if component_id.startswith("{"):
                continue  # a pattern-matching id
            component = components.get(component_id)
            if component is None:
                missing.append((key, component_id))
            elif prop not in component.available_properties and not WILDCARD_PROPS.match(prop):
                unknown.append((key, component_id, prop))
    assert missing == [] and unknown == []
