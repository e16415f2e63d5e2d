"""Scale-free targets: an optional log transform plus per-window normalisation.

Each context window is expressed relative to its own level (mean of its last season) and
scale (mean absolute step), so one network serves series of any magnitude and the loss
is comparable to MASE. The scale floor is fitted on training data alone; whether to take
logs is the caller's choice (training tries both, see `training.pipeline`), or with "auto"
here, logs whenever the data are positive. Both are stored in the artifact as plain JSON.

A window normalised by its own level no longer knows the series' long-run seasonal shape,
which ETS estimates from every past season. With `profile_seasons` (default 20), the network
input starts with a *seasonal profile*: the season before the context rebuilt from up to that
many seasons of history (a line through the season means plus the mean seasonal shape), in
the same normalised units. Fewer seasons give a noisier profile, not a shifted one.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

TRANSFORMS = ("auto", "log", "none")
# What interval widths are measured in (calibration residuals are divided by it, served widths
# multiplied): "step" = the window scale, "seasonal" = the mean absolute seasonal difference,
# "trimmed_seasonal" = the mean of its smallest WIDTH_KEEP share (see `width_scale`).
INTERVAL_SCALES = ("step", "seasonal", "trimmed_seasonal")
WIDTH_KEEP = 0.9


@dataclass(frozen=True)
class WindowScaler:
    log: bool
    season_length: int
    min_scale: float
    profile_seasons: int = 0
    # artifacts saved before this field existed were calibrated in window-scale units
    interval_scale: str = "step"

    def __post_init__(self) -> None:
        if self.interval_scale not in INTERVAL_SCALES:
            raise ValueError(f"interval_scale must be one of {INTERVAL_SCALES}, got {self.interval_scale!r}")

    @classmethod
    def fit(
        cls, train: np.ndarray, season_length: int, transform: str = "auto", profile_seasons: int = 0
    ) -> WindowScaler:
        """Decide the transform and the scale floor from the training part only."""
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
        if profile_seasons < 0:
            raise ValueError(f"profile_seasons must be >= 0, got {profile_seasons}")
        positive = bool(np.all(train > 0))
        if transform == "log" and not positive:
            raise ValueError("transform 'log' needs strictly positive training values")
        log = transform == "log" or (transform == "auto" and positive)
        values = np.log(train) if log else np.asarray(train, dtype=np.float64)
        typical_step = float(np.mean(np.abs(np.diff(values)))) if len(values) > 1 else 1.0
        return cls(
            log=log,
            season_length=season_length,
            min_scale=max(0.1 * typical_step, 1e-8),
            # a series without a season has no profile: its "per-phase mean" is the mean of all history
            profile_seasons=profile_seasons if season_length > 1 else 0,
            interval_scale="trimmed_seasonal",
        )

    @property
    def profile_length(self) -> int:
        """Number of profile values the network input starts with (one season, or none)."""
        return self.season_length if self.profile_seasons else 0

    def lookback(self, context_length: int) -> int:
        """How many of the latest values the input is built from (more are ignored)."""
        return max(context_length, self.profile_seasons * self.season_length)

    def to_dict(self) -> dict:
        return asdict(self)

    def transform(self, values: torch.Tensor) -> torch.Tensor:
        return torch.log(values) if self.log else values

    def inverse(self, values: torch.Tensor) -> torch.Tensor:
        return torch.exp(values) if self.log else values

    def encode(
        self, history: torch.Tensor, context_length: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """history [B, T >= context_length] in original units, NaN where a row has no value
        (left padding; the last `context_length` must be finite) -> (network input
        z [B, profile_length + context_length], level [B, 1], scale [B, 1])."""
        u = self.transform(history)
        context = u[:, -context_length:]
        level = context[:, -min(self.season_length, context_length) :].mean(dim=1, keepdim=True)
        if context_length > 1:
            scale = (context[:, 1:] - context[:, :-1]).abs().mean(dim=1, keepdim=True)
        else:
            scale = torch.zeros_like(level)
        scale = scale.clamp_min(self.min_scale)
        z = (context - level) / scale
        if not self.profile_length:
            return z, level, scale
        # a phase the history never reached sits at the level
        profile = ((self._seasonal_profile(u, context_length) - level) / scale).nan_to_num(0.0)
        return torch.cat([profile, z], dim=1), level, scale

    def _seasonal_profile(self, u: torch.Tensor, context_length: int) -> torch.Tensor:
        """The season before the context, rebuilt from up to `profile_seasons` whole seasons of
        u [B, T]: a line through the season means (level and trend) plus the mean seasonal
        shape (each season's deviations from its own mean, averaged). Slot p of the result
        stands at time end - context_length - m + p.

        Both parts are unbiased whatever the number of seasons, so a short history gives a
        noisier profile, not a shifted one (a plain per-phase mean of a trending series sits
        lower the more seasons it averages).
        """
        m = self.season_length
        seasons = min(u.shape[1], self.profile_seasons * m) // m
        if seasons == 0:
            return torch.full((len(u), m), torch.nan, dtype=u.dtype)
        recent = u[:, u.shape[1] - seasons * m :]
        # a season is whole when it has no padding and, under the log, no value <= 0
        whole = torch.isfinite(recent.reshape(len(u), seasons, m)).all(dim=2)
        if bool(whole.all()):
            # the common case (no padding): the profile is linear in the values, one matrix product
            return recent @ _whole_seasons_map(seasons, m, context_length).to(u.dtype)
        return _rebuilt_profile(recent.reshape(len(u), seasons, m), whole, context_length)

    def width_scale(self, history: torch.Tensor, context_length: int) -> torch.Tensor:
        """history [B, T >= context_length] -> [B, 1], the unit of interval widths (transformed space).

        "seasonal": the mean |u[t] - u[t - m]| over the context - the noise the season does not
        explain. The window scale (mean |step|) of a strongly seasonal series is mostly the
        seasonal swing, so widths in its units follow the season's amplitude rather than the
        noise, and a validation part whose swing differs from the test part's miscalibrates
        (ablations.md section 16). A context of one season or less falls back to lag 1.
        "trimmed_seasonal" leaves out the largest 10 % of those differences first: one holiday
        or spike in a context otherwise inflates the unit, so calibration windows holding one
        yield small residuals and clean test windows get too narrow intervals (section 18).
        """
        u = self.transform(history[:, -context_length:])
        lag = (
            self.season_length if self.interval_scale != "step" and self.season_length < context_length else 1
        )
        if context_length <= lag:
            return torch.full((len(u), 1), self.min_scale, dtype=u.dtype)
        differences = (u[:, lag:] - u[:, :-lag]).abs()
        if self.interval_scale != "trimmed_seasonal":
            return differences.mean(dim=1, keepdim=True).clamp_min(self.min_scale)
        keep = math.ceil(WIDTH_KEEP * differences.shape[1])
        # the smallest `keep` summed as the total minus the largest: topk is ~3x faster than a sort
        largest = differences.topk(differences.shape[1] - keep, dim=1).values.sum(dim=1, keepdim=True)
        return ((differences.sum(dim=1, keepdim=True) - largest) / keep).clamp_min(self.min_scale)

    def normalise(self, values: torch.Tensor, level: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """Targets in original units -> the window's normalised space (for the loss)."""
        return (self.transform(values) - level) / scale

    def decode(self, z: torch.Tensor, level: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return self.inverse(level + scale * z)


def _rebuilt_profile(blocks: torch.Tensor, whole: torch.Tensor, context_length: int) -> torch.Tensor:
    """`WindowScaler._seasonal_profile` from blocks [B, seasons, m] (oldest first) of which only
    the `whole` [B, seasons] ones are used; NaN for a row with none."""
    seasons, m = blocks.shape[1:]
    weight = whole.to(blocks.dtype)
    count = weight.sum(dim=1, keepdim=True)
    means = torch.where(whole, blocks.mean(dim=2), 0.0)
    deviations = torch.where(whole[..., None], blocks - means[..., None], 0.0)
    shape = deviations.sum(dim=1) / count.clamp_min(1.0)  # slot q: phase of end - m + q
    position = torch.arange(seasons, dtype=blocks.dtype)
    centre = (weight * position).sum(dim=1, keepdim=True) / count.clamp_min(1.0)
    mean = means.sum(dim=1, keepdim=True) / count.clamp_min(1.0)
    spread = (weight * (position - centre) ** 2).sum(dim=1, keepdim=True)
    covariance = (weight * (position - centre) * (means - mean)).sum(dim=1, keepdim=True)
    slope = torch.where(spread > 0, covariance / spread.clamp_min(1e-12), 0.0)  # per season
    # slot p lies in the season (aligned like the blocks) `back` seasons before the newest
    slots = torch.arange(m)
    back = (context_length - slots + (slots - context_length) % m) // m
    at = (seasons - 1 - back).to(blocks.dtype)
    profile = mean + slope * (at - centre) + shape[:, (slots - context_length) % m]
    return torch.where(count > 0, profile, torch.nan)


@functools.lru_cache(maxsize=256)
def _whole_seasons_map(seasons: int, m: int, context_length: int) -> torch.Tensor:
    """[seasons * m, m]: `_rebuilt_profile` of whole seasons as a linear map (serving latency is
    per-operation overhead; this is one matrix product instead of about twenty operations)."""
    basis = torch.eye(seasons * m, dtype=torch.float64).reshape(seasons * m, seasons, m)
    whole = torch.ones(seasons * m, seasons, dtype=torch.bool)
    return _rebuilt_profile(basis, whole, context_length).to(torch.float32).contiguous()
