"""LSTM variants that `nn.LSTM` does not offer: peephole connections and coupled gates.

`GatedLSTMCell` holds the gate equations once; `GatedLSTM` stacks cells over layers and
directions with the `nn.LSTM` calling convention, so the rest of `models/` treats every
cell the same way.

peephole (Gers & Schmidhuber, 2000): the input and forget gates also see c_{t-1} and the
output gate sees c_t, each through a diagonal weight vector.
cifg (coupled input-forget gate): i_t = 1 - f_t, so the cell writes only where it forgets.
"""

from __future__ import annotations

import math

import torch
from torch import nn

VARIANTS = ("peephole", "cifg")


class GatedLSTMCell(nn.Module):
    """One time step. Weight layout follows `nn.LSTM` (gate order i, f, g, o; without i when coupled)."""

    def __init__(self, input_size: int, hidden_size: int, peephole: bool, coupled: bool) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.coupled = coupled
        gates = 3 if coupled else 4
        self.weight_ih = nn.Parameter(torch.empty(gates * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gates * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(gates * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(gates * hidden_size))
        # diagonal peephole weights for the input, forget and output gates
        self.peephole = nn.Parameter(torch.zeros(3, hidden_size)) if peephole else None
        bound = 1.0 / math.sqrt(hidden_size)
        for weight in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            nn.init.uniform_(weight, -bound, bound)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        gates = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        if self.coupled:
            f, g, o = gates.chunk(3, dim=-1)
            i = None
        else:
            i, f, g, o = gates.chunk(4, dim=-1)
        if self.peephole is not None:
            f = f + self.peephole[1] * c
            if i is not None:
                i = i + self.peephole[0] * c
        f = torch.sigmoid(f)
        i = 1.0 - f if i is None else torch.sigmoid(i)
        c = f * c + i * torch.tanh(g)
        if self.peephole is not None:
            o = o + self.peephole[2] * c
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class GatedLSTM(nn.Module):
    """Stacked (optionally bidirectional) `GatedLSTMCell`s; batch-first like `nn.LSTM`."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        batch_first: bool = True,
        variant: str = "peephole",
    ) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        if not batch_first:
            raise ValueError("GatedLSTM is batch-first only")
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.directions = 2 if bidirectional else 1
        self.dropout = nn.Dropout(dropout)
        self.cells = nn.ModuleList(
            GatedLSTMCell(
                input_size if layer == 0 else hidden_size * self.directions,
                hidden_size,
                peephole=variant == "peephole",
                coupled=variant == "cifg",
            )
            for layer in range(num_layers)
            for _ in range(self.directions)
        )

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """x [B, T, input] -> (out [B, T, dirs * H], (h_n, c_n) each [layers * dirs, B, H])."""
        batch = x.shape[0]
        if state is None:
            zeros = x.new_zeros(self.num_layers * self.directions, batch, self.hidden_size)
            state = (zeros, zeros)
        h0, c0 = state
        final_h, final_c = [], []
        layer_input = x
        for layer in range(self.num_layers):
            if layer > 0:
                layer_input = self.dropout(layer_input)
            outputs = []
            for direction in range(self.directions):
                index = layer * self.directions + direction
                steps = range(x.shape[1]) if direction == 0 else range(x.shape[1] - 1, -1, -1)
                h, c = h0[index], c0[index]
                sequence = [torch.empty(0)] * x.shape[1]
                for t in steps:
                    h, c = self.cells[index](layer_input[:, t], (h, c))
                    sequence[t] = h
                outputs.append(torch.stack(sequence, dim=1))
                final_h.append(h)
                final_c.append(c)
            layer_input = torch.cat(outputs, dim=-1)
        return layer_input, (torch.stack(final_h), torch.stack(final_c))
