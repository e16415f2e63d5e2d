"""Request and response bodies of the HTTP API (the contract in ../shared/SPEC.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from models.artifact import MODEL_NAME_PATTERN

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
LOWEST_LEVEL = 1


def _percentage_level(level: float) -> float:
    """Levels are percentages: 0.95 asks for a 0.95 % interval, which is what someone who
    meant 95 % would get without this rule, so anything below 1 % is refused."""
    if LOWEST_LEVEL <= level < 100:
        return level
    hint = f"; for a {level * 100:g} % interval send {level * 100:g}" if 0 < level < LOWEST_LEVEL else ""
    raise PydanticCustomError(
        "level_percentage",
        "levels are percentages from {lowest} up to (not including) 100, e.g. 80 or 95; got {level}{hint}",
        {"lowest": LOWEST_LEVEL, "level": level, "hint": hint},
    )


# the JSON schema states the rule (minimum 1); the validator gives the message above
Level = Annotated[
    float,
    Field(allow_inf_nan=False, json_schema_extra={"minimum": LOWEST_LEVEL, "exclusiveMaximum": 100}),
    AfterValidator(_percentage_level),
]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=MODEL_NAME_PATTERN)]
HISTORY_LIMIT = 100_000


class SeriesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, max_length=200, description="echoed in the answer; defaults to the position")
    history: list[FiniteFloat] = Field(
        ..., min_length=1, max_length=HISTORY_LIMIT, description="latest observations, oldest first"
    )
    start: datetime | None = Field(None, description="timestamp of the last history value")


class ForecastRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"model": "passengers", "horizon": 12, "level": [80, 95]}]},
    )

    model: Name = Field(..., description="registered model name")
    version: Annotated[int, Field(ge=1)] | Name | None = Field(
        None, description="version number or alias (default: the served alias, `champion`)"
    )
    horizon: int = Field(1, ge=1, le=10_000, description="steps ahead; 1 is the next-step forecast")
    history: list[FiniteFloat] | None = Field(
        None,
        min_length=1,
        max_length=HISTORY_LIMIT,
        description="latest observations, oldest first; omitted = continue the trained series",
    )
    series: list[SeriesInput] | None = Field(None, min_length=1, description="a batch instead of `history`")
    level: list[Level] = Field(
        default_factory=list,
        max_length=20,
        description="prediction-interval levels as percentages, each in [1, 100) (95 = a 95 % interval; "
        "0.95 is refused, not read as 95 %)",
    )
    start: datetime | None = Field(None, description="timestamp of the last history value")

    @field_validator("level")
    @classmethod
    def _unique_levels(cls, value: list[float]) -> list[float]:
        if len(set(value)) != len(value):
            raise ValueError("levels must be unique")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ForecastRequest:
        if self.history is not None and self.series is not None:
            raise ValueError("give either `history` or `series`, not both")
        if self.series is not None and self.start is not None:
            raise ValueError("with `series`, give `start` per series")
        return self


class ModelRef(BaseModel):
    name: str
    version: str
    cell: str
    run_id: str


class Interval(BaseModel):
    lower: list[float]
    upper: list[float]


class SeriesForecast(BaseModel):
    id: str
    forecast: list[float]
    timestamps: list[str] | None = None
    intervals: dict[str, Interval] | None = None


class ForecastResponse(BaseModel):
    model: ModelRef
    horizon: int
    forecast: list[float]
    timestamps: list[str] | None = None
    intervals: dict[str, Interval] | None = None


class BatchForecastResponse(BaseModel):
    model: ModelRef
    horizon: int
    forecasts: list[SeriesForecast]


class ModelInfo(BaseModel):
    name: str
    version: str
    run_id: str
    cell: str
    head: str
    layers: int
    hidden_size: int
    bidirectional: bool
    ensemble_size: int
    context_length: int
    trained_horizon: int
    max_horizon: int
    min_history: int
    lookback: int = Field(description="history values a forecast reads; a longer history is cut to these")
    log_transform: bool
    freq: str | None
    season_length: int
    last_timestamp: str | None
    val_mase: float | None
    test_metrics: dict
    loaded_at: str


class ModelList(BaseModel):
    models: list[ModelInfo]


class ReloadOutcome(BaseModel):
    name: str
    status: str = Field(description="updated | unchanged | loaded | failed")
    version: str | None = None
    previous_version: str | None = None
    error: str | None = None


class ReloadReport(BaseModel):
    ok: bool
    models: list[ReloadOutcome]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    models: dict[str, str]
    error: str | None = None


class ErrorMessage(BaseModel):
    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    detail: list[FieldError]
