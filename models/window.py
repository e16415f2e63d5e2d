"""A batch of histories as the base network reads them: the latest `context_length` values,
NaN-padded on the left, normalised per window (level = mean of the last season, or the last
value without one; scale = mean absolute step), with the padding mask and the season."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

# A window whose values hardly move still needs a positive scale: this share of its mean
# absolute value, and MIN_SCALE for a window of zeros
SCALE_FLOOR = 1e-3
MIN_SCALE = 1e-8


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

    @classmethod
    def concatenated(cls, windows: Sequence[NormalisedWindow]) -> NormalisedWindow:
        """The windows' rows as one batch, in order."""
        return cls(
            **{
                part.name: torch.cat([getattr(window, part.name) for window in windows])
                for part in fields(cls)
            }
        )

    def normalise(self, values: torch.Tensor) -> torch.Tensor:
        return (values - self.level) / self.scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.level + self.scale * z

    def seasonal_step(self) -> torch.Tensor:
        """Mean |z_t - z_{t-m}| over the observed pairs [B, 1]: MASE's scale in the normalised
        space (1 without a season, the window's unit being the mean absolute step)."""
        lagged = torch.arange(self.z.shape[1], device=self.z.device)[None, :] - self.season[:, None]
        both = (lagged >= 0) & (self.observed > 0)
        both &= self.observed.gather(1, lagged.clamp_min(0)) > 0
        steps = (self.z - self.z.gather(1, lagged.clamp_min(0))).abs()
        return (steps * both).sum(dim=1, keepdim=True) / both.sum(dim=1, keepdim=True).clamp_min(1)


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
    return normalise_values(context.nan_to_num(0.0, 0.0, 0.0), observed.to(context.dtype), season)


def effective_seasons(season: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """The season each window uses [B]: the one given (0 or 1 = none) when the window holds at
    least that many values (`count` [B]), else 1 - a season longer than the history is none."""
    season = season.to(count.dtype).clamp_min(1)
    return torch.where(season <= count, season, torch.ones_like(season))


def normalise_values(filled: torch.Tensor, observed: torch.Tensor, season: torch.Tensor) -> NormalisedWindow:
    """`normalise_window` of values [B, C] that are 0 where `observed` [B, C] is 0.0 (1.0 where a
    value was given). Masks multiply instead of `torch.where`, several times faster on CPU."""
    count = observed.sum(dim=1).long()
    season = effective_seasons(season, count)
    level = _block_mean(filled, torch.zeros_like(count), season)
    # mean absolute step over the steps whose both ends were observed
    steps = observed[:, 1:] * observed[:, :-1]
    step_sizes = (filled[:, 1:] - filled[:, :-1]).abs() * steps
    scale = step_sizes.sum(dim=1, keepdim=True) / steps.sum(dim=1, keepdim=True).clamp_min(1)
    magnitude = filled.abs().sum(dim=1, keepdim=True) / count[:, None]
    scale = torch.maximum(scale, SCALE_FLOOR * magnitude).clamp_min(MIN_SCALE)
    z = (filled - level) / scale * observed
    return NormalisedWindow(z, observed, level, scale, season)


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
