"""Windowing never leaks: training targets stay in the train part, validation targets in the
validation part, the test part is never seen, and the scaler is fitted on the train part only."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from models.scaling import WindowScaler
from training.pipeline import fit_artifact
from training.windows import WindowDataModule, origin_windows, sliding_windows

OFFSET = 1000.0  # value = OFFSET + position, so every value names where it came from
N, TEST, VAL, CONTEXT, HORIZON = 120, 20, 24, 16, 6
FIT_END = N - TEST
TRAIN_END = FIT_END - VAL


def positions(tensor: torch.Tensor) -> np.ndarray:
    return tensor.numpy().astype(np.int64) - int(OFFSET)


@pytest.fixture
def datamodule() -> WindowDataModule:
    values = OFFSET + np.arange(N, dtype=np.float64)
    # what the pipeline does: the datamodule only ever receives values[:fit_end]
    return WindowDataModule(values[:FIT_END], CONTEXT, HORIZON, VAL, batch_size=16, windows_per_epoch=64)


def test_training_targets_stay_inside_the_train_part(datamodule):
    context, target = datamodule.train.tensors
    assert context.shape[1:] == (CONTEXT,) and target.shape[1:] == (HORIZON,)
    assert positions(target).max() < TRAIN_END
    assert positions(context).max() < TRAIN_END
    # and no training window is wasted: targets cover [CONTEXT, TRAIN_END)
    assert len(datamodule.train) == TRAIN_END - CONTEXT - HORIZON + 1
    assert positions(target).min() == CONTEXT
    assert positions(target).max() == TRAIN_END - 1


def test_training_batches_stay_inside_the_train_part(datamodule):
    seen = 0
    for context, target in datamodule.train_dataloader():
        assert positions(target).max() < TRAIN_END
        assert positions(context).max() < TRAIN_END
        seen += len(target)
    assert 0 < seen <= 64


def test_validation_targets_lie_only_inside_the_validation_part(datamodule):
    _context, target = datamodule.val.tensors
    assert positions(target).min() >= TRAIN_END
    assert positions(target).max() < FIT_END
    # every validation target position is covered, by val - h + 1 windows
    assert len(datamodule.val) == VAL - HORIZON + 1
    assert set(positions(target).ravel()) == set(range(TRAIN_END, FIT_END))
    batches = list(datamodule.val_dataloader())
    assert sum(len(batch[1]) for batch in batches) == len(datamodule.val)


@pytest.mark.parametrize("split", ["train", "val"])
def test_windows_are_contiguous(datamodule, split):
    context, target = getattr(datamodule, split).tensors
    window = positions(torch.cat([context, target], dim=1))
    assert (np.diff(window, axis=1) == 1).all()


def test_a_longer_lookback_pads_the_first_windows_with_nan():
    values = OFFSET + np.arange(N, dtype=np.float64)
    lookback = CONTEXT + 10
    windows = WindowDataModule(values[:FIT_END], CONTEXT, HORIZON, VAL, 16, 64, lookback=lookback)
    plain = WindowDataModule(values[:FIT_END], CONTEXT, HORIZON, VAL, 16, 64)
    history, target = windows.train.tensors
    assert history.shape == (len(plain.train), lookback)
    assert torch.equal(target, plain.train.tensors[1])
    assert torch.equal(history[:, -CONTEXT:], plain.train.tensors[0])
    # the first window has exactly the context; later ones more, up to the lookback
    real = (~torch.isnan(history)).sum(dim=1)
    assert real[0] == CONTEXT and real[10] == lookback and (real[10:] == lookback).all()
    assert (np.diff(positions(history[-1])) == 1).all()


def test_no_window_contains_a_test_value(datamodule):
    for dataset in (datamodule.train, datamodule.val):
        for tensor in dataset.tensors:
            assert positions(tensor).max() < FIT_END


# --- through the pipeline ---------------------------------------------------------------------


def _refit(tiny_fit, values: np.ndarray):
    config, series, _ = tiny_fit
    return fit_artifact(config, replace(series, values=values), logger=None, progress=False)


def _same_network(a, b) -> bool:
    left, right = a.network.state_dict(), b.network.state_dict()
    return left.keys() == right.keys() and all(torch.equal(left[k], right[k]) for k in left)


def _train_part_scaler(config, values: np.ndarray, artifact) -> WindowScaler:
    """The scaler fitted on the train part with the transform the ridge CV chose."""
    train_end = len(values) - config.test_size - config.val_size
    transform = "log" if artifact.scaler.log else "none"
    return WindowScaler.fit(values[:train_end], config.season_length, transform, config.profile_seasons)


def test_scaler_is_fitted_on_the_train_part_only(tiny_fit):
    config, series, artifact = tiny_fit
    assert artifact.scaler == _train_part_scaler(config, series.values, artifact)
    # the transform is the one with the lower held-out error of the two the CV tried
    errors = artifact.metadata.transform_cv_mae
    assert set(errors) == {"log", "none"}
    assert ("log" if artifact.scaler.log else "none") == min(errors, key=errors.get)


def test_changing_the_test_part_changes_nothing_fitted(tiny_fit):
    """A wildly different test part (negative, 1e4 times larger) leaves the scaler, the
    weights, the calibration residuals and the validation score exactly as they were."""
    config, series, baseline = tiny_fit
    values = series.values.copy()
    rng = np.random.default_rng(1)
    values[-config.test_size :] = -1e4 * (1.0 + rng.random(config.test_size))
    refit = _refit(tiny_fit, values)
    assert refit.scaler == baseline.scaler
    assert _same_network(refit, baseline)
    torch.testing.assert_close(
        refit.calibration.scores, baseline.calibration.scores, rtol=0, atol=0, equal_nan=True
    )
    assert refit.metadata.val_mase == baseline.metadata.val_mase


def test_changing_the_validation_part_leaves_the_scaler_to_the_train_part(tiny_fit):
    """Validation may change which transform the CV picks, never what the scaler fits."""
    config, series, baseline = tiny_fit
    values = series.values.copy()
    fit_end = len(values) - config.test_size
    values[fit_end - config.val_size : fit_end] *= 50.0
    refit = _refit(tiny_fit, values)
    assert refit.scaler == _train_part_scaler(config, values, refit)
    # ... while validation really is used (calibration residuals come from it)
    assert not torch.equal(refit.calibration.scores, baseline.calibration.scores)


@pytest.mark.parametrize(("floor", "cap", "expected"), [(0, 64, 55), (200, 1000, 200), (200, 64, 64)])
def test_an_epoch_draws_at_least_the_floor_of_windows(floor, cap, expected):
    values = OFFSET + np.arange(N, dtype=np.float64)
    module = WindowDataModule(values[:FIT_END], CONTEXT, HORIZON, VAL, 16, cap, min_windows_per_epoch=floor)
    assert len(module.train) == 55
    drawn = sum(len(target) for _, target in module.train_dataloader())
    # drop_last may leave out one partial batch
    assert expected - 16 < drawn <= expected


def test_a_part_too_short_for_one_window_gives_no_windows():
    values = OFFSET + np.arange(CONTEXT + HORIZON - 1, dtype=np.float64)
    module = WindowDataModule(values, CONTEXT, HORIZON, 0, batch_size=16, windows_per_epoch=64)
    assert len(module.train) == 0 and module.train.tensors[0].shape == (0, CONTEXT)


def test_origin_windows_hold_every_origin_with_nan_past_the_end():
    values = OFFSET + np.arange(N, dtype=np.float64)
    history, target = origin_windows(values[:FIT_END], CONTEXT, HORIZON, FIT_END - VAL).tensors
    assert len(history) == VAL and history.shape[1] == CONTEXT and not history.isnan().any()
    whole = sliding_windows(values[:FIT_END], CONTEXT, HORIZON, FIT_END - VAL, FIT_END).tensors
    # the whole windows come first and are `sliding_windows`' own; then one NaN more per origin
    assert torch.equal(history[: len(whole[0])], whole[0]) and torch.equal(target[: len(whole[1])], whole[1])
    assert (~target.isnan()).sum(dim=1).tolist() == [min(HORIZON, VAL - i) for i in range(VAL)]
    assert torch.equal(target[:, 0], torch.as_tensor(values[FIT_END - VAL : FIT_END], dtype=torch.float32))
