"""The FastAPI application: routers under ``/api/v1``, problem details, the body cap, OpenAPI.

To add a resource (the venues issue): write ``unifiedqr/api/routers/<name>.py`` with a ``router``
(and, if it needs a larger body cap, ``BODY_LIMITS = {"/api/v1/<path prefix>": bytes}``), then
append its module name to :data:`ROUTER_MODULES`. Nothing else here changes.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from unifiedqr import __version__
from unifiedqr.api import openapi, problems
from unifiedqr.config import Settings
from unifiedqr.services.context import Services

API_PREFIX = "/api/v1"

ROUTER_MODULES: list[str] = [
    "unifiedqr.api.routers.health",
    "unifiedqr.api.routers.accounts",
    "unifiedqr.api.routers.people",
    "unifiedqr.api.routers.declarations",
    "unifiedqr.api.routers.venues",
    "unifiedqr.api.routers.checkins",
    "unifiedqr.api.routers.consents",
    "unifiedqr.api.routers.conformance",
    "unifiedqr.api.routers.health_records",
    "unifiedqr.api.routers.lookups",
    "unifiedqr.api.routers.tracing",
    "unifiedqr.api.routers.dashboard",
]
#: Server-rendered pages, mounted at the root (the venue code's URL is ``/v/<id>/<signature>``).
#: A module may define ``install(app)``, run after the API's error handlers (``web.framework``'s
#: security headers and HTML error pages); how to add one: ``web/framework.py``.
PAGE_MODULES: list[str] = [
    "unifiedqr.web.pages",
    "unifiedqr.web.conformance_page",
    "unifiedqr.web.framework",
    "unifiedqr.web.signin",
    "unifiedqr.web.citizen",
    "unifiedqr.web.declarations",
    "unifiedqr.web.my_data",
    "unifiedqr.web.scanner",
    "unifiedqr.web.owner",
    "unifiedqr.web.landing",
    "unifiedqr.web.console",
    "unifiedqr.web.cases",
]


def create_app(ctx: Services) -> FastAPI:
    """An app over an existing service container (tests and ``serve`` build the container first)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        if ctx.stream is not None:  # stream mode: this worker publishes and runs a consumer
            from unifiedqr.services import ingest

            tasks.append(asyncio.create_task(ctx.stream.keep_connecting(stop)))
            for _ in range(ctx.stream.settings.consumers):
                tasks.append(asyncio.create_task(ingest.run_consumer(ctx, stop)))
        yield
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if ctx.stream is not None:
            await ctx.stream.close()
        ctx.close()

    app = FastAPI(
        title="Unified Personal QR: national platform",
        version=__version__,
        description="One QID and one signed code per person across every app; declarations. "
        "Errors are RFC 9457 problem details.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by install_offline_docs from vendored assets
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = ctx
    limits: dict[str, int] = {}
    for name in ROUTER_MODULES:
        module = importlib.import_module(name)
        app.include_router(module.router, prefix=API_PREFIX)
        limits.update(getattr(module, "BODY_LIMITS", {}))
    pages = [importlib.import_module(name) for name in PAGE_MODULES]
    for module in pages:
        if hasattr(module, "router"):
            app.include_router(module.router)
    install_offline_docs(app)
    problems.install(app)
    openapi.install(app)
    for module in pages:
        if hasattr(module, "install"):
            module.install(app)
    app.add_middleware(problems.BodyLimit, default=ctx.settings.max_body_bytes, limits=limits)
    return app


def install_offline_docs(app: FastAPI) -> None:
    """``/api/v1/docs`` with Swagger UI from the package (``web/static/vendor/swagger-ui``), not a
    CDN, so it works with no internet; mounts the package's static files at ``/static``."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(packages=[("unifiedqr.web", "static")]), name="static")
    vendor = "/static/vendor/swagger-ui"

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title=f"{app.title}: API docs",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/favicon-32x32.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )


def freeze_startup_objects() -> None:
    """``gc.freeze()`` after start-up: the framework's objects (routes, schemas, models) then never
    take part in a collection, so the occasional full collection under load scans only request
    garbage. Standard practice for long-running Python servers; its effect on the p99 was within
    the noise of the shared benchmark machine."""
    gc.collect()
    gc.freeze()


class AppFactory:
    """A picklable app factory for worker processes: each builds its container from the settings
    the parent read once (``serve --workers N`` hands this to uvicorn; nothing goes through the
    environment)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self) -> FastAPI:
        app = create_app(Services(self.settings))
        freeze_startup_objects()
        return app
