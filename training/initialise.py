"""Initialise a fit: choose the target transform and the ridge skip by rolling-origin CV.

With transform "auto" on a positive series, the log and no transform are both tried: each
gets its ridge skip by CV in its own normalised space, and the one with the lower held-out
MAE in the series' own units over the same folds wins. The chosen skip's held-out errors on
the older folds also calibrate the intervals (more scores, from earlier origins, for series
whose validation part holds only a dozen).

A panel is initialised the same way over all its series at once: one scaler, each fold the
same fold of every series that affords it (windows pooled), and one skip chosen on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

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
    # each series' held-out rows (one slice for a single series)
    held_out_rows: list[slice]
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
        """Held-out MAE in original units of the ridge `skip` fitted on this fold; over the
        series of a panel the geometric mean of theirs, which no series outweighs by its magnitude."""
        forecast = scaler.decode(self.held_out_forecast(skip), self.held_out_level, self.held_out_scale)
        absolute = (forecast - self.held_out_target).abs()
        errors = [float(absolute[rows].nanmean()) for rows in self.held_out_rows]
        return float(np.exp(np.mean(np.log(errors))))

    @classmethod
    def pooled(cls, folds: Sequence[RidgeFold]) -> RidgeFold:
        """The same fold of several series as one: their windows stacked, in series order."""
        rows, first = [], 0
        for fold in folds:
            rows.append(slice(first, first + len(fold.held_out_target)))
            first += len(fold.held_out_target)

        def stacked(part: str) -> torch.Tensor:
            return torch.cat([getattr(fold, part) for fold in folds])

        return cls(
            fit=(torch.cat([fold.fit[0] for fold in folds]), torch.cat([fold.fit[1] for fold in folds])),
            held_out=(
                torch.cat([fold.held_out[0] for fold in folds]),
                torch.cat([fold.held_out[1] for fold in folds]),
            ),
            held_out_level=stacked("held_out_level"),
            held_out_scale=stacked("held_out_scale"),
            held_out_width_scale=stacked("held_out_width_scale"),
            held_out_target=stacked("held_out_target"),
            held_out_rows=rows,
        )


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
                held_out_rows=[slice(0, len(target))],
            )
        )
    return folds


def pooled_folds(config: TrainConfig, scaler: WindowScaler, series: Sequence[np.ndarray]) -> list[RidgeFold]:
    """`ridge_folds` of every series, fold k pooled over the series long enough to have it."""
    per_series = [ridge_folds(config, scaler, values) for values in series]
    return [
        RidgeFold.pooled([folds[k] for folds in per_series if len(folds) > k])
        for k in range(max(len(folds) for folds in per_series))
    ]


def fit_scaler(
    trains: Sequence[np.ndarray], season_length: int, transform: str, profile_seasons: int
) -> WindowScaler:
    """One scaler for the training parts of every series: "auto" takes the log when all of
    them are positive, and the scale floor is the smallest series' own. Windows are normalised
    by their own scale, so the floor only matters for near-flat windows: one taken from a
    series of 10,000s would flatten every window of a series of 1s, while the smallest floor
    leaves each series' windows as its own floor would (in log units the floors are alike)."""
    if transform == "auto":
        transform = "log" if all(bool(np.all(train > 0)) for train in trains) else "none"
    scalers = [WindowScaler.fit(train, season_length, transform, profile_seasons) for train in trains]
    return replace(scalers[0], min_scale=min(scaler.min_scale for scaler in scalers))


def choose_transform(config: TrainConfig, series: Sequence[np.ndarray]) -> SkipStart:
    """The scaler and ridge skip to train with, chosen on each series' values before its test
    part (the scaler sees each one's training part only: all but its last `val_size` points)."""
    trains = [values[: len(values) - config.val_size] for values in series]
    candidates = [config.transform]
    if config.transform == "auto":
        candidates = ["log", "none"] if all(bool(np.all(train > 0)) for train in trains) else ["none"]
    tried: dict[str, tuple[WindowScaler, list[RidgeFold], RidgeBlend]] = {}
    errors: dict[str, float] = {}
    for transform in candidates:
        scaler = fit_scaler(trains, config.season_length, transform, config.profile_seasons)
        folds = pooled_folds(config, scaler, series)
        skip = select_ridge(
            [(fold.fit, fold.held_out) for fold in folds], scaler.profile_length, config.season_length
        )
        tried[transform] = (scaler, folds, skip)
        errors[transform] = sum(fold.error(scaler, skip) for fold in folds) / len(folds)
    scaler, folds, skip = tried[min(errors, key=errors.get)]
    return SkipStart(scaler, skip, folds, errors)
