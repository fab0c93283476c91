"""Fixtures of the look-up, access-log and retention tests: the venue world of tests/venues, reused."""

from tests.venues.conftest import make_venue, person, world  # noqa: F401  (fixtures)
