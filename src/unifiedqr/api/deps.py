"""Request dependencies shared by the routers: the service container and the caller's identity."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from unifiedqr.errors import Unauthenticated
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

_bearer = HTTPBearer(auto_error=False, description="A platform API key (uqr_...) or a login token (uqt_...)")


def services(request: Request) -> Services:
    ctx: Services = request.app.state.services
    return ctx


def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    if credentials is None:
        if request.headers.get("authorization"):
            raise Unauthenticated("use the Bearer scheme: Authorization: Bearer <API key or token>")
        raise Unauthenticated("send Authorization: Bearer <API key or token>")
    return services(request).authenticate("Bearer " + credentials.credentials)
