"""Fuzz targets for every parser that reads outside input, driven by Hypothesis, seeded with real inputs.

Each target names the parser, the one exception family it documents (``InvalidInput`` for ours), and
how inputs are made: arbitrary text and bytes, and mutations of valid seeds (the published sample
code, a chip-card QR, a venue code, a batch body, RFC 3339 times, a CSV import, a rule file, an HC1
certificate's prefix), so the fuzzer reaches past the first check. Anything else a parser raises is a
crash: counted, with the input that caused it. Coverage-guided fuzzing (atheris) would go deeper;
these run everywhere, in bounded time, as part of ``unifiedqr selfcheck`` and the test suite.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from unifiedqr.errors import InvalidInput

AT = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
SAMPLE = "001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700"
FIELD_FORM = "079088001234|TRAN VAN BINH|1988-11-30|0|162979388586171101|<1<00<<0912345678"
CARD = "001093029317|123456789|Nguyễn Lê Kha Hân|18011987|Nam|1 Hàng Bạc, Hoàn Kiếm, Hà Nội|01012021"
VENUE = "https://checkin.unifiedqr.vn/v/AbCdEfGhIjK/kid12345678.c2lnbmF0dXJl"
BATCH = json.dumps(
    {
        "venue_id": "AbCdEfGhIjK",
        "device_id": "gate-1",
        "sent_at": "2026-11-30T08:00:00+07:00",
        "scans": [
            {"idempotency_key": "k1", "at": "2026-11-30T07:59:00+07:00", "text": SAMPLE},
            {"idempotency_key": "k2", "at": "2026-11-30T07:59:30+07:00", "phone": "0912345678"},
        ],
    },
    ensure_ascii=False,
)
TIMES = ["2026-11-30T08:15:00+07:00", "2026-11-30T01:15:00Z", "2026-11-30 08:15", "0001-01-01T00:00:00+14:00"]
CSV = (
    "qid,kind,date,dose,doses_in_series,product,taken_at,method,result\n"
    "162979388586171100,vaccination,2021-09-01,2,2,Comirnaty,,,\n"
    "162979388586171100,test,,,,,2021-10-20T09:00:00+07:00,pcr,negative\n"
)


@dataclass
class TargetReport:
    name: str
    inputs: int = 0
    crashes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """``call(data)`` may raise only ``allowed``; ``seeds`` are valid inputs to mutate."""

    name: str
    call: Callable[[str], Any]
    seeds: tuple[str, ...]
    allowed: tuple[type[BaseException], ...] = (InvalidInput,)


def _payload(text: str) -> Any:
    from unifiedqr.codes.payload import parse

    parse(text)
    return parse(text, lenient=True)


def _verify(text: str) -> Any:
    from unifiedqr.codes.signing import verify_payload
    from unifiedqr.codes.trust import TrustList

    return verify_payload(text, TrustList({}), AT)  # documented never to raise


def _classify(text: str) -> Any:
    from unifiedqr.codes.classify import classify

    return classify(text)  # documented never to raise


def _cccd(text: str) -> Any:
    from unifiedqr.codes.cccd import parse_cccd

    return parse_cccd(text)


def _venue(text: str) -> Any:
    from unifiedqr.codes.trust import TrustList
    from unifiedqr.codes.venue import parse_venue_url, verify_venue

    verify_venue(text, TrustList({}), AT)  # documented never to raise
    return parse_venue_url(text)


def _batch(text: str) -> Any:
    from unifiedqr.api.routers.checkins import read_upload

    return read_upload(text.encode("utf-8", "surrogatepass"))


def _time(text: str) -> Any:
    from unifiedqr.services.times import parse_date, parse_instant

    with contextlib.suppress(InvalidInput):
        parse_date(text, "date")
    return parse_instant(text, "at")


def _csv(text: str) -> Any:
    from unifiedqr.services.health_records import read_csv

    return read_csv(io.BytesIO(text.encode("utf-8", "surrogatepass")), AT)


def _rules(text: str) -> Any:
    from unifiedqr.services.health_rule_file import parse_rules_bytes

    return parse_rules_bytes(text.encode("utf-8", "surrogatepass"), "fuzz")


def _dcc(text: str) -> Any:
    from unifiedqr.codes.dcc import verify

    return verify(text, trust=[], at=AT)  # documented never to raise


def _rule_seed() -> str:
    from importlib import resources

    return (
        resources.files("unifiedqr.services")
        .joinpath("health_rules/khanh-hoa-2021-10.json")
        .read_text("utf-8")
    )


def targets() -> list[Target]:
    return [
        Target("personal payload", _payload, (SAMPLE, FIELD_FORM)),
        Target("signature check", _verify, (SAMPLE,), ()),
        Target("classifier", _classify, (SAMPLE, CARD, VENUE, "HC1:6BFOXN"), ()),
        Target("CCCD QR", _cccd, (CARD,)),
        Target("venue code", _venue, (VENUE,)),
        Target("batch body", _batch, (BATCH,)),
        Target("time values", _time, tuple(TIMES)),
        Target("health CSV import", _csv, (CSV,)),
        Target("health rule file", _rules, (_rule_seed(),)),
        Target("vaccine passport (HC1)", _dcc, ("HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH",), ()),
    ]


def _inputs(seeds: tuple[str, ...]) -> Any:
    """Arbitrary text, or a seed with a few characters replaced, inserted or cut."""
    from hypothesis import strategies as st

    edits = st.lists(st.tuples(st.integers(0, 4096), st.integers(0, 3), st.text(max_size=4)), max_size=6)

    def mutate(seed: str, changes: list[tuple[int, int, str]]) -> str:
        text = seed
        for position, cut, new in changes:
            at = position % (len(text) + 1)
            text = text[:at] + new + text[at + cut :]
        return text

    return st.one_of(st.text(max_size=600), st.builds(mutate, st.sampled_from(seeds), edits))


def run_target(target: Target, examples: int) -> TargetReport:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings

    report = TargetReport(target.name)

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
        database=None,
        verbosity=Verbosity.quiet,
    )
    @given(data=_inputs(target.seeds))
    def fuzz(data: str) -> None:
        report.inputs += 1
        try:
            target.call(data)
        except target.allowed:
            pass
        except Exception as exc:  # a crash: recorded with the input, the run goes on
            if len(report.crashes) < 20:
                report.crashes.append(f"{type(exc).__name__}: {exc!s:.120} <- {data[:200]!r}")

    fuzz()
    return report


def run_fuzz(examples: int) -> list[TargetReport]:
    """``examples`` inputs for every target."""
    return [run_target(target, examples) for target in targets()]
