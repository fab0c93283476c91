"""Display modes and the masked "safe QR" variant (spec §3).

The default display masks the first 6 characters of the document number and the day and month of
the birth date; the safe QR carries those masked forms and leaves the phone and BHYT out, so a
screenshot shared on social media leaks neither (it is signed by the same rule as the full code).
"""

from __future__ import annotations

from unifiedqr.codes.payload import MASK, PersonalCode


def mask_document(document_number: str) -> str:
    """Default display mode: the first 6 characters replaced by ``*`` (``******029317``)."""
    return MASK * min(6, len(document_number)) + document_number[6:]


def mask_birth_date(birth_date: str) -> str:
    """Default display mode: day and month replaced by ``*`` (``1987-**-**``)."""
    return birth_date[:4] + "-**-**" if len(birth_date) >= 4 else birth_date


def display_document(code: PersonalCode, full: bool = False) -> str:
    return code.document_number if full else mask_document(code.document_number)


def display_birth_date(code: PersonalCode, full: bool = False) -> str:
    return code.birth_date if full else mask_birth_date(code.birth_date)


def masked_variant(code: PersonalCode) -> PersonalCode:
    """The "safe QR": SoGiayTo and NgaySinh masked, phone and BHYT left out, unsigned, still parses."""
    ext = [code.ext[0], code.ext[1] if len(code.ext) > 1 else "", "", ""]
    ext += list(code.extra)
    return PersonalCode(
        mask_document(code.document_number),
        code.full_name,
        mask_birth_date(code.birth_date),
        code.declarer,
        code.qid,
        tuple(ext),
        None,
    )
