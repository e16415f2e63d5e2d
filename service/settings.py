"""Service settings, read once from environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from models.allocator import DEFAULT_KEEP_FREED_MB
from models.artifact import CHAMPION_ALIAS, DEFAULT_TRACKING_URI


class Settings(BaseSettings):
    # validate_by_name: `Settings(tracking_uri=...)` must win over MLFLOW_TRACKING_URI (the
    # fields with an environment alias otherwise ignore their own name)
    model_config = SettingsConfigDict(env_prefix="FORECAST_", extra="ignore", validate_by_name=True)

    tracking_uri: str = Field(
        DEFAULT_TRACKING_URI, validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "FORECAST_TRACKING_URI")
    )
    # models to serve; empty = every registered model that has the alias
    models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    alias: str = CHAMPION_ALIAS
    # pinned versions, e.g. "passengers=3,price=7" (overrides the alias for those models)
    versions: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    api_key: SecretStr | None = None
    max_body_bytes: int = Field(2_000_000, ge=1024)
    max_batch: int = Field(2_000, ge=1)
    torch_threads: int = Field(1, ge=1)
    # freed memory the process keeps for the next request instead of returning it to the OS
    # (models.allocator: large batches run ~40 % faster); 0 = the C library's defaults
    keep_freed_mb: int = Field(DEFAULT_KEEP_FREED_MB, ge=0)
    # off-request threshold: batches at least this big run in the threadpool, not on the event loop
    threadpool_batch: int = Field(64, ge=1)
    retry_seconds: float = Field(5.0, gt=0)
    # once ready, re-resolve the aliases this often and swap in moved champions; 0 = never
    poll_seconds: float = Field(30.0, ge=0)
    # after SIGTERM, keep answering (with /ready at 503) this long before closing the listener,
    # so a load balancer sees the replica leave before its connections are refused
    shutdown_drain_seconds: float = Field(0.0, ge=0)
    registry_timeout: float = Field(10.0, gt=0)
    cache_dir: str | None = None
    host: str = Field("0.0.0.0", validation_alias=AliasChoices("HOST", "FORECAST_HOST"))
    port: int = Field(8000, validation_alias=AliasChoices("PORT", "FORECAST_PORT"))
    log_level: str = "info"

    @field_validator("models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_no_key(cls, value: object) -> object:
        """`FORECAST_API_KEY=` (e.g. passed through by compose when unset) must not mean "the key is ''"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("versions", mode="before")
    @classmethod
    def _split_versions(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("FORECAST_VERSIONS must look like 'name=version,name=version'")
            return {name.strip(): version.strip() for name, version in pairs}
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
