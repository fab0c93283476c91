"""Benchmark: HC1 (EU DCC) verification on one core, beside raw signature verification, and the cost
of each stage.

The ceiling is ``cryptography``'s verify of the same Sig_structure bytes with pre-encoded signatures
(ES256 and PS256), measured in the same run so the ratio survives a noisy machine. The per-stage rows
time each stage alone on the same 256 codes, so they show where a verification's time goes (the
schema is compiled once, before timing). ``--quick`` finishes in well under 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import zlib
from pathlib import Path

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.dcc_factory: the test encoder

from tests.dcc_factory import T0, Code, lab_test, make_signer, recovery, vaccination

from support.common import paired_rates, rate, report, row
from unifiedqr.codes.dcc import SignerTrust, verify
from unifiedqr.codes.dcc import schema as schemas
from unifiedqr.codes.dcc.base45 import b45decode
from unifiedqr.codes.dcc.cose import decode_claims, decode_sign1

N = 256


def _codes(signer: object) -> list[str]:
    makers = [vaccination, lab_test, recovery]
    codes = []
    for i in range(N):
        certificate = makers[i % 3]()
        entry = next(iter(v for k, v in certificate.items() if k in ("v", "t", "r")))[0]
        entry["ci"] = f"URN:UVCI:01:VN:BENCH{i:06d}"
        codes.append(Code(signer, certificate).build())  # type: ignore[arg-type]
    return codes


def _raw_inputs(codes: list[str]) -> list[tuple[bytes, bytes]]:
    """(signature as the library takes it, signed bytes) for each code, decoded outside the timing."""
    inputs = []
    for text in codes:
        sign1 = decode_sign1(zlib.decompress(b45decode(text[4:])))
        signature = sign1.signature
        if len(signature) == 64:
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            signature = encode_dss_signature(r, s)
        inputs.append((signature, sign1.signed_bytes()))
    return inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (< 60 s)")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 4.0
    at = T0 + dt.timedelta(days=30)
    es, ps = make_signer(), make_signer(alg="PS256")
    trust = SignerTrust.from_der([es.der, ps.der])
    schemas.compile_all()
    es_codes, ps_codes = _codes(es), _codes(ps)
    es_public, ps_public = es.key.public_key(), ps.key.public_key()
    es_raw, ps_raw = _raw_inputs(es_codes), _raw_inputs(ps_codes)
    ecdsa = ec.ECDSA(hashes.SHA256())
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)

    def raw_es() -> None:
        for signature, message in es_raw:
            es_public.verify(signature, message, ecdsa)  # type: ignore[call-arg, arg-type]

    def raw_ps() -> None:
        for signature, message in ps_raw:
            ps_public.verify(signature, message, pss, hashes.SHA256())  # type: ignore[call-arg, arg-type]

    def ours(codes: list[str]) -> None:
        for text in codes:
            if verify(text, trust=trust, at=at).status != "valid":
                raise SystemExit("verification failed")

    def ours_der_list() -> None:  # the contract's form: a list of DER certificates on every call
        for text in es_codes:
            verify(text, trust=[es.der, ps.der], at=at)

    es_rate, es_raw_rate = paired_rates(lambda: ours(es_codes), raw_es, 2 * seconds, N)
    ps_rate, ps_raw_rate = paired_rates(lambda: ours(ps_codes), raw_ps, 2 * seconds, N)

    # Per-stage inputs, each computed from the previous stage outside the timing.
    bodies = [t[4:] for t in es_codes]
    compressed = [b45decode(b) for b in bodies]
    messages = [zlib.decompress(c) for c in compressed]
    sign1s = [decode_sign1(m) for m in messages]
    certificates = [decode_claims(s.payload).certificate for s in sign1s]
    [signer] = trust.candidates(es.kid)

    def stage_base45() -> None:
        for body in bodies:
            b45decode(body)

    def stage_zlib() -> None:
        for data in compressed:
            zlib.decompressobj().decompress(data, 32_769)

    def stage_cose() -> None:
        for message in messages:
            decode_claims(decode_sign1(message).payload)

    def stage_signature() -> None:
        for sign1 in sign1s:
            signer.check_signature(sign1.alg, sign1.signed_bytes(), sign1.signature)

    def stage_schema() -> None:
        for certificate in certificates:
            schemas.validate(certificate)

    def sig_structure() -> None:
        for sign1 in sign1s:
            cbor2.dumps(["Signature1", sign1.protected_bytes, b"", sign1.payload])

    per_code_us = 1e6 / es_rate
    stage_rates = {
        "stage_base45": rate(stage_base45, seconds, N),
        "stage_decompress": rate(stage_zlib, seconds, N),
        "stage_cose": rate(stage_cose, seconds, N),
        "stage_signature_es256": rate(stage_signature, seconds, N),
        "stage_schema": rate(stage_schema, seconds, N),
    }
    rows = [
        row("raw_es256_verify", es_raw_rate, "verifies/s"),
        row("dcc_verify_es256", es_rate, "codes/s", es_raw_rate),
        row("raw_ps256_verify", ps_raw_rate, "verifies/s"),
        row("dcc_verify_ps256", ps_rate, "codes/s", ps_raw_rate),
        row("dcc_verify_es256_der_list", rate(ours_der_list, seconds, N), "codes/s", es_rate),
    ]
    for metric, value in stage_rates.items():
        rows.append(row(metric, 1e6 / value, "us/code", per_code_us))  # ratio: share of one verification
    rows.append(row("sig_structure_encode", 1e6 / rate(sig_structure, seconds, N), "us/code", per_code_us))
    report("dcc", rows)


if __name__ == "__main__":
    main()
