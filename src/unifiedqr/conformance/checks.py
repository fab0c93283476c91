"""The checks of the code itself: which symbol, its payload, its signature, one person on both screens.

Each function takes what was read and returns findings; none reads a file or the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

from unifiedqr.codes.payload import PersonalCode, parse
from unifiedqr.codes.signing import Status, verify_payload
from unifiedqr.codes.trust import TrustList
from unifiedqr.conformance.findings import Code, Finding, finding
from unifiedqr.conformance.symbol import SymbolReading
from unifiedqr.errors import InvalidInput

_SIGNATURE_CODES: Final = {
    Status.UNSIGNED: Code.SIGNATURE_UNSIGNED,
    Status.BAD_SIGNATURE: Code.SIGNATURE_INVALID,
    Status.UNKNOWN_KEY: Code.SIGNATURE_UNKNOWN_KEY,
    Status.CODE_REVOKED: Code.SIGNATURE_CODE_REVOKED,
    Status.KEY_REVOKED: Code.SIGNATURE_KEY_REVOKED,
    Status.KEY_EXPIRED: Code.SIGNATURE_KEY_EXPIRED,
    Status.KEY_NOT_YET_VALID: Code.SIGNATURE_KEY_NOT_YET_VALID,
}
_SIGNATURE_TEXT: Final = {
    Status.UNSIGNED: "the code carries no signature: it is not the nationally issued code",
    Status.BAD_SIGNATURE: "the signature does not match the code: the code was altered or forged",
    Status.UNKNOWN_KEY: "the code is signed with a key not on the trust list (self-signed or foreign)",
    Status.CODE_REVOKED: "this code was withdrawn (its signature is on the trust list's revoked codes)",
    Status.KEY_REVOKED: "the issuing key was revoked",
    Status.KEY_EXPIRED: "the issuing key had expired at the time of the assessment",
    Status.KEY_NOT_YET_VALID: "the issuing key was not yet valid at the time of the assessment",
}


def region_of(box: Sequence[float]) -> list[int]:
    return [round(v) for v in box]


# -- the code -----------------------------------------------------------------------------------------
def choose_symbol(
    screen: str, symbols: Sequence[SymbolReading]
) -> tuple[SymbolReading | None, list[Finding]]:
    """The personal code on the screen (the largest one if there are several)."""
    if not symbols:
        return None, [
            finding(
                Code.QR_NOT_FOUND,
                "no QR code could be read on the screen (the project's decoder, with its cascade)",
                screen,
            )
        ]
    personal = [s for s in symbols if s.kind == "personal"]
    chosen = personal[0] if personal else symbols[0]
    out: list[Finding] = []
    if len(symbols) > 1:
        out.append(
            finding(
                Code.QR_MULTIPLE,
                f"{len(symbols)} codes on the screen; a scanner may read the wrong one "
                "(the largest personal code was assessed)",
                screen,
                regions=[region_of(s.box) for s in symbols],
            )
        )
    if chosen.kind != "personal":
        out.append(
            finding(
                Code.PAYLOAD_NOT_PERSONAL,
                f"the code on the screen is not a personal QR code v1.1 (it reads as '{chosen.kind}')",
                screen,
                kind=chosen.kind,
                region=region_of(chosen.box),
            )
        )
    return chosen, out


def check_payload(screen: str, text: str) -> tuple[PersonalCode | None, list[Finding]]:
    """Strict v1.1; a code that parses only leniently is still compared with the display."""
    try:
        code = parse(text)
    except InvalidInput as strict:
        try:
            lenient = parse(text, lenient=True)
        except InvalidInput:
            lenient = None
        return lenient, [
            finding(
                Code.PAYLOAD_INVALID,
                f"the code is not a valid v1.1 payload: {strict}",
                screen,
                field=strict.field,
                reason=strict.reason,
            )
        ]
    out: list[Finding] = []
    if code.masked:
        missing = []
        if not code.document_masked:
            missing.append("the document number is not masked")
        if not code.birth_date_masked:
            missing.append("the birth date is not masked")
        if code.phone or code.insurance_number:
            missing.append("it still carries the phone or the health-insurance number")
        if missing:
            out.append(
                finding(
                    Code.PAYLOAD_SAFE_CODE_INCOMPLETE,
                    "a safe (masked) code must mask both the document number and the birth date and "
                    f"leave out the phone and BHYT numbers: {'; '.join(missing)}",
                    screen,
                )
            )
    return code, out


def check_signature(screen: str, text: str, trust: TrustList, at: dt.datetime) -> list[Finding]:
    result = verify_payload(text, trust, at)
    if result.status is Status.VALID:
        return [
            finding(
                Code.SIGNATURE_VALID,
                f"signature valid: key {result.key_id} of {result.issuer}",
                screen,
                key_id=result.key_id,
                issuer=result.issuer,
            )
        ]
    if result.status is Status.MALFORMED:
        return []  # reported as PAYLOAD_INVALID
    return [
        finding(
            _SIGNATURE_CODES[result.status],
            _SIGNATURE_TEXT[result.status],
            screen,
            outcome=result.status.value,
            key_id=result.key_id,
        )
    ]


def check_same_person(codes: dict[str, PersonalCode]) -> list[Finding]:
    if len(codes) < 2:
        return []
    qids = {screen: code.qid for screen, code in codes.items()}
    if len(set(qids.values())) > 1:
        return [
            finding(
                Code.SCREENS_DIFFERENT_PERSON,
                "the two screenshots show codes of different people (QIDs differ): the evidence must "
                "show one person's screen in both modes",
                seen=qids,
            )
        ]
    return []
