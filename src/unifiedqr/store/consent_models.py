"""Holder consent across platforms and the SMS outbox (issue 10 #1, migration 0005).

A sibling of :mod:`unifiedqr.store.models` on the same ``Base``; :mod:`unifiedqr.store.db` imports
it. Why the shape:

- ``consents`` holds one platform's request to bring an existing person into its scope. The
  one-time code is stored only as an HMAC (``otp_hash``, keyed by the at-rest key and bound to the
  consent's public id), so a copied database cannot approve anything. ``person_id`` is NULL for a
  request about nobody (an unknown ``proxy_qid``): it looks like any other from outside and can
  never be approved. What the registration would add on approval (a CCCD beside a known CMND) is
  kept encrypted in ``request_enc``.
- ``sms_outbox`` is the transactional outbox of the SMS gateway: a message commits with the act
  that sends it, and a relay (or, in development, ``unifiedqr admin outbox``) reads it. The number
  and the text (which holds the code) are encrypted like every other phone number.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from unifiedqr.store.models import Base, UTCDateTime, utcnow


class Consent(Base):
    """A platform's request to link a person registered elsewhere; pending until a code or the holder."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    otp_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    request_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (Index("ix_consents_person_id_account_id", "person_id", "account_id"),)


class OutboxMessage(Base):
    """An SMS to send: the number and the text encrypted; ``sent_at`` set by a relay once delivered."""

    __tablename__ = "sms_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_enc: Mapped[bytes] = mapped_column(LargeBinary)
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
