"""Fixtures for the tracing tests: the venue tests' own ``make_venue`` and ``person``, and a world."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.tracing.tracing_helpers import TracingWorld
from tests.venues import conftest as _venue_fixtures

make_venue = _venue_fixtures.make_venue
person = _venue_fixtures.person


@pytest.fixture
def tw(
    make_venue: Callable[..., Any], person: Callable[..., Any], make_user: Callable[..., Any]
) -> TracingWorld:
    """An official, and venues and people made on demand (``tw.venue("A")``, ``tw.person()``)."""
    return TracingWorld(make_venue, person, make_user("health_official"))
