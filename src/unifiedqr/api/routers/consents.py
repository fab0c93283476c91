"""``/consents`` (the asking platform) and ``/me/consents`` (the holder): cross-platform consent.

A registration that reaches a person outside the platform's scope answers 202 with a
``consent_id`` (``routers/people.py``); the holder gets a 6-digit code by SMS. The platform sends
the code here, or the holder decides while signed in. The rules are in
:mod:`unifiedqr.services.consents`.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from unifiedqr.api.deps import JSONRoute, call, principal, services
from unifiedqr.api.routers.people import IssuedOut
from unifiedqr.serialize import jsonable
from unifiedqr.services import consents
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

router = APIRouter(tags=["consents"], route_class=JSONRoute)


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    otp: StrictStr = Field(pattern=r"^[0-9]{6}$", description="the 6-digit code the holder received")


class StatusOut(BaseModel):
    status: Literal["pending", "approved", "refused", "voided", "expired"]


class DecisionOut(BaseModel):
    consent_id: str
    status: Literal["approved", "refused"]


@router.post(
    "/consents/{consent_id}",
    response_model=IssuedOut,
    summary="Complete a consent request with the holder's code: the person joins the caller's scope",
    responses={
        404: {"description": "no such request of the caller's"},
        410: {"description": "voided (five wrong codes), expired (10 minutes) or refused"},
        422: {"description": "wrong code (counted)"},
    },
)
async def complete(
    consent_id: str, body: CodeIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> IssuedOut:
    result = await call(ctx, consents.complete, ctx, who, consent_id, body.otp)
    return IssuedOut(qid=result.qid, payload=result.payload, created=False)


@router.get(
    "/consents/{consent_id}", response_model=StatusOut, summary="Where the caller's consent request stands"
)
async def status(
    consent_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> StatusOut:
    result = await call(ctx, consents.status, ctx, who, consent_id)
    return StatusOut(status=result.status)  # type: ignore[arg-type]


@router.get("/me/consents", summary="Consent requests about the caller or the people they declared for")
async def mine(who: Principal = Depends(principal), ctx: Services = Depends(services)) -> Any:
    return {"consents": jsonable(await call(ctx, consents.for_holder, ctx, who))}


@router.post(
    "/me/consents/{consent_id}/approve", response_model=DecisionOut, summary="Approve a pending request"
)
async def approve(
    consent_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, consents.decide, ctx, who, consent_id, True))


@router.post(
    "/me/consents/{consent_id}/refuse", response_model=DecisionOut, summary="Refuse a pending request"
)
async def refuse(
    consent_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, consents.decide, ctx, who, consent_id, False))
