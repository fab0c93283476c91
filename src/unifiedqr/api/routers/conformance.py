"""``/conformance``: the signed public list of approved apps (public), and the assessor's assessments.

The submission's body is the assessment record itself, the ``report.json`` that ``unifiedqr
conformance check --report`` writes (format: ``conformance/assessment.py``, kind
``unifiedqr-conformance-assessment``, version 1), so an assessor can post the file as it is; the
model below describes its top level and the service reads the rest (it is not a command of its own,
so it mirrors none).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from unifiedqr.api.deps import JSONRoute, call, command, mirrors, principal, services
from unifiedqr.api.openapi import errors
from unifiedqr.serialize import jsonable
from unifiedqr.services import assessments, conformance_list
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

router = APIRouter(tags=["conformance"], route_class=JSONRoute)
BODY_LIMITS = {"/api/v1/conformance/assessments": assessments.MAX_RECORD_BYTES}

Reasons = list[Annotated[StrictStr, Field(min_length=1, max_length=assessments.MAX_REASON)]]
Decision = Literal["pending", "approved", "rejected", "withdrawn", "superseded"]


class AppIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(min_length=1, max_length=200, examples=["Sổ sức khoẻ"])
    vendor: StrictStr = Field(min_length=1, max_length=200)
    version: StrictStr = Field(min_length=1, max_length=200, examples=["2.1.0"])


class AssessmentRecordIn(BaseModel):
    """The record ``conformance check --report`` writes as ``report.json`` (posted unchanged)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["unifiedqr-conformance-assessment"]
    version: Literal[1]
    verdict: Literal["pass", "fail"]
    findings: list[dict[str, Any]] = Field(max_length=2000)
    app: AppIn | None
    folder: StrictStr = Field(max_length=4096)
    assessed_at: StrictStr = Field(max_length=40, description="RFC 3339")
    tool_version: StrictStr = Field(max_length=40)
    trust_key_ids: list[StrictStr] = Field(default_factory=list, max_length=100)
    ocr_engine: StrictStr = Field(default="", max_length=100)
    screens: list[dict[str, Any]] = Field(default_factory=list, max_length=10)
    live: list[dict[str, Any]] = Field(default_factory=list, max_length=200)


@mirrors(assessments.Decision)
class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approved", "rejected"]
    reasons: Reasons = Field(min_length=1, max_length=assessments.MAX_REASONS)


@mirrors(assessments.Withdrawal)
class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reasons: Reasons = Field(min_length=1, max_length=assessments.MAX_REASONS)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match list with the current entity tag."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


@router.get(
    "/conformance/apps",
    summary="The public list of approved apps, signed (verify a copy: unifiedqr conformance verify-list)",
    response_class=JSONResponse,
    responses={304: {"description": "Not Modified (If-None-Match)"}, **errors(503)},
)
async def public_list(request: Request, ctx: Services = Depends(services)) -> Response:
    published = await call(ctx, conformance_list.current, ctx)
    headers = {"Cache-Control": "public, max-age=60", "ETag": published.etag}
    if _matches(request.headers.get("if-none-match"), published.etag):
        return Response(status_code=304, headers=headers)
    return Response(published.document, media_type="application/json", headers=headers)


@router.post(
    "/conformance/assessments",
    status_code=201,
    summary="Submit an assessment record (report.json); the same record again answers 200",
    responses={200: {"description": "this record was submitted before"}},
)
async def submit(
    body: AssessmentRecordIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> JSONResponse:
    done = await call(ctx, assessments.submit_document, ctx, who, body.model_dump())
    return JSONResponse(jsonable(done), status_code=201 if done.created else 200)


@router.get("/conformance/assessments", summary="Assessments, newest first (assessors)")
async def list_assessments(
    decision: Decision | None = Query(None),
    limit: StrictInt = Query(200, ge=1, le=assessments.MAX_LISTED),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> dict[str, Any]:
    found = await call(ctx, assessments.list_assessments, ctx, who, decision, limit)
    return {"assessments": jsonable(found)}


@router.get(
    "/conformance/assessments/{assessment_id}", summary="One assessment with its whole record (assessors)"
)
async def get_assessment(
    assessment_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, assessments.get_assessment, ctx, who, assessment_id))


@router.post(
    "/conformance/assessments/{assessment_id}/decision",
    summary="Approve (a passing assessment: the app goes on the list) or reject, with reasons",
    responses=errors(409, 503),
)
async def decide(
    assessment_id: str,
    body: DecisionIn,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    decision = command(assessments.Decision, body)
    return jsonable(await call(ctx, assessments.decide, ctx, who, assessment_id, decision))


@router.post(
    "/conformance/assessments/{assessment_id}/withdrawal",
    summary="Withdraw an approved app: it comes off the public list (with reasons)",
    responses=errors(409, 503),
)
async def withdraw(
    assessment_id: str,
    body: WithdrawalIn,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    withdrawal = command(assessments.Withdrawal, body)
    return jsonable(await call(ctx, assessments.withdraw, ctx, who, assessment_id, withdrawal))
