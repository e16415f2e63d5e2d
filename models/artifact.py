"""The saved forecaster: weights + JSON config + scaler + calibration residuals.

An artifact directory holds three files and nothing that needs unpickling:

- `forecaster.json`: network config, scaler, series metadata (name, frequency, season,
  the stored series' tail and its future timestamps, test metrics);
- `weights.pt`: the network's `state_dict`, read with `torch.load(weights_only=True)`;
- `calibration.pt`: absolute validation errors per horizon step, in units of the scaler's
  `width_scale` of each window, from which intervals are drawn (split-conformal: scale-free,
  so they adapt to any history).

`predict` is the one entry point training's backtest, the pyfunc wrapper and the service
all call; `check_history` and `check_horizon` the one check of their inputs.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TypedDict

import torch

from models.calibration import Calibration
from models.network import Forecaster, ForecasterConfig
from models.scaling import WindowScaler

CONFIG_FILE = "forecaster.json"
WEIGHTS_FILE = "weights.pt"
CALIBRATION_FILE = "calibration.pt"
# The MLflow layout training writes and the service reads (without importing mlflow): the
# default store, the alias that marks the served version, the name the shipped base is
# registered under, and the pyfunc model's name for the artifact directory (stored at
# <model>/artifacts/<PYFUNC_ARTIFACT>/).
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
CHAMPION_ALIAS = "champion"
BASE_MODEL = "base"
PYFUNC_ARTIFACT = "forecaster"


def tracking_uri_or_default(tracking_uri: str | None = None) -> str:
    """The store to use: the one given, else $MLFLOW_TRACKING_URI, else the embedded default."""
    return tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


# 2: the encoder reads the context only (format 1 fed it the seasonal profile as well);
# 3: calibration residuals in seasonal-difference units (the scaler's `interval_scale`; formats
# 1 and 2 have none and were calibrated in window-scale units); 4: in trimmed seasonal-difference
# units; 5: calibration rows per validation origin, NaN past the validation part. Older formats
# still load, and forecast as they did.
FORMAT_VERSION = 5
READABLE_FORMATS = (1, 2, 3, 4, 5)
# Registered model names: what the service accepts in a request, so training refuses any
# other name before it fits anything (MLflow itself allows names no URL or filter can carry).
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
# Recursive forecasts beyond the trained horizon are capped at this multiple of it.
MAX_HORIZON_MULTIPLE = 10
# models compute in float32: a value beyond its range would become infinite inside the forecast
LARGEST_VALUE = float(torch.finfo(torch.float32).max)


@dataclass
class Forecast:
    point: torch.Tensor  # [B, horizon]
    intervals: dict[float, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)


class ForecastInputError(ValueError):
    """A history or horizon this model cannot forecast from; `kind` names the broken rule."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def check_readable(values: Sequence[float]) -> None:
    """Refuse values a model reads that are not finite or beyond float32's range (what it computes in)."""
    if not all(math.isfinite(value) and abs(value) <= LARGEST_VALUE for value in values):
        raise ForecastInputError(
            f"the last {len(values)} history values (what the model reads) must be finite numbers "
            f"within +-{LARGEST_VALUE:.3g}",
            "finite_number",
        )


def check_horizon(horizon: int, trained: int) -> None:
    """Refuse a horizon below 1 or over the cap of a model trained for `trained` steps."""
    if horizon < 1:
        raise ForecastInputError(f"horizon must be >= 1, got {horizon}", "greater_than_equal")
    cap = trained * MAX_HORIZON_MULTIPLE
    if horizon > cap:
        raise ForecastInputError(
            f"horizon {horizon} is over this model's cap of {cap} "
            f"({trained} trained steps, extended recursively up to {MAX_HORIZON_MULTIPLE}x)",
            "less_than_equal",
        )


def check_season(season: int | None, fixed: int | None) -> None:
    """Refuse a season other than the one a model was trained with (`fixed`, None = any)."""
    if season is not None and fixed is not None and season != fixed:
        raise ForecastInputError(
            f"this model was trained with season {fixed}: leave `season` out or send {fixed}",
            "season_mismatch",
        )


def fed_back(
    context: torch.Tensor,
    first: torch.Tensor,
    horizon: int,
    lookback: int,
    forecast: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """A model's first forecast `first` [B, H] from `context` [B, T] continued to `horizon` steps:
    each further pass reads the latest `lookback` values with the forecast appended as history."""
    steps, produced = [first], first.shape[1]
    overflowed = ~torch.isfinite(first).all(dim=1)
    while produced < horizon:
        # a row whose forecast overflowed float32 has no value to continue from: it is read as 0
        # (the other rows of the batch are not disturbed) and stays NaN for the caller to refuse
        context = torch.cat([context, steps[-1].nan_to_num(0.0, 0.0, 0.0)], dim=1)[:, -lookback:]
        step = forecast(context)
        overflowed |= ~torch.isfinite(step).all(dim=1)
        steps.append(step.masked_fill(overflowed[:, None], torch.nan))
        produced += step.shape[1]
    return torch.cat(steps, dim=1)[:, :horizon]


class StoredSeries(TypedDict):
    """One series of a panel model, as a forecast by its id reads it."""

    tail: list[float]  # the latest values (context and seasonal profile), oldest first
    last_timestamp: str | None


@dataclass
class ArtifactMetadata:
    """What training records about the series and the fit; the service and the benchmarks read it.

    Every field has a default so artifacts written before a field existed still load.
    """

    name: str = ""
    freq: str | None = None
    season_length: int = 1
    # a single-series model: its series' last timestamp, the latest values a forecast of it
    # reads (context and seasonal profile) and the timestamps after it; empty for a panel model
    last_timestamp: str | None = None
    tail: list[float] = field(default_factory=list)
    future_timestamps: list[str] = field(default_factory=list)
    # a panel model (trained on a file with an id column): every series by id, in file order
    series: dict[str, StoredSeries] | None = None
    train_config: dict = field(default_factory=dict)
    val_mase: float | None = None
    # scores of the last forecast step (see `Calibration.windows`)
    calibration_windows: int | None = None
    epochs: int | None = None
    ridge: dict | None = None
    transform_cv_mae: dict[str, float] | None = None
    test_metrics: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, values: dict) -> ArtifactMetadata:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


@dataclass
class ForecasterArtifact:
    config: ForecasterConfig
    scaler: WindowScaler
    network: Forecaster
    calibration: Calibration
    metadata: ArtifactMetadata = field(default_factory=ArtifactMetadata)
    _ensemble_mean: Callable[[torch.Tensor], torch.Tensor] = field(init=False, repr=False, compare=False)
    kind = "local"

    def __post_init__(self) -> None:
        self.network.eval()
        # built once: the artifact is what serves, its network takes no more weight updates
        self._ensemble_mean = self.network.inference_mean()

    @property
    def min_history(self) -> int:
        return self.config.context_length

    @property
    def lookback(self) -> int:
        """The latest values a forecast reads: the context, and the seasonal profile's seasons."""
        return self.scaler.lookback(self.config.context_length)

    @property
    def max_horizon(self) -> int:
        return self.config.horizon * MAX_HORIZON_MULTIPLE

    @property
    def requires_positive(self) -> bool:
        return self.scaler.log

    @property
    def cell(self) -> str:
        return self.config.cell

    @property
    def fixed_season(self) -> int:
        """The season every forecast uses: the training series'."""
        return int(self.metadata.season_length)

    def check_horizon(self, horizon: int) -> None:
        check_horizon(horizon, self.config.horizon)

    def check_history(self, history: Sequence[float]) -> None:
        """Refuse a history this model cannot forecast from: too short, a value it reads that is
        not finite, or, for a log-scale model, a non-positive value in the context."""
        context = self.min_history
        if len(history) < context:
            raise ForecastInputError(
                f"history has {len(history)} values; this model needs at least {context}", "too_short"
            )
        check_readable(history[-self.lookback :])
        if self.requires_positive and min(history[-context:]) <= 0:
            raise ForecastInputError(
                f"this model forecasts on a log scale: the last {context} values must all be > 0",
                "greater_than",
            )

    def normalised_forecast(self, history: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """history [B, T >= context_length] -> (ensemble-mean z forecast [B, H], level, scale)."""
        z, level, scale = self.scaler.encode(history, self.config.context_length)
        return self._ensemble_mean(z), level, scale

    def predict(
        self, history: torch.Tensor, horizon: int, levels: Sequence[float] = (), seasons: Sequence[int] = ()
    ) -> Forecast:
        """history [B, T >= min_history] in original units -> forecasts for `horizon` steps;
        `seasons` is taken like a base artifact's but not read: the model's season is its series'.

        Rows of different lengths are left-padded with NaN; only the last `lookback` values
        are read. Beyond the trained horizon H the forecast is extended recursively, feeding
        the network its own output; interval widths there grow with sqrt(step / H).
        """
        if history.ndim != 2 or history.shape[1] < self.min_history:
            raise ValueError(f"history must be [batch, >= {self.min_history}], got {tuple(history.shape)}")
        self.check_horizon(horizon)
        context = history[:, -self.lookback :].to(torch.float32)
        with torch.inference_mode():
            width_scale = self.scaler.width_scale(context, self.config.context_length) if levels else None

            def step(latest: torch.Tensor) -> torch.Tensor:
                return self.scaler.decode(*self.normalised_forecast(latest))

            forecast = fed_back(context, step(context), horizon, self.lookback, step)
            intervals = {level: self._interval(forecast, width_scale, level) for level in levels}
        return Forecast(point=forecast, intervals=intervals)

    def _interval(
        self, forecast: torch.Tensor, width_scale: torch.Tensor, level: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        width = self.calibration.half_widths(width_scale, level, forecast.shape[1])
        centre = self.scaler.transform(forecast)
        return self.scaler.inverse(centre - width), self.scaler.inverse(centre + width)

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        document = {
            "format_version": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "scaler": self.scaler.to_dict(),
            "metadata": self.metadata.to_dict(),
        }
        (directory / CONFIG_FILE).write_text(json.dumps(document, indent=2, allow_nan=False))
        torch.save(self.network.state_dict(), directory / WEIGHTS_FILE)
        torch.save({"abs_residuals": self.calibration.scores}, directory / CALIBRATION_FILE)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> ForecasterArtifact:
        directory = Path(directory)
        document = json.loads((directory / CONFIG_FILE).read_text())
        version = document.get("format_version")
        if version not in READABLE_FORMATS:
            raise ValueError(f"unsupported artifact format {version!r} in {directory}")
        values = document["config"]
        if version == 1:
            values = {**values, "profile_in_encoder": True}
        config = ForecasterConfig.from_dict(values)
        network = Forecaster(config)
        network.load_state_dict(torch.load(directory / WEIGHTS_FILE, weights_only=True, map_location="cpu"))
        calibration = torch.load(directory / CALIBRATION_FILE, weights_only=True, map_location="cpu")
        return cls(
            config=config,
            scaler=WindowScaler(**document["scaler"]),
            network=network,
            calibration=Calibration(calibration["abs_residuals"]),
            metadata=ArtifactMetadata.from_dict(document["metadata"]),
        )


def left_padded(histories: Sequence[Sequence[float]]) -> torch.Tensor:
    """Histories of different lengths -> one [B, T] tensor, NaN-padded on the left."""
    lengths = {len(history) for history in histories}
    if len(lengths) == 1:  # the usual batch: one conversion, no padding
        return torch.tensor(histories, dtype=torch.float32)
    width = max(lengths)
    batch = torch.full((len(histories), width), torch.nan, dtype=torch.float32)
    for row, history in zip(batch, histories, strict=True):
        if history:
            row[width - len(history) :] = torch.tensor(history, dtype=torch.float32)
    return batch


def interval_coverage(lower: torch.Tensor, upper: torch.Tensor, actual: torch.Tensor) -> float:
    """Share of actual values inside [lower, upper]."""
    inside = (actual >= lower) & (actual <= upper)
    return float(inside.float().mean()) if inside.numel() else math.nan
