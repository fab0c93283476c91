"""The HC1 verifier stage by stage, with our own signer certificates (ES256 and PS256)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib

import cbor2
import pytest

from tests.dcc_factory import (
    ALT_OID,
    OID_RECOVERY,
    OID_TEST,
    OID_VACCINATION,
    T0,
    Code,
    encode,
    lab_test,
    make_signer,
    recovery,
    vaccination,
)
from unifiedqr.codes.dcc import STAGES, SignerTrust, verify
from unifiedqr.codes.dcc.base45 import b45encode
from unifiedqr.codes.dcc.signers import parse_signer
from unifiedqr.codes.dcc.verify import MAX_DECOMPRESSED_BYTES, MAX_TEXT_CHARS

AT = T0 + dt.timedelta(days=30)
ES = make_signer()
PS = make_signer(alg="PS256")
ALL_TRUE = dict.fromkeys(STAGES, True)


def stages(text: str | bytes, trust: object = (ES.der,), at: dt.datetime = AT) -> dict[str, bool | None]:
    return dict(verify(text, trust=trust, at=at).stages)  # type: ignore[arg-type]


def expect(**changes: bool | None) -> dict[str, bool | None]:
    return {**ALL_TRUE, **changes}


@pytest.mark.parametrize("signer", [ES, PS], ids=["ES256", "PS256"])
@pytest.mark.parametrize("certificate", [vaccination(), lab_test(), recovery()], ids=["v", "t", "r"])
def test_valid_certificates(signer: object, certificate: dict) -> None:
    result = verify(Code(signer, certificate).build(), trust=[signer.der], at=AT)  # type: ignore[arg-type]
    assert result.status == "valid" and result.valid
    assert dict(result.stages) == ALL_TRUE and result.reasons == {}
    assert result.kid == signer.kid and result.signer is not None  # type: ignore[attr-defined]
    assert result.algorithm == ("ES256" if signer is ES else "PS256")
    assert result.certificate == certificate
    assert result.expires_at == T0 + dt.timedelta(days=366)


def test_stage_names_and_order() -> None:
    assert STAGES == (
        "unprefix",
        "base45",
        "decompress",
        "cose",
        "signature",
        "expiration",
        "key_usage",
        "schema",
    )


@pytest.mark.parametrize("tags", [(18,), (61, 18), (), (61,)], ids=["sign1", "cwt+sign1", "untagged", "cwt"])
def test_envelope_tags(tags: tuple[int, ...]) -> None:
    assert verify(Code(ES, tags=tags).build(), trust=[ES.der], at=AT).status == "valid"


def test_other_tag_is_a_cose_failure() -> None:
    result = verify(Code(ES, tags=(98,)).build(), trust=[ES.der], at=AT)
    assert result.stages["cose"] is False and "tag 98" in result.reasons["cose"]
    assert result.stages["signature"] is None and result.stages["schema"] is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("HC2:6BFOXN*TS0BI$ZD", "unsupported version"),
        ("HL0:6BFOXN*TS0BI$ZD", "'HL0:' is not HC1:"),
        ("6BFOXN*TS0BI$ZD", "does not start"),
        ("hc1:6BFOXN*TS0BI$ZD", "is not HC1:"),
        ("", "does not start"),
    ],
)
def test_context_prefix(text: str, reason: str) -> None:
    result = verify(text, trust=[ES.der], at=AT)
    assert result.status == "unprefix"
    assert dict(result.stages) == dict.fromkeys(STAGES, None) | {"unprefix": False}
    assert reason in result.reasons["unprefix"]


def test_bytes_input_and_line_end() -> None:
    text = Code(ES).build()
    assert verify(text.encode() + b"\r\n", trust=[ES.der], at=AT).status == "valid"
    assert verify(b"HC1:\xff\xfe", trust=[ES.der], at=AT).reasons["unprefix"] == "the text is not UTF-8"


@pytest.mark.parametrize("body", ["A", "ab", "GGW", "::", "AB=="])
def test_base45_failures(body: str) -> None:
    assert stages("HC1:" + body) == dict.fromkeys(STAGES, None) | {"unprefix": True, "base45": False}


def test_decompress_failures() -> None:
    cose = Code(ES).cose()
    not_compressed = "HC1:" + b45encode(cose)
    assert stages(not_compressed)["decompress"] is False
    truncated = "HC1:" + b45encode(zlib.compress(cose)[:-6])
    assert verify(truncated, trust=[ES.der], at=AT).reasons["decompress"] == "the zlib stream is truncated"
    trailing = "HC1:" + b45encode(zlib.compress(cose) + b"\x00")
    assert "follow the zlib stream" in verify(trailing, trust=[ES.der], at=AT).reasons["decompress"]
    assert stages(truncated)["cose"] is None


def test_over_size_inputs_are_refused_before_work() -> None:
    too_long = "HC1:" + "0" * MAX_TEXT_CHARS
    assert verify(too_long, trust=[ES.der], at=AT).status == "unprefix"
    bomb = "HC1:" + b45encode(zlib.compress(b"\x00" * (64 * MAX_DECOMPRESSED_BYTES), 9))
    result = verify(bomb, trust=[ES.der], at=AT)
    assert len(bomb) < MAX_TEXT_CHARS
    assert result.status == "decompress" and "more than" in result.reasons["decompress"]


def test_deep_cbor_nesting_is_a_cose_failure() -> None:
    deep = b"\x81" * 40 + b"\x00"
    result = verify(encode(deep), trust=[ES.der], at=AT)
    assert result.status == "cose" and "depth" in result.reasons["cose"]


@pytest.mark.parametrize(
    ("cose", "reason"),
    [
        (cbor2.dumps([1, 2, 3]), "four items"),
        (cbor2.dumps(cbor2.CBORTag(18, [b"", {}, None, b""])), "detached"),
        (cbor2.dumps(cbor2.CBORTag(18, [b"\xa1\x01", {}, b"", b""])), "protected header is not valid"),
        (cbor2.dumps([b"", {}, b"", b""]) + b"\x00", "after its CBOR item"),
        (b"\x29" + bytes(40), "after its CBOR item"),
    ],
)
def test_cose_structure_failures(cose: bytes, reason: str) -> None:
    result = verify(encode(cose), trust=[ES.der], at=AT)
    assert result.status == "cose" and reason in result.reasons["cose"]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({1: "VN"}, "no health certificate claim"),
        ({-260: {2: {}}}, "no EU DCC"),
        ({-260: {1: {1: 2}}}, "not text"),
        ({-260: {1: vaccination()}, 4: "tomorrow"}, "expiry claim is not a number"),
        ({-260: {1: vaccination()}, 1: 704}, "issuer claim is not text"),
    ],
)
def test_claims_failures_still_check_the_signature(claims: dict, reason: str) -> None:
    result = verify(Code(ES, claims=claims).build(), trust=[ES.der], at=AT)
    assert result.stages["cose"] is False and reason in result.reasons["cose"]
    assert result.stages["signature"] is True  # the envelope decoded, so the signature could run
    assert result.stages["expiration"] is result.stages["key_usage"] is result.stages["schema"] is None


def test_payload_that_is_a_byte_string_is_a_cose_failure() -> None:
    result = verify(Code(ES, payload=cbor2.dumps(cbor2.dumps({1: 2}))).build(), trust=[ES.der], at=AT)
    assert result.status == "cose" and "not a map of claims" in result.reasons["cose"]


def test_duplicate_claim_keys_are_refused() -> None:
    payload = b"\xa2\x04\x01\x04\x02"  # {4: 1, 4: 2}
    assert verify(Code(ES, payload=payload).build(), trust=[ES.der], at=AT).stages["cose"] is False


def test_unknown_kid() -> None:
    other = make_signer(serial=2)
    result = verify(Code(ES).build(), trust=[other.der], at=AT)
    assert dict(result.stages) == expect(signature=False, key_usage=None)
    assert ES.kid.hex() in result.reasons["signature"]
    assert result.signer is None


def test_empty_or_garbage_trust() -> None:
    assert verify(Code(ES).build(), trust=[], at=AT).status == "signature"
    assert verify(Code(ES).build(), trust=[b"not a certificate", "text"], at=AT).status == "signature"  # type: ignore[list-item]


def test_tampered_payload() -> None:
    result = verify(Code(ES, tamper=True).build(), trust=[ES.der], at=AT)
    assert result.status == "signature" and "does not match" in result.reasons["signature"]
    assert result.stages["expiration"] is True and result.stages["schema"] is not None


def test_wrong_key_type_for_the_algorithm() -> None:
    text = Code(ES, kid=PS.kid).build()  # ES256 signature, key id of the RSA certificate
    result = verify(text, trust=[PS.der], at=AT)
    assert result.status == "signature" and "P-256" in result.reasons["signature"]


def test_unsupported_algorithm() -> None:
    protected = cbor2.dumps({1: -35, 4: ES.kid})  # ES384
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, cbor2.dumps(Code(ES).claims_map()), bytes(96)]))
    result = verify(encode(cose), trust=[ES.der], at=AT)
    assert result.status == "signature" and "-35" in result.reasons["signature"]


def test_kid_only_in_unprotected_header() -> None:
    assert verify(Code(ES, kid_in="unprotected").build(), trust=[ES.der], at=AT).status == "valid"


def test_protected_kid_wins_over_unprotected() -> None:
    code = Code(ES, kid_in="both")
    cose = cbor2.loads(code.cose())
    good = cbor2.dumps(cbor2.CBORTag(18, [cose.value[0], {4: b"wrongkid"}, *cose.value[2:]]))
    assert verify(encode(good), trust=[ES.der], at=AT).status == "valid"
    bad_protected = Code(ES, kid=b"wrongkid").cose()
    item = cbor2.loads(bad_protected).value
    mixed = cbor2.dumps(cbor2.CBORTag(18, [item[0], {4: ES.kid}, *item[2:]]))
    assert verify(encode(mixed), trust=[ES.der], at=AT).status == "signature"


def test_no_kid_at_all() -> None:
    result = verify(Code(ES, kid_in="none").build(), trust=[ES.der], at=AT)
    assert result.status == "signature" and "no key id" in result.reasons["signature"]


def test_kid_collision_tries_every_certificate() -> None:
    """Two certificates share a key id: the first one's key fails, the second one's verifies."""
    other = make_signer(serial=3, fresh_key=True)
    impostor = dataclasses.replace(parse_signer(other.der), kid=ES.kid)  # type: ignore[type-var]
    real = parse_signer(ES.der)
    assert impostor is not None and real is not None
    text = Code(ES).build()
    result = verify(text, trust=SignerTrust({ES.kid: (impostor, real)}), at=AT)
    assert result.status == "valid" and result.signer == real
    only_impostor = verify(text, trust=SignerTrust({ES.kid: (impostor,)}), at=AT)
    assert only_impostor.status == "signature"


def test_cwt_expired_and_not_yet_issued() -> None:
    text = Code(ES).build()
    expired = verify(text, trust=[ES.der], at=T0 + dt.timedelta(days=367))
    assert dict(expired.stages) == expect(expiration=False)
    assert "expired at" in expired.reasons["expiration"]
    early = verify(text, trust=[ES.der], at=T0 + dt.timedelta(hours=12))
    assert early.status == "expiration" and "after the verification time" in early.reasons["expiration"]
    boundary = T0 + dt.timedelta(days=366)
    assert verify(text, trust=[ES.der], at=boundary).status == "valid"  # exp itself is still valid


def test_signer_certificate_validity() -> None:
    not_yet = make_signer(not_before=T0 + dt.timedelta(days=60), serial=4)
    result = verify(Code(not_yet).build(), trust=[not_yet.der], at=AT)
    assert result.status == "expiration"
    assert "issued before the signer certificate's validity began" in result.reasons["expiration"]
    short = make_signer(not_after=T0 + dt.timedelta(days=40), serial=5)
    result = verify(Code(short).build(), trust=[short.der], at=AT)
    assert result.status == "expiration" and "after the signer certificate" in result.reasons["expiration"]
    expired = make_signer(not_after=T0 + dt.timedelta(days=20), serial=6)
    result = verify(Code(expired).build(), trust=[expired.der], at=AT)
    assert "not valid at the verification time" in result.reasons["expiration"]


def test_missing_time_claims() -> None:
    result = verify(Code(ES, issued_at=None, expires_at=None).build(), trust=[ES.der], at=AT)
    assert result.status == "expiration"
    assert result.reasons["expiration"] == "no issued-at claim; no expiry claim"


def test_expiration_without_a_known_signer_checks_the_claims() -> None:
    stranger = make_signer(serial=7)
    result = verify(Code(ES).build(), trust=[stranger.der], at=T0 + dt.timedelta(days=400))
    assert result.stages["expiration"] is False and result.stages["key_usage"] is None


KINDS = {"v": vaccination(), "t": lab_test(), "r": recovery()}
OIDS = {"t": OID_TEST, "v": OID_VACCINATION, "r": OID_RECOVERY}


@pytest.mark.parametrize("allowed", ["t", "v", "r"])
@pytest.mark.parametrize("kind", ["t", "v", "r"])
@pytest.mark.parametrize("spelling", ["current", "alternative"])
def test_key_usage_per_type(allowed: str, kind: str, spelling: str) -> None:
    oid = OIDS[allowed] if spelling == "current" else ALT_OID[allowed]
    signer = make_signer(eku=[oid], serial=10)
    result = verify(Code(signer, KINDS[kind]).build(), trust=[signer.der], at=AT)
    assert result.stages["key_usage"] is (allowed == kind)
    assert result.stages["signature"] is True and result.stages["schema"] is True


@pytest.mark.parametrize("eku", [None, [], ["1.3.6.1.5.5.7.3.4"]], ids=["no-eku", "empty-eku", "other-eku"])
def test_certificate_without_type_oids_signs_every_type(eku: list[str] | None) -> None:
    signer = make_signer(eku=eku, serial=11)
    for certificate in KINDS.values():
        assert verify(Code(signer, certificate).build(), trust=[signer.der], at=AT).status == "valid"


def test_several_type_oids() -> None:
    signer = make_signer(eku=[OID_TEST, OID_RECOVERY], serial=12)
    assert verify(Code(signer, KINDS["r"]).build(), trust=[signer.der], at=AT).status == "valid"
    result = verify(Code(signer, KINDS["v"]).build(), trust=[signer.der], at=AT)
    assert result.reasons["key_usage"] == "the signer may sign recovery, test, not vaccination"


def test_schema_failure_while_expired_reports_both() -> None:
    broken = vaccination()
    broken["dob"] = "31.01.1990"
    del broken["v"][0]["ci"]
    result = verify(Code(ES, broken).build(), trust=[ES.der], at=T0 + dt.timedelta(days=400))
    assert result.status == "expiration"
    assert result.stages["expiration"] is False and result.stages["schema"] is False
    assert result.stages["signature"] is True and result.stages["key_usage"] is True
    assert set(result.reasons) == {"expiration", "schema"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda c: c.update(ver="2.0.0"), "names no released schema"),
        (lambda c: c.update(ver=130), "names no released schema"),
        (lambda c: c.update(ver="1.0.0", t=lab_test()["t"]), "exactly one of v, t, r"),
        (lambda c: c.update(t=lab_test()["t"]), "exactly by one definition"),
        (lambda c: c["v"][0].update(dn=0), "schema 1.3.0"),
        (lambda c: c["nam"].update(fnt="nguyen"), "schema 1.3.0"),
        (lambda c: c["v"].append(c["v"][0]), "schema 1.3.0"),
        (lambda c: c.update(extra=b"bytes"), "no JSON form"),
    ],
)
def test_schema_failures(change: object, reason: str) -> None:
    certificate = vaccination()
    change(certificate)  # type: ignore[operator]
    result = verify(Code(ES, certificate).build(), trust=[ES.der], at=AT)
    assert result.status == "schema" and reason in result.reasons["schema"]


@pytest.mark.parametrize("ver", ["1.0.0", "1.0.1", "1.2.1", "1.3.2", "1.3.3", "1.3.9"])
def test_schema_follows_the_payloads_own_version(ver: str) -> None:
    certificate = vaccination()
    certificate["ver"] = ver
    assert verify(Code(ES, certificate).build(), trust=[ES.der], at=AT).status == "valid"


def test_date_tags_are_read_as_their_text() -> None:
    certificate = lab_test()
    certificate["t"][0]["sc"] = cbor2.CBORTag(0, "2022-04-20T08:00:00Z")
    assert verify(Code(ES, certificate).build(), trust=[ES.der], at=AT).status == "valid"
    certificate["t"][0]["sc"] = cbor2.CBORTag(1, 1650441600)
    assert verify(Code(ES, certificate).build(), trust=[ES.der], at=AT).status == "schema"


def test_naive_time_is_the_callers_error() -> None:
    with pytest.raises(TypeError):
        verify(Code(ES).build(), trust=[ES.der], at=dt.datetime(2022, 5, 1))


def test_trust_list_is_parsed_once_per_value() -> None:
    trust = [ES.der, PS.der]
    text = Code(PS).build()
    assert verify(text, trust=trust, at=AT).valid
    assert verify(text, trust=SignerTrust.from_der(trust), at=AT).valid
    assert len(SignerTrust.from_der(trust)) == 2
