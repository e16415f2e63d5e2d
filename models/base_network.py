"""The global base network: one recurrent forecaster for windows of any series.

ES-RNN's split between classical structure and one shared network: for each window the
network computes classical prior forecasts for the window's season length m (naive, seasonal
naive, damped trend, damped trend plus the last season's shape), and a recurrent encoder over
the window emits, per forecast step, softmax weights that mix those priors plus an additive
correction. Both heads start at zero, so an untrained network forecasts the priors' plain mean.

Everything runs in the window-normalised space of `models.scaling`: level = mean of the last
season (the last value without a season), scale = mean absolute step. Histories shorter than
the context are left-padded with NaN; the padding mask is an encoder input, and a season
longer than the observed history falls back to the non-seasonal priors.

This is a first version that makes the pretraining pipeline real; its accuracy is untested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from torch import nn

from models.network import CELLS, recurrent_stack, to_patches

PRIORS = ("naive", "seasonal_naive", "damped_trend", "seasonal_damped_trend")
# Per-step damping of the trend priors' slope (damped-trend ETS's phi), as in the ridge priors
TREND_DAMPING = 0.9
# Without a season the trend's slope compares the means of the last two blocks of this many values
PLAIN_TREND_WINDOW = 4
# A window whose values hardly move still needs a positive scale: this share of its mean
# absolute value, and MIN_SCALE for a window of zeros
SCALE_FLOOR = 1e-3
MIN_SCALE = 1e-8
WEIGHTS_FILE = "base_network.pt"
CONFIG_FILE = "base_network.json"


@dataclass(kw_only=True)
class BaseConfig:
    context_length: int = 96
    horizon: int = 24
    cell: str = "gru"
    hidden_size: int = 64
    num_layers: int = 2
    dropout: float = 0.1
    # the encoder reads the context in patches of this many steps (SegRNN-style: 96 / 4 steps)
    patch_length: int = 4
    # the longest season the network is told about; longer ones are read as this in its features
    max_season: int = 52

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        for name in ("context_length", "horizon", "hidden_size", "num_layers", "patch_length", "max_season"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.context_length % self.patch_length:
            raise ValueError(
                f"context_length {self.context_length} is not a multiple of patch_length {self.patch_length}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> BaseConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown base network settings {sorted(unknown)}")
        return cls(**values)


@dataclass(frozen=True)
class NormalisedWindow:
    """A batch of windows in the normalised space: z [B, C] (0 where padded), observed [B, C]
    (1.0 where a value was given), level and scale [B, 1] in original units, season [B]
    (the effective season length: 1 where the history is shorter than one season)."""

    z: torch.Tensor
    observed: torch.Tensor
    level: torch.Tensor
    scale: torch.Tensor
    season: torch.Tensor

    def normalise(self, values: torch.Tensor) -> torch.Tensor:
        return (values - self.level) / self.scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.level + self.scale * z


def _block_mean(values: torch.Tensor, end_back: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """Per row b, the mean of values[b, C - end_back - length : C - end_back]; [B, 1]."""
    positions = torch.arange(values.shape[1], device=values.device)
    from_end = values.shape[1] - positions  # 1 for the last value
    inside = (from_end > end_back[:, None]) & (from_end <= (end_back + length)[:, None])
    return (values * inside).sum(dim=1, keepdim=True) / length.clamp_min(1)[:, None]


def normalise_window(history: torch.Tensor, season: torch.Tensor, context_length: int) -> NormalisedWindow:
    """history [B, L] in original units (NaN before a row's first value; the last value of every
    row finite), season [B] (given season lengths, 0 or 1 = none) -> the context's last
    `context_length` values normalised, with what the priors need."""
    if history.shape[1] < context_length:
        history = nn.functional.pad(history, (context_length - history.shape[1], 0), value=torch.nan)
    context = history[:, -context_length:]
    observed = torch.isfinite(context)
    if not bool(observed[:, -1].all()):
        raise ValueError("every history needs a finite last value (pad missing values on the left)")
    filled = torch.where(observed, context, 0.0)
    count = observed.sum(dim=1)
    season = season.to(count.dtype).clamp_min(1)
    season = torch.where(season <= count, season, torch.ones_like(season))
    level = _block_mean(filled, torch.zeros_like(count), season)
    # mean absolute step over the steps whose both ends were observed
    steps = observed[:, 1:] & observed[:, :-1]
    step_sizes = torch.where(steps, (filled[:, 1:] - filled[:, :-1]).abs(), 0.0)
    scale = step_sizes.sum(dim=1, keepdim=True) / steps.sum(dim=1, keepdim=True).clamp_min(1)
    magnitude = filled.abs().sum(dim=1, keepdim=True) / count[:, None]
    scale = torch.maximum(scale, SCALE_FLOOR * magnitude).clamp_min(MIN_SCALE)
    z = torch.where(observed, (filled - level) / scale, 0.0)
    return NormalisedWindow(z, observed.to(z.dtype), level, scale, season)


def prior_forecasts(window: NormalisedWindow, horizon: int) -> torch.Tensor:
    """The classical forecasts of every window, in its normalised space: [B, H, len(PRIORS)]."""
    z, season = window.z, window.season
    context = z.shape[1]
    count = window.observed.sum(dim=1).to(season.dtype)
    steps = torch.arange(horizon, device=z.device)
    naive = z[:, -1:].expand(-1, horizon)
    # step h repeats the value one season before it: position C - m + (h mod m)
    same_phase = context - season[:, None] + steps[None, :] % season[:, None]
    seasonal_naive = z.gather(1, same_phase)
    # damped trend: the slope between the means of the last two blocks of k values (k = one
    # season, or PLAIN_TREND_WINDOW without one), at most half the observed values each
    block = torch.where(season > 1, season, torch.full_like(season, PLAIN_TREND_WINDOW))
    block = torch.minimum(block, count // 2)
    last_block = _block_mean(z, torch.zeros_like(block), block)
    before = _block_mean(z, block, block)
    slope = torch.where(block[:, None] > 0, (last_block - before) / block.clamp_min(1)[:, None], 0.0)
    damped = (TREND_DAMPING ** torch.arange(1, horizon + 1, device=z.device, dtype=z.dtype)).cumsum(0)
    # the block's mean stands at its centre, (k - 1) / 2 steps before the last value
    reach = (block.clamp_min(1)[:, None] - 1) / 2 + damped[None, :]
    damped_trend = last_block + slope * reach
    last_season = _block_mean(z, torch.zeros_like(season), season)
    seasonal_damped_trend = damped_trend + seasonal_naive - last_season
    return torch.stack([naive, seasonal_naive, damped_trend, seasonal_damped_trend], dim=2)


class BaseNetwork(nn.Module):
    """Normalised window -> normalised forecast [B, H]: a per-step mix of the priors plus a correction."""

    def __init__(self, config: BaseConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = recurrent_stack(
            config.cell, 2 * config.patch_length, config.hidden_size, config.num_layers, config.dropout, False
        )
        self.dropout = nn.Dropout(config.dropout)
        features = config.hidden_size + 2
        self.mixer = nn.Linear(features, config.horizon * len(PRIORS))
        self.correction = nn.Linear(features, config.horizon)
        for head in (self.mixer, self.correction):
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, window: NormalisedWindow) -> torch.Tensor:
        config = self.config
        patches = torch.cat(
            [to_patches(window.z, config.patch_length), to_patches(window.observed, config.patch_length)],
            dim=2,
        )
        encoded, _ = self.encoder(patches)
        season = window.season.to(window.z.dtype).clamp_max(config.max_season)[:, None]
        # whether the window has a season, and its length on a log scale from 1 to max_season
        season_features = torch.cat(
            [(season > 1).to(season.dtype), season.log() / np.log(max(config.max_season, 2))], dim=1
        )
        features = torch.cat([self.dropout(encoded[:, -1]), season_features], dim=1)
        weights = self.mixer(features).view(-1, config.horizon, len(PRIORS)).softmax(dim=2)
        priors = prior_forecasts(window, config.horizon)
        return (weights * priors).sum(dim=2) + self.correction(features)

    def parameter_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.parameters())


def pad_histories(histories: Sequence[np.ndarray | Sequence[float]], context_length: int) -> torch.Tensor:
    """Histories of any lengths (oldest first) -> [B, context_length] float32, their last
    `context_length` values right-aligned and NaN-padded on the left."""
    batch = torch.full((len(histories), context_length), torch.nan, dtype=torch.float32)
    for row, history in enumerate(histories):
        values = torch.as_tensor(np.asarray(history, dtype=np.float32)[-context_length:])
        if len(values) == 0:
            raise ValueError(f"history {row} is empty")
        batch[row, context_length - len(values) :] = values
    return batch
