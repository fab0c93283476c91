"""Benchmark: the check-in page's cost per submission as one person's scans pile up (issue 10 #6).

Issue 10 found each further scan of one person cost more (1 -> 11 ms over 4,000 submissions): the
visit toggle replayed the visitor's whole day at the venue before every insert. It now reads the
last counted scan from a partial index that leaves duplicates out. This submits ``--scans`` check-ins
of one personal code through the page's service call (``checkins.web_checkin``, SQLite file, the
page's rate limit lifted) twice in one run, on fresh databases:

- ``flat``: the shipped look-back (one probe of ``ix_scan_events_counted``);
- ``replay``: the same code path with the old look-back put back (every scan of the day fetched and
  replayed through the visit rules), so the before/after ratio survives a noisy machine;

and reports the median milliseconds per submission over the first and the last 200 (medians: the
machine is shared, and a neighbour's burst should not read as growth).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from support.common import open_services, report, row

OLD_LOOK_BACK = (
    "SELECT occurred_at, explicit FROM scan_events WHERE +venue_id = :venue_id AND person_key = :key"
    " AND occurred_at >= :start AND occurred_at <= :at ORDER BY occurred_at, id"
)


def _replay(rules: Any, stay: dt.timedelta) -> Any:
    """``ScanRows.last_counted`` computed the old way: the whole day fetched and replayed."""
    from unifiedqr.services.visits import DUPLICATE, Tracker
    from unifiedqr.store.sql import Statement, decode_time

    statement = Statement(OLD_LOOK_BACK)

    def last_counted(self: Any, venue_id: int, key: bytes, start: Any, at: Any, *, web: bool) -> Any:
        params = {"venue_id": venue_id, "key": key, "start": self.raw.time(start), "at": self.raw.time(at)}
        tracker, last = Tracker(rules, stay), None
        for occurred, explicit in self.raw.rows(statement, params):
            when = decode_time(occurred)
            direction = tracker.step(when, explicit)
            if direction != DUPLICATE:
                last = (when, direction)
        return last

    return last_counted


def run(scans: int, directory: Path, replay: bool) -> tuple[float, float]:
    from unifiedqr.codes.build import build
    from unifiedqr.codes.signing import sign_code
    from unifiedqr.config import Rate
    from unifiedqr.services import checkins, venues
    from unifiedqr.store.scan_rows import ScanRows

    ctx, operator = open_services(f"sqlite:///{directory / 'page.sqlite'}", directory / "secrets")
    ctx.settings = dataclasses.replace(
        ctx.settings, limits=dataclasses.replace(ctx.settings.limits, checkin_page=Rate(10**9, 1))
    )
    original = ScanRows.last_counted
    try:
        reg = venues.VenueRegistration("Chợ", "market", "HCM", "Q1", "BT", "1 Lê Lợi", "0911111111")
        venue = venues.register(ctx, operator, reg)
        info = ctx.venues.venue(venue.venue_id)
        assert info is not None
        now = dt.datetime.now(dt.UTC)
        code = build(
            document_number="001093029317", full_name="Nguyen Van An", birth_date="1990-01-01", qid="1" * 18
        )
        text = sign_code(code, ctx.keys.current(now), now).to_text()
        if replay:
            ScanRows.last_counted = _replay(ctx.venues.rules, info.stay(ctx.venues.rules))  # type: ignore[method-assign]
        times = []
        for _ in range(scans):
            start = time.perf_counter()
            checkins.web_checkin(ctx, info, text, None, "203.0.113.1")
            times.append((time.perf_counter() - start) * 1000)
        window = min(200, scans // 2)
        return statistics.median(times[:window]), statistics.median(times[-window:])
    finally:
        ScanRows.last_counted = original  # type: ignore[method-assign]
        ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=4000)
    parser.add_argument("--quick", action="store_true", help="1,000 scans (a few seconds)")
    args = parser.parse_args()
    if args.quick:
        args.scans = min(args.scans, 1000)
    rows = []
    for label, replay in (("flat", False), ("replay", True)):
        with tempfile.TemporaryDirectory(prefix="uqr-page-") as tmp:
            first, last = run(args.scans, Path(tmp), replay)
        rows += [
            row(f"page_{label}_first200", first, "ms/scan"),
            row(f"page_{label}_last200", last, "ms/scan", baseline=first),
        ]
    report("checkin_page", rows)


if __name__ == "__main__":
    main()
