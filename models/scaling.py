"""Scale-free targets: an optional log transform plus per-window normalisation.

Each context window is expressed relative to its own level (mean of its last season) and
scale (mean absolute step), so one network serves series of any magnitude and the loss
is comparable to MASE. Only the log decision and a floor for the scale are fitted, on
training data alone, and both are stored in the artifact as plain JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

TRANSFORMS = ("auto", "log", "none")


@dataclass(frozen=True)
class WindowScaler:
    log: bool
    season_length: int
    min_scale: float

    @classmethod
    def fit(cls, train: np.ndarray, season_length: int, transform: str = "auto") -> WindowScaler:
        """Decide the transform and the scale floor from the training part only."""
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
        positive = bool(np.all(train > 0))
        if transform == "log" and not positive:
            raise ValueError("transform 'log' needs strictly positive training values")
        log = transform == "log" or (transform == "auto" and positive)
        values = np.log(train) if log else np.asarray(train, dtype=np.float64)
        typical_step = float(np.mean(np.abs(np.diff(values)))) if len(values) > 1 else 1.0
        return cls(log=log, season_length=season_length, min_scale=max(0.1 * typical_step, 1e-8))

    def to_dict(self) -> dict:
        return asdict(self)

    def transform(self, values: torch.Tensor) -> torch.Tensor:
        return torch.log(values) if self.log else values

    def inverse(self, values: torch.Tensor) -> torch.Tensor:
        return torch.exp(values) if self.log else values

    def encode(self, history: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """history [B, T] in original units -> (z [B, T], level [B, 1], scale [B, 1])."""
        u = self.transform(history)
        level = u[:, -min(self.season_length, u.shape[1]) :].mean(dim=1, keepdim=True)
        if u.shape[1] > 1:
            scale = (u[:, 1:] - u[:, :-1]).abs().mean(dim=1, keepdim=True)
        else:
            scale = torch.zeros_like(level)
        scale = scale.clamp_min(self.min_scale)
        return (u - level) / scale, level, scale

    def normalise(self, values: torch.Tensor, level: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """Targets in original units -> the window's normalised space (for the loss)."""
        return (self.transform(values) - level) / scale

    def decode(self, z: torch.Tensor, level: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return self.inverse(level + scale * z)
