"""``simulate``: fill a database with a synthetic population (issue 12), through the bulk paths.

Runs on the server's host like the admin commands (it needs the database and the keys), as the host
operator. Progress bars go to stderr (one per phase: people, venues, scans); the summary is one JSON
document on stdout whether or not ``--json`` is given (``--json`` is accepted like everywhere else),
with ``people``, ``venues``, ``scans``, ``seconds`` and ``sample_qids`` (up to 100 QIDs of registered
people with scans: good random cases for tracing).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from unifiedqr.cli.common import emit_json, json_option
from unifiedqr.cli.platform import DB_OPTION, open_services, operator
from unifiedqr.serialize import jsonable


class _Bars:
    """One click progress bar per phase, on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.phase: str | None = None
        self.bar: Any = None
        self.left = 0

    def update(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.phase, self.left = phase, total
            self.bar = click.progressbar(length=total, label=f"{phase:<7}", file=sys.stderr, show_pos=True)
            self.bar.__enter__()
        step = min(done, self.left)
        self.left -= step
        self.bar.update(step)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.left)
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("simulate")
@click.option("--people", type=click.IntRange(1, 10**8), required=True, help="People in the population.")
@click.option("--venues", type=click.IntRange(1, 10**7), required=True, help="Venues.")
@click.option("--days", type=click.IntRange(1, 3660), required=True, help="Days of scans.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
@click.option("--start", default=None, metavar="YYYY-MM-DD", help="First local day (default: end yesterday).")
@DB_OPTION
@json_option
def simulate_cmd(
    people: int, venues: int, days: int, seed: int, start: str | None, database_url: str | None, as_json: bool
) -> None:
    """Fill the database with a seeded synthetic population: people, venues, scans; print a JSON summary."""
    from unifiedqr.services.simulation import SimulationRequest, simulate

    ctx = open_services(database_url)
    bars = _Bars()
    try:
        summary = simulate(ctx, operator(), SimulationRequest(people, venues, days, seed, start), bars.update)
    finally:
        bars.close()
        ctx.close()
    emit_json(jsonable(summary))
