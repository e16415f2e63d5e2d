"""Split-conformal prediction intervals: the one place that makes and reads conformity scores.

A conformity score is a forecast's absolute error in *width units*: the error in the
normalised space times the window's scale (back to the transformed space), divided by the
scaler's `width_scale` of that window's history. Training turns validation (and older CV
fold) errors into scores with `scores`; serving multiplies a per-step quantile of them by
the new history's width scale. Both sides go through this class, so the unit cannot drift
between them.

One row per forecast origin, NaN where a step fell past the held-out part: step 1 is
calibrated on every origin, step H on the whole windows only (ablations.md section 19).

Rows may carry a group (Mondrian split-conformal): a forecast of a group then reads only that
group's scores, so series whose errors grow differently with the step (the base's season
classes, ablations.md section 34) each get their own widths. A step where a group has fewer than
WINDOWS_FOR_95 scores, and a group with no rows, read the pooled scores.
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


def _sorted_and_counts(scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per step: the scores in ascending order (NaN sorts last) and how many there are."""
    return scores.sort(dim=0).values, (~scores.isnan()).sum(dim=0)


def _quantiles(sorted_scores: torch.Tensor, counts: torch.Tensor, level: float) -> torch.Tensor:
    """Per step, the split-conformal ceil((n + 1) q) / n empirical quantile of its n scores
    (covers a new error with probability >= q), linearly interpolated as `torch.quantile`."""
    n = counts.clamp_min(1)
    q = (torch.ceil((n + 1) * level / 100.0) / n).clamp_max(1.0)
    position = q * (n - 1)
    below = position.floor().long()
    above = position.ceil().long()
    lower = sorted_scores.gather(0, below[None])[0]
    upper = sorted_scores.gather(0, above[None])[0]
    return lower + (upper - lower) * (position - below)


@dataclass(eq=False)
class Calibration:
    # [n_origins, H] conformity scores; NaN where a step had no error
    scores: torch.Tensor
    # [n_origins] each row's group (integers), or None: one pool
    groups: torch.Tensor | None = None
    _sorted: torch.Tensor = field(init=False, repr=False, compare=False)
    _counts: torch.Tensor = field(init=False, repr=False, compare=False)
    # group -> its rows' (sorted scores, counts)
    _by_group: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.scores = self.scores.to(torch.float32)
        self._sorted, self._counts = _sorted_and_counts(self.scores)
        self._by_group = {}
        if self.groups is not None:
            self.groups = self.groups.to(torch.long)
            if self.groups.shape != self.scores.shape[:1]:
                raise ValueError(f"{self.groups.shape[0]} groups for {self.scores.shape[0]} score rows")
            for group in self.groups.unique().tolist():
                self._by_group[group] = _sorted_and_counts(self.scores[self.groups == group])

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

    def quantiles(self, level: float, group: int | None = None) -> torch.Tensor:
        """Per step [H], the split-conformal quantile (`_quantiles`) of the scores of `group`
        (None: every row); steps where the group has fewer than WINDOWS_FOR_95 scores, and a
        group without rows, take the pooled one."""
        pooled = _quantiles(self._sorted, self._counts, level)
        if group is None or group not in self._by_group:
            return pooled
        sorted_scores, counts = self._by_group[group]
        return torch.where(counts >= WINDOWS_FOR_95, _quantiles(sorted_scores, counts, level), pooled)

    def half_widths(
        self, width_scale: torch.Tensor, level: float, horizon: int, groups: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Interval half-widths [B, horizon] in the transformed space for histories whose width
        scale is `width_scale` [B, 1] and whose groups are `groups` [B] (None: pooled). Beyond the
        calibrated steps (recursive forecasts) the last step's quantile grows with sqrt(step / H)."""
        if groups is None or not self._by_group:
            quantiles = self.quantiles(level)[None]
        else:
            present = groups.unique().tolist()
            table = torch.stack([self.quantiles(level, group) for group in present])
            quantiles = table[torch.searchsorted(torch.tensor(present), groups)]
        trained = self.horizon
        if horizon > trained:
            growth = torch.sqrt(torch.arange(trained + 1, horizon + 1, dtype=torch.float32) / trained)
            quantiles = torch.cat([quantiles, quantiles[:, -1:] * growth], dim=1)
        return width_scale * quantiles[:, :horizon]
