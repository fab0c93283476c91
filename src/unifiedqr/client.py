"""The Python client of the platform API: what the CLI and the tests use, so the API has one real consumer.

Errors come back as the package's own exceptions, rebuilt from the problem-details body (status 404
-> NotFound, 409 -> Conflict, 422 -> InvalidInput, ...), each with the server's field and reason;
:class:`ApiError` carries the status and the whole problem document for anything else.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from unifiedqr.errors import (
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    Unauthenticated,
    UnifiedQRError,
)

DEFAULT_URL = "http://127.0.0.1:8000"


class ApiError(UnifiedQRError):
    """An error answer the client has no more specific exception for."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        reason = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        super().__init__(str(problem.get("field") or "response"), f"HTTP {status}: {reason}")


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        problem = response.json()
        if not isinstance(problem, dict):
            problem = {"detail": str(problem)}
    except ValueError:
        problem = {"detail": response.text[:200]}
    field = str(problem.get("field") or "")
    errors = problem.get("errors") or []
    reason = (
        str(errors[0].get("reason"))
        if errors and isinstance(errors[0], dict)
        else str(problem.get("detail", ""))
    )
    status = response.status_code
    if status == 401:
        raise Unauthenticated(reason or "unauthenticated")
    if status == 403:
        raise PermissionDenied(field or "permission", reason or "permission denied")
    if status == 404:
        raise NotFound(field or "resource", reason or "not found")
    if status == 409:
        raise Conflict(field or "request", reason or "conflict")
    if status == 410:
        raise Gone(field or "resource", reason or "gone")
    if status == 429:
        retry = response.headers.get("Retry-After", "1")
        raise TooManyRequests(field, reason or "too many requests", int(retry) if retry.isdigit() else 1)
    if status == 422 and field:
        raise InvalidInput(field, reason)
    raise ApiError(status, problem)


class Client:
    """A thin, typed-enough wrapper over the ``/api/v1`` endpoints."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        token: str | None = None,
        *,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = http or httpx.Client(base_url=self.base_url, timeout=timeout)

    @classmethod
    def from_saved_token(cls, path: Path, base_url: str | None = None) -> Client:
        """A client with the token ``unifiedqr login`` saved in ``path`` (and its URL unless given)."""
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise Unauthenticated(f"no saved login in {path}: run `unifiedqr login` first") from None
        if saved.get("expires_at", 0) < time.time():
            raise Unauthenticated("the saved login has expired: run `unifiedqr login` again")
        return cls(base_url or saved.get("url", DEFAULT_URL), saved.get("access_token"))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------------
    def raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request to ``/api/v1{path}`` with the credentials; return the response as is."""
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        return self._http.request(method, "/api/v1" + path, headers=headers, **kwargs)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.raw(method, path, **kwargs)
        _raise_for(response)
        return response.json() if response.content else None

    # -- service ----------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return dict(self._json("GET", "/health"))

    def ready(self) -> dict[str, Any]:
        return dict(self._json("GET", "/ready"))

    def trust_list(self) -> dict[str, Any]:
        return dict(self._json("GET", "/trust-list"))

    # -- accounts ---------------------------------------------------------------------------------
    def login(self, login: str, password: str) -> dict[str, Any]:
        result = dict(self._json("POST", "/auth/token", json={"login": login, "password": password}))
        self.token = result["access_token"]
        return result

    def me(self) -> dict[str, Any]:
        return dict(self._json("GET", "/me"))

    def create_platform(self, name: str) -> dict[str, Any]:
        return dict(self._json("POST", "/platforms", json={"name": name}))

    def create_account(self, **fields: Any) -> dict[str, Any]:
        return dict(self._json("POST", "/accounts", json=fields))

    def add_api_key(self, platform_id: str, label: str = "") -> dict[str, Any]:
        return dict(self._json("POST", f"/platforms/{platform_id}/api-keys", json={"label": label}))

    def list_api_keys(self, platform_id: str) -> list[dict[str, Any]]:
        return list(self._json("GET", f"/platforms/{platform_id}/api-keys")["api_keys"])

    def revoke_api_key(self, platform_id: str, api_key_id: str) -> None:
        self._json("DELETE", f"/platforms/{platform_id}/api-keys/{api_key_id}")

    # -- people -----------------------------------------------------------------------------------
    def register(self, **fields: Any) -> dict[str, Any]:
        """POST /people; the result has ``qid``, ``payload`` and ``created``."""
        body = {k: v for k, v in fields.items() if v is not None}
        return dict(self._json("POST", "/people", json=body))

    def register_from_cccd(self, cccd_qr: str, **fields: Any) -> dict[str, Any]:
        body = {"cccd_qr": cccd_qr, **{k: v for k, v in fields.items() if v is not None}}
        return dict(self._json("POST", "/people/from-cccd", json=body))

    def person(self, qid: str, purpose: str | None = None) -> dict[str, Any]:
        """A person's record; officials and administrators say why (``purpose``)."""
        params = {"purpose": purpose} if purpose else None
        return dict(self._json("GET", f"/people/{qid}", params=params))

    def code(self, qid: str, *, masked: bool = False, purpose: str | None = None) -> str:
        params = {"masked": str(masked).lower(), **({"purpose": purpose} if purpose else {})}
        result = self._json("GET", f"/people/{qid}/code", params=params)
        return str(result["payload"])

    def code_image(self, qid: str, fmt: str = "png", *, masked: bool = False, full: bool = False) -> bytes:
        params = {"format": fmt, "masked": str(masked).lower(), "full": str(full).lower()}
        response = self.raw("GET", f"/people/{qid}/code", params=params)
        _raise_for(response)
        return response.content

    def correct(self, qid: str, **changes: Any) -> dict[str, Any]:
        return dict(self._json("PATCH", f"/people/{qid}", json=changes))

    def household(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/me/household")["people"])

    # -- declarations -----------------------------------------------------------------------------
    def declare_health(self, qid: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json("POST", f"/people/{qid}/health-declarations", json=body))

    def declare_movement(self, qid: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json("POST", f"/people/{qid}/movement-declarations", json=body))

    def declarations(
        self, qid: str, kind: str | None = None, purpose: str | None = None
    ) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("kind", kind), ("purpose", purpose)) if v}
        return list(self._json("GET", f"/people/{qid}/declarations", params=params or None)["declarations"])

    # -- look-ups, health records, the access log -------------------------------------------------
    def lookup(self, text: str, purpose: str) -> dict[str, Any]:
        """POST /lookups: the view of the person behind a scanned code or a typed QID."""
        return dict(self._json("POST", "/lookups", json={"text": text, "purpose": purpose}))

    def add_health_record(self, qid: str, record: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json("POST", f"/people/{qid}/health-records", json=record))

    def access_log(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/me/access-log")["entries"])

    # -- venues and check-ins ---------------------------------------------------------------------
    def register_venue(self, **fields: Any) -> dict[str, Any]:
        """POST /venues; the result has ``venue_id``, ``code`` and ``entrances``."""
        return dict(self._json("POST", "/venues", json={k: v for k, v in fields.items() if v is not None}))

    def venues(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/venues")["venues"])

    def venue(self, venue_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/venues/{venue_id}"))

    def add_entrance(self, venue_id: str, name: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/venues/{venue_id}/entrances", json={"name": name}))

    def venue_staff(self, venue_id: str) -> list[dict[str, Any]]:
        return list(self._json("GET", f"/venues/{venue_id}/staff")["staff"])

    def add_venue_staff(self, venue_id: str, name: str, username: str, password: str) -> dict[str, Any]:
        body = {"name": name, "username": username, "password": password}
        return dict(self._json("POST", f"/venues/{venue_id}/staff", json=body))

    def remove_venue_staff(self, venue_id: str, account_id: str) -> None:
        self._json("DELETE", f"/venues/{venue_id}/staff/{account_id}")

    def withdraw_venue_code(self, venue_id: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/venues/{venue_id}/code/withdraw"))

    def venue_poster(self, venue_id: str, fmt: str = "pdf") -> bytes:
        response = self.raw("GET", f"/venues/{venue_id}/poster", params={"format": fmt})
        _raise_for(response)
        return response.content

    def scan(self, venue_id: str, text: str | None = None, **fields: Any) -> dict[str, Any]:
        """Venue scans citizen: ``text`` (what the scanner read) or ``phone=``; ``direction``, ``at``..."""
        body = {k: v for k, v in {"text": text, **fields}.items() if v is not None}
        return dict(self._json("POST", f"/venues/{venue_id}/scans", json=body))

    def checkin(self, venue_code: str, qid: str | None = None, **fields: Any) -> dict[str, Any]:
        """Citizen scans venue (a platform passes the person's ``qid``)."""
        body = {k: v for k, v in {"venue_code": venue_code, "qid": qid, **fields}.items() if v is not None}
        return dict(self._json("POST", "/checkins", json=body))

    def upload_scans(
        self, venue_id: str, device_id: str, scans: list[dict[str, Any]], **fields: Any
    ) -> dict[str, Any]:
        """POST /scan-batches: per-item results; safe to repeat (idempotency keys)."""
        body = {"venue_id": venue_id, "device_id": device_id, "scans": scans, **fields}
        return dict(self._json("POST", "/scan-batches", json=body))

    def visits(
        self, venue_id: str, date: str | None = None, entrance_id: str | None = None
    ) -> dict[str, Any]:
        params = {k: v for k, v in {"date": date, "entrance_id": entrance_id}.items() if v}
        return dict(self._json("GET", f"/venues/{venue_id}/visits", params=params))

    def hourly_counts(self, venue_id: str, date: str | None = None) -> dict[str, Any]:
        return dict(self._json("GET", f"/venues/{venue_id}/counts", params={"date": date} if date else None))
