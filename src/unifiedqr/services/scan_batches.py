"""Offline scanners: a batch upload of up to ``batch_cap`` scans with device times and idempotency keys.

Why it looks the way it does (measured in bench/checkins.py): the P-256 verification of each
signed code is the floor, so everything else is per batch, not per row: one query for the keys
already stored, one per kind of identity to resolve people, one for the visitors' earlier scans,
then one bulk insert (``INSERT ... ON CONFLICT DO NOTHING``; ``COPY`` on PostgreSQL) and a single
commit before the answer. The unique ``(venue_id, idempotency_key)`` settles races between retries,
so a repeated upload lands once. Malformed items are reported in their own result; the rest land.

Clock skew: the device sends its clock (``sent_at``); the difference to the server's is recorded
on the batch, and beyond ``skew_tolerance_seconds`` every item's time is corrected by it (the
device's own time stays in ``device_at``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

from unifiedqr.errors import InvalidInput, NotFound, PayloadTooLarge
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.checkins import direction_of, idempotency_key_of, parse_at, scan_row, within_retention
from unifiedqr.services.context import Services
from unifiedqr.services.venue_runtime import ScanRejected, entrance_of, runtime, venue_for
from unifiedqr.services.visitors import Visitor, identify, resolve
from unifiedqr.services.visits import IN, Tracker, VisitRules
from unifiedqr.store.scan_sql import ScanSQL
from unifiedqr.store.venue_models import ScanBatch


class _Item(NamedTuple):
    position: int
    key: str
    visitor: Visitor
    entrance_id: int
    explicit: str | None
    device_at: dt.datetime
    occurred_at: dt.datetime


def ingest_batch(ctx: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Up to ``batch_cap`` scans from one device; each item lands once, whatever the retries."""
    rt = runtime(ctx)
    rules, cap = rt.config.rules, rt.config.batch_cap
    scans = body.get("scans")
    if not isinstance(scans, list):
        raise InvalidInput("scans", "must be a list of scans")
    if len(scans) > cap:
        raise PayloadTooLarge("scans", f"batch_too_large: at most {cap} scans per request, got {len(scans)}")
    venue_id = body.get("venue_id")
    if not isinstance(venue_id, str):
        raise InvalidInput("venue_id", "is required")
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_SCANS_SUBMIT)
    device = body.get("device_id")
    if not isinstance(device, str) or not 1 <= len(device) <= 64:
        raise InvalidInput("device_id", "must be 1 to 64 characters")
    default_entrance = entrance_of(info, body.get("entrance_id"))
    now = ctx.now()
    skew = 0
    sent_at = None
    if body.get("sent_at") is not None:
        try:
            sent_at = parse_at(body["sent_at"], now, "sent_at")
        except ScanRejected as exc:
            raise InvalidInput("sent_at", exc.reason) from None
        skew = round((sent_at - now).total_seconds())
    correction = dt.timedelta(seconds=skew if abs(skew) > rules.skew_tolerance_seconds else 0)
    trust = rt.trust()

    results: list[dict[str, Any] | None] = [None] * len(scans)

    def reject(index: int, scan: object, exc: ScanRejected | NotFound) -> None:
        key = scan.get("idempotency_key") if isinstance(scan, dict) else None
        results[index] = {
            "index": index,
            "idempotency_key": key,
            "status": "rejected",
            "field": exc.field,
            "reason": exc.reason,
        }

    # Pass 1, cheap: keys, times, entrances, directions. The signature check waits for pass 2, so a
    # retried upload (its keys already stored) costs no P-256 verification at all.
    checked: list[tuple[int, str, int, str | None, dt.datetime, dt.datetime]] = []
    seen: set[str] = set()
    for index, scan in enumerate(scans):
        try:
            if not isinstance(scan, dict):
                raise ScanRejected(f"scans[{index}]", "malformed", "must be an object")
            key = idempotency_key_of(scan.get("idempotency_key"), f"scans[{index}].idempotency_key")
            if key is None:
                raise ScanRejected(f"scans[{index}].idempotency_key", "malformed", "is required in a batch")
            if key in seen:
                raise ScanRejected(
                    f"scans[{index}].idempotency_key", "duplicate_key", "appears twice in this batch"
                )
            seen.add(key)
            if scan.get("at") is None:
                raise ScanRejected(
                    f"scans[{index}].at", "malformed", "the device time is required in a batch"
                )
            device_at = parse_at(scan["at"], now, f"scans[{index}].at")
            occurred = within_retention(rules, device_at - correction, now, f"scans[{index}].at")
            entrance = scan.get("entrance_id")
            entrance_id = (
                default_entrance
                if entrance is None
                else entrance_of(info, entrance, f"scans[{index}].entrance_id")
            )
            explicit = direction_of(scan.get("direction"), f"scans[{index}].direction")
            checked.append((index, key, entrance_id, explicit, device_at, occurred))
        except (ScanRejected, NotFound) as exc:
            reject(index, scan, exc)

    with ctx.db.read() as session:
        sql = ScanSQL(session.connection())
        stored = sql.stored(info.id, [c[1] for c in checked])
        # Pass 2: what the scanner read, for the scans not stored yet.
        items: list[_Item] = []
        for index, key, entrance_id, explicit, device_at, occurred in checked:
            if key in stored:
                results[index] = {
                    "index": index,
                    "idempotency_key": key,
                    "status": "already_recorded",
                    "direction": stored[key],
                }
                continue
            scan = scans[index]
            try:
                visitor = identify(scan.get("text"), scan.get("phone"), trust, now, f"scans[{index}].text")
            except ScanRejected as exc:
                reject(index, scan, exc)
                continue
            items.append(_Item(index, key, visitor, entrance_id, explicit, device_at, occurred))
        fresh = items
        people = resolve(ctx, sql, [i.visitor for i in fresh])
        earlier: dict[bytes, list[tuple[dt.datetime, str | None]]] = {}
        if fresh:
            first = min(i.occurred_at for i in fresh)
            last = max(i.occurred_at for i in fresh)
            start = rules.day_bounds(rules.local_day(first))[0]
            end = rules.day_bounds(rules.local_day(last))[1]
            earlier = sql.earlier(info.id, sorted({k for k, _ in people}), start, end)
    rejected = sum(1 for r in results if r is not None and r["status"] == "rejected")

    directions = _batch_directions(rules, info.stay(rules), fresh, people, earlier)
    rows = []
    for item, (person_key, person_id), direction in zip(fresh, people, directions, strict=True):
        rows.append(
            scan_row(
                ctx,
                info,
                item.visitor,
                person_key,
                person_id,
                entrance_id=item.entrance_id,
                account_id=principal.account_id,
                source="batch",
                explicit=item.explicit,
                direction=direction,
                idempotency_key=item.key,
                device_at=item.device_at,
                occurred_at=item.occurred_at,
                received_at=now,
            )
        )
        results[item.position] = {
            "index": item.position,
            "idempotency_key": item.key,
            "status": "recorded",
            "direction": direction,
            "verification": item.visitor.verification,
        }
    with ctx.db.write() as session:
        batch = ScanBatch(
            venue_id=info.id,
            account_id=principal.account_id,
            device_id=device,
            device_sent_at=sent_at,
            clock_skew_seconds=skew,
            items=len(scans),
            accepted=len(rows),
            rejected=rejected,
            received_at=now,
        )
        session.add(batch)
        session.flush()
        for row in rows:
            row["batch_id"] = batch.id
        ScanSQL(session.connection()).insert(rows)
    return {
        "venue_id": info.public_id,
        "device_id": device,
        "received_at": now.isoformat(),
        "clock_skew_seconds": skew,
        "skew_corrected": bool(correction),
        "recorded": len(rows),
        "already_recorded": len(stored),
        "rejected": rejected,
        "results": results,
    }


def _batch_directions(
    rules: VisitRules,
    stay: dt.timedelta,
    fresh: Sequence[_Item],
    people: Sequence[tuple[bytes, int | None]],
    earlier: dict[bytes, list[tuple[dt.datetime, str | None]]],
) -> list[str]:
    """Directions of new scans, merged in time order with the visitors' stored scans today."""
    per_person: dict[bytes, list[tuple[dt.datetime, int, int, str | None]]] = defaultdict(list)
    for position, (item, (key, _)) in enumerate(zip(fresh, people, strict=True)):
        per_person[key].append((item.occurred_at, 1, position, item.explicit))
    out = [IN] * len(fresh)
    for key, new in per_person.items():
        timeline = [(at, 0, -1, explicit) for at, explicit in earlier.get(key, [])] + new
        timeline.sort(key=lambda t: (t[0], t[1], t[2]))
        tracker = Tracker(rules, stay)
        for at, is_new, position, explicit in timeline:
            direction = tracker.step(at, explicit)
            if is_new:
                out[position] = direction
    return out
