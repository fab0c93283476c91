"""Build HC1 codes for the tests: signer certificates, CWT claims, COSE_Sign1, zlib, Base45.

An independent small encoder (the verifier never imports it), so that round trips check the decoder
against the specification rather than against itself. Every knob a conformance case turns is a
parameter: algorithm, key id placement, tags, extended key usage, validity, claims.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from unifiedqr.codes.dcc.base45 import b45encode

T0 = dt.datetime(2022, 4, 1, tzinfo=dt.UTC)
OID_TEST, OID_VACCINATION, OID_RECOVERY = (f"1.3.6.1.4.1.1847.2021.1.{i}" for i in (1, 2, 3))
ALT_OID = {kind: f"1.3.6.1.4.1.0.1847.2021.1.{i}" for i, kind in ((1, "t"), (2, "v"), (3, "r"))}

_EC_KEY = ec.generate_private_key(ec.SECP256R1())
_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class Signer:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    der: bytes

    @property
    def kid(self) -> bytes:
        return hashlib.sha256(self.der).digest()[:8]

    @property
    def alg(self) -> int:
        return -7 if isinstance(self.key, ec.EllipticCurvePrivateKey) else -37

    def pem(self) -> bytes:
        cert = x509.load_der_x509_certificate(self.der)
        return cert.public_bytes(serialization.Encoding.PEM)


def make_signer(
    *,
    alg: str = "ES256",
    not_before: dt.datetime = T0,
    not_after: dt.datetime = T0 + dt.timedelta(days=730),
    eku: list[str] | None = None,
    fresh_key: bool = False,
    serial: int = 1,
    country: str = "VN",
) -> Signer:
    """A self-signed document signer certificate (keys are shared unless ``fresh_key``)."""
    if alg == "ES256":
        key: Any = ec.generate_private_key(ec.SECP256R1()) if fresh_key else _EC_KEY
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if fresh_key else _RSA_KEY
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.COMMON_NAME, f"DSC {alg} {serial}"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if eku is not None:  # [] writes an empty EKU sequence (seen in the wild, refused by strict parsers)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in eku]), critical=False
        )
    cert = builder.sign(key, hashes.SHA256())
    return Signer(key, cert.public_bytes(serialization.Encoding.DER))


def vaccination(dose: int = 2, series: int = 2, date: str = "2021-09-10", mp: str = "EU/1/20/1528") -> dict:
    return {
        "ver": "1.3.0",
        "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn An", "gnt": "VAN<AN"},
        "dob": "1990-01-31",
        "v": [
            {
                "tg": "840539006",
                "vp": "1119349007",
                "mp": mp,
                "ma": "ORG-100030215",
                "dn": dose,
                "sd": series,
                "dt": date,
                "co": "VN",
                "is": "Ministry of Health Viet Nam",
                "ci": "URN:UVCI:01:VN:TEST0001",
            }
        ],
    }


def lab_test(tt: str = "LP6464-4", tr: str = "260415000", sc: str = "2022-04-20T08:00:00Z") -> dict:
    return {
        "ver": "1.3.0",
        "nam": {"fn": "Trần", "fnt": "TRAN", "gn": "Thị Bình", "gnt": "THI<BINH"},
        "dob": "1985-05-05",
        "t": [
            {
                "tg": "840539006",
                "tt": tt,
                "sc": sc,
                "tr": tr,
                "tc": "Bệnh viện Chợ Rẫy",
                "co": "VN",
                "is": "Ministry of Health Viet Nam",
                "ci": "URN:UVCI:01:VN:TEST0002",
            }
        ],
    }


def recovery(fr: str = "2022-01-10") -> dict:
    return {
        "ver": "1.3.0",
        "nam": {"fnt": "LE", "gnt": "MINH"},
        "dob": "1979",
        "r": [
            {
                "tg": "840539006",
                "fr": fr,
                "co": "VN",
                "is": "Ministry of Health Viet Nam",
                "df": "2022-01-21",
                "du": "2022-07-09",
                "ci": "URN:UVCI:01:VN:TEST0003",
            }
        ],
    }


@dataclass
class Code:
    """Everything that goes into one HC1 code; ``build()`` returns its QR text."""

    signer: Signer
    certificate: dict = field(default_factory=vaccination)
    issued_at: dt.datetime | None = T0 + dt.timedelta(days=1)
    expires_at: dt.datetime | None = T0 + dt.timedelta(days=366)
    issuer: str | None = "VN"
    kid_in: str = "protected"  # protected | unprotected | both | none
    kid: bytes | None = None  # override the key id written
    tags: tuple[int, ...] = (18,)
    claims: dict | None = None  # override the whole claims map
    payload: bytes | None = None  # override the signed payload bytes
    tamper: bool = False  # flip a payload byte after signing
    prefix: str = "HC1:"
    compress: bool = True

    def claims_map(self) -> dict:
        if self.claims is not None:
            return self.claims
        claims: dict = {-260: {1: self.certificate}}
        if self.issuer is not None:
            claims[1] = self.issuer
        if self.issued_at is not None:
            claims[6] = int(self.issued_at.timestamp())
        if self.expires_at is not None:
            claims[4] = int(self.expires_at.timestamp())
        return claims

    def cose(self) -> bytes:
        kid = self.kid if self.kid is not None else self.signer.kid
        protected: dict = {1: self.signer.alg}
        unprotected: dict = {}
        if self.kid_in in ("protected", "both"):
            protected[4] = kid
        if self.kid_in in ("unprotected", "both"):
            unprotected[4] = kid
        protected_bytes = cbor2.dumps(protected)
        payload = self.payload if self.payload is not None else cbor2.dumps(self.claims_map())
        signature = sign(self.signer, cbor2.dumps(["Signature1", protected_bytes, b"", payload]))
        if self.tamper:
            payload = payload[:-1] + bytes([payload[-1] ^ 1])
        item: Any = [protected_bytes, unprotected, payload, signature]
        for tag in reversed(self.tags):
            item = cbor2.CBORTag(tag, item)
        return cbor2.dumps(item)

    def build(self) -> str:
        data = self.cose()
        if self.compress:
            data = zlib.compress(data, 9)
        return self.prefix + b45encode(data)


def sign(signer: Signer, message: bytes) -> bytes:
    if isinstance(signer.key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(signer.key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return signer.key.sign(message, pss, hashes.SHA256())


def encode(cose: bytes, prefix: str = "HC1:") -> str:
    """QR text for raw COSE bytes (for cases that hand-craft the CBOR)."""
    return prefix + b45encode(zlib.compress(cose, 9))
