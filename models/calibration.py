"""Split-conformal prediction intervals: the one place that makes and reads conformity scores.

A conformity score is a forecast's absolute error in *width units*: the error in the
normalised space times the window's scale (back to the transformed space), divided by the
scaler's `width_scale` of that window's history. Training turns validation (and older CV
fold) errors into scores with `scores`; serving multiplies a per-step quantile of them by
the new history's width scale. Both sides go through this class, so the unit cannot drift
between them.

One row per forecast origin, NaN where a step fell past the held-out part: step 1 is
calibrated on every origin, step H on the whole windows only (ablations.md section 19).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

# the split-conformal 95 % quantile of n scores, ceil((n + 1) * 0.95) / n, is only <= 1 from here
WINDOWS_FOR_95 = 19


def scores(
    normalised_error: torch.Tensor, window_scale: torch.Tensor | float, width_scale: torch.Tensor
) -> torch.Tensor:
    """|forecast - target| [N, H] in the window-normalised space -> conformity scores [N, H]."""
    return normalised_error.abs() * window_scale / width_scale


@dataclass(eq=False)
class Calibration:
    # [n_origins, H] conformity scores; NaN where a step had no error
    scores: torch.Tensor
    _sorted: torch.Tensor = field(init=False, repr=False, compare=False)
    _counts: torch.Tensor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.scores = self.scores.to(torch.float32)
        # per step: the scores in ascending order (NaN sorts last) and how many there are
        self._sorted = self.scores.sort(dim=0).values
        self._counts = (~self.scores.isnan()).sum(dim=0)

    @classmethod
    def of(cls, *rows: torch.Tensor) -> Calibration:
        """Calibration from blocks of score rows (e.g. the validation part, then older folds)."""
        return cls(torch.cat(rows))

    @property
    def counts(self) -> torch.Tensor:
        """[H] the number of scores per step."""
        return self._counts

    @property
    def windows(self) -> int:
        """The number of scores of the last step, which has the fewest: only whole windows reach it."""
        return int(self._counts.min())

    @property
    def horizon(self) -> int:
        return self.scores.shape[1]

    def quantiles(self, level: float) -> torch.Tensor:
        """Per step, the split-conformal ceil((n + 1) q) / n empirical quantile of its n scores
        (covers a new error with probability >= q), linearly interpolated as `torch.quantile`."""
        n = self._counts.clamp_min(1)
        q = (torch.ceil((n + 1) * level / 100.0) / n).clamp_max(1.0)
        position = q * (n - 1)
        below = position.floor().long()
        above = position.ceil().long()
        lower = self._sorted.gather(0, below[None])[0]
        upper = self._sorted.gather(0, above[None])[0]
        return lower + (upper - lower) * (position - below)

    def half_widths(self, width_scale: torch.Tensor, level: float, horizon: int) -> torch.Tensor:
        """Interval half-widths [B, horizon] in the transformed space for histories whose width
        scale is `width_scale` [B, 1]. Beyond the calibrated steps (recursive forecasts) the last
        step's quantile grows with sqrt(step / H)."""
        trained = self.horizon
        quantiles = self.quantiles(level)
        if horizon > trained:
            growth = torch.sqrt(torch.arange(trained + 1, horizon + 1, dtype=torch.float32) / trained)
            quantiles = torch.cat([quantiles, quantiles[-1] * growth])
        return width_scale * quantiles[:horizon]
