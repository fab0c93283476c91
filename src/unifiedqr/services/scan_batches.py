"""Offline scanners: a batch upload of up to ``batch_cap`` scans with device times and idempotency keys.

Why it looks the way it does (measured in bench/checkins.py): the P-256 verification of each
signed code is the floor, so everything else is per batch, not per row: one query for the keys
already stored, one per kind of identity to resolve people, one for the visitors' earlier scans,
then one bulk insert (``COPY`` on PostgreSQL) and a single commit before the answer. Keys belong to
the device (``scan_keys``, unique by venue, device and key): a key claimed by a concurrent retry is
reported ``already_recorded``, so a repeated upload lands once, and two devices never collide.
Malformed items are reported in their own result (the HTTP edge validates each item on its own, so
one bad item never refuses the batch); the rest land.

Clock skew: the device sends its clock (``sent_at``); the difference to the server's is recorded
on the batch, and beyond ``skew_tolerance_seconds`` every item's time is corrected by it (the
device's own time stays in ``device_at``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from unifiedqr.errors import Code, InvalidInput, NotFound, PayloadTooLarge, ScanRejected
from unifiedqr.services import dcc_scans
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.scan_rules import direction_of, idempotency_key_of, scan_row, within_retention
from unifiedqr.services.times import parse_instant
from unifiedqr.services.venue_runtime import VenueInfo, entrance_of, venue_for
from unifiedqr.services.visitors import Visitor, identify, resolve
from unifiedqr.services.visits import IN, Tracker, VisitRules
from unifiedqr.store.scan_rows import ScanRows, key_scope
from unifiedqr.store.venue_models import ScanBatch


@dataclass(frozen=True)
class BatchScan:
    """One scan from a device's queue (the device's time ``at`` and ``idempotency_key`` required)."""

    idempotency_key: str
    at: str
    text: str | None = None
    phone: str | None = None
    direction: str | None = None
    entrance_id: str | None = None


@dataclass(frozen=True)
class InvalidItem:
    """An item the edge could not read as a :class:`BatchScan` (reported, never stored)."""

    field: str
    reason: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class BatchUpload:
    venue_id: str
    device_id: str
    scans: Sequence[BatchScan | InvalidItem]
    entrance_id: str | None = None
    sent_at: str | None = None


@dataclass(frozen=True)
class ItemResult:
    index: int
    idempotency_key: str | None
    status: str  # recorded | already_recorded | rejected
    direction: str | None = None
    verification: str | None = None
    field: str | None = None
    reason: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class BatchResult:
    venue_id: str
    device_id: str
    received_at: dt.datetime
    clock_skew_seconds: int
    skew_corrected: bool
    recorded: int
    already_recorded: int
    rejected: int
    results: list[ItemResult]


@dataclass(frozen=True)
class _Checked:
    """An item through the cheap checks (pass 1): key, times, entrance, direction."""

    index: int
    key: str
    entrance_id: int
    explicit: str | None
    device_at: dt.datetime
    occurred_at: dt.datetime


@dataclass(frozen=True)
class _Fresh:
    """An item not stored yet, with what the scanner read (pass 2)."""

    checked: _Checked
    visitor: Visitor


def _rejected(index: int, key: str | None, exc: InvalidInput | NotFound) -> ItemResult:
    return ItemResult(index, key, "rejected", field=exc.field, reason=exc.reason, code=exc.code)


def _skew(
    ctx: Services, upload: BatchUpload, now: dt.datetime
) -> tuple[dt.datetime | None, int, dt.timedelta]:
    """The device clock when sending, the measured skew in seconds, and the correction applied."""
    if upload.sent_at is None:
        return None, 0, dt.timedelta(0)
    sent_at = parse_instant(upload.sent_at, "sent_at")
    skew = round((sent_at - now).total_seconds())
    applied = skew if abs(skew) > ctx.venues.rules.skew_tolerance_seconds else 0
    return sent_at, skew, dt.timedelta(seconds=applied)


def _check_items(
    ctx: Services,
    info: VenueInfo,
    upload: BatchUpload,
    now: dt.datetime,
    correction: dt.timedelta,
    results: list[ItemResult | None],
) -> list[_Checked]:
    """Pass 1, cheap; the signature check waits for pass 2, so a retried upload verifies nothing."""
    rules = ctx.venues.rules
    default_entrance = entrance_of(info, upload.entrance_id)
    checked: list[_Checked] = []
    seen: set[str] = set()
    for index, item in enumerate(upload.scans):
        if isinstance(item, InvalidItem):
            rejected = ScanRejected(item.field, Code.MALFORMED, item.reason)
            results[index] = _rejected(index, item.idempotency_key, rejected)
            continue
        where = f"scans[{index}]"
        try:
            key = idempotency_key_of(item.idempotency_key, f"{where}.idempotency_key")
            assert key is not None  # required by BatchScan
            if key in seen:
                raise ScanRejected(
                    f"{where}.idempotency_key", Code.DUPLICATE_KEY, "appears twice in this batch"
                )
            seen.add(key)
            device_at = parse_instant(item.at, f"{where}.at")
            occurred = within_retention(rules, device_at - correction, now, f"{where}.at")
            entrance_id = (
                default_entrance
                if item.entrance_id is None
                else entrance_of(info, item.entrance_id, f"{where}.entrance_id")
            )
            explicit = direction_of(item.direction, f"{where}.direction")
            checked.append(_Checked(index, key, entrance_id, explicit, device_at, occurred))
        except (InvalidInput, NotFound) as exc:
            results[index] = _rejected(index, item.idempotency_key, exc)
    return checked


def _read_scans(
    ctx: Services,
    upload: BatchUpload,
    checked: list[_Checked],
    stored: dict[str, str],
    now: dt.datetime,
    results: list[ItemResult | None],
) -> list[_Fresh]:
    """Pass 2: what the scanner read, for the items not stored yet (signatures verified here)."""
    trust = ctx.venues.trust()
    fresh: list[_Fresh] = []
    for item in checked:
        if item.key in stored:
            results[item.index] = ItemResult(
                item.index, item.key, "already_recorded", direction=stored[item.key]
            )
            continue
        scan = upload.scans[item.index]
        assert isinstance(scan, BatchScan)
        try:
            visitor = identify(
                scan.text,
                scan.phone,
                trust,
                now,
                f"scans[{item.index}].text",
                passport=lambda text: dcc_scans.door_visitor(ctx, text)[0],
            )
        except InvalidInput as exc:
            results[item.index] = _rejected(item.index, item.key, exc)
            continue
        fresh.append(_Fresh(item, visitor))
    return fresh


def ingest_batch(ctx: Services, principal: Principal, upload: BatchUpload) -> BatchResult:
    """Up to ``batch_cap`` scans from one device; each item lands once, whatever the retries."""
    cap = ctx.settings.venues.batch_cap
    if len(upload.scans) > cap:
        raise PayloadTooLarge(
            "scans",
            f"batch_too_large: at most {cap} scans per request, got {len(upload.scans)}",
            code=Code.BATCH_TOO_LARGE,
        )
    info = venue_for(ctx, principal, upload.venue_id, Permission.VENUE_SCANS_SUBMIT)
    if not 1 <= len(upload.device_id) <= 64:
        raise InvalidInput("device_id", "must be 1 to 64 characters")
    now = ctx.now()
    try:
        sent_at, skew, correction = _skew(ctx, upload, now)
    except ScanRejected as exc:
        raise InvalidInput("sent_at", exc.reason) from None
    results: list[ItemResult | None] = [None] * len(upload.scans)
    checked = _check_items(ctx, info, upload, now, correction, results)
    scope = key_scope(upload.device_id, principal.account_id)
    with ctx.db.read() as session:
        sql = ScanRows(session)
        stored = sql.stored(info.id, scope, [c.key for c in checked])
        fresh = _read_scans(ctx, upload, checked, stored, now, results)
        rows = _rows(ctx, info, sql, fresh, principal.account_id, now, results, scope)
    rejected = sum(1 for r in results if r is not None and r.status == "rejected")
    with ctx.db.write() as session:
        batch = ScanBatch(
            venue_id=info.id,
            account_id=principal.account_id,
            device_id=upload.device_id,
            device_sent_at=sent_at,
            clock_skew_seconds=skew,
            items=len(upload.scans),
            accepted=len(rows),
            rejected=rejected,
            received_at=now,
        )
        session.add(batch)
        session.flush()
        for row in rows:
            row["batch_id"] = batch.id
        sql = ScanRows(session)
        raced = sql.insert(rows)
        if raced:  # a concurrent retry of the same items committed first: theirs stand
            again = sql.stored(info.id, scope, [key for _, key in raced])
            _already(results, again)
            batch.accepted = len(rows) - len(raced)
    done = [r for r in results if r is not None]
    assert len(done) == len(results)
    recorded = sum(1 for r in done if r.status == "recorded")
    already = sum(1 for r in done if r.status == "already_recorded")
    return BatchResult(
        info.public_id, upload.device_id, now, skew, bool(correction), recorded, already, rejected, done
    )


def _already(results: list[ItemResult | None], stored: dict[str, str]) -> None:
    for index, item in enumerate(results):
        if item is not None and item.status == "recorded" and item.idempotency_key in stored:
            key = item.idempotency_key
            results[index] = ItemResult(index, key, "already_recorded", direction=stored[key])


def _rows(
    ctx: Services,
    info: VenueInfo,
    sql: ScanRows,
    fresh: list[_Fresh],
    account_id: int | None,
    now: dt.datetime,
    results: list[ItemResult | None],
    scope: str,
) -> list[dict[str, Any]]:
    """The rows of the new scans, with their directions merged with the visitors' stored scans."""
    rules = ctx.venues.rules
    people = resolve(ctx.vault, sql, [f.visitor for f in fresh])
    earlier: dict[bytes, list[tuple[dt.datetime, str | None]]] = {}
    if fresh:
        start = rules.day_bounds(rules.local_day(min(f.checked.occurred_at for f in fresh)))[0]
        end = rules.day_bounds(rules.local_day(max(f.checked.occurred_at for f in fresh)))[1]
        earlier = sql.earlier(info.id, sorted({k for k, _ in people}), start, end)
    directions = _batch_directions(rules, info.stay(rules), fresh, people, earlier)
    rows = []
    for item, (person_key, person_id), direction in zip(fresh, people, directions, strict=True):
        c = item.checked
        rows.append(
            scan_row(
                ctx.vault,
                info,
                item.visitor,
                person_key,
                person_id,
                entrance_id=c.entrance_id,
                account_id=account_id,
                source="batch",
                explicit=c.explicit,
                direction=direction,
                idempotency_key=c.key,
                key_scope=scope,
                device_at=c.device_at,
                occurred_at=c.occurred_at,
                received_at=now,
            )
        )
        results[c.index] = ItemResult(c.index, c.key, "recorded", direction, item.visitor.verification)
    return rows


def _batch_directions(
    rules: VisitRules,
    stay: dt.timedelta,
    fresh: Sequence[_Fresh],
    people: Sequence[tuple[bytes, int | None]],
    earlier: dict[bytes, list[tuple[dt.datetime, str | None]]],
) -> list[str]:
    """Directions of new scans, merged in time order with the visitors' stored scans today."""
    per_person: dict[bytes, list[tuple[dt.datetime, int, int, str | None]]] = defaultdict(list)
    for position, (item, (key, _)) in enumerate(zip(fresh, people, strict=True)):
        per_person[key].append((item.checked.occurred_at, 1, position, item.checked.explicit))
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
