"""EU vaccine passports (HC1) at a door and in a look-up (issue 13's last bullet, on issue 11's colour).

A checkpoint's scanner meets the passports Vietnam issued from 2022 beside personal codes. They name
no QID (``qid: null``), so what they earn is what the certificate itself proves: verified offline
against the signer certificates of ``UNIFIEDQR_DCC_TRUST`` (:func:`unifiedqr.codes.dcc.verify`, at
the server's clock), their vaccination, test or recovery becomes the same health records an official
would post, and the colour comes from the same rule file. A certificate is never trusted past its
own expiry (``valid_until`` is at the latest that instant); a certificate that does not verify
earns ``neutral`` in a look-up and ``red`` at the door, as a refused personal code does.
"""

from __future__ import annotations

from dataclasses import dataclass

from unifiedqr.codes.dcc import minimal_display, trusted_facts, verify
from unifiedqr.codes.dcc.display import Display
from unifiedqr.codes.dcc.facts import RecoveryFact, TestFact, VaccinationFact
from unifiedqr.errors import Code, ScanRejected
from unifiedqr.services import health
from unifiedqr.services.context import Services
from unifiedqr.services.health_status import HealthStatus, Record, Recovery, Test, Vaccination
from unifiedqr.services.visitors import Visitor

PREFIX = "HC1:"


@dataclass(frozen=True)
class Passport:
    """A scanned passport: the verifier's outcome, the holder's minimal display, the colour it earns."""

    verification: str
    display: Display | None
    health_status: HealthStatus


def is_passport(text: object) -> bool:
    return isinstance(text, str) and text.strip().startswith(PREFIX)


def read(ctx: Services, text: str) -> Passport:
    """Verify a passport at the server's clock and evaluate what it proves (see the module docstring)."""
    now = ctx.now()
    result = verify(text.strip(), trust=ctx.settings.dcc_trust, at=now)
    display = minimal_display(result)
    facts = trusted_facts(result, now)
    if facts is None:
        return Passport(result.status, display, health.neutral("certificate_not_verified"))
    status = health.status(ctx, [_record(f) for f in facts.facts])
    until = status.valid_until
    if until is None or until > facts.expires_at:  # never trusted past its own expiry
        until = facts.expires_at.astimezone(ctx.settings.health_rules.tz)
    return Passport(result.status, display, HealthStatus(status.colour, status.reason, until))


def door_visitor(ctx: Services, text: str) -> tuple[Visitor, HealthStatus]:
    """The visitor a door records for a passport (keyed by its certificate id), and its colour there."""
    passport = read(ctx, text)
    if passport.display is None:  # nothing decoded: not a certificate at all
        stage = passport.verification
        raise ScanRejected("text", Code.MALFORMED, f"not a readable EU vaccine passport (failed at {stage})")
    name = passport.display.name_standardised.replace("<<", " ").replace("<", " ")
    # Keyed by the person (standardised name and birth date), not the certificate: one per dose.
    key = f"dcc:{passport.display.name_standardised}|{passport.display.birth_date}"
    visitor = Visitor("eu_dcc", passport.verification, None, key, None, name)
    colour = passport.health_status
    if passport.verification != "valid":
        colour = HealthStatus("red", "signature_refused", None)
    return visitor, colour


def _record(fact: VaccinationFact | TestFact | RecoveryFact) -> Record:
    if isinstance(fact, VaccinationFact):
        return Vaccination(fact.date, fact.dose, fact.doses_in_series, fact.product or "unknown")
    if isinstance(fact, TestFact):
        return Test(fact.taken_at, fact.method, fact.result)
    return Recovery(fact.date)
