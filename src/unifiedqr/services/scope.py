"""Scope: which people a principal may see (the audit of reads is :mod:`unifiedqr.services.audit`).

One place answers "is this person within the caller's scope?" for every service, so a role's reach
is the same on every endpoint: ``any`` permissions see everyone, ``platform`` permissions the people
that platform registered or obtained, ``self`` permissions the person and their household. Outside
the scope the answer is NotFound, the same as for a QID that does not exist.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from unifiedqr.errors import NotFound
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.store.models import Person, PersonPlatform

QID = re.compile(r"[0-9]{18}")


def scoped_select(
    session: Session,
    principal: Principal,
    qid: str,
    columns: tuple[Any, ...],
    *,
    field: str,
    any_perm: Permission | None,
    platform_perm: Permission,
    self_perm: Permission,
) -> Select[Any]:
    """``SELECT columns`` of the person ``qid``, restricted to the principal's scope."""
    everyone = any_perm is not None and principal.can(any_perm)
    if not everyone:
        principal.require(platform_perm, self_perm)
    if not isinstance(qid, str) or not QID.fullmatch(qid):
        raise NotFound(field, "no such person")
    query = select(*columns).where(Person.qid == qid)
    if not everyone and principal.can(platform_perm):
        query = query.join(PersonPlatform, PersonPlatform.person_id == Person.id).where(
            PersonPlatform.account_id == principal.account_id
        )
    elif not everyone:
        me = (
            session.execute(
                select(Person.id, Person.household_id).where(Person.id == principal.person_id)
            ).first()
            if principal.person_id
            else None
        )
        if me is None:
            raise NotFound(field, "no such person")
        conditions = [Person.id == me.id, Person.proxy_person_id == me.id]
        if me.household_id is not None:
            conditions.append(Person.household_id == me.household_id)
        query = query.where(or_(*conditions))
    return query


def visible(
    session: Session,
    principal: Principal,
    qid: str,
    *,
    field: str = "qid",
    any_perm: Permission | None = Permission.ANY_PEOPLE_READ,
    platform_perm: Permission = Permission.PLATFORM_PEOPLE_READ,
    self_perm: Permission = Permission.SELF_PEOPLE_READ,
) -> Person:
    """The person with ``qid`` if within the principal's scope, else NotFound (never 'forbidden')."""
    query = scoped_select(
        session,
        principal,
        qid,
        (Person,),
        field=field,
        any_perm=any_perm,
        platform_perm=platform_perm,
        self_perm=self_perm,
    )
    person: Person | None = session.scalars(query).first()
    if person is None:
        raise NotFound(field, "no such person")
    return person
