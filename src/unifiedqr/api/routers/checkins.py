"""``/checkins`` (citizen scans venue) and ``/scan-batches`` (an offline scanner's day of scans).

A batch's envelope is one model; each item is validated on its own with a ``TypeAdapter`` of
:class:`BatchScanIn`, so a malformed item is reported in its own result while the good items of
the same upload still land (one model over the whole list would refuse the request). The OpenAPI
document describes the items with that same model.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter, ValidationError

from unifiedqr.api.deps import JSONRoute, call, command, mirrors, parse_json, principal, services
from unifiedqr.api.problems import location
from unifiedqr.errors import InvalidInput
from unifiedqr.serialize import jsonable
from unifiedqr.services import checkins, scan_batches
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.scan_rules import ScanResult

router = APIRouter(tags=["check-ins"], route_class=JSONRoute)
#: A day of scans from one device: 5000 items of a signed code (~250 bytes) plus keys and times.
BODY_LIMITS = {"/api/v1/scan-batches": 4 * 1024 * 1024}
MAX_BATCH_ITEMS = 5000


def scan_response(result: ScanResult) -> Response:
    """The answer to one scan (the hot path: serialised by hand, no model validation)."""
    body = {
        "status": result.status,
        "direction": result.direction,
        "venue_id": result.venue_id,
        "venue_name": result.venue_name,
        "entrance_id": result.entrance_id,
        "occurred_at": result.occurred_at.isoformat(),
        "visitor": {"name": result.visitor_name, "phone": result.visitor_phone},
        "code_kind": result.code_kind,
        "verification": result.verification,
        "colour": result.colour,
    }
    status = 200 if result.status == "already_recorded" else 201
    return Response(json.dumps(body, ensure_ascii=False), status, media_type="application/json")


@mirrors(checkins.CitizenCheckin)
class CheckinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    venue_code: StrictStr = Field(max_length=200, description="the venue code URL the citizen scanned")
    qid: StrictStr | None = Field(
        default=None, max_length=18, description="platforms: the person checking in"
    )
    direction: Literal["in", "out"] | None = None
    at: StrictStr | None = Field(default=None, max_length=40)
    idempotency_key: StrictStr | None = Field(default=None, max_length=64)
    device_id: StrictStr | None = Field(
        default=None, min_length=1, max_length=64, description="idempotency keys are per device or account"
    )


@router.post(
    "/checkins",
    status_code=201,
    summary="Citizen scans venue: a platform for a person (qid) or the citizen themselves",
    responses={200: {"description": "already recorded under this idempotency key"}},
)
async def checkin(
    body: CheckinIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Response:
    result = await call(ctx, checkins.citizen_checkin, ctx, who, command(checkins.CitizenCheckin, body))
    return scan_response(result)


@mirrors(scan_batches.BatchScan)
class BatchScanIn(BaseModel):
    """One item of an offline upload."""

    model_config = ConfigDict(extra="forbid")
    idempotency_key: StrictStr = Field(min_length=1, max_length=64)
    at: StrictStr = Field(max_length=40, description="device time of the scan, RFC 3339")
    text: StrictStr | None = Field(default=None, max_length=4096)
    phone: StrictStr | None = Field(default=None, max_length=20)
    direction: Literal["in", "out"] | None = None
    entrance_id: StrictStr | None = Field(default=None, max_length=32)


class BatchIn(BaseModel):
    """The envelope of an offline upload; ``scans`` items are checked one by one (see the module doc)."""

    model_config = ConfigDict(extra="forbid")
    venue_id: StrictStr = Field(min_length=1, max_length=32)
    device_id: StrictStr = Field(min_length=1, max_length=64)
    entrance_id: StrictStr | None = Field(
        default=None, max_length=32, description="default entrance of the items"
    )
    sent_at: StrictStr | None = Field(
        default=None, max_length=40, description="the device clock when sending"
    )
    scans: list[Any] = Field(description="checked item by item; more than the cap is 413 batch_too_large")


class _BatchDoc(BatchIn):
    """The same envelope with typed items, for the OpenAPI document only."""

    scans: list[BatchScanIn] = Field(max_length=MAX_BATCH_ITEMS)


_ITEM = TypeAdapter(BatchScanIn)
_BATCH = TypeAdapter(BatchIn)


def read_upload(raw: bytes) -> scan_batches.BatchUpload:
    """An upload's body as the command: the envelope checked whole, each item on its own.

    Raises InvalidInput for a body that is not JSON or whose envelope is wrong; a bad item becomes an
    ``InvalidItem`` (reported in its own result). Fuzzed by the self-check.
    """
    try:
        envelope = _BATCH.validate_python(parse_json(raw))
    except json.JSONDecodeError:
        raise InvalidInput("body", "is not valid JSON") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = location(tuple(first.get("loc", ())))
        raise InvalidInput(where, str(first.get("msg", "is invalid"))) from None
    return scan_batches.BatchUpload(
        envelope.venue_id,
        envelope.device_id,
        [_item(i, item) for i, item in enumerate(envelope.scans)],
        envelope.entrance_id,
        envelope.sent_at,
    )


def _item(index: int, raw: Any) -> scan_batches.BatchScan | scan_batches.InvalidItem:
    try:
        return command(scan_batches.BatchScan, _ITEM.validate_python(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = raw.get("idempotency_key") if isinstance(raw, dict) else None
        field = location(("scans", index, *first.get("loc", ())))
        return scan_batches.InvalidItem(
            field, str(first.get("msg", "is invalid")), key if isinstance(key, str) else None
        )


@router.post(
    "/scan-batches",
    summary=f"Upload up to {MAX_BATCH_ITEMS} offline scans; each item lands once whatever the retries",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _BatchDoc.model_json_schema()}},
        }
    },
)
async def scan_batch(
    request: Request, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Response:
    upload = read_upload(await request.body())
    result = await call(ctx, scan_batches.ingest_batch, ctx, who, upload)
    body = jsonable(result)
    body["results"] = [
        {k: v for k, v in item.items() if v is not None or k == "idempotency_key"} for item in body["results"]
    ]
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")), media_type="application/json"
    )
