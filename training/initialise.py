"""Initialise a fit: choose the target transform and the ridge skip by rolling-origin CV.

With transform "auto" on a positive series, the log and no transform are both tried: each
gets its ridge skip by CV in its own normalised space, and the one with the lower held-out
MAE in the series' own units over the same folds wins. The chosen skip's held-out errors on
the older folds also calibrate the intervals (more scores, from earlier origins, for series
whose validation part holds only a dozen).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from models import calibration
from models.scaling import WindowScaler
from training.config import MIN_TRAIN_WINDOWS, TrainConfig
from training.ridge import RidgeBlend, select_ridge
from training.windows import Pair, normalised, origin_windows, sliding_windows

RIDGE_FOLDS = 3


@dataclass
class RidgeFold:
    """One rolling-origin fold in a scaler's normalised space, plus what it takes to score the
    held-out forecasts in the series' own units (so that two scalers can be compared)."""

    fit: Pair
    held_out: Pair
    held_out_level: torch.Tensor
    held_out_scale: torch.Tensor
    held_out_width_scale: torch.Tensor
    held_out_target: torch.Tensor
    # the chosen skip is scored here twice, for the transform CV and for the calibration rows:
    # six robust fits each time, on weather's 14,000 windows
    _forecasts: dict[RidgeBlend, torch.Tensor] = field(default_factory=dict, repr=False)

    def held_out_forecast(self, skip: RidgeBlend) -> torch.Tensor:
        """The ridge `skip` fitted on this fold, applied to its held-out windows (normalised)."""
        if skip not in self._forecasts:
            weight, bias = skip.fit(*self.fit)
            self._forecasts[skip] = self.held_out[0] @ weight.T + bias
        return self._forecasts[skip]

    def calibration_scores(self, skip: RidgeBlend) -> torch.Tensor:
        """Conformity scores of the ridge `skip` fitted on this fold, on its held-out origins."""
        error = self.held_out_forecast(skip) - self.held_out[1]
        return calibration.scores(error, self.held_out_scale, self.held_out_width_scale)

    def error(self, scaler: WindowScaler, skip: RidgeBlend) -> float:
        """Held-out MAE in original units of the ridge `skip` fitted on this fold."""
        forecast = scaler.decode(self.held_out_forecast(skip), self.held_out_level, self.held_out_scale)
        return float((forecast - self.held_out_target).abs().nanmean())


@dataclass
class SkipStart:
    """What the fit starts from: the scaler, the ridge skip chosen for it, and its CV folds."""

    scaler: WindowScaler
    skip: RidgeBlend
    folds: list[RidgeFold]
    # CV MAE in the series' units per transform tried
    transform_errors: dict[str, float]

    def earlier_calibration_scores(self) -> list[torch.Tensor]:
        """The skip's scores on the folds before the validation part (the first fold is it)."""
        return [fold.calibration_scores(self.skip) for fold in self.folds[1:]]


def ridge_folds(config: TrainConfig, scaler: WindowScaler, values: np.ndarray) -> list[RidgeFold]:
    """Rolling-origin folds for the ridge penalty: the train/validation split, then the same
    split moved back by one validation length at a time while enough fit windows remain.

    Each fold is scored on every origin of its validation part, NaN past its end (as the
    calibration rows are): on short series the whole windows alone were one or a few, and the
    penalties chosen on them noise (ablations.md section 21)."""
    folds: list[RidgeFold] = []
    context, horizon = config.context_length, config.horizon
    lookback = scaler.lookback(context)
    for k in range(RIDGE_FOLDS):
        end = len(values) - k * config.val_size
        fit_windows = sliding_windows(values[:end], context, horizon, 0, end - config.val_size, lookback)
        if folds and len(fit_windows) < max(MIN_TRAIN_WINDOWS, context):
            break
        # every origin of the fold's validation part, the last ones with partial windows: a
        # 12-point validation part of a 12-step model scores 12 origins instead of one window
        history, target = origin_windows(
            values[:end], context, horizon, end - config.val_size, lookback
        ).tensors
        z, level, scale = scaler.encode(history, context)
        folds.append(
            RidgeFold(
                fit=normalised(scaler, fit_windows, context),
                held_out=(z, scaler.normalise(target, level, scale)),
                held_out_level=level,
                held_out_scale=scale,
                held_out_width_scale=scaler.width_scale(history, context),
                held_out_target=target,
            )
        )
    return folds


def choose_transform(config: TrainConfig, values: np.ndarray, train_end: int) -> SkipStart:
    """The scaler and ridge skip to train with, chosen on `values` (everything before the test
    part; the scaler sees the first `train_end` only)."""
    train = values[:train_end]
    candidates = [config.transform]
    if config.transform == "auto":
        candidates = ["log", "none"] if bool(np.all(train > 0)) else ["none"]
    tried: dict[str, tuple[WindowScaler, list[RidgeFold], RidgeBlend]] = {}
    errors: dict[str, float] = {}
    for transform in candidates:
        scaler = WindowScaler.fit(train, config.season_length, transform, config.profile_seasons)
        folds = ridge_folds(config, scaler, values)
        skip = select_ridge(
            [(fold.fit, fold.held_out) for fold in folds], scaler.profile_length, config.season_length
        )
        tried[transform] = (scaler, folds, skip)
        errors[transform] = sum(fold.error(scaler, skip) for fold in folds) / len(folds)
    scaler, folds, skip = tried[min(errors, key=errors.get)]
    return SkipStart(scaler, skip, folds, errors)
