"""What a checkpoint shows the holder of a certificate, and nothing more by default.

The minimal display (the EU verifier apps' "minimum data set" for a border check): the name as
written and as standardised (ICAO 9303 transliteration), the birth date, the certificate type, then
the dose ``n/m`` for a vaccination or the date for a test or recovery, and the issuing country. The
value-set names (vaccine product, manufacturer, disease) are a separate, explicit call.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from unifiedqr.codes.dcc.verify import DccVerification, certificate_type


@dataclass(frozen=True)
class Display:
    """The minimal display of one certificate; ``dose`` is ``"n/m"`` for a vaccination, ``date`` the
    test's sample time or the recovery's first positive result date."""

    name: str
    name_standardised: str
    birth_date: str
    certificate_type: str | None
    dose: str | None
    date: str | None
    issuer_country: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "name_standardised": self.name_standardised,
            "birth_date": self.birth_date,
            "certificate_type": self.certificate_type,
            "dose": self.dose,
            "date": self.date,
            "issuer_country": self.issuer_country,
        }


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _join(family: str, given: str, separator: str) -> str:
    return separator.join(part for part in (family, given) if part)


def _entry(certificate: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    for key in ("v", "t", "r"):
        group = certificate.get(key)
        if isinstance(group, list) and group and isinstance(group[0], dict):
            return key, group[0]
    return None, {}


def minimal_display(source: DccVerification | Mapping[str, Any], issuer: str | None = None) -> Display | None:
    """The minimal display of a verified result (or of a decoded payload, with its CWT ``issuer``).

    ``None`` when there is no decoded certificate. Shown for any result that decoded, valid or not:
    the caller decides what a failed status means for the holder.
    """
    if isinstance(source, DccVerification):
        certificate: Mapping[str, Any] | None = source.certificate
        issuer = source.claims.issuer if source.claims else None
    else:
        certificate = source
    if not isinstance(certificate, Mapping):
        return None
    name = certificate.get("nam")
    name = name if isinstance(name, Mapping) else {}
    kind, entry = _entry(certificate)
    dose = date = None
    if kind == "v":
        n, m = entry.get("dn"), entry.get("sd")
        dose = f"{n}/{m}" if isinstance(n, int) and isinstance(m, int) else None
    elif kind == "t":
        date = _text(entry.get("sc")) or None
    elif kind == "r":
        date = _text(entry.get("fr")) or None
    country = _text(issuer) or _text(entry.get("co")) or None
    return Display(
        name=_join(_text(name.get("fn")), _text(name.get("gn")), ", "),
        name_standardised=_join(_text(name.get("fnt")), _text(name.get("gnt")), "<<"),
        birth_date=_text(certificate.get("dob")),
        certificate_type=certificate_type(certificate),
        dose=dose,
        date=date,
        issuer_country=country,
    )


@functools.cache
def _value_sets() -> dict[str, dict[str, str]]:
    text = resources.files("unifiedqr.codes.dcc").joinpath("valuesets.json").read_text("utf-8")
    return {k: v for k, v in json.loads(text).items() if isinstance(v, dict)}


def value_set_name(value_set: str, code: Any) -> str | None:
    """The display name of ``code`` in ``value_set``; an unknown code is shown as itself."""
    if not isinstance(code, str):
        return None
    return _value_sets().get(value_set, {}).get(code, code)


@dataclass(frozen=True)
class ValueSetNames:
    """Display names for the coded fields of a certificate's entry (``None`` where absent)."""

    disease: str | None
    vaccine_product: str | None
    manufacturer: str | None
    test_type: str | None
    test_result: str | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "disease": self.disease,
            "vaccine_product": self.vaccine_product,
            "manufacturer": self.manufacturer,
            "test_type": self.test_type,
            "test_result": self.test_result,
        }


def value_set_names(source: DccVerification | Mapping[str, Any]) -> ValueSetNames | None:
    """The value-set display names of the certificate's entry (the details a staff member may ask for)."""
    certificate = source.certificate if isinstance(source, DccVerification) else source
    if not isinstance(certificate, Mapping):
        return None
    kind, entry = _entry(certificate)
    if kind is None:
        return None
    return ValueSetNames(
        disease=value_set_name("disease-agent-targeted", entry.get("tg")),
        vaccine_product=value_set_name("vaccine-medicinal-product", entry.get("mp")),
        manufacturer=value_set_name("vaccine-mah-manf" if kind == "v" else "test-manf", entry.get("ma")),
        test_type=value_set_name("test-type", entry.get("tt")),
        test_result=value_set_name("test-result", entry.get("tr")),
    )
