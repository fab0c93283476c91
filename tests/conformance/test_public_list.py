"""The signed public list: round trip, every way a copy can be wrong, withdrawal, canonical form."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from unifiedqr.codes.signing import Status
from unifiedqr.codes.trust import SigningKey, TrustList
from unifiedqr.conformance.assessment import Assessment
from unifiedqr.conformance.evidence import AppInfo
from unifiedqr.conformance.findings import Code, finding
from unifiedqr.conformance.public_list import (
    ListedApp,
    PublicList,
    build_list,
    canonical_json,
    sign_list,
    verify_list,
)
from unifiedqr.errors import InvalidInput, SigningError

AT = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
KEY = SigningKey.generate("Trung tâm đánh giá (thử)", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 365)
TRUST = TrustList().with_key(KEY.public())


def assessment(name: str = "Sổ sức khoẻ", version: str = "2.1.0", passed: bool = True) -> Assessment:
    findings = () if passed else (finding(Code.QR_NOT_FOUND, "no code", "default"),)
    findings += (finding(Code.QUALITY_INVERTED, "inverted", "full"),)
    return Assessment(
        AppInfo(name, "Công ty Thử", version),
        "/evidence",
        AT,
        "0.1.0",
        (KEY.key_id,),
        "tesseract",
        (),
        (),
        findings,
    )


def signed(*apps: Assessment, sequence: int = 3) -> dict[str, Any]:
    return sign_list(build_list(KEY.issuer, list(apps), AT, sequence), KEY, AT)


def test_round_trip_and_content() -> None:
    document = signed(assessment(), assessment("VNeID", "1.0"))
    assert document["signature"]["alg"] == "ES256" and document["signature"]["kid"] == KEY.key_id
    result = verify_list(json.loads(json.dumps(document)), TRUST, AT)
    assert result.valid and result.status is Status.VALID
    assert result.public_list is not None and result.public_list.sequence == 3
    (first, second) = result.public_list.apps  # in a stable order: vendor, name, version
    assert (first.name, second.name) == ("Sổ sức khoẻ", "VNeID")
    assert first.report["verdict"] == "pass" and first.report["codes"] == ["QUALITY_INVERTED"]
    assert first.date == "2026-03-01"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda d: d["apps"][0].__setitem__("version", "2.1.1"), Status.BAD_SIGNATURE),
        (lambda d: d.__setitem__("sequence", 4), Status.BAD_SIGNATURE),
        (lambda d: d["apps"].append(copy.deepcopy(d["apps"][0]) | {"name": "Fake"}), Status.BAD_SIGNATURE),
        (
            lambda d: d["signature"].__setitem__(
                "sig", d["signature"]["sig"][:-2] + ("BB" if d["signature"]["sig"].endswith("AA") else "AA")
            ),
            Status.BAD_SIGNATURE,
        ),
        (lambda d: d["signature"].__setitem__("kid", "AAAAAAAAAAA"), Status.UNKNOWN_KEY),
        (lambda d: d.pop("signature"), Status.UNSIGNED),
        (lambda d: d["signature"].__setitem__("alg", "none"), Status.MALFORMED),
        (lambda d: d.__setitem__("version", 2), Status.MALFORMED),
        (lambda d: d.__setitem__("apps", "all of them"), Status.MALFORMED),
        (lambda d: d["apps"][0].__setitem__("date", "01/03/2026"), Status.MALFORMED),
        (lambda d: d.__setitem__("extra", 1.5), Status.MALFORMED),
    ],
)
def test_altered_copies_do_not_verify(change: Any, status: Status) -> None:
    document = signed(assessment())
    change(document)
    result = verify_list(document, TRUST, AT)
    assert result.status is status
    assert result.public_list is None  # nothing unverified is handed out


def test_key_state_is_judged_at_the_given_time() -> None:
    document = signed(assessment())
    assert verify_list(document, TRUST.with_key_revoked(KEY.key_id), AT).status is Status.KEY_REVOKED
    assert verify_list(document, TRUST, AT + dt.timedelta(days=400)).status is Status.KEY_EXPIRED
    assert verify_list("not a document", TRUST, AT).status is Status.MALFORMED
    with pytest.raises(SigningError):
        sign_list(build_list(KEY.issuer, [], AT, 1), KEY, AT + dt.timedelta(days=400))


def test_canonical_form_is_independent_of_key_order_and_refuses_floats() -> None:
    assert canonical_json({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"é"]}'.encode()
    with pytest.raises(InvalidInput):
        canonical_json({"a": 0.1})
    document = signed(assessment())
    reordered = dict(reversed(list(document.items())))
    assert verify_list(reordered, TRUST, AT).valid


def test_approval_reassessment_and_withdrawal() -> None:
    listed = build_list(KEY.issuer, [assessment(), assessment(version="2.2.0")], AT, 1)
    assert len(listed.apps) == 2
    again = listed.with_app(ListedApp.from_assessment(assessment(version="2.2.0"), dt.date(2026, 3, 5)))
    assert len(again.apps) == 2 and {a.date for a in again.apps} == {"2026-03-01", "2026-03-05"}
    one_off = again.without("Công ty Thử", "Sổ sức khoẻ", "2.1.0")
    assert [a.version for a in one_off.apps] == ["2.2.0"]
    assert again.without("Công ty Thử", "Sổ sức khoẻ").apps == ()
    with pytest.raises(InvalidInput):
        ListedApp.from_assessment(assessment(passed=False), AT.date())
    assert PublicList.from_json(sign_list(one_off, KEY, AT)).apps == one_off.apps
