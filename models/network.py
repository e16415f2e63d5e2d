"""The forecasting network: a stacked recurrent encoder over the normalised context window,
a head that emits the next H steps, and a linear skip from the whole input (the optional
seasonal profile, then the context) to the same H steps.

Inputs and outputs live in the window-normalised space of `models.scaling`; the artifact
wraps this module with the scaler. A config dataclass holds every architectural choice so
that the artifact can rebuild the network from JSON alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import torch
from torch import nn

from models.cells import GatedLSTM

CELLS = ("lstm", "gru", "rnn", "peephole", "cifg", "slstm")
HEADS = ("direct", "seq2seq")


@dataclass(kw_only=True)
class NetworkSettings:
    """The architecture a user chooses (YAML config, CLI options); declared here only.

    `training.config.TrainConfig` extends it, and the CLI derives its options from these
    fields, so a bad value is refused when the config is built, before any fitting.
    """

    cell: str = "lstm"
    head: str = "direct"
    hidden_size: int = 64
    num_layers: int = 2
    dropout: float = 0.1
    bidirectional: bool = False
    # LSTNet-style linear highway from the context straight to the outputs: the recurrent
    # part then learns a correction to a linear autoregression instead of the whole signal.
    linear_skip: bool = True
    # Members trained side by side from different initialisations; forecasts are averaged.
    ensemble_size: int = 3

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        for name in ("hidden_size", "num_layers", "ensemble_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def network_settings(self) -> dict:
        """This object's `NetworkSettings` fields (of a subclass too) as keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(NetworkSettings)}


@dataclass(kw_only=True)
class ForecasterConfig(NetworkSettings):
    """Everything the artifact needs to rebuild the network: the settings plus what the series fixed."""

    context_length: int
    horizon: int
    # The encoder reads the context in non-overlapping patches of this many steps (one
    # recurrent step per patch, SegRNN-style): a long context costs T / patch_length steps.
    # The oldest T mod patch_length values reach the outputs through the linear skip only.
    patch_length: int = 1
    # Input values before the context: the seasonal profile of `models.scaling` (0 = none).
    # They reach the outputs through the linear skip only: the encoder running over them too
    # was no more accurate and a season longer per forecast (ablations.md, section 13).
    profile_length: int = 0
    # True only for artifacts of format 1, whose encoder read the profile as well.
    profile_in_encoder: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("context_length", "horizon", "patch_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.profile_length < 0:
            raise ValueError(f"profile_length must be >= 0, got {self.profile_length}")
        if self.patch_length > self.context_length:
            raise ValueError(f"patch_length {self.patch_length} exceeds context_length {self.context_length}")

    @property
    def input_length(self) -> int:
        """Length T of the network input: profile, then context."""
        return self.profile_length + self.context_length

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ForecasterConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


RecurrentState = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


def recurrent_stack(
    cell: str, input_size: int, hidden_size: int, num_layers: int, dropout: float, bidirectional: bool
) -> nn.Module:
    """A batch-first stack with the `nn.LSTM` calling convention: (x, state) -> (out, state)."""
    options = dict(
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        dropout=dropout if num_layers > 1 else 0.0,
        bidirectional=bidirectional,
        batch_first=True,
    )
    if cell == "lstm":
        return nn.LSTM(**options)
    if cell == "gru":
        return nn.GRU(**options)
    if cell == "rnn":
        return nn.RNN(**options, nonlinearity="tanh")
    return GatedLSTM(**options, variant=cell)


def to_patches(z: torch.Tensor, patch_length: int) -> torch.Tensor:
    """z [B, T] -> [B, T // patch_length, patch_length]: the newest whole patches, oldest first."""
    steps = z.shape[1] // patch_length
    return z[:, z.shape[1] - steps * patch_length :].reshape(z.shape[0], steps, patch_length)


def encoder_input(z: torch.Tensor, config: ForecasterConfig) -> torch.Tensor:
    """The part of the input z [B, T] the recurrent encoder reads: the context."""
    return z if config.profile_in_encoder else z[:, config.profile_length :]


def _merge_directions(state: torch.Tensor, num_layers: int) -> torch.Tensor:
    """[layers * 2, B, H] -> [layers, B, 2H]: both directions' final states feed the decoder."""
    _, batch, hidden = state.shape
    return state.view(num_layers, 2, batch, hidden).permute(0, 2, 1, 3).reshape(num_layers, batch, 2 * hidden)


class RecurrentNetwork(nn.Module):
    """One ensemble member: encoder + head (+ optional linear skip)."""

    def __init__(self, config: ForecasterConfig) -> None:
        super().__init__()
        self.config = config
        directions = 2 if config.bidirectional else 1
        width = config.hidden_size * directions
        self.encoder = recurrent_stack(
            config.cell,
            config.patch_length,
            config.hidden_size,
            config.num_layers,
            config.dropout,
            config.bidirectional,
        )
        self.dropout = nn.Dropout(config.dropout)
        if config.head == "direct":
            self.head = nn.Linear(width, config.horizon)
        else:
            self.decoder = recurrent_stack(config.cell, 1, width, config.num_layers, config.dropout, False)
            self.head = nn.Linear(width, 1)
        self.skip = nn.Linear(config.input_length, config.horizon) if config.linear_skip else None
        if self.skip is not None:
            # the recurrent part starts as a zero correction on top of the linear skip, which
            # training initialises with a closed-form ridge fit (see `Forecaster.set_linear_skip`)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, T] (T = input_length) -> [B, H]."""
        encoded, state = self.encoder(to_patches(encoder_input(z, self.config), self.config.patch_length))
        if self.config.head == "direct":
            out = self.head(self.dropout(self._last_step(encoded)))
        else:
            out = self._decode(z[:, -1:], state)
        if self.skip is not None:
            out = out + self.skip(z)
        return out

    def _last_step(self, encoded: torch.Tensor) -> torch.Tensor:
        if not self.config.bidirectional:
            return encoded[:, -1]
        hidden = self.config.hidden_size
        # forward direction ends at the last step, the backward one at the first
        return torch.cat([encoded[:, -1, :hidden], encoded[:, 0, hidden:]], dim=-1)

    def _decode(self, last_value: torch.Tensor, state: RecurrentState) -> torch.Tensor:
        if self.config.bidirectional:
            layers = self.config.num_layers
            state = (
                tuple(_merge_directions(s, layers) for s in state)
                if isinstance(state, tuple)
                else _merge_directions(state, layers)
            )
        step_input = last_value.unsqueeze(-1)
        outputs = []
        for _ in range(self.config.horizon):
            decoded, state = self.decoder(step_input, state)
            step_output = self.head(self.dropout(decoded))
            outputs.append(step_output)
            step_input = step_output
        return torch.cat(outputs, dim=1).squeeze(-1)


class Forecaster(nn.Module):
    """An ensemble of `RecurrentNetwork`s; forward returns every member's forecast."""

    def __init__(self, config: ForecasterConfig) -> None:
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(RecurrentNetwork(config) for _ in range(config.ensemble_size))

    @torch.no_grad()
    def set_linear_skip(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Start every member's linear skip at the given map: weight [H, T], bias [H]."""
        for member in self.members:
            if member.skip is None:
                raise ValueError("the network has no linear skip (linear_skip=False)")
            member.skip.weight.copy_(weight)
            member.skip.bias.copy_(bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, T] -> member forecasts [K, B, H]; their mean is the point forecast."""
        return torch.stack([member(z) for member in self.members])

    def inference_mean(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """A function z [B, T] -> ensemble-mean forecast [B, H] for inference (no autograd).

        It is `FusedEnsemble` where that applies and the plain `forward(z).mean(0)`
        otherwise; a fused one snapshots the head weights, so build it after the last
        weight update (the artifact does, at load).
        """
        if FusedEnsemble.supports(self.config):
            return FusedEnsemble(self)
        return lambda z: self(z).mean(dim=0)


class FusedEnsemble:
    """Inference-only ensemble mean of a direct-head `nn.LSTM` / `nn.GRU` / `nn.RNN` Forecaster.

    Serving is dominated by per-call overhead, not arithmetic: at batch 1 the plain forward
    spends about as long in Python module calls, K heads, K skips, a stack and a mean as in
    the K recurrent kernels. Here each member's encoder is one direct call of the recurrent
    kernel (the one `nn.LSTM.forward` ends in, oneDNN on CPU) on its live weights, and the
    mean of every member's head and linear skip collapses, by linearity, into one matrix
    product over [h_1, ..., h_K, z]: `mean_k(W_k h_k + S_k z + b_k) = [h_1..h_K, z] @ W + b`.
    Fusing the K recurrences themselves into one block-diagonal stack was measured slower at
    every batch size (K times the multiply-adds per step), so they stay K kernel calls.
    """

    KERNELS: ClassVar[dict[str, Callable]] = {"lstm": torch.lstm, "gru": torch.gru, "rnn": torch.rnn_tanh}

    @classmethod
    def supports(cls, config: ForecasterConfig) -> bool:
        return config.head == "direct" and config.cell in cls.KERNELS

    @torch.no_grad()
    def __init__(self, network: Forecaster) -> None:
        config = network.config
        if not self.supports(config):
            raise ValueError(f"no fused path for cell {config.cell!r} with head {config.head!r}")
        self.config = config
        self.kernel = self.KERNELS[config.cell]
        self.directions = 2 if config.bidirectional else 1
        members = list(network.members)
        # the kernel's flat weight list, in `nn.RNNBase._flat_weights` order (live parameters, no copy)
        self.weights = [[w for layer in m.encoder.all_weights for w in layer] for m in members]
        k = len(members)
        blocks = [m.head.weight.T for m in members]
        bias = sum(m.head.bias for m in members)
        if config.linear_skip:
            blocks.append(sum(m.skip.weight for m in members).T)
            bias = bias + sum(m.skip.bias for m in members)
        self.weight = (torch.cat(blocks) / k).contiguous()  # [K * width (+ T), H]
        self.bias = bias / k

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, T] -> ensemble-mean forecast [B, H]."""
        config = self.config
        patches = to_patches(encoder_input(z, config), config.patch_length)
        zeros = z.new_zeros(config.num_layers * self.directions, z.shape[0], config.hidden_size)
        state = (zeros, zeros) if config.cell == "lstm" else zeros
        bidirectional = config.bidirectional
        features = []
        for weights in self.weights:
            # (input, hx, weights, has_biases, num_layers, dropout, train, bidirectional, batch_first)
            encoded = self.kernel(
                patches, state, weights, True, config.num_layers, 0.0, False, bidirectional, True
            )[0]
            if bidirectional:  # forward direction ends at the last step, the backward one at the first
                hidden = config.hidden_size
                features += [encoded[:, -1, :hidden], encoded[:, 0, hidden:]]
            else:
                features.append(encoded[:, -1])
        if config.linear_skip:
            features.append(z)
        return torch.addmm(self.bias, torch.cat(features, dim=1), self.weight)
