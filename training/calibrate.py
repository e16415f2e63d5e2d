"""Score a fitted network on the validation part: its whole-window forecasts (its validation
MASE, `training.backtest.validation_mase`) and the conformity scores its intervals are
calibrated on."""

from __future__ import annotations

import torch

from models import calibration
from models.network import Forecaster
from models.scaling import WindowScaler
from training.windows import WindowDataModule, origin_windows, pooled


def validation_scores(
    network: Forecaster, scaler: WindowScaler, datamodule: WindowDataModule
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(conformity scores [origins, H], the forecasts of each series' whole validation windows
    [n, H] - what the validation MASE is taken over and `training.ensemble` combines).

    One score row per origin in each series' validation part, NaN where a step falls past it:
    step 1 is calibrated on every origin, step H on the whole windows only - on a 72-point
    monthly series 12 scores for step 1 instead of 1 (ablations.md section 19).
    """
    context, horizon = datamodule.context_length, datamodule.horizon
    lookback = datamodule.val.tensors[0].shape[1]
    origins = [
        origin_windows(values, context, horizon, len(values) - datamodule.val_size, lookback)
        for values in datamodule.series
    ]
    history, target = pooled(origins).tensors
    with torch.inference_mode():
        z, level, window_scale = scaler.encode(history, context)
        predicted = network(z).mean(dim=0)
        error = scaler.normalise(target, level, window_scale) - predicted
        scores = calibration.scores(error, window_scale, scaler.width_scale(history, context))
        forecast = scaler.decode(predicted, level, window_scale)
    forecasts, first = [], 0
    for series_origins in origins:
        # a series' first origins are exactly its validation windows (those its last step reaches)
        forecasts.append(forecast[first : first + datamodule.val_size - horizon + 1])
        first += len(series_origins)
    return scores, forecasts
