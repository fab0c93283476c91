"""Document signer certificates (DSC): key id, public key, validity and the certificate types allowed.

The key id is the first 8 bytes of the SHA-256 of the certificate's DER encoding (HCERT §3.3.1), so
two certificates can share one: the verifier tries each. The extended-key-usage OIDs
``1.3.6.1.4.1.1847.2021.1.{1,2,3}`` (and the ``1.3.6.1.4.1.0.1847...`` spelling an early
specification printed, which issuers use) restrict a signer to test, vaccination and recovery
certificates; a certificate with none of them may sign every type (HCERT §5.1.1).

Parsing is cached per DER value, so passing the same list of certificates to every verification
costs a dictionary look-up, not an X.509 parse.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ALG_ES256: Final = -7
ALG_PS256: Final = -37
ALGORITHMS: Final = {ALG_ES256: "ES256", ALG_PS256: "PS256"}
KID_BYTES: Final = 8

TEST, VACCINATION, RECOVERY = "t", "v", "r"
#: Extended-key-usage OID -> the certificate type it allows.
TYPE_OIDS: Final = {
    "1.3.6.1.4.1.1847.2021.1.1": TEST,
    "1.3.6.1.4.1.1847.2021.1.2": VACCINATION,
    "1.3.6.1.4.1.1847.2021.1.3": RECOVERY,
    "1.3.6.1.4.1.0.1847.2021.1.1": TEST,
    "1.3.6.1.4.1.0.1847.2021.1.2": VACCINATION,
    "1.3.6.1.4.1.0.1847.2021.1.3": RECOVERY,
}
_EKU_OID: Final = "2.5.29.37"
_ECDSA_SHA256: Final = ec.ECDSA(hashes.SHA256())
#: RSASSA-PSS with SHA-256 and MGF1-SHA-256 (RFC 8230). HCERT issuers use a 32-byte salt; AUTO also
#: accepts the maximal salt some signing libraries default to, without weakening the check.
_PSS: Final = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def key_id(der: bytes) -> bytes:
    """The HCERT key id of a certificate: the first 8 bytes of SHA-256 over its DER encoding."""
    return hashlib.sha256(der).digest()[:KID_BYTES]


@dataclass(frozen=True)
class SignerCertificate:
    """One trusted signer. ``allowed_types`` is ``None`` when the certificate restricts nothing."""

    der: bytes
    kid: bytes
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime
    public_key: PublicKey | None
    allowed_types: frozenset[str] | None

    def check_signature(self, alg: int | None, message: bytes, signature: bytes) -> str | None:
        """``None`` when ``signature`` over ``message`` verifies with ``alg``; else the reason it does not."""
        key = self.public_key
        try:
            if alg == ALG_ES256:
                if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
                    return "ES256 needs a P-256 key and the certificate holds another"
                if len(signature) != 64:
                    return f"an ES256 signature is 64 bytes (r||s), this one {len(signature)}"
                r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
                key.verify(encode_dss_signature(r, s), message, _ECDSA_SHA256)
            elif alg == ALG_PS256:
                if not isinstance(key, rsa.RSAPublicKey):
                    return "PS256 needs an RSA key and the certificate holds another"
                key.verify(signature, message, _PSS, hashes.SHA256())
            else:
                return f"algorithm {alg!r} is not allowed (ES256 or PS256 only)"
        except (InvalidSignature, ValueError, UnsupportedAlgorithm):
            return "the signature does not match"
        return None

    def allows(self, kind: str) -> bool:
        return self.allowed_types is None or kind in self.allowed_types


def _der_items(data: bytes, start: int, end: int) -> Iterable[tuple[int, int, int]]:
    """(tag, content start, content end) of each DER item in ``data[start:end]``."""
    at = start
    while at < end:
        tag, size = data[at], data[at + 1]
        at += 2
        if size & 0x80:
            count = size & 0x7F
            size = int.from_bytes(data[at : at + count], "big")
            at += count
        if at + size > end:
            raise ValueError("truncated DER")
        yield tag, at, at + size
        at += size


def _oid_text(raw: bytes) -> str:
    parts, value = [], 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in (first, parts[0] - 40 * first, *parts[1:]))


def _raw_eku_oids(tbs: bytes) -> list[str]:
    """EKU OIDs read straight from the DER, for certificates whose extensions the X.509 parser refuses
    (an empty EKU sequence, as one conformance case uses to mean "no restriction")."""
    [(_, start, end)] = list(_der_items(tbs, 0, len(tbs)))
    for tag, s, e in _der_items(tbs, start, end):
        if tag != 0xA3:
            continue
        [(_, ext_start, ext_end)] = list(_der_items(tbs, s, e))
        for _, es, ee in _der_items(tbs, ext_start, ext_end):
            fields = list(_der_items(tbs, es, ee))
            if tbs[fields[0][1] : fields[0][2]] != bytes.fromhex("551d25"):
                continue
            octets = fields[-1]
            [(_, seq_start, seq_end)] = list(_der_items(tbs, octets[1], octets[2]))
            return [_oid_text(tbs[a:b]) for tag, a, b in _der_items(tbs, seq_start, seq_end) if tag == 6]
    return []


def _eku_oids(cert: x509.Certificate) -> list[str]:
    try:
        usage = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(_EKU_OID)).value
    except x509.ExtensionNotFound:
        return []
    except ValueError:
        try:
            return _raw_eku_oids(cert.tbs_certificate_bytes)
        except (ValueError, IndexError):
            return []
    return [oid.dotted_string for oid in usage] if isinstance(usage, x509.ExtendedKeyUsage) else []


@functools.lru_cache(maxsize=4096)
def parse_signer(der: bytes) -> SignerCertificate | None:
    """The signer described by ``der``, or ``None`` when it is not an X.509 certificate."""
    try:
        cert = x509.load_der_x509_certificate(der)
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        subject = cert.subject.rfc4514_string()
    except (ValueError, TypeError):
        return None
    try:
        key = cert.public_key()
        public_key = key if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey) else None
    except (ValueError, UnsupportedAlgorithm):
        public_key = None
    types = {TYPE_OIDS[oid] for oid in _eku_oids(cert) if oid in TYPE_OIDS}
    return SignerCertificate(
        der, key_id(der), subject, not_before, not_after, public_key, frozenset(types) if types else None
    )


@dataclass(frozen=True)
class SignerTrust:
    """Trusted signer certificates indexed by key id (one id may name several certificates)."""

    by_kid: Mapping[bytes, tuple[SignerCertificate, ...]]

    @classmethod
    def from_der(cls, certificates: Iterable[bytes]) -> SignerTrust:
        """Index the certificates that parse; anything else in the list is ignored."""
        index: dict[bytes, list[SignerCertificate]] = {}
        for der in certificates:
            if not isinstance(der, bytes | bytearray | memoryview):
                continue
            signer = parse_signer(bytes(der))
            if signer is not None:
                index.setdefault(signer.kid, []).append(signer)
        return cls({kid: tuple(signers) for kid, signers in index.items()})

    def candidates(self, kid: bytes | None) -> tuple[SignerCertificate, ...]:
        return self.by_kid.get(kid, ()) if kid is not None else ()

    def __len__(self) -> int:
        return sum(len(signers) for signers in self.by_kid.values())


@functools.lru_cache(maxsize=16)
def _cached_trust(certificates: tuple[bytes, ...]) -> SignerTrust:
    return SignerTrust.from_der(certificates)


def as_trust(trust: SignerTrust | Iterable[bytes]) -> SignerTrust:
    """``trust`` as a :class:`SignerTrust`; a list of DER certificates is indexed once and cached."""
    if isinstance(trust, SignerTrust):
        return trust
    certificates = tuple(bytes(c) if isinstance(c, bytearray | memoryview) else c for c in trust)
    try:
        return _cached_trust(certificates)
    except TypeError:  # an unhashable entry: index without the cache
        return SignerTrust.from_der(certificates)
