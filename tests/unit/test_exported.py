"""Pin each public facade the way httpx does (``tests/test_exported_members.py``): ``__all__`` lists
exactly the public names the module exposes, so growing a facade is a deliberate, reviewed change
and nothing is exported by accident (an import left public, a helper without an underscore)."""

from __future__ import annotations

import importlib
import types

import pytest

FACADES = ["unifiedqr", "unifiedqr.imaging", "unifiedqr.codes.dcc", "unifiedqr.imaging.tracing_pictures"]
PUBLIC_DUNDERS = {"__version__"}


@pytest.mark.parametrize("name", FACADES)
def test_all_public_members_are_exported(name: str) -> None:
    module = importlib.import_module(name)
    public = sorted(
        member
        for member, value in vars(module).items()
        if (not member.startswith("_") or member in PUBLIC_DUNDERS)
        and not isinstance(value, types.ModuleType)  # sub-modules are reached by their own path
        and member != "annotations"  # ``from __future__ import annotations``
    )
    assert sorted(module.__all__) == public


def test_the_package_facade_is_small() -> None:
    import unifiedqr

    assert sorted(unifiedqr.__all__) == ["InvalidInput", "UnifiedQRError", "__version__"]
