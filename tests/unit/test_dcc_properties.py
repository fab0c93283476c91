"""Properties: round trips through our own encoder, and the verifier never raises on any input."""

from __future__ import annotations

import datetime as dt
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dcc_factory import T0, Code, make_signer
from unifiedqr.codes.dcc import STAGES, health_facts, minimal_display, verify
from unifiedqr.codes.dcc.base45 import ALPHABET, b45encode

ES = make_signer()
PS = make_signer(alg="PS256")
AT = T0 + dt.timedelta(days=30)
TRUST = [ES.der, PS.der]

ascii_names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ<", min_size=1, max_size=30)
native_names = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s)
dates = st.dates(min_value=dt.date(2020, 12, 1), max_value=dt.date(2022, 4, 1)).map(dt.date.isoformat)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2022, 1, 1)).map(dt.date.isoformat)


@st.composite
def vaccinations(draw: st.DrawFn) -> dict:
    series = draw(st.integers(1, 4))
    return {
        "ver": draw(st.sampled_from(["1.3.0", "1.3.1", "1.3.2", "1.3.3"])),
        "nam": {"fn": draw(native_names), "fnt": draw(ascii_names), "gnt": draw(ascii_names)},
        "dob": draw(births),
        "v": [
            {
                "tg": "840539006",
                "vp": "1119349007",
                "mp": draw(st.sampled_from(["EU/1/20/1528", "EU/1/21/1529", "BBIBP-CorV", "Sputnik-V"])),
                "ma": "ORG-100030215",
                "dn": draw(st.integers(1, series)),
                "sd": series,
                "dt": draw(dates),
                "co": "VN",
                "is": draw(st.text(min_size=1, max_size=80)),
                "ci": "URN:UVCI:01:VN:" + draw(st.text(alphabet="ABCDEF0123456789", min_size=4, max_size=20)),
            }
        ],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    certificate=vaccinations(),
    signer=st.sampled_from([ES, PS]),
    tags=st.sampled_from([(18,), (61, 18), ()]),
    kid_in=st.sampled_from(["protected", "unprotected", "both"]),
)
def test_round_trip_through_our_encoder(certificate: dict, signer: object, tags: tuple, kid_in: str) -> None:
    text = Code(signer, certificate, tags=tags, kid_in=kid_in).build()  # type: ignore[arg-type]
    result = verify(text, trust=TRUST, at=AT)
    assert result.status == "valid", result.reasons
    assert result.certificate == certificate
    display = minimal_display(result)
    assert display is not None and display.birth_date == certificate["dob"]
    entry = certificate["v"][0]
    assert display.dose == f"{entry['dn']}/{entry['sd']}"
    [fact] = health_facts(certificate)
    assert (fact.dose, fact.doses_in_series, fact.product) == (entry["dn"], entry["sd"], entry["mp"])  # type: ignore[union-attr]


def _assert_well_formed(result: object) -> None:
    stages = result.stages  # type: ignore[attr-defined]
    assert tuple(stages) == STAGES
    assert all(value in (True, False, None) for value in stages.values())
    status = result.status  # type: ignore[attr-defined]
    assert status == "valid" or stages[status] is False
    first_false = next((s for s in STAGES if stages[s] is not True), "valid")
    assert status == first_false
    assert set(result.reasons) == {s for s in STAGES if stages[s] is False}  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_never_raises_on_arbitrary_text_and_bytes(data: str | bytes) -> None:
    _assert_well_formed(verify(data, trust=TRUST, at=AT))
    _assert_well_formed(
        verify("HC1:" + data if isinstance(data, str) else b"HC1:" + data, trust=TRUST, at=AT)
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=400))
def test_never_raises_on_base45_text(body: str) -> None:
    _assert_well_formed(verify("HC1:" + body, trust=TRUST, at=AT))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_never_raises_on_compressed_garbage(data: bytes) -> None:
    """Past Base45 and zlib, so the CBOR and COSE decoders meet arbitrary bytes."""
    _assert_well_formed(verify("HC1:" + b45encode(zlib.compress(data)), trust=TRUST, at=AT))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_never_raises_on_mutated_codes(data: st.DataObject) -> None:
    """One valid message with bytes flipped, cut or inserted anywhere in the COSE structure."""
    cose = bytearray(Code(ES).cose())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(cose) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            cose[at] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del cose[at:]
            if not cose:
                cose.append(0)
        else:
            cose.insert(at, data.draw(st.integers(0, 255)))
    result = verify("HC1:" + b45encode(zlib.compress(bytes(cose))), trust=TRUST, at=AT)
    _assert_well_formed(result)
    assert minimal_display(result) is None or result.certificate is not None


def test_arbitrary_objects_do_not_raise() -> None:
    for thing in (None, 42, ["HC1:"], object()):
        assert verify(thing, trust=TRUST, at=AT).status == "unprefix"  # type: ignore[arg-type]
    assert verify(Code(ES).build(), trust=None, at=AT).status == "signature"  # type: ignore[arg-type]
