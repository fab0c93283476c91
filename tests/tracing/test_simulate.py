"""``unifiedqr simulate``: real registered people, venues and scans that look-ups and tracing can use.

Small populations only (the 10 M-scan runs are bench/tracing.py's); both databases through the
service, the command line on SQLite.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from collections import Counter

from click.testing import CliRunner
from sqlalchemy import func, select

from tests.support import OPERATOR
from unifiedqr.cli import main
from unifiedqr.codes.payload import parse
from unifiedqr.codes.signing import verify_payload
from unifiedqr.services import people, registry, tracing
from unifiedqr.services.auth import principal_for
from unifiedqr.services.keys import trust_list
from unifiedqr.services.simulation import SimulationRequest, simulate
from unifiedqr.store import scan_hours
from unifiedqr.store.models import Account, Household, Person, PersonDocument, PersonPlatform
from unifiedqr.store.venue_models import ScanBatch, ScanEvent, ScanHour, Venue

SMALL = SimulationRequest(people=400, venues=15, days=3, seed=7, start=None)


def count(ctx, model) -> int:
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def official(ctx, make_user):
    client = make_user("health_official")
    return ctx.authenticate("Bearer " + client.token)


def test_simulated_people_are_registered_as_the_registry_would(ctx, make_user):
    summary = simulate(ctx, OPERATOR, SMALL)
    assert (summary.people, summary.venues) == (400, 15)
    assert 0 < summary.registered < 400, "about 3 % check in by phone only"
    assert (
        count(ctx, Person) == count(ctx, PersonDocument) == count(ctx, PersonPlatform) == summary.registered
    )
    assert count(ctx, Household) > 0, "children are registered by a parent"
    assert count(ctx, ScanEvent) == summary.scans > 0 and count(ctx, Venue) == 15
    assert count(ctx, ScanBatch) == summary.batches
    with ctx.db.read() as session:  # the dashboard's rollup is kept by the bulk path too
        hours = session.execute(
            select(ScanHour.hour, ScanHour.province, ScanHour.direction, func.sum(ScanHour.scans)).group_by(
                ScanHour.hour, ScanHour.province, ScanHour.direction
            )
        ).all()
        events = session.execute(
            select(ScanEvent.occurred_at, Venue.province, ScanEvent.direction).join(
                Venue, Venue.id == ScanEvent.venue_id
            )
        ).all()
    assert {(h, p, d): n for h, p, d, n in hours} == Counter(
        (scan_hours.hour_of(at), p, d) for at, p, d in events if d != "duplicate"
    )
    assert 0 < len(summary.sample_qids) <= 100
    who = official(ctx, make_user)
    qid = summary.sample_qids[0]
    record = people.get_person(ctx, who, qid, purpose="investigation")
    code = people.get_code(ctx, who, qid)
    assert parse(code).qid == qid and record.document_number == parse(code).document_number
    assert verify_payload(code, trust_list(ctx.db), ctx.now()).status.value == "valid"
    # The document's keyed hash is the registry's: registering the same person again finds them.
    with ctx.db.read() as session:
        platform = session.scalars(select(Account).where(Account.public_id == summary.platform_id)).one()
    as_platform = principal_for(platform.id, platform.public_id, "platform", "P", None)
    again = registry.register(
        ctx,
        as_platform,
        registry.Registration(record.document_number, record.full_name, record.birth_date, record.gender),
    )
    assert (again.qid, again.created) == (qid, False)


def test_tracing_works_on_simulated_data(ctx, make_user):
    summary = simulate(ctx, OPERATOR, SimulationRequest(people=600, venues=8, days=3, seed=3))
    who = official(ctx, make_user)
    end = ctx.now()
    found_any = False
    for qid in summary.sample_qids[:10]:
        case = tracing.open_case(
            ctx, who, tracing.NewCase(qid, (end - dt.timedelta(days=5)).isoformat(), end.isoformat())
        )
        assert case.case_scans and case.case_scans > 0, "sample QIDs are people with scans"
        listed = tracing.candidates(ctx, who, case.case_id)
        assert all(c.qid != qid for c in listed.candidates)
        found_any = found_any or bool(listed.candidates)
    assert found_any, "8 venues and 600 people: somebody met somebody"


def test_the_same_seed_gives_the_same_population(tmp_path):
    env = {"UNIFIEDQR_DATA_DIR": str(tmp_path / "secrets")}
    args = shlex.split("simulate --people 300 --venues 10 --days 2 --seed 5 --start 2026-11-01")
    runs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.sqlite"
        result = CliRunner().invoke(main, [*args, "--database-url", url, "--json"], env=env)
        assert result.exit_code == 0, result.output
        runs.append(json.loads(result.stdout))
    a, b = runs
    assert {"people", "venues", "scans", "seconds", "sample_qids"} <= set(a)
    assert (a["people"], a["venues"], a["scans"]) == (b["people"], b["venues"], b["scans"])
    assert a["sample_qids"] == b["sample_qids"] and len(a["sample_qids"]) <= 100
    assert a["first_day"] == "2026-11-01" and a["last_day"] == "2026-11-02"


def test_simulate_refuses_nonsense_sizes(tmp_path):
    result = CliRunner().invoke(
        main, ["simulate", "--people", "0", "--venues", "1", "--days", "1", "--database-url", "sqlite://"]
    )
    assert result.exit_code == 2


def test_fewer_venues_than_venue_types_still_simulates(ctx):
    """Regression: a model with no school (3 venues, 8 types) failed building its choosers."""
    summary = simulate(ctx, OPERATOR, SimulationRequest(people=60, venues=3, days=2, seed=4))
    assert summary.venues == 3 and summary.scans > 0
