"""Conformance assessments on the platform: submission, the assessor's decision, re-assessment, withdrawal.

The assessment centre runs ``unifiedqr conformance check`` on a vendor's evidence and submits the
record it writes (``report.json``). The assessor then decides, always with reasons:

- **approve** (only a passing assessment): the app version goes on the public list. An app (vendor,
  name) is listed in one version: approving a re-assessment (a new version, or new evidence of the
  same one) replaces the approved assessment before it, which becomes ``superseded``; approving an
  assessment *older* than the listed one is refused (withdraw the listed one first);
- **reject** (a pending assessment, passing or not): it stays off the list;
- **withdraw** (an approved assessment): the app comes off the list.

Every decision that changes the list publishes it again, signed, with the next ``sequence``, in the
same transaction (:mod:`unifiedqr.services.conformance_list`), and writes an audit row. Rejected,
withdrawn and superseded are final: the app comes back only through a new assessment.

The platform cannot re-run the check (it never sees the evidence images), so it checks what it can
of the record: the format, that its verdict is what its findings say, that it names the app, and that
the trust list it was judged with holds only keys this platform published (a code signed by any other
key cannot have passed honestly).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unifiedqr.conformance.assessment import Assessment
from unifiedqr.errors import Conflict, InvalidInput, NotFound
from unifiedqr.services import conformance_list
from unifiedqr.services.audit import AuditAction, record
from unifiedqr.services.auth import Permission, Principal, new_public_id
from unifiedqr.services.context import Services
from unifiedqr.services.keys import trust_list
from unifiedqr.store.conformance_models import DECISIONS, ConformanceAssessment

MAX_RECORD_BYTES = 1024 * 1024
MAX_REASONS = 20
MAX_REASON = 1000
MAX_APP_TEXT = 200
MAX_LISTED = 1000
#: An assessment may come from a machine whose clock runs ahead, not from the future.
MAX_CLOCK_SKEW = dt.timedelta(days=1)

Row = ConformanceAssessment


@dataclass(frozen=True)
class Decision:
    """The assessor's decision on a pending assessment, and why."""

    decision: Literal["approved", "rejected"]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Withdrawal:
    """Taking an approved app off the list, and why."""

    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AssessmentView:
    """One assessment as the assessor sees it; ``report`` is the summary the public list shows."""

    assessment_id: str
    vendor: str
    name: str
    version: str
    verdict: str
    assessed_at: dt.datetime
    report: Mapping[str, Any]
    submitted_by: str
    submitted_at: dt.datetime
    decision: str
    reasons: tuple[str, ...]
    decided_by: str | None
    decided_at: dt.datetime | None
    listed: bool


@dataclass(frozen=True)
class AssessmentDetail(AssessmentView):
    """With the whole assessment record (what was read and measured, every finding)."""

    record: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Submitted(AssessmentView):
    """``created`` False when the same record had been submitted before (a retry lands once)."""

    created: bool = True


@dataclass(frozen=True)
class Decided(AssessmentView):
    """After a decision: the assessments it replaced on the list, and the list's new sequence."""

    superseded: tuple[str, ...] = ()
    list_sequence: int | None = None


# ---------------------------------------------------------------------------------------------------
# Reading a record
# ---------------------------------------------------------------------------------------------------
def read_record(data: Any) -> Assessment:
    """The typed assessment of a ``report.json`` document; InvalidInput naming what is wrong."""
    if not isinstance(data, Mapping):
        raise InvalidInput("record", "must be a JSON object (the report.json of conformance check)")
    try:
        assessment = Assessment.from_json(data)
    except InvalidInput as exc:
        raise InvalidInput(exc.field or "record", exc.reason) from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidInput("record", f"is not an assessment record ({type(exc).__name__}: {exc})") from None
    if data.get("verdict") != assessment.verdict:
        said = data.get("verdict")
        raise InvalidInput("verdict", f"says {said!r}; its findings say {assessment.verdict!r}")
    app = assessment.app
    if app is None:
        raise InvalidInput("app", "the record names no app (app.json was missing or invalid): check again")
    for field, value in (("app.name", app.name), ("app.vendor", app.vendor), ("app.version", app.version)):
        if not value.strip() or len(value) > MAX_APP_TEXT:
            raise InvalidInput(field, f"must be 1 to {MAX_APP_TEXT} characters")
    return assessment


def _stored(assessment: Assessment) -> str:
    try:
        text = json.dumps(assessment.to_json(), ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("record", f"has a value with no JSON form ({exc})") from None
    if len(text.encode("utf-8")) > MAX_RECORD_BYTES:
        raise InvalidInput("record", f"is over {MAX_RECORD_BYTES} bytes", code="too_large")
    return text


def _reasons(reasons: Any) -> tuple[str, ...]:
    if not isinstance(reasons, list | tuple) or not 1 <= len(reasons) <= MAX_REASONS:
        raise InvalidInput("reasons", f"give 1 to {MAX_REASONS} reasons")
    out = []
    for reason in reasons:
        text = " ".join(reason.split()) if isinstance(reason, str) else ""
        if not text or len(text) > MAX_REASON:
            raise InvalidInput("reasons", f"each reason must be 1 to {MAX_REASON} characters of text")
        out.append(text)
    return tuple(out)


# ---------------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------------
def _record_of(row: Row) -> Assessment:
    return Assessment.from_json(json.loads(row.record))


def _fields(row: Row) -> dict[str, Any]:
    return {
        "assessment_id": row.public_id,
        "vendor": row.vendor,
        "name": row.app_name,
        "version": row.app_version,
        "verdict": row.verdict,
        "assessed_at": row.assessed_at,
        "report": _record_of(row).summary(),
        "submitted_by": row.submitted_by,
        "submitted_at": row.submitted_at,
        "decision": row.decision,
        "reasons": tuple(json.loads(row.reasons)),
        "decided_by": row.decided_by,
        "decided_at": row.decided_at,
        "listed": row.decision == "approved",
    }


def _view(row: Row) -> AssessmentView:
    return AssessmentView(**_fields(row))


def _detail(row: Row) -> str:
    return f"{row.public_id} {row.vendor}/{row.app_name} {row.app_version}"[:200]


def _find(session: Session, assessment_id: str, lock: bool = False) -> Row:
    query = select(Row).where(Row.public_id == assessment_id)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound("assessment_id", "no such assessment")
    return row


# ---------------------------------------------------------------------------------------------------
# Submission and reading
# ---------------------------------------------------------------------------------------------------
def submit(ctx: Services, principal: Principal, assessment: Assessment) -> Submitted:
    """Store an assessment record (pending); the same record again returns the stored one."""
    principal.require(Permission.ASSESSMENTS_MANAGE)
    app = assessment.app
    if app is None:
        raise InvalidInput("app", "the record names no app (app.json was missing or invalid): check again")
    if assessment.assessed_at > ctx.now() + MAX_CLOCK_SKEW:
        raise InvalidInput("assessed_at", "is in the future: check the assessing machine's clock or --at")
    known = set(trust_list(ctx.db).keys)
    foreign = sorted(set(assessment.trust_key_ids) - known)
    if foreign:
        raise InvalidInput(
            "trust_key_ids",
            f"judged with keys this platform never published ({', '.join(foreign)}): "
            "check again with this platform's trust list (unifiedqr trust export, GET /trust-list)",
        )
    text = _stored(assessment)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with ctx.db.read() as session:
        existing = session.scalars(select(Row).where(Row.record_sha256 == digest)).first()
    if existing is not None:
        return Submitted(**_fields(existing), created=False)
    row = Row(
        public_id=new_public_id("asm"),
        vendor=app.vendor,
        app_name=app.name,
        app_version=app.version,
        verdict=assessment.verdict,
        assessed_at=assessment.assessed_at,
        record=text,
        record_sha256=digest,
        submitted_by=principal.name[:200],
        submitted_at=ctx.now(),
        decision="pending",
        reasons="[]",
    )
    try:
        with ctx.db.write() as session:
            session.add(row)
            session.flush()
            record(session, principal, AuditAction.ASSESSMENT_SUBMITTED, detail=_detail(row))
    except IntegrityError:  # the same record, submitted at the same moment elsewhere
        with ctx.db.read() as session:
            existing = session.scalars(select(Row).where(Row.record_sha256 == digest)).one()
        return Submitted(**_fields(existing), created=False)
    return Submitted(**_fields(row))


def submit_document(ctx: Services, principal: Principal, document: Mapping[str, Any]) -> Submitted:
    """:func:`submit` of a record as JSON (the ``report.json`` file, or an API body)."""
    principal.require(Permission.ASSESSMENTS_MANAGE)
    return submit(ctx, principal, read_record(document))


def list_assessments(
    ctx: Services, principal: Principal, decision: str | None = None, limit: int = 200
) -> list[AssessmentView]:
    """Assessments, newest first (``decision``: only those in that state)."""
    principal.require(Permission.ASSESSMENTS_MANAGE)
    if decision is not None and decision not in DECISIONS:
        raise InvalidInput("decision", f"must be one of {', '.join(DECISIONS)}")
    if not 1 <= limit <= MAX_LISTED:
        raise InvalidInput("limit", f"must be 1 to {MAX_LISTED}")
    query = select(Row).order_by(Row.submitted_at.desc(), Row.id.desc()).limit(limit)
    if decision is not None:
        query = query.where(Row.decision == decision)
    with ctx.db.read() as session:
        return [_view(row) for row in session.scalars(query)]


def get_assessment(ctx: Services, principal: Principal, assessment_id: str) -> AssessmentDetail:
    """One assessment with its whole record."""
    principal.require(Permission.ASSESSMENTS_MANAGE)
    with ctx.db.read() as session:
        row = _find(session, assessment_id)
    return AssessmentDetail(**_fields(row), record=json.loads(row.record))


# ---------------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------------
def _decide(
    row: Row, principal: Principal, decision: str, reasons: tuple[str, ...], now: dt.datetime
) -> None:
    row.decision = decision
    row.reasons = json.dumps(list(reasons), ensure_ascii=False)
    row.decided_by = principal.name[:200]
    row.decided_at = now


def _pending(row: Row) -> None:
    if row.decision != "pending":
        raise Conflict("decision", f"the assessment is already {row.decision}; decisions are final")


def decide(ctx: Services, principal: Principal, assessment_id: str, decision: Decision) -> Decided:
    """Approve (a passing assessment: it goes on the list) or reject a pending assessment."""
    principal.require(Permission.ASSESSMENTS_MANAGE)
    reasons = _reasons(decision.reasons)
    if decision.decision == "approved":
        return _approve(ctx, principal, assessment_id, reasons)
    if decision.decision != "rejected":
        raise InvalidInput("decision", "must be approved or rejected")
    with ctx.db.write() as session:
        row = _find(session, assessment_id, lock=True)
        _pending(row)
        _decide(row, principal, "rejected", reasons, ctx.now())
        record(session, principal, AuditAction.ASSESSMENT_REJECTED, detail=_detail(row))
    return Decided(**_fields(row))


def _approve(ctx: Services, principal: Principal, assessment_id: str, reasons: tuple[str, ...]) -> Decided:
    key, now = conformance_list.signing_key(ctx)
    with ctx.db.write() as session:
        state = conformance_list.lock(session, now)  # first: every list change queues here
        row = _find(session, assessment_id, lock=True)
        _pending(row)
        if row.verdict != "pass":
            codes = ", ".join(_record_of(row).summary()["codes"][:5])
            raise Conflict("decision", f"the assessment did not pass ({codes}): only a pass can be approved")
        listed = session.scalars(
            select(Row)
            .where(Row.vendor == row.vendor, Row.app_name == row.app_name, Row.decision == "approved")
            .with_for_update()
        ).all()
        for other in listed:
            if other.assessed_at > row.assessed_at:
                raise Conflict(
                    "decision",
                    f"a later assessment of this app is on the list ({other.public_id}, version "
                    f"{other.app_version}); withdraw it first to list an earlier one",
                )
        for other in listed:
            note = f"replaced on the list by {row.public_id} (version {row.app_version})"
            _decide(other, principal, "superseded", (note,), now)
            record(session, principal, AuditAction.ASSESSMENT_SUPERSEDED, detail=_detail(other))
        session.flush()  # the replaced ones leave the listed index before this one enters it
        _decide(row, principal, "approved", reasons, now)
        record(session, principal, AuditAction.ASSESSMENT_APPROVED, detail=_detail(row))
        session.flush()
        sequence = conformance_list.publish(session, state, key, now)
    return Decided(**_fields(row), superseded=tuple(o.public_id for o in listed), list_sequence=sequence)


def withdraw(ctx: Services, principal: Principal, assessment_id: str, withdrawal: Withdrawal) -> Decided:
    """Take an approved app off the public list (the list is published again without it)."""
    principal.require(Permission.ASSESSMENTS_MANAGE)
    reasons = _reasons(withdrawal.reasons)
    key, now = conformance_list.signing_key(ctx)
    with ctx.db.write() as session:
        state = conformance_list.lock(session, now)
        row = _find(session, assessment_id, lock=True)
        if row.decision != "approved":
            raise Conflict("decision", f"the assessment is {row.decision}: only an approved app is withdrawn")
        _decide(row, principal, "withdrawn", reasons, now)
        record(session, principal, AuditAction.ASSESSMENT_WITHDRAWN, detail=_detail(row))
        session.flush()
        sequence = conformance_list.publish(session, state, key, now)
    return Decided(**_fields(row), list_sequence=sequence)
