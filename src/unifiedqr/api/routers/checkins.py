"""``/checkins`` (citizen scans venue) and ``/scan-batches`` (an offline scanner's day of scans).

The batch body is parsed here rather than by a Pydantic model: a malformed item must be reported
in its own result while the good items still land, which one model over the whole list would not
allow (it would refuse the request).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from unifiedqr.api.deps import principal, services
from unifiedqr.api.routers.venues import authenticate, bearer, services_async
from unifiedqr.errors import InvalidInput
from unifiedqr.services import checkins, scan_batches
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.venue_runtime import BATCH_CAP

router = APIRouter(tags=["check-ins"])
#: A day of scans from one device: 5000 items of a signed code (~250 bytes) plus keys and times.
BODY_LIMITS = {"/api/v1/scan-batches": 4 * 1024 * 1024}


class CheckinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    venue_code: StrictStr = Field(max_length=200, description="the venue code URL the citizen scanned")
    qid: StrictStr | None = Field(
        default=None, max_length=18, description="platforms: the person checking in"
    )
    direction: Literal["in", "out"] | None = None
    at: StrictStr | None = Field(default=None, max_length=40)
    idempotency_key: StrictStr | None = Field(default=None, max_length=64)


@router.post(
    "/checkins",
    status_code=201,
    summary="Citizen scans venue: a platform for a person (qid) or the citizen themselves",
    responses={200: {"description": "already recorded under this idempotency key"}},
)
async def checkin(
    body: CheckinIn,
    response: Response,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ctx: Services = Depends(services_async),
) -> Any:
    result = await run_in_threadpool(_checkin, ctx, credentials, body.model_dump())
    if result["status"] == "already_recorded":
        response.status_code = 200
    return result


def _checkin(ctx: Services, credentials: HTTPAuthorizationCredentials | None, body: dict[str, Any]) -> Any:
    return checkins.citizen_checkin(ctx, authenticate(ctx, credentials), body)


_BATCH_SCHEMA = {
    "type": "object",
    "required": ["venue_id", "device_id", "scans"],
    "properties": {
        "venue_id": {"type": "string"},
        "device_id": {"type": "string", "maxLength": 64},
        "entrance_id": {"type": "string", "description": "default entrance of the items"},
        "sent_at": {"type": "string", "description": "the device clock when sending (skew detection)"},
        "scans": {
            "type": "array",
            "maxItems": BATCH_CAP,
            "items": {
                "type": "object",
                "required": ["idempotency_key", "at"],
                "properties": {
                    "idempotency_key": {"type": "string", "maxLength": 64},
                    "at": {"type": "string", "description": "device time of the scan, RFC 3339"},
                    "text": {"type": "string"},
                    "phone": {"type": "string"},
                    "direction": {"enum": ["in", "out"]},
                    "entrance_id": {"type": "string"},
                },
            },
        },
    },
}


@router.post(
    "/scan-batches",
    summary=f"Upload up to {BATCH_CAP} offline scans; each item lands once whatever the retries",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BATCH_SCHEMA}}}
    },
)
async def scan_batch(
    request: Request, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    result = await run_in_threadpool(scan_batches.ingest_batch, ctx, who, body)
    return Response(
        json.dumps(result, ensure_ascii=False, separators=(",", ":")), media_type="application/json"
    )
