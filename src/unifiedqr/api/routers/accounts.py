"""``/auth``, ``/me``, ``/accounts`` and ``/platforms``: log-in, identity, accounts and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr, StringConstraints

from unifiedqr.api.deps import (
    JSONRoute,
    address,
    call,
    command,
    mirrors,
    offload_hashing,
    principal,
    services,
)
from unifiedqr.api.openapi import errors
from unifiedqr.serialize import jsonable
from unifiedqr.services import accounts
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

router = APIRouter(tags=["accounts"], route_class=JSONRoute)

#: Passwords are taken exactly as typed: never stripped (a login compares them exactly too).
Password = Annotated[StrictStr, StringConstraints(min_length=1, max_length=1024, strip_whitespace=False)]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: StrictStr = Field(min_length=1, max_length=64, description="username or phone number")
    password: Password


@mirrors(accounts.AccountRequest)
class AccountIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    role: StrictStr = Field(max_length=32)
    name: StrictStr = Field(min_length=1, max_length=200)
    password: Password
    username: StrictStr | None = Field(default=None, max_length=64)
    phone: StrictStr | None = Field(default=None, max_length=20)
    qid: StrictStr | None = Field(default=None, max_length=18)


@mirrors(accounts.PasswordChange)
class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: Password
    new_password: Password


class PlatformIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(min_length=1, max_length=200)


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: StrictStr = Field(default="", max_length=100)


@router.post(
    "/auth/token",
    summary="Log in with username or phone + password; returns a short-lived bearer token",
    responses=errors(401, 429, 503),
    description="429 with Retry-After after 10 failures for one login from one address in 15 minutes "
    "(or 100 from one address); 503 with Retry-After when too many log-ins are being checked at once.",
)
async def token(body: LoginIn, request: Request, ctx: Services = Depends(services)) -> Any:
    return jsonable(
        await offload_hashing(ctx, accounts.login, ctx, body.login, body.password, address(request))
    )


@router.post("/auth/logout", status_code=204, summary="Void every token of the caller's account")
async def logout(who: Principal = Depends(principal), ctx: Services = Depends(services)) -> Response:
    await call(ctx, accounts.logout_everywhere, ctx, who)
    return Response(status_code=204)


@router.post(
    "/me/password",
    summary="Change my password (people's accounts); every other token ends, a fresh one is returned",
    responses=errors(409, 429, 503),
)
async def change_password(
    body: PasswordChangeIn,
    request: Request,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    change = command(accounts.PasswordChange, body)
    return jsonable(await offload_hashing(ctx, accounts.change_password, ctx, who, change, address(request)))


@router.get("/me", summary="Who the credentials belong to, and their permissions")
async def me(who: Principal = Depends(principal), ctx: Services = Depends(services)) -> Any:
    return jsonable(await call(ctx, accounts.whoami, ctx, who))


@router.post(
    "/accounts", status_code=201, summary="Create an account (administrators)", responses=errors(409, 503)
)
async def create_account(
    body: AccountIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    request = command(accounts.AccountRequest, body)
    return jsonable(await offload_hashing(ctx, accounts.create_account, ctx, who, request))


@router.post(
    "/platforms", status_code=201, summary="Create a platform and its first API key (administrators)"
)
async def create_platform(
    body: PlatformIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, accounts.create_platform, ctx, who, body.name))


@router.get("/platforms/{platform_id}/api-keys", summary="A platform's API keys (never the secrets)")
async def list_keys(
    platform_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return {"api_keys": jsonable(await call(ctx, accounts.list_api_keys, ctx, who, platform_id))}


@router.post("/platforms/{platform_id}/api-keys", status_code=201, summary="Add an API key (rotation step 1)")
async def add_key(
    platform_id: str, body: ApiKeyIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, accounts.add_api_key, ctx, who, platform_id, body.label))


@router.delete(
    "/platforms/{platform_id}/api-keys/{api_key_id}",
    status_code=204,
    summary="Revoke an API key (rotation step 2)",
)
async def revoke_key(
    platform_id: str, api_key_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Response:
    await call(ctx, accounts.revoke_api_key, ctx, who, platform_id, api_key_id)
    return Response(status_code=204)
