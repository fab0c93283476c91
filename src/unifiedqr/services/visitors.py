"""Who a scan names: classify what the scanner read, check it, mask it, and key the visitor.

Who is "the same person": a keyed hash (``person_key``) of the QID when the scan yields one, else
of the card number or phone; a card or phone that belongs to a registered person is keyed by that
person's QID, so a code scanned in and a card scanned out toggle one visit. The owner sees only the
masked name and phone (spec §6); the full identity is stored encrypted for authorities.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from unifiedqr.codes.build import normalise_phone
from unifiedqr.codes.cccd import looks_like_cccd, parse_cccd
from unifiedqr.codes.names import fold_name
from unifiedqr.codes.payload import parse_text
from unifiedqr.codes.signing import verify_signed_bytes
from unifiedqr.codes.trust import TrustList
from unifiedqr.codes.venue import is_venue_url
from unifiedqr.errors import Code, InvalidInput, ScanRejected
from unifiedqr.store.crypto import Vault
from unifiedqr.store.scan_rows import ScanRows

MAX_TEXT = 4096


class Visitor(NamedTuple):
    """Who a scan names, before the platform's records are consulted."""

    kind: str  # personal, personal_masked, cccd, phone, person
    verification: str  # a verification Status value, or "none" (card, phone)
    qid: str | None
    document: str | None
    phone: str | None
    name: str


def identify(
    text: object,
    phone: object,
    trust: TrustList,
    now: dt.datetime,
    field: str = "text",
    passport: Callable[[str], Visitor] | None = None,
) -> Visitor:
    """What the scanner read (or the typed phone), classified and checked; ScanRejected if unusable.

    ``passport`` reads an EU vaccine passport (HC1) where a door accepts them (staff scans);
    without it a passport is ``wrong_kind``.
    """
    if phone is not None:
        try:
            return Visitor("phone", "none", None, None, normalise_phone(str(phone)), "")
        except InvalidInput as exc:
            raise ScanRejected("phone", Code.MALFORMED, exc.reason) from None
    if not isinstance(text, str) or not text.strip():
        raise ScanRejected(field, Code.MALFORMED, "give the scanned text or a phone number")
    value = text.strip()
    if len(value) > MAX_TEXT:
        raise ScanRejected(field, Code.MALFORMED, f"longer than {MAX_TEXT} characters")
    fields = value.split("|")
    if len(fields) == 6 and fields[3] in ("0", "1"):
        try:
            code = parse_text(value, lenient=True)
        except InvalidInput as exc:
            raise ScanRejected(field, Code.MALFORMED, str(exc)) from None
        signature = code.signature
        status = (
            verify_signed_bytes(
                value[: -len(signature) - 1].encode("utf-8"), signature, trust, now
            ).status.value
            if signature
            else "unsigned"
        )
        masked = code.masked
        return Visitor(
            "personal_masked" if masked else "personal",
            status,
            code.qid,
            None if code.document_masked else code.document_number,
            code.phone,
            code.full_name,
        )
    if looks_like_cccd(fields):
        try:
            card = parse_cccd(value)
        except InvalidInput as exc:
            raise ScanRejected(field, Code.MALFORMED, str(exc)) from None
        return Visitor("cccd", "none", None, card.id_number, None, card.full_name)
    if passport is not None and value.startswith("HC1:"):
        return passport(value)
    if is_venue_url(value, allow_http=True) or value.startswith("HC1:"):  # refused either way
        kind = "eu_dcc" if value.startswith("HC1:") else "venue"
        raise ScanRejected(field, Code.WRONG_KIND, f"a {kind} code cannot be scanned at an entrance")
    if re.fullmatch(r"[+\d][\d .()-]{7,18}", value):
        return identify(None, value, trust, now, field)
    raise ScanRejected(field, Code.MALFORMED, "not a personal code, chip ID card QR or phone number")


def mask_name(name: str) -> str:
    """``NGUYEN LE KHA HAN`` -> ``N***** L* K** HAN``: the given name stays, the rest is initials."""
    try:
        folded = name if name.isascii() and name.isupper() else fold_name(name, "name")
    except InvalidInput:
        folded = " ".join(name.split()).upper()
    words = folded.split()
    if not words:
        return ""
    return " ".join([w[0] + "*" * (len(w) - 1) for w in words[:-1]] + [words[-1]])[:120]


def mask_phone(phone: str | None) -> str | None:
    return f"{phone[:3]}****{phone[-3:]}" if phone else None


def visitor_key(vault: Vault, label: str) -> bytes:
    """The 16-byte ``person_key`` of a visitor label (``qid:...``, ``doc:...``, ``phone:...``)."""
    return vault.lookup_hash("visitor", label)[:16]


def claimed_key(vault: Vault, visitor: Visitor) -> bytes:
    """The key of what a visitor *claims* (the code's QID, else the card number, else the phone),
    without consulting the registry: the check-in page's unverified scans."""
    if visitor.qid:
        return visitor_key(vault, "qid:" + visitor.qid)
    return visitor_key(
        vault, "doc:" + visitor.document if visitor.document else "phone:" + (visitor.phone or "")
    )


def resolve(vault: Vault, sql: ScanRows, visitors: Sequence[Visitor]) -> list[tuple[bytes, int | None]]:
    """``(person_key, person id or None)`` per visitor, with one look-up per kind of identity."""
    by_qid = sql.people_by_qid(sorted({v.qid for v in visitors if v.qid}))
    doc_hash = {
        v.document: vault.lookup_hash("document", "id:" + v.document)
        for v in visitors
        if v.kind == "cccd" and v.document
    }
    by_doc = sql.people_by_document(list(doc_hash.values()))
    phone_hash = {
        v.phone: vault.lookup_hash("phone", v.phone) for v in visitors if v.kind == "phone" and v.phone
    }
    by_phone = sql.people_by_phone(list(phone_hash.values()))
    out = []
    for v in visitors:
        person: tuple[int | None, str] | None = None
        if v.qid:
            person = (by_qid.get(v.qid), v.qid)
        elif v.document and v.document in doc_hash:
            person = by_doc.get(doc_hash[v.document])
        elif v.phone and v.phone in phone_hash and len(by_phone.get(phone_hash[v.phone], ())) == 1:
            person = by_phone[phone_hash[v.phone]][0]
        if person is not None:
            label = "qid:" + person[1]
        else:
            label = "doc:" + v.document if v.document else "phone:" + (v.phone or "")
        out.append((visitor_key(vault, label), person[0] if person else None))
    return out
