"""Each HTTP request model mirrors the service command it becomes (one definition, checked).

The services' commands (frozen dataclasses) name the fields; the edge's Pydantic models add the
HTTP constraints and the OpenAPI. ``api.deps.mirrors`` records each pair; this test fails when a
field is added to one and not the other, or when a command requires what the edge may omit.
"""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from unifiedqr.api import app as app_module
from unifiedqr.api.deps import MIRRORS

for _name in app_module.ROUTER_MODULES:
    importlib.import_module(_name)


def test_every_router_declares_its_mirrors() -> None:
    assert len(MIRRORS) >= 12


@pytest.mark.parametrize(("model", "command", "path"), MIRRORS, ids=lambda v: getattr(v, "__name__", ""))
def test_model_and_command_name_the_same_fields(model, command, path) -> None:
    fields = {f.name: f for f in dataclasses.fields(command)}
    assert set(model.model_fields) | path == set(fields), (model.__name__, command.__name__)
    required = {
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    optional_at_edge = {name for name, f in model.model_fields.items() if not f.is_required()}
    assert not (required & optional_at_edge), (
        f"{command.__name__}: the edge may omit {required & optional_at_edge}"
    )
