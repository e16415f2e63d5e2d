"""Sliding windows over a series with a chronological train / validation / test split, and
the `LightningDataModule` that owns the split (of one series, or of each series of a panel,
their windows pooled).

Positions: [0, train_end) train targets, [train_end, val_end) validation targets,
[val_end, n) test. A window's context may reach back into earlier parts (a served model
sees all past values too) but its targets never cross into a later part, and the test
part is never seen here at all: the datamodule only receives `values[:val_end]`.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from models.scaling import WindowScaler

Pair = tuple[torch.Tensor, torch.Tensor]


def sliding_windows(
    values: np.ndarray, context: int, horizon: int, first_target: int, end: int, lookback: int | None = None
) -> TensorDataset:
    """Windows whose targets lie inside [first_target, end): (history [N, L], target [N, H]).

    A window's history is the `lookback` L >= context values before its targets, NaN where
    the series had not started yet; the first window has exactly `context` real values.
    """
    lookback = lookback or context
    series = torch.as_tensor(values[:end], dtype=torch.float32)
    if len(series) < context + horizon:
        return TensorDataset(torch.empty(0, lookback), torch.empty(0, horizon))
    series = torch.nn.functional.pad(series, (lookback - context, 0), value=torch.nan)
    windows = series.unfold(0, lookback + horizon, 1)  # window i: targets at [i + T, i + T + H)
    first = max(first_target - context, 0)
    windows = windows[first:]
    return TensorDataset(windows[:, :lookback].contiguous(), windows[:, lookback:].contiguous())


def origin_windows(
    values: np.ndarray, context: int, horizon: int, first_target: int, lookback: int | None = None
) -> TensorDataset:
    """One window per origin in [first_target, len(values)), NaN where a target falls past the
    end: step 1 has a value at every origin, step H only in the whole windows (the first
    len(values) - first_target - horizon + 1, which are `sliding_windows`' own)."""
    padded = np.concatenate([values, np.full(horizon - 1, np.nan)])
    return sliding_windows(padded, context, horizon, first_target, len(padded), lookback)


def normalised(scaler: WindowScaler, windows: TensorDataset, context_length: int) -> Pair:
    """(history, target) windows in original units -> (network input z, target) in the
    windows' own normalised space, as the network and the ridge skip see them."""
    history, target = windows.tensors
    z, level, scale = scaler.encode(history, context_length)
    return z, scaler.normalise(target, level, scale)


def pooled(windows: Sequence[TensorDataset]) -> TensorDataset:
    """The windows of several series as one set (their tensors stacked, in series order)."""
    return TensorDataset(*(torch.cat(parts) for parts in zip(*(w.tensors for w in windows), strict=True)))


class WindowDataModule(L.LightningDataModule):
    """The training and validation windows of one series (`values`) or of several (a list of
    them, each split by its own end: its last `val_size` points are its validation targets)."""

    def __init__(
        self,
        values: np.ndarray | Sequence[np.ndarray],
        context_length: int,
        horizon: int,
        val_size: int,
        batch_size: int,
        windows_per_epoch: int,
        min_windows_per_epoch: int = 0,
        lookback: int | None = None,
    ) -> None:
        super().__init__()
        self.series = [values] if isinstance(values, np.ndarray) else list(values)
        self.context_length = context_length
        self.horizon = horizon
        self.val_size = val_size
        self.batch_size = batch_size
        self.windows_per_epoch = windows_per_epoch
        self.min_windows_per_epoch = min_windows_per_epoch
        self.train = pooled(
            [sliding_windows(v, context_length, horizon, 0, len(v) - val_size, lookback) for v in self.series]
        )
        self.val = pooled(
            [
                sliding_windows(v, context_length, horizon, len(v) - val_size, len(v), lookback)
                for v in self.series
            ]
        )

    def train_dataloader(self) -> DataLoader:
        # a short series' windows are drawn several times per epoch, so that an epoch (the unit of
        # early stopping) is a comparable number of optimiser steps whatever the series length
        samples = min(max(len(self.train), self.min_windows_per_epoch), self.windows_per_epoch)
        return DataLoader(
            self.train,
            batch_size=self.batch_size,
            sampler=RandomSampler(self.train, num_samples=samples),
            drop_last=len(self.train) > self.batch_size,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val, batch_size=1024)
