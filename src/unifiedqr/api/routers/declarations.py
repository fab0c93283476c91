"""``/people/{qid}/...-declarations``: health and domestic movement declarations (spec §7)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from unifiedqr.api.deps import principal, services
from unifiedqr.services import declarations
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.declarations import HealthDeclarationIn, MovementDeclarationIn

router = APIRouter(tags=["declarations"])


@router.post(
    "/people/{qid}/health-declarations", status_code=201, summary="Declare health (self or household)"
)
def health_declaration(
    qid: str,
    body: HealthDeclarationIn,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> dict[str, Any]:
    return declarations.submit(ctx, who, qid, body)


@router.post("/people/{qid}/movement-declarations", status_code=201, summary="Declare a domestic trip")
def movement_declaration(
    qid: str,
    body: MovementDeclarationIn,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> dict[str, Any]:
    return declarations.submit(ctx, who, qid, body)


@router.get("/people/{qid}/declarations", summary="A person's declarations, newest first")
def list_declarations(
    qid: str,
    kind: Literal["health", "movement"] | None = Query(None),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> dict[str, Any]:
    return {"declarations": declarations.list_for(ctx, who, qid, kind)}
