"""The global base network: one forecaster for windows of any series.

ES-RNN's split between classical structure and one shared network: for each window the
network computes the classical candidates of `models.priors` for the window's season length m
(the closed-form forecasts its config names, each on the plain and the log scale) and each
candidate's one-step error on the window's own latest values, and mixes the candidates per
forecast step with softmax weights plus an additive correction. The mixer reads the in-context
errors, the season and - when `recurrent` - a recurrent encoder's summary of the window; it
starts as selection by in-context error (weights = softmax(-log(error) /
SELECTION_TEMPERATURE)), the correction at zero, so an untrained network already forecasts like
AutoETS-style model choice among the candidates.

Everything runs in the window-normalised space of `models.window` (level = mean of the last
season, scale = mean absolute step). Histories shorter than the context are left-padded with
NaN; the padding mask is an encoder input, and a season longer than the observed history falls
back to the non-seasonal candidates. Which parts earn their cost: ablations.md section 23.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from torch import nn

from models.network import CELLS, recurrent_stack, to_patches
from models.priors import DEFAULT_PRIORS, FIRST_PRIORS, PRIORS, candidate_forecasts, candidate_names
from models.window import NormalisedWindow

# the initial mix's sharpness: a candidate with half another's in-context error weighs 2^10 as much
SELECTION_TEMPERATURE = 0.1
# in-context errors are read as log(error + ERROR_FLOOR): a perfect fit is not infinitely better
ERROR_FLOOR = 1e-3
# intervals scale with the spread, which is at least this share of the window's mean absolute step
MIN_SPREAD = 0.05
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
    # a recurrent encoder reads the window and adds to the mix; without it the mix depends only
    # on the season and the candidates' in-context errors (ablations.md section 23: at the same
    # pretraining budget the encoder gained 0.007 in MASE ratio, under the 0.01 its cost needs)
    recurrent: bool = False
    # each candidate's mean one-step error over this many of the window's latest values is a
    # mixer input (0: none; at most context_length - 3 count: an origin needs three values before it)
    backtest_origins: int = 12
    # the classical priors it mixes (models.priors), each on the plain and the log scale (Holt-Winters
    # on the log scale only); the shipped long-season network also mixes the autoregression
    # (ablations.md section 29)
    priors: tuple[str, ...] = DEFAULT_PRIORS
    # the mixing logits of forecast steps 2 and later are multiplied by this: below 1 a softer
    # mix (a combination) where the in-context one-step errors choose less surely. Set after
    # pretraining (`make pretrain`), not learned; 1 in bases saved before it existed
    # (ablations.md sections 45-46)
    later_step_sharpness: float = 1.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.priors) - set(PRIORS))
        if unknown or not self.priors:
            raise ValueError(f"priors must be some of {PRIORS}, got {tuple(self.priors)!r}")
        # in PRIORS' order, the order models.priors computes them in
        self.priors = tuple(name for name in PRIORS if name in self.priors)
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        for name in ("context_length", "horizon", "hidden_size", "num_layers", "patch_length", "max_season"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.later_step_sharpness > 0:
            raise ValueError(f"later_step_sharpness must be > 0, got {self.later_step_sharpness}")
        if self.backtest_origins < 0:
            raise ValueError(f"backtest_origins must be >= 0, got {self.backtest_origins}")
        if self.context_length % self.patch_length:
            raise ValueError(
                f"context_length {self.context_length} is not a multiple of patch_length {self.patch_length}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def candidates(self) -> tuple[str, ...]:
        return candidate_names(self.priors)

    @property
    def window_settings(self) -> tuple:
        """What a window's candidates depend on besides the priors: networks that agree on it
        read the same candidate for a prior they share."""
        return (self.context_length, self.horizon, self.backtest_origins)

    @property
    def candidate_settings(self) -> tuple:
        """What the candidates a network mixes depend on: networks that agree on it read the
        same candidates of a window (`BaseNetwork.candidates`)."""
        return (*self.window_settings, self.priors)

    @property
    def encoder_cell(self) -> str | None:
        """The recurrent encoder's cell; None for a network without one."""
        return self.cell if self.recurrent else None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> BaseConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown base network settings {sorted(unknown)}")
        # a config without the list was saved before it was one: it mixes the first eight priors
        return cls(**{"priors": FIRST_PRIORS, **values})


class BaseNetwork(nn.Module):
    """Normalised window -> normalised forecast [B, H]: a per-step mix of the priors plus a correction."""

    def __init__(self, config: BaseConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = (
            recurrent_stack(
                config.cell,
                2 * config.patch_length,
                config.hidden_size,
                config.num_layers,
                config.dropout,
                False,
            )
            if config.recurrent
            else None
        )
        self.dropout = nn.Dropout(config.dropout)
        candidates = len(config.candidates)
        features = (candidates + 1 if config.backtest_origins else 0) + 2
        features += config.hidden_size if config.recurrent else 0
        self.mixer = nn.Linear(features, config.horizon * candidates)
        self.correction = nn.Linear(features, config.horizon)
        for head in (self.mixer, self.correction):
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
        if config.backtest_origins:
            # start from selection by in-context error: every step's weights are
            # softmax(-log(error) / SELECTION_TEMPERATURE), what AutoETS-style model choice does
            with torch.no_grad():
                view = self.mixer.weight.view(config.horizon, candidates, features)
                view[:, range(candidates), range(candidates)] = -1.0 / SELECTION_TEMPERATURE

    def forward(self, window: NormalisedWindow) -> torch.Tensor:
        return self.forecast_and_spread(window)[0]

    def candidates(self, window: NormalisedWindow) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The window's candidate forecasts [B, H, K] and their in-context errors [B, K] (None
        without backtest origins): what the network mixes."""
        config = self.config
        return candidate_forecasts(window, config.horizon, config.backtest_origins, config.priors)

    def forecast_and_spread(
        self, window: NormalisedWindow, candidates: tuple[torch.Tensor, torch.Tensor | None] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The normalised forecast [B, H] and the window's spread [B, 1]: the in-context
        one-step error of the first step's mix (what ETS's sigma is to its intervals), at least
        MIN_SPREAD; 1 (the window's mean absolute step) where there is no in-context error.
        `candidates`: the window's `candidates`, when already computed (by a network with the
        same `candidate_settings`)."""
        config = self.config
        season = window.season.to(window.z.dtype).clamp_max(config.max_season)[:, None]
        # whether the window has a season, and its length on a log scale from 1 to max_season
        season_features = torch.cat(
            [(season > 1).to(season.dtype), season.log() / np.log(max(config.max_season, 2))], dim=1
        )
        priors, errors = candidates if candidates is not None else self.candidates(window)
        parts = []
        if errors is not None:
            has_errors = (errors.sum(dim=1, keepdim=True) > 0).to(errors.dtype)
            parts += [torch.log(errors + ERROR_FLOOR), has_errors]
        parts.append(season_features)
        if config.recurrent:
            patches = torch.cat(
                [to_patches(window.z, config.patch_length), to_patches(window.observed, config.patch_length)],
                dim=2,
            )
            encoded, _ = self.encoder(patches)
            parts.append(self.dropout(encoded[:, -1]))
        features = torch.cat(parts, dim=1)
        logits = self.mixer(features).view(-1, config.horizon, len(config.candidates))
        if config.later_step_sharpness != 1.0:
            logits = torch.cat([logits[:, :1], logits[:, 1:] * config.later_step_sharpness], dim=1)
        weights = logits.softmax(dim=2)
        forecast = (weights * priors).sum(dim=2) + self.correction(features)
        if errors is None:
            return forecast, torch.ones_like(forecast[:, :1])
        spread = (weights[:, 0] * errors).sum(dim=1, keepdim=True).clamp_min(MIN_SPREAD)
        return forecast, torch.where(has_errors > 0, spread, 1.0)

    def parameter_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.parameters())
