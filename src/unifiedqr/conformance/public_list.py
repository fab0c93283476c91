"""The public list of approved apps: a JSON feed signed by the platform, verifiable offline by mirrors.

Document, version 1 (other parties mirror and verify it; change it only with a new version)::

    {
      "kind": "unifiedqr-conformance-list",
      "version": 1,
      "issuer": "Trung tâm đánh giá …",
      "issued_at": "2026-03-01T09:00:00Z",
      "sequence": 7,
      "apps": [
        {"name": "…", "vendor": "…", "version": "2.1.0", "date": "2026-02-27",
         "report": {"verdict": "pass", "assessed_at": "…", "counts": {"error": 0, "warning": 1, "info": 5},
                    "codes": ["QUALITY_INVERTED"], "screens": {"default": "<sha256>", "full": "<sha256>"}}}
      ],
      "signature": {"alg": "ES256", "kid": "<key id>", "sig": "<base64url r||s>"}
    }

The signature is a *detached* ECDSA P-256 / SHA-256 signature (the codes' scheme, spec §4: raw
``r||s``, base64url without padding, the key id of ``codes/trust.py``) over the **canonical JSON** of
the document without its ``signature`` member: keys sorted, no white space, UTF-8, no floats (the
list holds only text, integers, booleans and null, for which this equals RFC 8785). ``sequence``
grows with every publication, so a mirror can refuse a replayed older list. Verification takes the
trust list and the time as parameters and names its outcome as code verification does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from unifiedqr.codes.signing import Status, Verification, sign_bytes, verify_signed_bytes
from unifiedqr.codes.trust import SigningKey, TrustList, format_time, parse_time
from unifiedqr.conformance.assessment import Assessment
from unifiedqr.errors import InvalidInput, KeyFileError, SigningError

LIST_KIND: Final = "unifiedqr-conformance-list"
LIST_VERSION: Final = 1
ALGORITHM: Final = "ES256"
MAX_LIST_BYTES: Final = 8 * 1024 * 1024
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no white space, UTF-8; floats refused (their text form is not canonical)."""

    def check(item: Any) -> None:
        if isinstance(item, float):
            raise InvalidInput("list", "floats have no canonical form; use integers or text")
        if isinstance(item, Mapping):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise InvalidInput("list", "object keys must be text")
                check(sub)
        elif isinstance(item, list | tuple):
            for sub in item:
                check(sub)

    check(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


@dataclass(frozen=True)
class ListedApp:
    """One approved app version on the list, with the summary of the report that approved it."""

    name: str
    vendor: str
    version: str
    date: str  # YYYY-MM-DD, the approval
    report: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.vendor, self.name, self.version)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "vendor": self.vendor,
            "version": self.version,
            "date": self.date,
            "report": dict(self.report),
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "apps[]") -> ListedApp:
        if not isinstance(data, Mapping):
            raise InvalidInput(where, "must be an object")
        for name in ("name", "vendor", "version", "date"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise InvalidInput(f"{where}.{name}", "is missing or not text")
        if not _DATE.fullmatch(data["date"]):
            raise InvalidInput(f"{where}.date", "must be YYYY-MM-DD")
        report = data.get("report", {})
        if not isinstance(report, Mapping):
            raise InvalidInput(f"{where}.report", "must be an object")
        return cls(data["name"], data["vendor"], data["version"], data["date"], dict(report))

    @classmethod
    def from_assessment(cls, assessment: Assessment, date: dt.date) -> ListedApp:
        """An approved app from its passing assessment (a failing one cannot be listed)."""
        if assessment.app is None:
            raise InvalidInput("assessment", "has no app.json: the app is not identified")
        if not assessment.passed:
            raise InvalidInput("assessment", f"{assessment.app.name} {assessment.app.version} did not pass")
        app = assessment.app
        return cls(app.name, app.vendor, app.version, date.isoformat(), assessment.summary())


@dataclass(frozen=True)
class PublicList:
    issuer: str
    issued_at: dt.datetime
    sequence: int
    apps: tuple[ListedApp, ...]

    def body(self) -> dict[str, Any]:
        """The signed part: everything but the signature, apps in a stable order."""
        return {
            "kind": LIST_KIND,
            "version": LIST_VERSION,
            "issuer": self.issuer,
            "issued_at": format_time(self.issued_at),
            "sequence": self.sequence,
            "apps": [a.to_json() for a in sorted(self.apps, key=lambda a: a.key)],
        }

    def with_app(self, app: ListedApp) -> PublicList:
        """Approval (or re-assessment of the same version): the entry is added or replaced."""
        kept = tuple(a for a in self.apps if a.key != app.key)
        return PublicList(self.issuer, self.issued_at, self.sequence, (*kept, app))

    def without(self, vendor: str, name: str, version: str | None = None) -> PublicList:
        """Withdrawal: one version, or every version of the app when ``version`` is None."""
        kept = tuple(
            a
            for a in self.apps
            if not (a.vendor == vendor and a.name == name and version in (None, a.version))
        )
        return PublicList(self.issuer, self.issued_at, self.sequence, kept)

    @classmethod
    def from_json(cls, data: Any) -> PublicList:
        if not isinstance(data, Mapping):
            raise InvalidInput("list", "must be a JSON object")
        if data.get("kind") != LIST_KIND or data.get("version") != LIST_VERSION:
            raise InvalidInput("list", f"is not a {LIST_KIND} document, version {LIST_VERSION}")
        if not isinstance(data.get("issuer"), str):
            raise InvalidInput("issuer", "is missing or not text")
        sequence = data.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
            raise InvalidInput("sequence", "must be a non-negative integer")
        apps = data.get("apps")
        if not isinstance(apps, list):
            raise InvalidInput("apps", "must be a list")
        try:
            issued_at = parse_time(data.get("issued_at"), "issued_at")  # type: ignore[arg-type]
        except KeyFileError as exc:
            raise InvalidInput("issued_at", exc.reason) from None
        return cls(
            data["issuer"],
            issued_at,
            sequence,
            tuple(ListedApp.from_json(a, f"apps[{i}]") for i, a in enumerate(apps)),
        )


def sign_list(public_list: PublicList, key: SigningKey, at: dt.datetime) -> dict[str, Any]:
    """The signed document. Refuses a key outside its validity window at ``at``."""
    if not key.is_valid_at(at):
        raise SigningError("key", f"signing key {key.key_id} is not valid at {at.isoformat()}")
    body = public_list.body()
    signature = sign_bytes(canonical_json(body), key)
    key_id, _, value = signature.partition(".")
    return {**body, "signature": {"alg": ALGORITHM, "kid": key_id, "sig": value}}


@dataclass(frozen=True)
class ListVerification:
    """The outcome, by name (``valid``, ``unsigned``, ``unknown_key``, ``bad_signature``, ...); the
    list's content only when the signature is valid, so nobody reads an unverified copy by mistake."""

    verification: Verification
    public_list: PublicList | None = None

    @property
    def valid(self) -> bool:
        return self.verification.valid

    @property
    def status(self) -> Status:
        return self.verification.status


def verify_list(document: Any, trust: TrustList, at: dt.datetime) -> ListVerification:
    """Verify a list document offline with ``trust`` at time ``at``; never raises for bad input."""
    try:
        public_list = PublicList.from_json(document)
    except InvalidInput as exc:
        return ListVerification(Verification(Status.MALFORMED, reason=str(exc)))
    signature = document.get("signature")
    if signature is None:
        return ListVerification(Verification(Status.UNSIGNED, reason="the list carries no signature"))
    if (
        not isinstance(signature, Mapping)
        or signature.get("alg") != ALGORITHM
        or not isinstance(signature.get("kid"), str)
        or not isinstance(signature.get("sig"), str)
    ):
        return ListVerification(
            Verification(Status.MALFORMED, reason=f"signature must be {{'alg': '{ALGORITHM}', 'kid', 'sig'}}")
        )
    body = {k: v for k, v in document.items() if k != "signature"}
    try:
        message = canonical_json(body)
    except InvalidInput as exc:
        return ListVerification(Verification(Status.MALFORMED, reason=str(exc)))
    result = verify_signed_bytes(message, f"{signature['kid']}.{signature['sig']}", trust, at)
    return ListVerification(result, public_list if result.valid else None)


def build_list(
    issuer: str,
    assessments: Sequence[Assessment],
    at: dt.datetime,
    sequence: int,
    date: dt.date | None = None,
    dates: Sequence[dt.date] | None = None,
) -> PublicList:
    """A list of the given passing assessments, approved on ``dates`` (one each; default: ``date``,
    else ``at``'s date). The platform publishes its approved assessments through this
    (``services/conformance_list.py``)."""
    if dates is not None and len(dates) != len(assessments):
        raise InvalidInput("dates", "give one approval date per assessment")
    when = dates or [date or at.date()] * len(assessments)
    listed = PublicList(issuer, at, sequence, ())
    for assessment, approved in zip(assessments, when, strict=True):
        listed = listed.with_app(ListedApp.from_assessment(assessment, approved))
    return listed
