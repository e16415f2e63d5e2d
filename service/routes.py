"""HTTP routes. Every status a route can answer is declared in its OpenAPI responses."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException

from service.forecasting import RequestProblem, batch_size, run_forecast
from service.middleware import METRICS_PATH
from service.registry import ModelNotFound, RegistryError
from service.schemas import (
    BatchForecastResponse,
    ErrorMessage,
    ForecastRequest,
    ForecastResponse,
    Health,
    ModelInfo,
    ModelList,
    Readiness,
    ReloadReport,
    ValidationErrorBody,
)
from service.settings import Settings
from service.store import LoadedModel, ModelStore


class OrjsonRequest(Request):
    """Request bodies parsed by orjson: the standard library's parser took 16 ms of a
    1,000-series request. What orjson refuses (NaN and Infinity literals, integers over
    64 bits, invalid JSON) goes to `json.loads`, so every body gets the answer or the
    error it got before."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = orjson.loads(body)
            except orjson.JSONDecodeError:
                self._json = json.loads(body)
        return self._json


class OrjsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def orjson_handler(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return orjson_handler


class OrjsonResponse(JSONResponse):
    """A JSON answer rendered by orjson (about 10x faster than `json.dumps` on batch
    answers). Only for content without NaN or Infinity, which orjson would write as null:
    forecasts are checked for finiteness before they get here."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


# `protected` routes take the API key dependency when one is configured (see service.app):
# the OpenAPI schema then declares the key exactly when the server asks for it.
protected = APIRouter(route_class=OrjsonRoute)
public = APIRouter()
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="required when FORECAST_API_KEY is set"
)

BAD_INPUT = {
    400: {"model": ErrorMessage, "description": "malformed request"},
    413: {"model": ErrorMessage, "description": "body over the size limit"},
    422: {"model": ValidationErrorBody, "description": "a field breaks a rule; `loc` names it"},
}
UNAUTHORISED = {401: {"model": ErrorMessage, "description": "missing or wrong API key"}}
NOT_FOUND = {404: {"model": ErrorMessage, "description": "unknown model or version"}}


async def get_store(request: Request) -> ModelStore:
    return request.app.state.store


StoreDep = Annotated[ModelStore, Depends(get_store)]


async def require_api_key(
    request: Request, supplied: Annotated[str | None, Security(api_key_header)]
) -> None:
    expected = request.app.state.settings.api_key
    if expected is None:
        return
    if supplied is None or not secrets.compare_digest(
        supplied.encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(
            401, "missing or wrong API key (header X-API-Key)", headers={"WWW-Authenticate": "ApiKey"}
        )


@protected.post(
    "/forecast",
    response_model=ForecastResponse | BatchForecastResponse,
    responses={**BAD_INPUT, **NOT_FOUND},
    summary="Next-step or multi-step forecast for one history or a batch",
)
async def forecast(body: ForecastRequest, request: Request) -> OrjsonResponse:
    store: ModelStore = request.app.state.store
    settings: Settings = request.app.state.settings
    if batch_size(body) > settings.max_batch:
        raise RequestProblem(
            ["body", "series"],
            f"batch of {batch_size(body)} series is over the limit of {settings.max_batch}",
            "too_long",
        )
    model: LoadedModel
    if body.version is None:
        model = store.get(body.model)
    else:
        model = await run_in_threadpool(_versioned, store, body.model, str(body.version))
    if batch_size(body) >= settings.threadpool_batch:
        answer = await run_in_threadpool(run_forecast, model, body)
    else:
        answer = run_forecast(model, body)
    return OrjsonResponse(answer)


def _versioned(store: ModelStore, name: str, version: str) -> LoadedModel:
    try:
        return store.get_version(name, version)
    except RegistryError as error:
        raise ModelNotFound(f"version {version!r} of {name!r} cannot be loaded: {error}") from error


@public.get("/health", response_model=Health, summary="Process is alive")
async def health() -> Health:
    return Health(status="ok")


@public.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "models still loading"}},
    summary="200 once every configured model is loaded",
)
async def ready(store: StoreDep) -> JSONResponse:
    readiness = Readiness(
        ready=store.ready, models=store.status(), error=None if store.ready else store.error
    )
    return JSONResponse(readiness.model_dump(), status_code=200 if store.ready else 503)


@public.get("/models", response_model=ModelList, summary="Served models")
async def list_models(store: StoreDep) -> ModelList:
    return ModelList(models=[model.info() for model in store.served.values()])


@public.get("/models/{name}", response_model=ModelInfo, responses=NOT_FOUND, summary="One served model")
async def model_info(name: str, store: StoreDep) -> ModelInfo:
    return store.get(name).info()


@protected.post(
    "/models/reload",
    response_model=ReloadReport,
    summary="Re-resolve aliases and swap changed models atomically; failures keep the old model",
)
async def reload_models(store: StoreDep) -> ReloadReport:
    return await run_in_threadpool(store.reload)


# Prometheus text format, not part of the JSON API: kept out of the OpenAPI schema
@public.get(METRICS_PATH, include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
