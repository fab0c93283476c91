"""Text messages to people's phones: the gateway interface and its outbox (issue 10 #1).

Services send through ``ctx.sms`` (an :class:`SmsGateway`) inside the transaction of the act that
sends: a consent request and its code commit together or not at all. The shipped gateway is
:class:`Outbox`, a transactional outbox (``sms_outbox``, number and text encrypted): in
development and tests nothing leaves the machine and ``unifiedqr admin outbox`` shows the
messages; in production a relay process reads the unsent rows, hands each to the operator's SMS
provider and sets ``sent_at`` (a gateway class that also calls a provider directly may be plugged
into :class:`~unifiedqr.services.context.Services` instead).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from unifiedqr.services.auth import Permission, Principal
from unifiedqr.store.consent_models import OutboxMessage
from unifiedqr.store.crypto import Vault

if TYPE_CHECKING:
    from unifiedqr.services.context import Services

MAX_LISTED = 1000


class SmsGateway(Protocol):
    def send(self, session: Session, to: str, text: str, now: dt.datetime) -> None:
        """Queue one message in ``session``'s transaction (it is sent only if that commits)."""
        ...


class Outbox:
    """The transactional outbox: one encrypted ``sms_outbox`` row per message."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def send(self, session: Session, to: str, text: str, now: dt.datetime) -> None:
        session.add(
            OutboxMessage(
                to_enc=self._vault.encrypt("sms_outbox.to", to),
                text_enc=self._vault.encrypt("sms_outbox.text", text),
                created_at=now,
            )
        )


@dataclass(frozen=True)
class OutboxEntry:
    to: str
    text: str
    created_at: dt.datetime


def outbox(ctx: Services, principal: Principal, limit: int = MAX_LISTED) -> list[OutboxEntry]:
    """The queued messages, oldest first (the host operator's ``admin outbox``)."""
    principal.require(Permission.OUTBOX_READ)
    with ctx.db.read() as session:
        rows = session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit)
        ).all()
    vault = ctx.vault
    return [
        OutboxEntry(
            vault.decrypt("sms_outbox.to", r.to_enc),
            vault.decrypt("sms_outbox.text", r.text_enc),
            r.created_at,
        )
        for r in rows
    ]
