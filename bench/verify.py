"""Benchmark: parse + verify of signed personal codes on one core, beside raw P-256 verification.

The raw ceiling is ``cryptography``'s ECDSA P-256 verify of the same messages with pre-encoded DER
signatures, measured in the same run, so the ratio survives a noisy machine. Targets: parse+verify
>= 0.9x raw; parse alone >= 200k/s. ``--quick`` finishes in well under 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from support.common import paired_rates, rate, report, row
from unifiedqr.codes.build import build
from unifiedqr.codes.payload import format_code, parse
from unifiedqr.codes.signing import sign_code, split_signature, verify_payload
from unifiedqr.codes.trust import SigningKey, TrustList


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (< 60 s)")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 6.0
    now = dt.datetime.now(dt.UTC)
    key = SigningKey.generate("bench", now - dt.timedelta(days=1), 30)
    trust = TrustList().with_key(key.public())
    codes = []
    for i in range(256):
        code = build(
            document_number=f"{1093029317 + i:012d}",
            full_name="Nguyễn Lê Kha Hân",
            birth_date="1987-01-18",
            qid=f"{162979388586171100 + i * 7919}",
            gender="male",
            phone=f"09{i:08d}",
            insurance_number="HS4010120878821",
        )
        codes.append(format_code(sign_code(code, key, now)))
    raw_inputs = []
    public = key.private_key.public_key()
    for text in codes:
        signed_text, _, signature = text.rpartition("<")
        _, raw = split_signature(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        raw_inputs.append((der, signed_text.encode()))
    algorithm = ec.ECDSA(hashes.SHA256())

    def raw_verify() -> None:
        for der, message in raw_inputs:
            public.verify(der, message, algorithm)

    def ours() -> None:
        for text in codes:
            if not verify_payload(text, trust, now).valid:
                raise SystemExit("verification failed")

    def parse_only() -> None:
        for text in codes:
            parse(text)

    unsigned = [t.rpartition("<")[0] for t in codes]

    def parse_unsigned() -> None:
        for text in unsigned:
            parse(text)

    n = len(codes)
    our_rate, raw_rate = paired_rates(ours, raw_verify, 2 * seconds, n)
    rows = [
        row("raw_p256_verify", raw_rate, "verifies/s"),
        row("parse_verify", our_rate, "codes/s", raw_rate, target_ratio=0.9),
        row("parse_signed", rate(parse_only, seconds, n), "codes/s", 200_000.0),
        row("parse_unsigned", rate(parse_unsigned, seconds, n), "codes/s", 200_000.0),
    ]
    report("verify", rows)


if __name__ == "__main__":
    main()
