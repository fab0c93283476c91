"""The offline verifier: eight named stages from the QR text to a trusted health certificate.

``verify(text, trust=..., at=...)`` never raises. Each stage records ``True`` (passed), ``False``
(failed, with a reason) or ``None`` (could not run, because an earlier stage produced nothing for it
to read). After a failure every stage that still has its input runs: the schema is checked when the
signature is bad or the certificate has expired, so a report names every problem at once.

Stage inputs: ``unprefix`` the text; ``base45`` the text after the prefix; ``decompress`` the Base45
bytes; ``cose`` the decompressed bytes (envelope and CWT claims); ``signature`` the envelope and the
trusted certificates; ``expiration`` the claims, ``at`` and the signer certificate's validity;
``key_usage`` the certificate type and the signer certificate; ``schema`` the certificate itself.
The signer certificate for the last stages is the one that verified the signature, else the first
trusted certificate with the message's key id, else (for ``expiration``) none, and then only the
claims are checked; ``key_usage`` without any candidate certificate is ``None``.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from unifiedqr.codes.dcc import schema as schemas
from unifiedqr.codes.dcc.base45 import Base45Error, b45decode
from unifiedqr.codes.dcc.cose import Claims, CoseError, Sign1, decode_claims, decode_sign1
from unifiedqr.codes.dcc.signers import ALGORITHMS, SignerCertificate, SignerTrust, as_trust

STAGES: Final = ("unprefix", "base45", "decompress", "cose", "signature", "expiration", "key_usage", "schema")
PREFIX: Final = "HC1:"
#: Longest QR text accepted: a version-40 symbol holds 4,296 alphanumeric characters.
MAX_TEXT_CHARS: Final = 4_296
#: Largest compressed certificate accepted (what 4,296 Base45 characters can carry is 2,864 bytes).
MAX_COMPRESSED_BYTES: Final = 4_096
#: Largest decompressed COSE message accepted; a certificate is usually 300-600 bytes, an RSA-4096
#: signed one with every optional field well under 4 KiB. A zlib bomb stops here, not in memory.
MAX_DECOMPRESSED_BYTES: Final = 32_768

TYPE_NAMES: Final = {"v": "vaccination", "t": "test", "r": "recovery"}


@dataclass(frozen=True)
class DccVerification:
    """The outcome: ``status`` is ``"valid"`` or the first failing stage; ``stages`` maps every stage
    name to ``True``, ``False`` or ``None``; ``reasons`` explains each ``False``."""

    status: str
    stages: Mapping[str, bool | None]
    reasons: Mapping[str, str] = field(default_factory=dict)
    kid: bytes | None = None
    algorithm: str | None = None
    signer: SignerCertificate | None = None
    claims: Claims | None = None

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    @property
    def certificate(self) -> dict[str, Any] | None:
        """The decoded EU DCC payload (``ver``, ``nam``, ``dob``, ``v``/``t``/``r``), when it decoded."""
        return self.claims.certificate if self.claims else None

    @property
    def expires_at(self) -> dt.datetime | None:
        """The certificate's own expiry (CWT ``exp``): never trust its content past this instant."""
        return self.claims.expires_at if self.claims else None

    @property
    def certificate_type(self) -> str | None:
        """``vaccination``, ``test`` or ``recovery`` when the payload holds exactly one group."""
        return certificate_type(self.certificate)


def certificate_type(certificate: Mapping[str, Any] | None) -> str | None:
    if not certificate:
        return None
    groups = [key for key in TYPE_NAMES if key in certificate]
    return TYPE_NAMES[groups[0]] if len(groups) == 1 else None


class _Run:
    """One verification's stage book-keeping."""

    def __init__(self) -> None:
        self.stages: dict[str, bool | None] = dict.fromkeys(STAGES)
        self.reasons: dict[str, str] = {}

    def ok(self, stage: str) -> None:
        self.stages[stage] = True

    def fail(self, stage: str, reason: str) -> None:
        self.stages[stage] = False
        self.reasons[stage] = reason

    def status(self) -> str:
        for stage in STAGES:
            if self.stages[stage] is not True:
                return stage
        return "valid"


def _unprefix(run: _Run, text: object) -> str | None:
    if isinstance(text, bytes | bytearray | memoryview):
        if len(text) > MAX_TEXT_CHARS + 2:
            run.fail("unprefix", f"the text is longer than {MAX_TEXT_CHARS} characters")
            return None
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            run.fail("unprefix", "the text is not UTF-8")
            return None
    if not isinstance(text, str):
        run.fail("unprefix", f"expected text, got {type(text).__name__}")
        return None
    text = text.rstrip("\r\n")  # a scanner's line end; a space is Base45, so nothing else is stripped
    if len(text) > MAX_TEXT_CHARS:
        run.fail("unprefix", f"the text is longer than {MAX_TEXT_CHARS} characters")
        return None
    if text.startswith(PREFIX):
        run.ok("unprefix")
        return text[len(PREFIX) :]
    head = text[:4]
    if len(head) == 4 and head[:2] == "HC" and head[2].isalnum() and head[3] == ":":
        run.fail("unprefix", f"context identifier {head!r} is an unsupported version (only HC1: is)")
    elif ":" in head:
        run.fail("unprefix", f"context identifier {text[: text.index(':') + 1]!r} is not HC1:")
    else:
        run.fail("unprefix", "the text does not start with the context identifier HC1:")
    return None


def _decompress(run: _Run, data: bytes) -> bytes | None:
    if len(data) > MAX_COMPRESSED_BYTES:
        run.fail("decompress", f"more than {MAX_COMPRESSED_BYTES} compressed bytes")
        return None
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        run.fail("decompress", f"not a zlib stream ({exc})")
        return None
    if len(out) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
        run.fail("decompress", f"decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes")
        return None
    if not inflater.eof:
        run.fail("decompress", "the zlib stream is truncated")
        return None
    if inflater.unused_data:
        run.fail("decompress", f"{len(inflater.unused_data)} bytes follow the zlib stream")
        return None
    run.ok("decompress")
    return out


def _signature(run: _Run, sign1: Sign1, trust: SignerTrust) -> SignerCertificate | None:
    kid, alg = sign1.kid, sign1.alg
    if alg not in ALGORITHMS:
        run.fail("signature", f"algorithm {sign1.header(1)!r} is not ES256 or PS256")
        return None
    if kid is None:
        run.fail("signature", "the message names no key id")
        return None
    candidates = trust.candidates(kid)
    if not candidates:
        run.fail("signature", f"no trusted certificate has key id {kid.hex()}")
        return None
    message = sign1.signed_bytes()
    reasons = []
    for signer in candidates:
        reason = signer.check_signature(alg, message, sign1.signature)
        if reason is None:
            run.ok("signature")
            return signer
        reasons.append(reason)
    detail = reasons[0] if len(set(reasons)) == 1 else "; ".join(reasons)
    run.fail("signature", f"key id {kid.hex()}: {detail}")
    return None


def _expiration(run: _Run, claims: Claims, signer: SignerCertificate | None, at: dt.datetime) -> None:
    iat, exp = claims.issued_at, claims.expires_at
    problems = []
    if iat is None:
        problems.append("no issued-at claim")
    elif iat > at:
        problems.append(f"issued at {iat.isoformat()}, after the verification time")
    if exp is None:
        problems.append("no expiry claim")
    elif exp < at:
        problems.append(f"expired at {exp.isoformat()}")
    if signer is not None:
        if at < signer.not_before or at > signer.not_after:
            problems.append("the signer certificate is not valid at the verification time")
        if iat is not None and iat < signer.not_before:
            problems.append("issued before the signer certificate's validity began")
        if exp is not None and exp > signer.not_after:
            problems.append("expires after the signer certificate's validity ends")
    if problems:
        run.fail("expiration", "; ".join(problems))
    else:
        run.ok("expiration")


def _key_usage(run: _Run, certificate: Mapping[str, Any], signer: SignerCertificate | None) -> None:
    if signer is None:
        return
    groups = [key for key in TYPE_NAMES if key in certificate]
    if not groups:
        run.fail("key_usage", "the certificate holds no vaccination, test or recovery")
        return
    refused = [TYPE_NAMES[g] for g in groups if not signer.allows(g)]
    if refused:
        allowed = sorted(TYPE_NAMES[t] for t in signer.allowed_types or ())
        run.fail("key_usage", f"the signer may sign {', '.join(allowed)}, not {', '.join(refused)}")
    else:
        run.ok("key_usage")


def verify(text: str | bytes, *, trust: SignerTrust | Iterable[bytes], at: dt.datetime) -> DccVerification:
    """Verify the QR ``text`` of an EU Digital COVID Certificate against the signer certificates in
    ``trust`` (DER bytes, or a prepared :class:`SignerTrust`) at the aware time ``at``. Never raises."""
    if not isinstance(at, dt.datetime) or at.utcoffset() is None:
        raise TypeError("at must be a timezone-aware datetime")  # the caller's bug, not the input's
    run = _Run()
    try:
        return _verify(run, text, trust, at)
    except Exception as exc:  # a bug must not turn a hostile code into a crash at the door
        first = run.status()
        if first == "valid":
            first = "schema"
        run.fail(first, f"internal error ({type(exc).__name__})")
        return DccVerification(run.status(), dict(run.stages), dict(run.reasons))


def _verify(
    run: _Run, text: object, trust: SignerTrust | Iterable[bytes], at: dt.datetime
) -> DccVerification:
    body = _unprefix(run, text)
    if body is None:
        return DccVerification(run.status(), run.stages, run.reasons)
    try:
        compressed = b45decode(body)
        run.ok("base45")
    except Base45Error as exc:
        run.fail("base45", str(exc))
        return DccVerification(run.status(), run.stages, run.reasons)
    message = _decompress(run, compressed)
    if message is None:
        return DccVerification(run.status(), run.stages, run.reasons)
    try:
        sign1 = decode_sign1(message)
    except CoseError as exc:
        run.fail("cose", str(exc))
        return DccVerification(run.status(), run.stages, run.reasons)
    claims: Claims | None = None
    try:
        claims = decode_claims(sign1.payload)
        run.ok("cose")
    except CoseError as exc:
        run.fail("cose", str(exc))
    signers = as_trust(trust)
    signer = _signature(run, sign1, signers)
    if claims is not None:
        candidate = signer or next(iter(signers.candidates(sign1.kid)), None)
        _expiration(run, claims, candidate, at)
        _key_usage(run, claims.certificate, candidate)
        try:
            schemas.validate(claims.certificate)
            run.ok("schema")
        except schemas.SchemaError as exc:
            run.fail("schema", str(exc))
    return DccVerification(
        run.status(),
        run.stages,
        run.reasons,
        kid=sign1.kid,
        algorithm=ALGORITHMS.get(sign1.alg or 0),
        signer=signer,
        claims=claims,
    )
