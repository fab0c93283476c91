"""Live integration checks: the app's platform account against a sandbox service (an I/O edge).

With ``account.json`` (``{"base_url", "api_key", "venue_code"?}``) the checker acts as the app would,
through the platform API (docs/api.md, docs/venues.md), and records for every call whether the
answer met the contract: fields, error handling, idempotent retries. The calls, in order:

| call | contract |
|---|---|
| ``health`` | ``GET /health`` → 200 ``{"status": "ok"}`` |
| ``register`` | ``POST /people`` (a synthetic test person) → 201, 18-digit ``qid``, ``created: true``, |
|  | a payload that parses strictly, carries the person's fields and verifies against the trust list |
| ``register_again`` | the same body → 200, ``created: false``, the same QID and the identical payload |
| ``register_invalid`` | an impossible birth date → 422 problem details naming ``birth_date`` |
| ``fetch_code`` | ``GET /people/{qid}/code`` → 200, the same payload |
| ``fetch_safe_code`` | ``?masked=true`` → the safe code: document and birth date masked, no phone; |
|  | its signature, when it carries one (the look-up issue signs it), verifies |
| ``unknown_person`` | ``GET /people/{random qid}/code`` → 404 problem details |
| ``no_credentials`` | ``GET /people/{qid}`` without the key → 401 |
| ``checkin`` | ``POST /checkins`` with an idempotency key → 201 ``recorded`` (needs ``venue_code``) |
| ``checkin_retry`` | the same request again → 200 ``already_recorded``, same time and direction |
| ``checkin_forged_venue`` | the venue code with its signature altered → refused with a 4xx problem |
| ``registry_lookup`` | ``GET /people/{qid}`` for each QID on the screenshots: known to the registry |

Each run registers a new synthetic person (random document number), so it can be repeated; a sandbox
collects them. The API key is sent only to ``base_url`` and never written into a report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

import httpx

from unifiedqr.client import Client
from unifiedqr.codes.trust import TrustList
from unifiedqr.conformance.assessment import LiveCall
from unifiedqr.conformance.evidence import Account
from unifiedqr.conformance.findings import Code, Finding, finding
from unifiedqr.conformance.live_calls import Recorder, run_calls

TIMEOUT_SECONDS: Final = 10.0


def run_live(
    account: Account,
    trust: TrustList,
    at: dt.datetime,
    qids: Sequence[str] = (),
    *,
    transport: httpx.BaseTransport | None = None,
) -> tuple[list[LiveCall], list[Finding]]:
    """Every call of the table above; the findings say what failed (or that all passed)."""
    base = account.base_url.removesuffix("/api/v1")
    http = httpx.Client(base_url=base, timeout=TIMEOUT_SECONDS, transport=transport)
    client = Client(base, account.api_key, http=http)
    anonymous = Client(base, None, http=http)
    recorder = Recorder()
    try:
        try:
            run_calls(client, anonymous, account, trust, at, qids, recorder)
        except httpx.HTTPError as exc:
            return recorder.calls, [
                finding(
                    Code.LIVE_UNREACHABLE,
                    f"the sandbox service at {base} did not answer ({type(exc).__name__})",
                    base_url=base,
                )
            ]
    finally:
        http.close()
    return recorder.calls, _findings(recorder.calls, account)


def _findings(calls: list[LiveCall], account: Account) -> list[Finding]:
    out: list[Finding] = []
    for call in calls:
        if call.met:
            continue
        if call.name == "registry_lookup":
            out.append(
                finding(
                    Code.REGISTRY_QID_UNKNOWN,
                    f"the code's QID is not known to the registry: {call.detail}",
                    call=call.name,
                    status=call.status,
                )
            )
            continue
        out.append(
            finding(
                Code.LIVE_CALL_FAILED,
                f"{call.name} ({call.method} {call.path}): {call.detail}",
                call=call.name,
                expected=call.expected,
                status=call.status,
            )
        )
    if account.venue_code is None:
        out.append(
            finding(
                Code.LIVE_CHECKINS_NOT_RUN,
                "check-in uploads not tried: account.json names no venue_code of the sandbox",
            )
        )
    if not any(f.code is Code.LIVE_CALL_FAILED for f in out):
        out.append(finding(Code.LIVE_PASSED, f"{len(calls)} live calls met the contract", calls=len(calls)))
    return out
