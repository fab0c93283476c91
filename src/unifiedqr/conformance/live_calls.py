"""The calls of :mod:`unifiedqr.conformance.live`'s table, each made as the app would and judged
against the contract; :func:`run_calls` makes them in the table's order and records every outcome.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from unifiedqr.client import Client
from unifiedqr.codes.display import mask_birth_date, mask_document
from unifiedqr.codes.names import fold_name
from unifiedqr.codes.payload import parse
from unifiedqr.codes.signing import verify_payload
from unifiedqr.codes.trust import TrustList
from unifiedqr.conformance.assessment import LiveCall
from unifiedqr.conformance.evidence import Account
from unifiedqr.errors import InvalidInput

TEST_NAME: Final = "Nguyễn Thị Kiểm Thử"
TEST_BIRTH: Final = "1990-05-17"


def _random_document() -> str:
    return "0" + "".join(secrets.choice("0123456789") for _ in range(11))


def _random_qid() -> str:
    return secrets.choice("123456789") + "".join(secrets.choice("0123456789") for _ in range(17))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _is_problem(response: httpx.Response) -> bool:
    body = _json(response)
    return response.headers.get("content-type", "").startswith("application/problem+json") and isinstance(
        body, dict
    )


class Recorder:
    def __init__(self) -> None:
        self.calls: list[LiveCall] = []

    def record(
        self,
        name: str,
        method: str,
        path: str,
        expected: str,
        response: httpx.Response | None,
        problem: str | None,
    ) -> bool:
        status = response.status_code if response is not None else None
        self.calls.append(LiveCall(name, method, path, expected, problem is None, status, problem or ""))
        return problem is None


def _check_payload(
    text: Any, trust: TrustList, at: dt.datetime, *, signed: bool = True
) -> tuple[Any, str | None]:
    """The strict code, and what is wrong with it; ``signed=False``: a signature is checked if present."""
    if not isinstance(text, str):
        return None, "no payload text in the answer"
    try:
        code = parse(text)
    except InvalidInput as exc:
        return None, f"the payload is not a strict v1.1 code ({exc})"
    if not signed and code.signature is None:
        return code, None
    outcome = verify_payload(text, trust, at)
    if not outcome.valid:
        return code, f"the payload's signature is {outcome.status.value} against the trust list"
    return code, None


@dataclass(frozen=True)
class _Session:
    """What every call of the table is made and judged with, and where its outcome is recorded."""

    client: Client
    anonymous: Client
    trust: TrustList
    at: dt.datetime
    recorder: Recorder


@dataclass(frozen=True)
class _Registered:
    """The synthetic person as the service registered them: the later calls are judged against it."""

    person: dict[str, str]
    qid: Any
    payload: Any


def run_calls(
    client: Client,
    anonymous: Client,
    account: Account,
    trust: TrustList,
    at: dt.datetime,
    qids: Sequence[str],
    recorder: Recorder,
) -> None:
    """The calls of the table in order; those about the person stop if registering gave no person."""
    session = _Session(client, anonymous, trust, at, recorder)
    _health(session)
    registered = _register(session, _new_person())
    if registered is None:
        return
    _register_again(session, registered)
    _register_invalid(session, registered.person)
    _fetch_code(session, registered)
    _fetch_safe_code(session, registered)
    _unknown_person(session)
    _no_credentials(session, registered.qid)
    if account.venue_code is not None:
        _checkins(client, account.venue_code, registered.qid, recorder)
    _registry_lookups(session, qids)


def _health(s: _Session) -> None:
    """Asked without the key, first: an unreachable service shows here before any person is made."""
    response = s.anonymous.raw("GET", "/health")
    body = _json(response)
    ok = response.status_code == 200 and isinstance(body, dict) and body.get("status") == "ok"
    s.recorder.record(
        "health",
        "GET",
        "/health",
        '200 {"status": "ok"}',
        response,
        None if ok else f"answered {response.status_code}",
    )


def _new_person() -> dict[str, str]:
    """A synthetic test person with a random document number, so every run registers someone new."""
    return {
        "document_number": _random_document(),
        "full_name": TEST_NAME,
        "birth_date": TEST_BIRTH,
        "gender": "female",
        "phone": "09" + "".join(secrets.choice("0123456789") for _ in range(8)),
    }


def _register(s: _Session, person: dict[str, str]) -> _Registered | None:
    """Registers ``person``; None when the answer carries no QID or payload to judge the rest against."""
    response = s.client.raw("POST", "/people", json=person)
    qid, payload, problem = _registration(response, person, s.trust, s.at)
    s.recorder.record(
        "register", "POST", "/people", "201 qid, payload (strict, signed), created: true", response, problem
    )
    if qid is None or payload is None:
        return None
    return _Registered(person, qid, payload)


def _registration(
    response: httpx.Response, person: dict[str, str], trust: TrustList, at: dt.datetime
) -> tuple[Any, Any, str | None]:
    """The QID and payload answered (as given, even when wrong) and what is wrong with the answer."""
    body = _json(response)
    if response.status_code != 201 or not isinstance(body, dict):
        return None, None, f"answered {response.status_code}, expected 201 with the new person"
    qid, payload = body.get("qid"), body.get("payload")
    code, problem = _check_payload(payload, trust, at)
    if not (isinstance(qid, str) and len(qid) == 18 and qid.isdigit()):
        problem = "qid is not 18 digits"
    elif body.get("created") is not True:
        problem = "created is not true"
    elif (
        code is not None
        and problem is None
        and (
            code.qid != qid
            or code.document_number != person["document_number"]
            or code.full_name != fold_name(TEST_NAME)
            or code.birth_date != TEST_BIRTH
        )
    ):
        problem = "the payload does not carry the registered person's fields"
    return qid, payload, problem


def _register_again(s: _Session, r: _Registered) -> None:
    """Registering is idempotent: the same body again gives the same person, not a second one."""
    response = s.client.raw("POST", "/people", json=r.person)
    body = _json(response)
    same = (
        response.status_code == 200
        and isinstance(body, dict)
        and body.get("created") is False
        and body.get("qid") == r.qid
        and body.get("payload") == r.payload
    )
    s.recorder.record(
        "register_again",
        "POST",
        "/people",
        "200, created: false, same qid and payload",
        response,
        None if same else f"answered {response.status_code} without the same person",
    )


def _register_invalid(s: _Session, person: dict[str, str]) -> None:
    """An impossible birth date must be refused with a problem the app can show against the field."""
    response = s.client.raw("POST", "/people", json={**person, "birth_date": "1990-02-30"})
    body = _json(response)
    named = (
        isinstance(body, dict)
        and isinstance(body.get("errors"), list)
        and body["errors"]
        and isinstance(body["errors"][0], dict)
        and body["errors"][0].get("field") == "birth_date"
    )
    s.recorder.record(
        "register_invalid",
        "POST",
        "/people",
        "422 problem details naming birth_date",
        response,
        None
        if response.status_code == 422 and _is_problem(response) and named
        else f"answered {response.status_code} without a problem naming birth_date",
    )


def _fetch_code(s: _Session, r: _Registered) -> None:
    """The app fetches the code again later: it must be the payload the registration answered."""
    path = f"/people/{r.qid}/code"
    response = s.client.raw("GET", path)
    body = _json(response)
    s.recorder.record(
        "fetch_code",
        "GET",
        path,
        "200, the registered payload",
        response,
        None
        if response.status_code == 200 and isinstance(body, dict) and body.get("payload") == r.payload
        else f"answered {response.status_code} without the registered payload",
    )


def _fetch_safe_code(s: _Session, r: _Registered) -> None:
    """The same person's code with the document and birth date masked and no phone (the table above)."""
    path = f"/people/{r.qid}/code"
    response = s.client.raw("GET", path, params={"masked": "true"})
    s.recorder.record(
        "fetch_safe_code",
        "GET",
        path + "?masked=true",
        "200, the safe code (its signature valid if signed)",
        response,
        _safe_code_problem(response, r, s.trust, s.at),
    )


def _safe_code_problem(
    response: httpx.Response, r: _Registered, trust: TrustList, at: dt.datetime
) -> str | None:
    """The safe code must be the masked form of the person's code; a signature, if any, must verify."""
    body = _json(response)
    if response.status_code != 200 or not isinstance(body, dict):
        return f"answered {response.status_code}"
    safe, problem = _check_payload(body.get("payload"), trust, at, signed=False)
    if (
        safe is not None
        and problem is None
        and (
            safe.document_number != mask_document(r.person["document_number"])
            or safe.birth_date != mask_birth_date(TEST_BIRTH)
            or safe.phone is not None
            or safe.qid != r.qid
        )
    ):
        return "the safe code is not the masked form of the person's code"
    return problem


def _unknown_person(s: _Session) -> None:
    """A random QID must be a 404 problem the app can handle, not an error page or an empty code."""
    unknown = f"/people/{_random_qid()}/code"
    response = s.client.raw("GET", unknown)
    s.recorder.record(
        "unknown_person",
        "GET",
        unknown,
        "404 problem details",
        response,
        None if response.status_code == 404 and _is_problem(response) else f"answered {response.status_code}",
    )


def _no_credentials(s: _Session, qid: Any) -> None:
    """The person's record is personal data: without the key the service must refuse it."""
    response = s.anonymous.raw("GET", f"/people/{qid}")
    s.recorder.record(
        "no_credentials",
        "GET",
        f"/people/{qid}",
        "401",
        response,
        None if response.status_code == 401 else f"answered {response.status_code}",
    )


def _registry_lookups(s: _Session, qids: Sequence[str]) -> None:
    """Each QID on the screenshots must be one the registry knows: the app shows a real person's code."""
    for screen_qid in qids:
        response = s.client.raw("GET", f"/people/{screen_qid}")
        s.recorder.record(
            "registry_lookup",
            "GET",
            f"/people/{screen_qid}",
            "200: the QID is registered",
            response,
            None if response.status_code == 200 else f"answered {response.status_code}",
        )


def _checkins(client: Client, venue_code: str, qid: str, recorder: Recorder) -> None:
    key = "conformance-" + secrets.token_hex(8)
    request = {"venue_code": venue_code, "qid": qid, "idempotency_key": key}
    response = client.raw("POST", "/checkins", json=request)
    first = _json(response)
    ok = response.status_code == 201 and isinstance(first, dict) and first.get("status") == "recorded"
    recorder.record(
        "checkin",
        "POST",
        "/checkins",
        "201 recorded",
        response,
        None if ok else f"answered {response.status_code}",
    )
    response = client.raw("POST", "/checkins", json=request)
    again = _json(response)
    same = (
        ok
        and response.status_code == 200
        and isinstance(again, dict)
        and again.get("status") == "already_recorded"
        and isinstance(first, dict)
        and again.get("occurred_at") == first.get("occurred_at")
        and again.get("direction") == first.get("direction")
    )
    recorder.record(
        "checkin_retry",
        "POST",
        "/checkins",
        "200 already_recorded, the same scan",
        response,
        None if same else f"answered {response.status_code} without the first scan",
    )
    forged = venue_code[:-1] + ("A" if venue_code[-1] != "A" else "B")
    response = client.raw("POST", "/checkins", json={"venue_code": forged, "qid": qid})
    refused = 400 <= response.status_code < 500 and _is_problem(response)
    recorder.record(
        "checkin_forged_venue",
        "POST",
        "/checkins",
        "4xx problem details",
        response,
        None if refused else f"answered {response.status_code}",
    )
