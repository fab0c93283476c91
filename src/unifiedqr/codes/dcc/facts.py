"""A certificate's content as health facts shaped like the platform's health records.

The colour rules (spec §3: green / yellow / red from vaccination, test and recovery records, per
province) evaluate records; these functions turn a DCC into the same facts, so that a valid HC1 gets
the colour the same facts recorded by an official would get. Each fact's ``to_record()`` is the
record shape: ``{"kind": "vaccination", "date", "dose", "doses_in_series", "product"}``,
``{"kind": "test", "taken_at", "method", "result"}`` or ``{"kind": "recovery", "date"}``.

Entries that cannot be stated as a fact (an unknown test type or result, a malformed date) are left
out rather than guessed. :func:`trusted_facts` is what a door calls: facts only from a valid
certificate, and none once the certificate's own expiry has passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from unifiedqr.codes.dcc.verify import DccVerification

TEST_METHODS: Final = {"LP6464-4": "pcr", "LP217198-3": "rapid_antigen"}
TEST_RESULTS: Final = {"260415000": "negative", "260373001": "positive"}


@dataclass(frozen=True)
class VaccinationFact:
    date: dt.date
    dose: int
    doses_in_series: int
    product: str
    kind: Literal["vaccination"] = "vaccination"

    def to_record(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "date": self.date,
            "dose": self.dose,
            "doses_in_series": self.doses_in_series,
            "product": self.product,
        }


@dataclass(frozen=True)
class TestFact:
    __test__ = False  # a fact about a laboratory test, not a pytest test class

    taken_at: dt.datetime
    method: Literal["pcr", "rapid_antigen"]
    result: Literal["negative", "positive"]
    kind: Literal["test"] = "test"

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "taken_at": self.taken_at, "method": self.method, "result": self.result}


@dataclass(frozen=True)
class RecoveryFact:
    date: dt.date
    kind: Literal["recovery"] = "recovery"

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "date": self.date}


HealthFact = VaccinationFact | TestFact | RecoveryFact


@dataclass(frozen=True)
class CertificateFacts:
    """The facts of one verified certificate and the instant after which none of them may be used."""

    facts: tuple[HealthFact, ...]
    expires_at: dt.datetime
    issuer: str | None

    def records(self) -> list[dict[str, Any]]:
        return [fact.to_record() for fact in self.facts]


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _entries(certificate: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    group = certificate.get(key)
    return [e for e in group if isinstance(e, Mapping)] if isinstance(group, list) else []


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def health_facts(certificate: Mapping[str, Any]) -> tuple[HealthFact, ...]:
    """Every fact the DCC payload ``certificate`` states (pure; no trust decision is made here)."""
    facts: list[HealthFact] = []
    for entry in _entries(certificate, "v"):
        date, dose, series = _date(entry.get("dt")), _positive(entry.get("dn")), _positive(entry.get("sd"))
        product = entry.get("mp")
        if date and dose and series and isinstance(product, str):
            facts.append(VaccinationFact(date, dose, series, product))
    for entry in _entries(certificate, "t"):
        taken_at = _instant(entry.get("sc"))
        method = TEST_METHODS.get(entry.get("tt"))  # type: ignore[arg-type]
        result = TEST_RESULTS.get(entry.get("tr"))  # type: ignore[arg-type]
        if taken_at and method and result:
            facts.append(TestFact(taken_at, method, result))  # type: ignore[arg-type]
    for entry in _entries(certificate, "r"):
        date = _date(entry.get("fr"))
        if date:
            facts.append(RecoveryFact(date))
    return tuple(facts)


def trusted_facts(result: DccVerification, at: dt.datetime) -> CertificateFacts | None:
    """The facts of ``result`` if it is ``valid`` and ``at`` is before its expiry; otherwise ``None``."""
    if not result.valid or result.claims is None or result.expires_at is None:
        return None
    if at > result.expires_at:
        return None
    return CertificateFacts(health_facts(result.claims.certificate), result.expires_at, result.claims.issuer)
