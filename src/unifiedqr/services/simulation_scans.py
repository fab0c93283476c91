"""The simulator's scans as platform rows: who each scan names, masked and encrypted as a door would.

A scan row carries what :func:`unifiedqr.services.scan_rules.scan_row` writes for a live scan: the
visitor's key (``qid:`` for registered people, ``phone:`` for the unregistered, exactly as
:func:`unifiedqr.services.visitors.resolve` derives it), the person row, the masked name and
phone, and the encrypted identity of what was scanned (the code's fields, the card's, or the phone).
Those are per person and per kind of code, so they are computed once per person
(:class:`People`); a chunk of 25 k scans then becomes columns by indexing (:class:`ScanWriter`).

One identity ciphertext serves all of a person's scans of one kind: the plaintext is the same, so
sharing it reveals nothing the ``person_key`` column does not (AES-GCM's nonce is fresh per
encryption; reusing a *ciphertext* is not reusing a nonce).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from unifiedqr.services.bulk_registry import Registered
from unifiedqr.services.context import Services
from unifiedqr.services.population import CODE_KINDS, EXPLICIT, SOURCES, BatchChunk, PersonRow, ScanChunk
from unifiedqr.services.visitors import mask_name, mask_phone
from unifiedqr.store import scan_hours, scan_partitions
from unifiedqr.store.bulk_rows import BulkRows, Column, Epoch
from unifiedqr.store.sql import Raw
from unifiedqr.store.venue_models import ScanBatch, ScanEvent

_SEP = "\x1f"  # scan_rules.scan_row's separator of the identity fields
_PERSONAL, _PERSON, _CARD, _PHONE = range(4)  # indexes of population.CODE_KINDS
_VERIFICATION = ("valid", "valid", "none", "none")


class People:
    """Per simulated person: key, person row, QID, masks and one identity ciphertext per kind of code."""

    def __init__(self, ctx: Services, count: int) -> None:
        self.vault = ctx.vault
        self.key: list[bytes] = [b""] * count
        self.person_id = np.full(count, -1, dtype=np.int64)
        self._qid: list[str | None] = [None] * count
        self.name: list[str] = [""] * count
        self.phone: list[str | None] = [None] * count
        self.identity: tuple[list[bytes], ...] = tuple([b""] * count for _ in CODE_KINDS)

    def _encrypt(self, qid: str, name: str, document: str, phone: str) -> bytes:
        return self.vault.encrypt("scan_events.identity", _SEP.join((qid, name, document, phone)))

    def add_registered(self, row: PersonRow, who: Registered) -> None:
        i = row.sim_id
        self.key[i] = self.vault.lookup_hash("visitor", "qid:" + who.qid)[:16]
        self.person_id[i] = who.person_id
        self._qid[i] = who.qid
        self.name[i] = mask_name(who.full_name)
        self.phone[i] = mask_phone(who.phone)
        phone = who.phone or ""
        self.identity[_PERSONAL][i] = self._encrypt(who.qid, who.full_name, who.document_number, phone)
        self.identity[_PERSON][i] = self._encrypt(who.qid, who.full_name, "", phone)
        self.identity[_CARD][i] = self._encrypt("", row.full_name, who.document_number, "")
        self.identity[_PHONE][i] = self._encrypt("", "", "", phone)

    def add_unregistered(self, row: PersonRow) -> None:
        """Someone known only by their phone, typed at the public page (``phone:`` key, no person row)."""
        i = row.sim_id
        self.key[i] = self.vault.lookup_hash("visitor", "phone:" + row.phone)[:16]
        self.phone[i] = mask_phone(row.phone)
        blob = self._encrypt("", "", "", row.phone)
        for kind in self.identity:
            kind[i] = blob

    def qid(self, index: int) -> str:
        found = self._qid[index]
        assert found is not None
        return found

    def registered_mask(self) -> npt.NDArray[np.bool_]:
        mask: npt.NDArray[np.bool_] = self.person_id >= 0
        return mask


class ScanWriter:
    """Writes the model's stream (batches, then their scans) chunk by chunk, one transaction each."""

    def __init__(
        self,
        ctx: Services,
        people: People,
        venue_ids: npt.NDArray[np.int64],
        entrance_ids: npt.NDArray[np.int64],
    ) -> None:
        self.ctx = ctx
        self.people = people
        self.venue_ids = venue_ids
        self.entrance_ids = entrance_ids
        self.batch_ids: dict[int, int] = {}
        self.scans = 0
        self.batches = 0
        self.counts = np.zeros(len(people.key), dtype=np.int64)
        self._last = 0

    def last_day_done(self) -> int:
        """Scans written since the previous call (for a progress bar)."""
        done, self._last = self.scans - self._last, self.scans
        return done

    def write(self, item: ScanChunk | BatchChunk) -> None:
        with self.ctx.db.write() as session:
            bulk = BulkRows(session)
            if isinstance(item, BatchChunk):
                self._batches(bulk, item)
            else:
                if not self.ctx.db.is_sqlite:  # PostgreSQL: the days' partitions first (issue 11)
                    days = np.unique(item.occurred_at // 86400)
                    instants = [dt.datetime.fromtimestamp(int(d) * 86400, dt.UTC) for d in days]
                    scan_partitions.ensure_days(session, instants)
                bulk.insert(ScanEvent.__table__, self._columns(item))
                scan_hours.add(Raw.of(session), self._hours(item))
                self.scans += len(item)
                self.counts += np.bincount(item.person, minlength=len(self.counts))

    def _batches(self, bulk: BulkRows, item: BatchChunk) -> None:
        rows = item.batches
        before = bulk.max_id(ScanBatch.__table__)
        bulk.insert(
            ScanBatch.__table__,
            {
                "venue_id": [int(self.venue_ids[b.venue]) for b in rows],
                "account_id": [None] * len(rows),
                "device_id": [b.device_id for b in rows],
                "device_sent_at": [b.device_sent_at for b in rows],
                "clock_skew_seconds": [b.clock_skew_seconds for b in rows],
                "items": [b.items for b in rows],
                "accepted": [b.items for b in rows],
                "rejected": [0] * len(rows),
                "received_at": [b.received_at for b in rows],
            },
        )
        made = bulk.new_rows(ScanBatch.__table__, before, ("venue_id", "device_sent_at"))
        by_venue_time = {(venue, sent): row_id for row_id, venue, sent in made}
        for b in rows:
            self.batch_ids[b.batch] = by_venue_time[(int(self.venue_ids[b.venue]), b.device_sent_at)]
        self.batches += len(rows)

    def _hours(self, chunk: ScanChunk) -> dict[scan_hours.Key, int]:
        """The chunk's counts per UTC hour, venue and direction, for the dashboard's rollup (numpy:
        a chunk is a day of scans)."""
        keys = np.stack(
            [chunk.occurred_at // 3600, self.venue_ids[chunk.venue], chunk.is_out.astype(np.int64)]
        )
        found, counts = np.unique(keys, axis=1, return_counts=True)
        return {
            (dt.datetime.fromtimestamp(int(h) * 3600, dt.UTC), int(v), "out" if o else "in"): int(n)
            for (h, v, o), n in zip(found.T.tolist(), counts.tolist(), strict=True)
        }

    def _columns(self, chunk: ScanChunk) -> dict[str, Column]:
        p = self.people
        person = chunk.person.tolist()
        kinds = chunk.code_kind.tolist()
        pid = p.person_id[chunk.person].tolist()
        batch = [self.batch_ids[b] if b >= 0 else None for b in chunk.batch.tolist()]
        return {
            "venue_id": self.venue_ids[chunk.venue].tolist(),
            "entrance_id": self.entrance_ids[chunk.venue].tolist(),
            "batch_id": batch,
            "account_id": [None] * len(person),
            "person_key": [p.key[i] for i in person],
            "person_id": [None if x < 0 else x for x in pid],
            "source": [SOURCES[s] for s in chunk.source.tolist()],
            "code_kind": [CODE_KINDS[k] for k in kinds],
            "verification": [_VERIFICATION[k] for k in kinds],
            "explicit": [EXPLICIT[e] for e in chunk.explicit.tolist()],
            "direction": ["out" if o else "in" for o in chunk.is_out.tolist()],
            "name_masked": [p.name[i] if k != _PHONE else "" for i, k in zip(person, kinds, strict=True)],
            "phone_masked": [p.phone[i] if k != _CARD else None for i, k in zip(person, kinds, strict=True)],
            "identity_enc": [p.identity[k][i] for i, k in zip(person, kinds, strict=True)],
            "device_at": Epoch(chunk.device_at),
            "occurred_at": Epoch(chunk.occurred_at),
            "received_at": Epoch(chunk.received_at),
        }
