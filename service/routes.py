"""HTTP routes. Every status a route can answer is declared in its OpenAPI responses."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.deps import SettingsDep, StoreDep
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
from service.store import LoadedModel, ModelStore
from service.transport import OrjsonResponse, OrjsonRoute

# `protected` routes take the API key dependency when one is configured (see service.app):
# the OpenAPI schema then declares the key exactly when the server asks for it.
protected = APIRouter(route_class=OrjsonRoute)
public = APIRouter()

BAD_INPUT = {
    400: {"model": ErrorMessage, "description": "malformed request"},
    413: {"model": ErrorMessage, "description": "body over the size limit"},
    415: {"model": ErrorMessage, "description": "body sent without `Content-Type: application/json`"},
    422: {"model": ValidationErrorBody, "description": "a field breaks a rule; `loc` names it"},
}
UNAUTHORISED = {401: {"model": ErrorMessage, "description": "missing or wrong API key"}}
NOT_FOUND = {404: {"model": ErrorMessage, "description": "unknown model or version"}}


@protected.post(
    "/forecast",
    response_model=ForecastResponse | BatchForecastResponse,
    responses={**BAD_INPUT, **NOT_FOUND},
    summary="Next-step or multi-step forecast for one history or a batch",
)
async def forecast(body: ForecastRequest, store: StoreDep, settings: SettingsDep) -> OrjsonResponse:
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
    responses={
        503: {"model": Readiness, "description": "models still loading, or shutting down; `error` says why"}
    },
    summary="200 once every configured model is loaded, 503 from the moment a shutdown begins",
)
async def ready(store: StoreDep) -> JSONResponse:
    readiness = store.readiness()
    return JSONResponse(readiness.model_dump(), status_code=200 if readiness.ready else 503)


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
