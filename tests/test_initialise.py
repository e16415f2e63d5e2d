"""Initialising a fit: the transform and the ridge skip chosen by rolling-origin CV."""

from __future__ import annotations

import numpy as np
import pytest

from training.config import TrainConfig
from training.initialise import RIDGE_FOLDS, SkipStart, choose_transform


def _transform_config(tiny: dict, **overrides: object) -> TrainConfig:
    return TrainConfig(
        name="shape", data="unused.csv", season_length=12, horizon=12, context_length=24,
        test_size=24, val_size=24, multi_step_stride=1, **tiny, **overrides,
    )  # fmt: skip


def _choose(config: TrainConfig, values: np.ndarray) -> SkipStart:
    return choose_transform(config, [values[: len(values) - config.test_size]])


def test_the_ridge_cv_keeps_an_additive_season_off_the_log_scale(tiny):
    """A constant seasonal swing on a level rising from 20 to 260: a log would shrink the swing
    as the level grows, so the no-transform ridge has the lower held-out error."""
    rng = np.random.default_rng(0)
    t = np.arange(240)
    values = 20.0 + 1.0 * t + 15.0 * np.sin(2 * np.pi * t / 12) + rng.normal(0.0, 0.5, len(t))
    start = _choose(_transform_config(tiny), values)
    assert set(start.transform_errors) == {"log", "none"} and len(start.folds) == RIDGE_FOLDS
    assert start.transform_errors["none"] < start.transform_errors["log"] and not start.scaler.log


@pytest.mark.parametrize(("transform", "tried"), [("log", {"log"}), ("none", {"none"})])
def test_a_fixed_transform_is_the_only_one_tried(tiny, make_series, transform, tried):
    values = make_series(240)
    start = _choose(_transform_config(tiny, transform=transform), values)
    assert set(start.transform_errors) == tried and start.scaler.log is (transform == "log")


def test_a_series_not_positive_in_its_training_part_tries_no_log(tiny, make_series):
    values = make_series(240) - 150.0
    start = _choose(_transform_config(tiny), values)
    assert set(start.transform_errors) == {"none"} and not start.scaler.log
