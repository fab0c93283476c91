"""The personal QR payload v1.1: ``SoGiayTo|HoTen|NgaySinh|LoaiDinhDanh|QID|EXT`` (spec §2).

The value keeps the exact text of every field, EXT as its list of ``<``-separated sub-fields, so that
``format_code(parse(s)) == s`` for every code that parses and a signature over the text stays checkable.
What the sub-fields *mean* (proxy QID, gender, BHYT, phone, unknown values) is derived from that list
by shape, as the spec's decision says: the phone is the last 10-digit number starting with 0, BHYT is
any sub-field of 2 letters + 13 digits, ``00`` and empty mean "no value", everything else is kept in
``extra``. The signature, when present, is the last sub-field (``<key id>.<base64url r||s>``).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import NamedTuple

from unifiedqr.codes.names import MAX_NAME_LENGTH, fold_name, is_normalised
from unifiedqr.errors import PayloadError, PayloadTooLarge

#: Longest payload accepted, in bytes of UTF-8, checked before anything is split.
MAX_PAYLOAD_BYTES = 4096
#: Most EXT sub-fields accepted (the two known forms have 4 and 5, plus a signature).
MAX_EXT_SUBFIELDS = 32

FIELD_NAMES = ("SoGiayTo", "HoTen", "NgaySinh", "LoaiDinhDanh", "QID", "EXT")

_CITIZEN_ID = re.compile(r"[0-9]{12}|[0-9]{9}")
_PASSPORT = re.compile(r"(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,9}")
_MASKED_DOC = re.compile(r"\*{6}[A-Z0-9]{0,6}")
_LENIENT_DOC = re.compile(r"[A-Za-z0-9]{5,20}")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MASKED_DATE = re.compile(r"[0-9]{4}-\*\*-\*\*")
_QID = re.compile(r"[0-9]{18}")
_LENIENT_QID = re.compile(r"[0-9]{1,32}")
PHONE = re.compile(r"0[0-9]{9}")
_PHONE_LIKE = re.compile(r"\+?[0-9]{8,13}")
BHYT = re.compile(r"[A-Z]{2}[0-9]{13}")
_BHYT_LIKE = re.compile(r"[A-Za-z]{2}[0-9]{8,16}")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{20,120}")
# Looks like a phone or a BHYT number but is neither (one regex per sub-field on the hot path).
_MALFORMED_NUMBER = re.compile(
    r"(?!0[0-9]{9}\Z|[A-Z]{2}[0-9]{13}\Z)(?:\+?[0-9]{8,13}|[A-Za-z]{2}[0-9]{8,16})"
)
_NO_VALUE = ("", "00")
_CANONICAL = re.compile(
    r"([0-9]{12}|[0-9]{9})\|([A-Z]+(?: [A-Z]+)*)\|(([0-9]{4})-([0-9]{2})-([0-9]{2}))\|([01])\|([0-9]{18})"
    r"\|([^\x00-\x1f\x7f|\ud800-\udfff]*)"
)
MASK = "*"


class Gender(enum.Enum):
    """EXT[1]: ``0`` unknown, ``1`` male, ``2`` female."""

    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Gender:
        try:
            return cls[label.strip().upper()]
        except KeyError:
            raise PayloadError("gender", f"must be male, female or unknown, got {label!r}") from None


class ExtForm(enum.Enum):
    """The two EXT layouts the generator can write."""

    #: The guidance's own: proxy QID < gender < BHYT < phone.
    GUIDANCE = "guidance"
    #: As real scans of late 2021 show: proxy QID < gender < BHYT or 00 < (empty) < phone, phone last.
    FIELD = "field"


class PersonalCode(NamedTuple):
    """One personal code, field by field, exactly as written (masked forms included).

    An immutable named tuple rather than a frozen dataclass: it is built on every scan at a door,
    and tuple construction is several times cheaper (measured in ``bench/verify.py``).
    """

    document_number: str
    full_name: str
    birth_date: str
    declarer: str
    qid: str
    ext: tuple[str, ...]
    signature: str | None = None

    # -- derived meaning -------------------------------------------------------------------------
    @property
    def proxy_declared(self) -> bool:
        """LoaiDinhDanh 1: someone declared on this person's behalf."""
        return self.declarer == "1"

    @property
    def proxy_qid(self) -> str | None:
        return self.ext[0] or None if self.ext else None

    @property
    def gender(self) -> Gender | None:
        if len(self.ext) < 2 or self.ext[1] in _NO_VALUE:
            return None
        try:
            return Gender(self.ext[1])
        except ValueError:
            return None

    @property
    def phone(self) -> str | None:
        for value in reversed(self.ext[2:]):
            if PHONE.fullmatch(value):
                return value
        return None

    @property
    def insurance_number(self) -> str | None:
        for value in self.ext[2:]:
            if BHYT.fullmatch(value):
                return value
        return None

    @property
    def extra(self) -> tuple[str, ...]:
        """Sub-fields after index 1 that are none of phone, BHYT, empty or ``00`` (kept, in order)."""
        phone_index = self._phone_index()
        insurance_index = self._insurance_index()
        return tuple(
            value
            for index, value in enumerate(self.ext)
            if index >= 2 and index not in (phone_index, insurance_index) and value not in _NO_VALUE
        )

    @property
    def document_masked(self) -> bool:
        return self.document_number.startswith(MASK)

    @property
    def birth_date_masked(self) -> bool:
        return MASK in self.birth_date

    @property
    def masked(self) -> bool:
        return self.document_masked or self.birth_date_masked

    @property
    def birth_date_value(self) -> dt.date | None:
        """The birth date as a date, or None when it is masked."""
        if self.birth_date_masked:
            return None
        return dt.date.fromisoformat(self.birth_date)

    @property
    def signed(self) -> bool:
        return self.signature is not None

    @property
    def ext_form(self) -> ExtForm:
        phone_index = self._phone_index()
        if len(self.ext) >= 5 and phone_index == len(self.ext) - 1:
            return ExtForm.FIELD
        return ExtForm.GUIDANCE

    @property
    def signed_text(self) -> str:
        """The exact text a signature covers: everything before the ``<`` in front of the signature."""
        return format_unsigned(self)

    def _phone_index(self) -> int | None:
        for index in range(len(self.ext) - 1, 1, -1):
            if PHONE.fullmatch(self.ext[index]):
                return index
        return None

    def _insurance_index(self) -> int | None:
        for index in range(2, len(self.ext)):
            if BHYT.fullmatch(self.ext[index]):
                return index
        return None

    # -- conversions -----------------------------------------------------------------------------
    def __str__(self) -> str:
        return format_code(self)

    def to_text(self) -> str:
        return format_code(self)

    def unsigned(self) -> PersonalCode:
        """The same code without its signature."""
        return PersonalCode(
            self.document_number, self.full_name, self.birth_date, self.declarer, self.qid, self.ext, None
        )

    def with_signature(self, signature: str) -> PersonalCode:
        return PersonalCode(
            self.document_number,
            self.full_name,
            self.birth_date,
            self.declarer,
            self.qid,
            self.ext,
            signature,
        )


# ---------------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------------
def format_unsigned(code: PersonalCode) -> str:
    head = "|".join((code.document_number, code.full_name, code.birth_date, code.declarer, code.qid))
    return head + "|" + "<".join(code.ext)


def format_code(code: PersonalCode) -> str:
    """The payload text; ``parse(format_code(c)) == c`` for every code that passes validation."""
    text = format_unsigned(code)
    if code.signature is not None:
        text += "<" + code.signature
    return text


# ---------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------
def decode_input(data: str | bytes, limit: int = MAX_PAYLOAD_BYTES) -> str:
    """Turn scanner input into text: size limit first, strict UTF-8, trailing white space removed."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > limit:
            raise PayloadTooLarge("payload", f"is {len(raw)} bytes, more than the limit of {limit}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError("payload", f"is not valid UTF-8 (byte {exc.start})") from None
    elif isinstance(data, str):
        # A str of n characters is at least n bytes; count exactly only when it might be close.
        if len(data) > limit or (
            len(data) * 4 > limit and len(data.encode("utf-8", "surrogatepass")) > limit
        ):
            raise PayloadTooLarge("payload", f"is longer than the limit of {limit} bytes")
        text = data
    else:
        raise PayloadError("payload", f"must be text, not {type(data).__name__}")
    text = text.rstrip()
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


_BAD_CHARACTER = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def check_characters(field: str, value: str) -> None:
    bad = _BAD_CHARACTER.search(value)
    if bad:
        raise PayloadError(field, f"contains the control character U+{ord(bad[0]):04X}")
    if "<" in value:
        raise PayloadError(field, "contains '<', which only separates EXT sub-fields")


def _check_text(fields: list[str]) -> None:
    """One scan of the whole text on the hot path; the per-field scan only names the culprit."""
    head = "|".join(fields[:5])
    if "<" in head or _BAD_CHARACTER.search(head) or _BAD_CHARACTER.search(fields[5]):
        for field_name, value in zip(FIELD_NAMES[:5], fields[:5], strict=True):
            check_characters(field_name, value)
        check_characters("EXT", fields[5].replace("<", ""))


def parse(data: str | bytes, *, lenient: bool = False) -> PersonalCode:
    """Parse a payload; strict by default (spec rules), ``lenient`` for other platforms' codes.

    Lenient mode bends only where real codes bend: names not folded, document numbers of other
    lengths, QIDs that are not 18 digits, LoaiDinhDanh inconsistent with EXT[0], gender values
    outside 0-2, fewer than four EXT sub-fields (kept as written) and malformed phone or BHYT values
    (kept in ``extra``). The field count, the date, LoaiDinhDanh's alphabet and the limits hold in both modes.
    """
    return parse_text(decode_input(data), lenient=lenient)


def parse_text(text: str, *, lenient: bool = False) -> PersonalCode:
    """``parse`` for text already through ``decode_input`` (the verifier needs the text too)."""
    if not text:
        raise PayloadError("payload", "is empty")
    fast = _CANONICAL.fullmatch(text)
    if fast is not None and len(fast[2]) <= MAX_NAME_LENGTH:
        # The common case in one regex: a citizen ID, a folded name, a date, an 18-digit QID.
        doc, name, birth, declarer, qid, ext_text = fast.group(1, 2, 3, 7, 8, 9)
        try:
            if dt.date(int(fast[4]), int(fast[5]), int(fast[6])).year < 1900:
                raise ValueError
        except ValueError:
            _validate_birth_date(birth)
    else:
        fields = text.split("|")
        if len(fields) != 6:
            raise PayloadError("payload", f"expected 6 fields separated by '|', got {len(fields)}")
        doc, name, birth, declarer, qid, ext_text = fields
        _check_text(fields)
        validate_document(doc, lenient)
        _validate_name(name, lenient)
        _validate_birth_date(birth)
        if declarer not in ("0", "1"):
            raise PayloadError(
                "LoaiDinhDanh", f"must be 0 (self) or 1 (on someone's behalf), got {declarer!r}"
            )
        validate_qid("QID", qid, lenient)

    subfields = ext_text.split("<")
    if len(subfields) > MAX_EXT_SUBFIELDS:
        raise PayloadError(
            "EXT", f"has {len(subfields)} sub-fields, more than the limit of {MAX_EXT_SUBFIELDS}"
        )
    signature: str | None = None
    if len(subfields) >= 5 and _SIGNATURE.fullmatch(subfields[-1]):
        signature = subfields.pop()
    if len(subfields) < 4 and not lenient:
        raise PayloadError("EXT", f"expected at least 4 sub-fields separated by '<', got {len(subfields)}")
    ext = tuple(subfields)
    _validate_ext(ext, declarer, lenient)
    return PersonalCode(doc, name, birth, declarer, qid, ext, signature)


def validate_document(doc: str, lenient: bool) -> None:
    if not doc:
        raise PayloadError("SoGiayTo", "is empty")
    if _CITIZEN_ID.fullmatch(doc) or _PASSPORT.fullmatch(doc) or _MASKED_DOC.fullmatch(doc):
        return
    if lenient and _LENIENT_DOC.fullmatch(doc):
        return
    if doc.isascii() and doc.isdigit():
        raise PayloadError("SoGiayTo", f"a citizen ID has 9 or 12 digits, got {len(doc)}")
    raise PayloadError(
        "SoGiayTo",
        "must be a 9- or 12-digit ID number or a passport number of 6-9 upper-case letters and digits",
    )


def _validate_name(name: str, lenient: bool) -> None:
    if not name.strip():
        raise PayloadError("HoTen", "is empty")
    if is_normalised(name):
        return
    if lenient:
        if len(name) > 200:
            raise PayloadError("HoTen", "is longer than 200 characters")
        return
    if name != " ".join(name.split()):
        raise PayloadError("HoTen", "words must be separated by exactly one space, with none at either end")
    if name != name.upper():
        raise PayloadError("HoTen", "must be upper case")
    try:
        folded: str | None = fold_name(name)
    except ValueError:
        folded = None
    if folded and folded != name:
        raise PayloadError("HoTen", f"must be ASCII without diacritics (write {folded!r})")
    raise PayloadError("HoTen", "must be upper-case letters A-Z separated by single spaces")


def _validate_birth_date(birth: str) -> None:
    if _MASKED_DATE.fullmatch(birth):
        return
    match = _DATE.fullmatch(birth)
    if not match:
        raise PayloadError("NgaySinh", f"{birth!r} is not a date of the form YYYY-MM-DD")
    try:
        value = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise PayloadError("NgaySinh", f"{birth} is not a calendar date") from None
    if value.year < 1900:
        raise PayloadError("NgaySinh", f"{birth} is before 1900")


def validate_qid(field: str, qid: str, lenient: bool) -> None:
    if not qid:
        raise PayloadError(field, "is empty")
    if _QID.fullmatch(qid) or (lenient and _LENIENT_QID.fullmatch(qid)):
        return
    raise PayloadError(field, f"must be 18 digits, got {qid!r}" if len(qid) <= 40 else "must be 18 digits")


def _validate_ext(ext: tuple[str, ...], declarer: str, lenient: bool) -> None:
    proxy = ext[0]
    if proxy:
        validate_qid("EXT[0] (proxy QID)", proxy, lenient)
    if not lenient:
        if declarer == "1" and not proxy:
            raise PayloadError("EXT[0] (proxy QID)", "LoaiDinhDanh 1 needs the declarer's QID")
        if declarer == "0" and proxy:
            raise PayloadError("EXT[0] (proxy QID)", "must be empty when LoaiDinhDanh is 0")
        if len(ext) > 1 and ext[1] not in ("", "0", "1", "2"):
            raise PayloadError("EXT[1] (gender)", f"must be 0, 1, 2 or empty, got {ext[1]!r}")
        for index, value in enumerate(ext[2:], start=2):
            if not value or not _MALFORMED_NUMBER.fullmatch(value):
                continue
            if _PHONE_LIKE.fullmatch(value):
                raise PayloadError(f"EXT[{index}] (phone)", "must be 10 digits starting with 0")
            raise PayloadError(f"EXT[{index}] (BHYT)", "must be 2 upper-case letters and 13 digits")
