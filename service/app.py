"""FastAPI application: the model store and its loader thread, error contract, routes, middleware."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import torch
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.allocator import keep_freed_memory
from service.deps import require_api_key
from service.forecasting import RequestProblem
from service.middleware import RequestContextMiddleware, configure_logging
from service.registry import ModelNotFound, open_registry
from service.routes import UNAUTHORISED, protected, public
from service.settings import Settings, get_settings
from service.store import ModelStore

log = logging.getLogger("service")


def _field_errors(errors: list[dict]) -> list[dict]:
    """Validation errors without the offending input: it may hold NaN/Infinity (not JSON)
    or be large, and echoing it back helps nobody."""
    return [
        {
            "loc": [part if isinstance(part, int) else str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "invalid value")),
            "type": str(error.get("type", "value_error")),
        }
        for error in errors
    ]


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": _field_errors(list(error.errors()))})


async def _request_problem(request: Request, error: RequestProblem) -> JSONResponse:
    return JSONResponse(
        status_code=422, content={"detail": [{"loc": error.loc, "msg": error.msg, "type": error.kind}]}
    )


async def _not_found(request: Request, error: ModelNotFound) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": str(error)})


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(
        status_code=error.status_code,
        content={"detail": str(error.detail)},
        headers=getattr(error, "headers", None),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    torch.set_num_threads(settings.torch_threads)
    keep_freed_memory(settings.keep_freed_mb)

    store = ModelStore(settings, open_registry(settings.tracking_uri, settings.registry_timeout))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        loader = threading.Thread(target=store.keep_loading, args=(stop,), name="model-loader", daemon=True)
        loader.start()
        log.info("serving from %s", settings.tracking_uri)
        yield
        stop.set()

    app = FastAPI(
        title="Recurrent forecasting service",
        version="0.1.0",
        description="Next-step and multi-step forecasts from registered LSTM/GRU forecasters.",
        lifespan=lifespan,
    )
    # read by the dependencies in service.deps
    app.state.store = store
    app.state.settings = settings
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RequestProblem, _request_problem)
    app.add_exception_handler(ModelNotFound, _not_found)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    if settings.api_key is None:
        app.include_router(protected)
    else:
        app.include_router(protected, dependencies=[Depends(require_api_key)], responses=UNAUTHORISED)
    app.include_router(public)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    return app
