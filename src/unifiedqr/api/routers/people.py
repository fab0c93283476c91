"""``/people``: registration (platforms), the code in every form, the record, corrections."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from unifiedqr.api.deps import JSONRoute, call, command, mirrors, offload, principal, services
from unifiedqr.api.fields import (
    BirthDate,
    DocumentNumber,
    FullName,
    Insurance,
    InsuranceOrEmpty,
    Nationality,
    OldDocumentNumber,
    Phone,
    PhoneOrEmpty,
    Qid,
)
from unifiedqr.codes.payload import parse
from unifiedqr.serialize import jsonable
from unifiedqr.services import consents, people, registry
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.purposes import PURPOSES

router = APIRouter(tags=["people"], route_class=JSONRoute)


@mirrors(registry.Registration)
class RegisterIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    document_number: DocumentNumber
    full_name: FullName
    birth_date: BirthDate
    gender: Literal["male", "female", "unknown"] | None = None
    phone: Phone | None = None
    insurance_number: Insurance | None = None
    proxy_qid: Qid | None = Field(default=None, description="declarer's QID (LoaiDinhDanh 1)")
    old_document_number: OldDocumentNumber | None = None
    nationality: Nationality | None = Field(default=None, description="passports only; VNM by default")


@mirrors(registry.CardRegistration)
class RegisterFromCardIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    cccd_qr: StrictStr = Field(min_length=1, max_length=1024, description="the chip ID card's QR text")
    phone: Phone | None = None
    insurance_number: Insurance | None = None
    proxy_qid: Qid | None = None


class IssuedOut(BaseModel):
    qid: str
    payload: str
    created: bool


class ConsentRequiredOut(BaseModel):
    """The person is registered, outside the caller's scope: the holder must consent (docs/api.md)."""

    consent: Literal["required"]
    consent_id: str


#: The answers of both registration endpoints besides 201 (documented in docs/api.md).
REGISTRATION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "already registered and in the caller's scope, same name and birth date"},
    202: {
        "model": ConsentRequiredOut,
        "description": "registered outside the caller's scope (whatever name and birth date were "
        "sent): the holder was sent a one-time code; complete with POST /consents/{consent_id}",
    },
    409: {"description": "in the caller's scope with another name or birth date"},
    429: {"description": "more than 10 registrations of this document by this platform in an hour"},
}


@mirrors(people.Correction)
class CorrectionIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    full_name: FullName | None = None
    birth_date: BirthDate | None = None
    gender: Literal["male", "female", "unknown"] | None = None
    phone: PhoneOrEmpty | None = Field(default=None, description="empty string removes it")
    insurance_number: InsuranceOrEmpty | None = Field(default=None, description="empty string removes it")


class PersonOut(BaseModel):
    qid: str
    full_name: str
    birth_date: str
    gender: str
    document_number: str
    phone: str | None
    insurance_number: str | None
    proxy_qid: str | None
    household_id: str | None
    created_at: str
    updated_at: str


def _issued(result: registry.Issued | consents.ConsentRequired, response: Response) -> Any:
    if isinstance(result, consents.ConsentRequired):
        return JSONResponse({"consent": result.consent, "consent_id": result.consent_id}, status_code=202)
    response.status_code = 201 if result.created else 200
    return IssuedOut(qid=result.qid, payload=result.payload, created=result.created)


@router.post(
    "/people",
    response_model=IssuedOut,
    status_code=201,
    summary="Register a person (201), find one in the caller's scope (200), or ask the holder (202)",
    responses=REGISTRATION_RESPONSES,
)
async def register_person(
    body: RegisterIn,
    response: Response,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    result = await call(ctx, registry.register, ctx, who, command(registry.Registration, body))
    return _issued(result, response)


@router.post(
    "/people/from-cccd",
    response_model=IssuedOut,
    status_code=201,
    summary="Register from a chip ID card QR (the same answers as POST /people)",
    responses=REGISTRATION_RESPONSES,
)
async def register_from_card(
    body: RegisterFromCardIn,
    response: Response,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    result = await call(ctx, registry.register_from_cccd, ctx, who, command(registry.CardRegistration, body))
    return _issued(result, response)


Purpose = Literal["checkpoint", "venue_entry", "tracing", "treatment", "investigation", "other"]
assert set(Purpose.__args__) == set(PURPOSES)  # type: ignore[attr-defined]
PURPOSE = Query(
    None, description="why the record is read (health officials: required; audited with the read)"
)


@router.get(
    "/people/{qid}", response_model=PersonOut, summary="A person's record (within the caller's scope)"
)
async def get_person(
    qid: str,
    purpose: Purpose | None = PURPOSE,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    return jsonable(await call(ctx, people.get_person, ctx, who, qid, purpose))


@router.get(
    "/people/{qid}/code",
    summary="The person's code: JSON (default), text, png, svg or card; masked=true for the safe variant",
    responses={200: {"content": {"text/plain": {}, "image/png": {}, "image/svg+xml": {}}}},
)
async def get_code(
    qid: str,
    format: Literal["json", "text", "png", "svg", "card"] = Query("json"),
    masked: bool = Query(
        False, description="the safe variant: document and birth date masked, no phone or BHYT"
    ),
    full: bool = Query(False, description="card only: show the document number and birth date unmasked"),
    purpose: Purpose | None = PURPOSE,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    shown = await call(ctx, people.get_code, ctx, who, qid, masked, purpose)
    code = parse(shown)
    if format == "json":
        return {
            "qid": code.qid,
            "payload": shown,
            "masked": masked,  # the safe code is signed too, by the same rule
            "key_id": (code.signature or "").split(".")[0],
        }
    if format == "text":
        return Response(shown, media_type="text/plain; charset=utf-8")
    image, media_type = await offload(_render, shown, format, full and not masked)
    return Response(image, media_type=media_type)


def _render(text: str, fmt: str, full: bool) -> tuple[bytes, str]:
    """The code as an image (17 ms for a card: off the event loop, see deps.offload)."""
    from unifiedqr import imaging

    if fmt == "png":
        return imaging.render_png(text), "image/png"
    if fmt == "svg":
        return imaging.render_svg(text).encode("utf-8"), "image/svg+xml"
    return imaging.render_card_png(parse(text), full=full), "image/png"


@router.patch(
    "/people/{qid}", response_model=IssuedOut, summary="Correct a person's data (re-signs, revokes old)"
)
async def correct_person(
    qid: str, body: CorrectionIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> IssuedOut:
    result = await call(ctx, people.correct, ctx, who, qid, command(people.Correction, body))
    return IssuedOut(qid=result.qid, payload=result.payload, created=False)


@router.get("/me/household", summary="The caller's own record and their household (citizens)")
async def my_household(who: Principal = Depends(principal), ctx: Services = Depends(services)) -> Any:
    return {"people": jsonable(await call(ctx, people.household, ctx, who))}
