"""LSTM variants that `nn.LSTM` does not offer: peephole connections and coupled gates.

The gate equations live once, in `lstm_step`; `GatedLSTMCell` holds one layer-direction's
weights and `GatedLSTM` stacks cells over layers and directions with the `nn.LSTM`
calling convention, so the rest of `models/` treats every cell the same way.

With x̃_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh split into gate blocks (order i, f, g, o
as in `nn.LSTM`; without the i block when coupled) and ⊙ the elementwise product:

    i_t = σ(x̃_i + p_i ⊙ c_{t-1})     (cifg: i_t = 1 - f_t = σ(-(x̃_f + p_f ⊙ c_{t-1})))
    f_t = σ(x̃_f + p_f ⊙ c_{t-1})
    g_t = tanh(x̃_g)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    o_t = σ(x̃_o + p_o ⊙ c_t)
    h_t = o_t ⊙ tanh(c_t)

peephole (Gers & Schmidhuber, 2000): the diagonal weights p_i, p_f, p_o let the input and
forget gates see c_{t-1} and the output gate see c_t; without them (p = 0, or the cifg
variant, which has none) the equations are those of `nn.LSTM`.
cifg (coupled input-forget gate): i_t = 1 - f_t, so the cell writes only where it forgets.

Speed: the input half of x̃_t does not depend on the recurrence, so `GatedLSTM` computes
it for the whole sequence in one matrix product per layer and direction, and the loop over
time (`run_direction`: the h_{t-1} product and the gate arithmetic) runs as TorchScript,
which removes most of the per-op Python overhead that dominates at these sizes. Scripting
takes some 30 ms at import; torch.compile was several times faster per call once compiled
but took minutes to compile. Figures: `benchmarks/cells.py`, `benchmarks/results/cells.md`.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import torch
from torch import nn

VARIANTS = ("peephole", "cifg")


class GateActivations(NamedTuple):
    """One step's gate activations, each [B, H]; `cell` is c_t and `hidden` is h_t."""

    input: torch.Tensor
    forget: torch.Tensor
    candidate: torch.Tensor
    output: torch.Tensor
    cell: torch.Tensor
    hidden: torch.Tensor


def lstm_step(
    gates: torch.Tensor, c: torch.Tensor, peephole: torch.Tensor | None, coupled: bool
) -> GateActivations:
    """The gate equations: pre-activations x̃_t [B, G*H] and c_{t-1} [B, H] -> activations and c_t, h_t."""
    if coupled:
        f, g, o = gates.chunk(3, dim=-1)
        if peephole is not None:
            f = torch.addcmul(f, peephole[1], c)
        i = -f  # σ(-a) = 1 - σ(a): the coupled input gate
    else:
        i, f, g, o = gates.chunk(4, dim=-1)
        if peephole is not None:
            i = torch.addcmul(i, peephole[0], c)
            f = torch.addcmul(f, peephole[1], c)
    i, f, g = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g)
    c = torch.addcmul(f * c, i, g)
    if peephole is not None:
        o = torch.addcmul(o, peephole[2], c)  # the output gate sees c_t
    o = torch.sigmoid(o)
    return GateActivations(i, f, g, o, c, o * torch.tanh(c))


def run_direction(
    projected: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    weight_hh: torch.Tensor,
    peephole: torch.Tensor | None,
    coupled: bool,
    reverse: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """projected [B, T, G*H] (input part of x̃ for every step) -> (h_t for all t [B, T, H], h_T, c_T)."""
    steps = projected.unbind(1)  # unbind, not indexing: one gradient stack instead of one per step
    length = len(steps)
    outputs = [h] * length
    for k in range(length):
        t = length - 1 - k if reverse else k
        step = lstm_step(torch.addmm(steps[t], h, weight_hh.T), c, peephole, coupled)
        h, c = step.hidden, step.cell
        outputs[t] = h
    return torch.stack(outputs, dim=1), h, c


with warnings.catch_warnings():
    # torch.jit is deprecated in favour of torch.compile, whose compile time is too long here
    warnings.simplefilter("ignore", DeprecationWarning)
    run_direction_scripted = torch.jit.script(run_direction)


class GatedLSTMCell(nn.Module):
    """One layer-direction's weights. Layout follows `nn.LSTM` (gate order i, f, g, o; without i when coupled)."""

    def __init__(self, input_size: int, hidden_size: int, peephole: bool, coupled: bool) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.coupled = coupled
        gates = 3 if coupled else 4
        self.weight_ih = nn.Parameter(torch.empty(gates * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gates * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(gates * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(gates * hidden_size))
        # diagonal peephole weights p_i, p_f, p_o (rows); zero at start: the cell begins as a plain LSTM
        self.peephole = nn.Parameter(torch.zeros(3, hidden_size)) if peephole else None
        bound = 1.0 / math.sqrt(hidden_size)
        for weight in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            nn.init.uniform_(weight, -bound, bound)

    def input_projection(self, x: torch.Tensor) -> torch.Tensor:
        """x [..., input] -> W_ih x + b_ih + b_hh [..., G*H]; for a whole sequence in one product."""
        return nn.functional.linear(x, self.weight_ih, self.bias_ih + self.bias_hh)

    def gate_activations(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> GateActivations:
        """One step: x [B, input], (h_{t-1}, c_{t-1}) each [B, H] -> every gate's activation, c_t and h_t."""
        h, c = state
        return lstm_step(
            torch.addmm(self.input_projection(x), h, self.weight_hh.T), c, self.peephole, self.coupled
        )

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: x [B, input], (h_{t-1}, c_{t-1}) -> (h_t, c_t)."""
        step = self.gate_activations(x, state)
        return step.hidden, step.cell


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
        # run the time loop as TorchScript (False: the plain Python `run_direction`, same results)
        self.scripted = True
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
        if state is None:
            zeros = x.new_zeros(self.num_layers * self.directions, x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        h0, c0 = state
        final_h, final_c = [], []
        layer_input = x
        for layer in range(self.num_layers):
            if layer > 0:  # like nn.LSTM: dropout between layers, not after the last
                layer_input = self.dropout(layer_input)
            outputs = []
            for direction in range(self.directions):
                index = layer * self.directions + direction
                cell = self.cells[index]
                run = run_direction_scripted if self.scripted else run_direction
                out, h, c = run(
                    cell.input_projection(layer_input),
                    h0[index],
                    c0[index],
                    cell.weight_hh,
                    cell.peephole,
                    cell.coupled,
                    reverse=direction == 1,
                )
                outputs.append(out)
                final_h.append(h)
                final_c.append(c)
            layer_input = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
        return layer_input, (torch.stack(final_h), torch.stack(final_c))
