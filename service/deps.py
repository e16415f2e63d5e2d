"""What routes depend on: the model store, the settings and the API-key check, as
`Annotated` FastAPI dependencies (the FastAPI full-stack template's `api/deps.py` pattern).

Each is an `async def` that reads `request.app.state`: FastAPI awaits it on the event loop,
while a plain `def` dependency would cost a threadpool hop on every request.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException

from service.settings import Settings
from service.store import ModelStore

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="required when FORECAST_API_KEY is set"
)


async def get_store(request: Request) -> ModelStore:
    return request.app.state.store


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


StoreDep = Annotated[ModelStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def require_api_key(
    settings: SettingsDep, supplied: Annotated[str | None, Security(api_key_header)]
) -> None:
    expected = settings.api_key
    if expected is None:
        return
    if supplied is None or not secrets.compare_digest(
        supplied.encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(
            401, "missing or wrong API key (header X-API-Key)", headers={"WWW-Authenticate": "ApiKey"}
        )
