"""Statistical baselines on the validation windows the candidates are chosen on: AutoETS,
AutoTheta and AutoARIMA (statsforecast, the `train` extra), so each run shows whether its
champion beats them.

Each model is fitted once on a series' training part and forecasts every whole validation
window from its origin with those parameters (statsforecast's cross-validation without refit),
scored with the same MASE scale as the candidates. A model that cannot be fitted (a short
series, too long a season, statsforecast not installed) is reported missing with the reason,
never as a failed run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from training.backtest import mase_scale, validation_mase
from training.config import TrainConfig
from training.series import SeriesData

log = logging.getLogger(__name__)

BASELINES = ("AutoETS", "AutoTheta", "AutoARIMA")
# Above this season length ETS / Theta / ARIMA are impractically slow (and ETS refuses it)
MAX_SEASON = 24
# Fits read at most this many of the latest training points: a long series' fit stays in seconds
MAX_FIT_POINTS = 2000
# A panel's baselines are scored on at most this many of its series, evenly spaced in the order
# their ids first appear: AutoARIMA takes ~0.7 s a monthly series, an hour for 5,000 series that
# one network trains on in minutes. The runs log each candidate's own MASE on the same series.
MAX_SERIES = 50


def sampled_series(count: int) -> list[int]:
    """Which of a panel's `count` series the baselines are scored on: all, or MAX_SERIES evenly spaced."""
    if count <= MAX_SERIES:
        return list(range(count))
    return sorted({int(index) for index in np.linspace(0, count - 1, MAX_SERIES).round()})


@dataclass
class Baselines:
    """Validation MASE per baseline (the mean over the series scored: `series`, positions in the
    panel), and why a baseline is missing."""

    val_mase: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    series: list[int] = field(default_factory=list)
    panel_size: int = 0

    @property
    def sampled(self) -> bool:
        return len(self.series) < self.panel_size

    def candidate_mase(
        self, panel: Sequence[SeriesData], config: TrainConfig, forecasts: Sequence[torch.Tensor]
    ) -> float | None:
        """A candidate's validation MASE on the series the baselines were scored on (its
        whole-window validation forecasts, one [n, H] per series); None when that is every
        series (its `val_mase` is the same number)."""
        if not self.sampled:
            return None
        return validation_mase(
            [panel[k].values for k in self.series], config, [forecasts[k] for k in self.series]
        )


def _models(season: int) -> list:
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    return [AutoETS(season_length=season), AutoTheta(season_length=season), AutoARIMA(season_length=season)]


def _validation_mase(model: object, values: np.ndarray, config: TrainConfig) -> float:
    from statsforecast import StatsForecast

    val_end = len(values) - config.test_size
    train_end = val_end - config.val_size
    windows = config.val_size - config.horizon + 1
    start = max(train_end - MAX_FIT_POINTS, 0)
    frame = pd.DataFrame(
        {
            "unique_id": "s",
            "ds": np.arange(start, val_end),
            "y": np.asarray(values[start:val_end], dtype=float),
        }
    )
    result = StatsForecast(models=[model], freq=1, n_jobs=1).cross_validation(
        df=frame, h=config.horizon, n_windows=windows, step_size=1, refit=False
    )
    name = next(column for column in result.columns if column not in ("unique_id", "ds", "cutoff", "y"))
    forecast = result[name].to_numpy()
    if not np.all(np.isfinite(forecast)):
        raise ValueError("the forecast has non-finite values")
    error = float(np.abs(forecast - result["y"].to_numpy()).mean())
    return error / mase_scale(values[:train_end], config.season_length)


def validation_baselines(series: Sequence[np.ndarray], config: TrainConfig) -> Baselines:
    """Every baseline's validation MASE on `series` (resolved `config`: its splits and horizon),
    or on a sample of them (`sampled_series`)."""
    started = time.perf_counter()
    result = Baselines(series=sampled_series(len(series)), panel_size=len(series))
    series = [series[k] for k in result.series]
    if config.season_length > MAX_SEASON:
        reason = f"season {config.season_length} is over {MAX_SEASON}"
        result.missing = dict.fromkeys(BASELINES, reason)
        return result
    try:
        models = _models(config.season_length)
    except ImportError as error:
        result.missing = dict.fromkeys(BASELINES, f"statsforecast is not installed ({error})")
        return result
    for name, model in zip(BASELINES, models, strict=True):
        try:
            result.val_mase[name] = float(
                np.mean([_validation_mase(model, values, config) for values in series])
            )
        except Exception as error:  # whatever a third-party fit raises is reported, never fatal
            result.missing[name] = f"{type(error).__name__}: {error}"
            log.warning("%s: baseline %s is missing: %s", config.name, name, result.missing[name])
    result.seconds = time.perf_counter() - started
    return result
