"""``/people``: registration (platforms), the code in every form, the record, corrections."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from unifiedqr.api.deps import call, principal, services
from unifiedqr.api.problems import problem
from unifiedqr.codes.payload import masked_variant, parse
from unifiedqr.services import people, registry
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

router = APIRouter(tags=["people"])


class RegisterIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    document_number: StrictStr = Field(min_length=1, max_length=32, examples=["001093029317"])
    full_name: StrictStr = Field(min_length=1, max_length=200, examples=["Nguyễn Lê Kha Hân"])
    birth_date: StrictStr = Field(
        min_length=1, max_length=10, examples=["1987-01-18"], description="YYYY-MM-DD"
    )
    gender: Literal["male", "female", "unknown"] | None = None
    phone: StrictStr | None = Field(default=None, max_length=20)
    insurance_number: StrictStr | None = Field(default=None, max_length=20)
    proxy_qid: StrictStr | None = Field(
        default=None, max_length=18, description="declarer's QID (LoaiDinhDanh 1)"
    )
    old_document_number: StrictStr | None = Field(
        default=None, max_length=9, description="9-digit CMND beside a CCCD"
    )
    nationality: StrictStr | None = Field(
        default=None, max_length=3, description="passports: ISO alpha-3, VNM default"
    )


class RegisterFromCardIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    cccd_qr: StrictStr = Field(min_length=1, max_length=1024, description="the chip ID card's QR text")
    phone: StrictStr | None = Field(default=None, max_length=20)
    insurance_number: StrictStr | None = Field(default=None, max_length=20)
    proxy_qid: StrictStr | None = Field(default=None, max_length=18)


class IssuedOut(BaseModel):
    qid: str
    payload: str
    created: bool


class CorrectionIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    full_name: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    birth_date: StrictStr | None = Field(default=None, max_length=10)
    gender: Literal["male", "female", "unknown"] | None = None
    phone: StrictStr | None = Field(default=None, max_length=20, description="empty string removes it")
    insurance_number: StrictStr | None = Field(
        default=None, max_length=20, description="empty string removes it"
    )


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


def _issued(result: registry.Issued, response: Response) -> IssuedOut:
    response.status_code = 201 if result.created else 200
    return IssuedOut(qid=result.qid, payload=result.payload, created=result.created)


@router.post(
    "/people",
    response_model=IssuedOut,
    status_code=201,
    summary="Register a person (or get the existing QID and code: 200, created false)",
    responses={200: {"description": "already registered with the same name and birth date"}, 409: {}},
)
async def register_person(
    body: RegisterIn,
    response: Response,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> IssuedOut:
    result = await call(ctx, registry.register, ctx, who, registry.Registration(**body.model_dump()))
    return _issued(result, response)


@router.post(
    "/people/from-cccd", response_model=IssuedOut, status_code=201, summary="Register from a chip ID card QR"
)
def register_from_card(
    body: RegisterFromCardIn,
    response: Response,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> IssuedOut:
    result = registry.register_from_cccd(
        ctx,
        who,
        body.cccd_qr,
        phone=body.phone,
        insurance_number=body.insurance_number,
        proxy_qid=body.proxy_qid,
    )
    return _issued(result, response)


@router.get(
    "/people/{qid}", response_model=PersonOut, summary="A person's record (within the caller's scope)"
)
def get_person(qid: str, who: Principal = Depends(principal), ctx: Services = Depends(services)) -> PersonOut:
    view = people.get_person(ctx, who, qid)
    data = dict(vars(view))
    data["created_at"] = view.created_at.isoformat()
    data["updated_at"] = view.updated_at.isoformat()
    return PersonOut(**data)


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
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    text = await call(ctx, people.get_code, ctx, who, qid)
    code = parse(text)
    shown = masked_variant(code).to_text() if masked else text
    if format == "json":
        return {
            "qid": code.qid,
            "payload": shown,
            "masked": masked,
            "key_id": (code.signature or "").split(".")[0],
        }
    if format == "text":
        return Response(shown, media_type="text/plain; charset=utf-8")
    try:
        from unifiedqr import imaging
    except ImportError:
        return problem(501, "not-implemented", "rendering images is not available in this installation")
    if format == "png":
        return Response(imaging.render_png(shown), media_type="image/png")
    if format == "svg":
        return Response(imaging.render_svg(shown), media_type="image/svg+xml")
    return Response(imaging.render_card_png(parse(shown), full=full and not masked), media_type="image/png")


@router.patch(
    "/people/{qid}", response_model=IssuedOut, summary="Correct a person's data (re-signs, revokes old)"
)
def correct_person(
    qid: str, body: CorrectionIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> IssuedOut:
    result = people.correct(ctx, who, qid, people.Correction(**body.model_dump()))
    return IssuedOut(qid=result.qid, payload=result.payload, created=False)


@router.get("/me/household", summary="The caller's own record and their household (citizens)")
def my_household(who: Principal = Depends(principal), ctx: Services = Depends(services)) -> dict[str, Any]:
    return {"people": people.household(ctx, who)}
