"""Score a fitted network on the validation part: its validation MASE (which picks the
champion) and the conformity scores its intervals are calibrated on."""

from __future__ import annotations

import torch

from models import calibration
from models.network import Forecaster
from models.scaling import WindowScaler
from training.windows import WindowDataModule, origin_windows


def validation_scores(
    network: Forecaster, scaler: WindowScaler, datamodule: WindowDataModule, mase_scale: float
) -> tuple[torch.Tensor, float]:
    """(conformity scores [origins, H], validation MASE on whole windows).

    One score row per origin in the validation part, NaN where a step falls past it: step 1
    is calibrated on every origin, step H on the whole windows only - on a 72-point monthly
    series 12 scores for step 1 instead of 1 (ablations.md section 19).
    """
    context = datamodule.context_length
    whole_windows, lookback = datamodule.val.tensors[0].shape
    # the first `whole_windows` origins are exactly the validation windows: one forward pass serves both
    history, target = origin_windows(
        datamodule.values, context, datamodule.horizon, datamodule.train_end, lookback
    ).tensors
    with torch.inference_mode():
        z, level, window_scale = scaler.encode(history, context)
        predicted = network(z).mean(dim=0)
        error = scaler.normalise(target, level, window_scale) - predicted
        scores = calibration.scores(error, window_scale, scaler.width_scale(history, context))
        forecast = scaler.decode(
            predicted[:whole_windows], level[:whole_windows], window_scale[:whole_windows]
        )
    return scores, float((forecast - target[:whole_windows]).abs().mean()) / mase_scale
