"""Request and response bodies of the HTTP API (the contract in ../shared/SPEC.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from models.artifact import MODEL_NAME_PATTERN
from models.base_artifact import MAX_SEASON
from service.calendar import supported

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
Season = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_SEASON,
        description="season length in steps (12 for monthly data with a yearly cycle, 1 = none); "
        "default: the model's own, or for `base` detected from the history",
    ),
]


def _known_freq(freq: str) -> str:
    if supported(freq):
        return freq
    raise PydanticCustomError(
        "unknown_freq",
        "unknown frequency '{freq}': give a pandas alias such as D, B, W, h, 30min, MS, ME, QS, YS",
        {"freq": freq},
    )


Freq = Annotated[str, Field(min_length=1, max_length=20), AfterValidator(_known_freq)]
SeasonSource = Literal["given", "detected", "model"]
SEASON_SOURCE = (
    "where `season` came from: `given` in the request, `detected` from the history (a `base` model "
    "without a season of its own), or the `model`'s own (the one it was trained with)"
)


class SeriesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        None,
        max_length=200,
        description="echoed in the answer (default: the position); without `history`, a series the "
        "model was trained on, continued from its stored values and timestamps",
    )
    history: list[FiniteFloat] | None = Field(
        None, min_length=1, max_length=HISTORY_LIMIT, description="latest observations, oldest first"
    )
    start: datetime | None = Field(None, description="timestamp of the last history value")
    season: Season | None = Field(None, description="this series' season length (overrides the request's)")

    @model_validator(mode="after")
    def _history_or_known_id(self) -> SeriesInput:
        if self.history is None and self.id is None:
            raise ValueError("give a `history`, or the `id` of a series the model was trained on")
        if self.history is None and self.start is not None:
            raise ValueError("`start` dates a `history`; a stored series has its own timestamps")
        return self


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
    season: Season | None = None
    freq: Freq | None = Field(
        None,
        description="frequency of the history (a pandas alias: D, B, W, h, 30min, MS, ...) for the "
        "timestamps after `start`; default: the model's own. A model trained on one refuses another",
    )

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


ModelKind = Literal["local", "base", "ensemble"]
MODEL_KIND = (
    "`local`: a network trained on the model's own series; `base`: the pretrained global network "
    "(zero-shot, or fine-tuned on a series); `ensemble`: the mean of a series' local, zero-shot "
    "and fine-tuned models"
)


CELL = "the recurrent cell; null for a `base` model without a recurrent encoder"


class ModelRef(BaseModel):
    name: str
    version: str
    kind: ModelKind = Field(description=MODEL_KIND)
    cell: str | None = Field(description=CELL)
    run_id: str


class Interval(BaseModel):
    lower: list[float]
    upper: list[float]


class SeriesForecast(BaseModel):
    id: str
    forecast: list[float]
    season: int = Field(description="the season length the forecast used")
    season_source: SeasonSource = Field(description=SEASON_SOURCE)
    timestamps: list[str] | None = None
    intervals: dict[str, Interval] | None = None


class ForecastResponse(BaseModel):
    model: ModelRef
    horizon: int
    forecast: list[float]
    season: int = Field(description="the season length the forecast used")
    season_source: SeasonSource = Field(description=SEASON_SOURCE)
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
    kind: ModelKind = Field(description=MODEL_KIND)
    cell: str | None = Field(description=CELL)
    head: str | None = Field(description="`direct` or `seq2seq`; null for a `base` model")
    layers: int | None = Field(description="recurrent layers; null without a recurrent network")
    hidden_size: int | None = Field(description="recurrent hidden size; null without a recurrent network")
    bidirectional: bool | None = Field(description="null for a `base` model")
    ensemble_size: int | None = Field(description="null for a `base` model")
    context_length: int
    trained_horizon: int
    max_horizon: int
    min_history: int
    lookback: int = Field(description="history values a forecast reads; a longer history is cut to these")
    log_transform: bool
    freq: str | None
    season_length: int | None = Field(
        description="the season the model was trained with; null for the zero-shot `base`, which takes "
        "`season` per request or detects it from the history"
    )
    last_timestamp: str | None
    series_count: int = Field(
        description="series a `series` item may name by `id` alone (a panel model's); 0 for a model "
        "of one series, which continues it when `history` is omitted"
    )
    series_ids: list[str] = Field(description="their ids, in file order (the first 100)")
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
