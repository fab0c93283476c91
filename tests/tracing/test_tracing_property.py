"""Property, through the API on both databases: someone who never shares a venue with the case is never
a candidate, whatever the times (the same minute included); and every candidate has a scan within
±60 minutes of a case scan at the same venue."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tracing.tracing_helpers import local
from unifiedqr.services.tracing_data import person_key_of, visitor_id

BASE = local(4, 12)
WINDOW = (local(6, 0), local(1, 0))
_phones = itertools.count(1)

minutes = st.integers(min_value=-24 * 60, max_value=24 * 60)
case_scans = st.lists(st.tuples(st.sampled_from("AB"), minutes), min_size=1, max_size=3)
others = st.lists(
    st.lists(st.tuples(st.sampled_from("ABCD"), minutes), min_size=1, max_size=3), min_size=1, max_size=4
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case_scans=case_scans, others=others)
def test_never_sharing_a_venue_means_never_a_candidate(ctx, tw, case_scans, others):
    run = next(_phones)  # fresh venues per example: earlier examples' people are not in the way
    case = tw.person()
    for venue, offset in case_scans:
        tw.scan(f"{venue}{run}", case, BASE + dt.timedelta(minutes=offset))
    visitors = {}
    for scans in others:
        phone = f"0966{next(_phones):06d}"
        for venue, offset in scans:
            tw.phone_scan(f"{venue}{run}", phone, BASE + dt.timedelta(minutes=offset))
        visitors[visitor_id(person_key_of(ctx, "phone:" + phone))] = scans
    found = tw.candidates(tw.open_case(case, *WINDOW))
    for c in found:
        scans = visitors[c["visitor_id"]]
        assert {v for v, _ in scans} & {v for v, _ in case_scans}, "a candidate shares a venue"
        assert any(v == cv and abs(o - co) <= 60 for v, o in scans for cv, co in case_scans), (
            "and was there within ±60 minutes of the case"
        )
    strangers = {vid for vid, scans in visitors.items() if not {v for v, _ in scans} & {"A", "B"}}
    assert not strangers & {c["visitor_id"] for c in found}
    expected = {
        vid
        for vid, scans in visitors.items()
        if any(v == cv and abs(o - co) <= 60 for v, o in scans for cv, co in case_scans)
    }
    assert {c["visitor_id"] for c in found} == expected
