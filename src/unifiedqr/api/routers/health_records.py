"""``/people/{qid}/health-records``: a health official records a vaccination, a test or a recovery.

The body is checked by :func:`unifiedqr.services.health_records.record_from_json` (one strict
definition for the API and the import CSV); the models here describe it in the OpenAPI document.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from unifiedqr.api.deps import JSONRoute, call, parse_json, principal, services
from unifiedqr.errors import InvalidInput
from unifiedqr.serialize import jsonable
from unifiedqr.services import health
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

router = APIRouter(tags=["health records"], route_class=JSONRoute)


class VaccinationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["vaccination"]
    date: str = Field(description="YYYY-MM-DD, not after today (UTC+7)", examples=["2021-09-01"])
    dose: int = Field(ge=1, le=10)
    doses_in_series: int = Field(ge=1, le=10)
    product: str = Field(min_length=1, max_length=100, examples=["Comirnaty"])


class TestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["test"]
    taken_at: str = Field(description="RFC 3339 with an offset", examples=["2021-10-19T08:00:00+07:00"])
    method: Literal["pcr", "rapid_antigen"]
    result: Literal["negative", "positive"]


class RecoveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["recovery"]
    date: str = Field(description="YYYY-MM-DD", examples=["2021-08-15"])


_SCHEMA = {
    "oneOf": [model.model_json_schema() for model in (VaccinationIn, TestIn, RecoveryIn)],
    "discriminator": {"propertyName": "kind"},
}


@router.post(
    "/people/{qid}/health-records",
    status_code=201,
    summary="Record a vaccination, test or recovery (health officials)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _SCHEMA}}}},
)
async def add_health_record(
    qid: str, request: Request, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> dict[str, Any]:
    try:
        body = parse_json(await request.body())
    except json.JSONDecodeError:
        raise InvalidInput("body", "is not valid JSON") from None
    return dict(jsonable(await call(ctx, health.add, ctx, who, qid, health.check_body(body))))
