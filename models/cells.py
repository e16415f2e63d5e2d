"""LSTM variants that `nn.LSTM` does not offer: peephole connections, coupled gates and
xLSTM's sLSTM (exponential gating).

The gate equations live once per family, in `lstm_step` and `slstm_step`; `GatedLSTMCell`
holds one layer-direction's weights and `GatedLSTM` stacks cells over layers and directions
with the `nn.LSTM` calling convention, so the rest of `models/` treats every cell the same way.

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

slstm (Beck et al. 2024, "xLSTM", eqs. 8-17; the form of NX-AI/tirex `slstm/cell.py`): an
exponential input gate, a sigmoid forget gate taken in log space, a normaliser state n_t and
a stabiliser state m_t, with blocks (i, f, z, o):

    m_t = max(log σ(x̃_f) + m_{t-1}, x̃_i)
    i_t = exp(x̃_i - m_t)                 f_t = exp(log σ(x̃_f) + m_{t-1} - m_t)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ tanh(x̃_z)
    n_t = f_t ⊙ n_{t-1} + i_t
    h_t = σ(x̃_o) ⊙ c_t / n_t

c_t and n_t are the unstabilised sums scaled by exp(-m_t), which cancels in c_t / n_t; by
construction max(i_t, f_t) = 1, so nothing overflows and n_t >= 1 from the first step on
(the zero state starts at m_0 = -inf: the first step's stabiliser is x̃_i, i_1 = 1, as in
xLSTM's reference where n_{t-1} = 0). The sigmoid forget gate (TiRex's choice, rather than
the paper's exponential alternative) keeps m_t at most the largest x̃_i seen. The recurrent
matrix may be split into `heads` blocks (memory mixing within a head only, as in xLSTM); the
network uses one head: TiRex's heads are 128 wide (512 / 4), the product's hidden sizes are
64-128, and on CPU a block-diagonal product costs the same as a dense one. The forget-gate
bias starts at 3..6 across units (xLSTM's `small_init`): a remembering cell at the start.

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

LSTM_VARIANTS = ("peephole", "cifg")
VARIANTS = (*LSTM_VARIANTS, "slstm")
# xLSTM's `small_init`: forget-gate biases spread over [3, 6] across the hidden units
SLSTM_FORGET_BIAS = (3.0, 6.0)


class GateActivations(NamedTuple):
    """One LSTM step's gate activations, each [B, H]; `cell` is c_t and `hidden` is h_t."""

    input: torch.Tensor
    forget: torch.Tensor
    candidate: torch.Tensor
    output: torch.Tensor
    cell: torch.Tensor
    hidden: torch.Tensor


class SLSTMActivations(NamedTuple):
    """One sLSTM step, each [B, H]: the stabilised gates i_t, f_t, the candidate z_t, the output
    gate o_t, and the new state c_t, n_t (normaliser), m_t (stabiliser), h_t."""

    input: torch.Tensor
    forget: torch.Tensor
    candidate: torch.Tensor
    output: torch.Tensor
    cell: torch.Tensor
    normaliser: torch.Tensor
    stabiliser: torch.Tensor
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


def slstm_step(gates: torch.Tensor, c: torch.Tensor, n: torch.Tensor, m: torch.Tensor) -> SLSTMActivations:
    """The sLSTM equations: pre-activations x̃_t [B, 4H] and c, n, m at t-1 [B, H] -> step t."""
    i, f, z, o = gates.chunk(4, dim=-1)
    log_f_plus_m = nn.functional.logsigmoid(f) + m
    m = torch.maximum(log_f_plus_m, i)
    # both exponents are <= 0 exactly (m is one of the two terms), so neither gate exceeds 1
    i = torch.exp(i - m)
    f = torch.exp(log_f_plus_m - m)
    z, o = torch.tanh(z), torch.sigmoid(o)
    c = torch.addcmul(f * c, i, z)
    n = torch.addcmul(i, f, n)
    return SLSTMActivations(i, f, z, o, c, n, m, o * c / n)


def run_direction(
    projected: torch.Tensor,
    state: list[torch.Tensor],
    weight_hh: torch.Tensor,
    peephole: torch.Tensor | None,
    variant: str,
    reverse: bool,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """projected [B, T, G*H] (input part of x̃ for every step), the state at the start, h first
    ([h, c], or [h, c, n, m] for slstm, each [B, H]) -> (h_t for all t [B, T, H], final state)."""
    steps = projected.unbind(1)  # unbind, not indexing: one gradient stack instead of one per step
    length = len(steps)
    outputs = [state[0]] * length
    slstm, coupled = variant == "slstm", variant == "cifg"
    for k in range(length):
        t = length - 1 - k if reverse else k
        gates = torch.addmm(steps[t], state[0], weight_hh.T)
        if slstm:
            exponential = slstm_step(gates, state[1], state[2], state[3])
            state = [exponential.hidden, exponential.cell, exponential.normaliser, exponential.stabiliser]
        else:
            sigmoid = lstm_step(gates, state[1], peephole, coupled)
            state = [sigmoid.hidden, sigmoid.cell]
        outputs[t] = state[0]
    return torch.stack(outputs, dim=1), state


with warnings.catch_warnings():
    # torch.jit is deprecated in favour of torch.compile, whose compile time is too long here
    warnings.simplefilter("ignore", DeprecationWarning)
    run_direction_scripted = torch.jit.script(run_direction)


def state_size(variant: str) -> int:
    """Tensors in a layer-direction's state: (h, c), or (h, c, n, m) for slstm."""
    return 4 if variant == "slstm" else 2


class GatedLSTMCell(nn.Module):
    """One layer-direction's weights. Layout follows `nn.LSTM` (gate order i, f, g, o; without i
    when coupled; i, f, z, o for slstm, whose `weight_hh` holds only each head's own columns)."""

    def __init__(self, input_size: int, hidden_size: int, variant: str, heads: int = 1) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        if heads < 1 or hidden_size % heads or (heads > 1 and variant != "slstm"):
            raise ValueError(f"heads must divide hidden_size {hidden_size} (slstm only), got {heads}")
        self.hidden_size = hidden_size
        self.variant = variant
        self.heads = heads
        gates = 3 if variant == "cifg" else 4
        self.weight_ih = nn.Parameter(torch.empty(gates * hidden_size, input_size))
        # head k's rows of each gate block read only h's k-th slice of hidden_size / heads units
        self.weight_hh = nn.Parameter(torch.empty(gates * hidden_size, hidden_size // heads))
        self.bias_ih = nn.Parameter(torch.empty(gates * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(gates * hidden_size))
        # diagonal peephole weights p_i, p_f, p_o (rows); zero at start: the cell begins as a plain LSTM
        self.peephole = nn.Parameter(torch.zeros(3, hidden_size)) if variant == "peephole" else None
        bound = 1.0 / math.sqrt(hidden_size)
        for weight in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            nn.init.uniform_(weight, -bound, bound)
        if variant == "slstm":
            with torch.no_grad():
                forget = slice(hidden_size, 2 * hidden_size)
                self.bias_ih[forget] = torch.linspace(*SLSTM_FORGET_BIAS, hidden_size)
                self.bias_hh[forget] = 0.0
        if heads > 1:
            width = hidden_size // heads
            head_of_row = torch.arange(gates * hidden_size) % hidden_size // width
            head_of_column = torch.arange(hidden_size) // width
            self.register_buffer(
                "head_mask", (head_of_row[:, None] == head_of_column).float(), persistent=False
            )

    def recurrent_weight(self) -> torch.Tensor:
        """W_hh as a dense [G*H, H] matrix (block-diagonal per gate when there are several heads)."""
        if self.heads == 1:
            return self.weight_hh
        return self.weight_hh.repeat(1, self.heads) * self.head_mask

    def input_projection(self, x: torch.Tensor) -> torch.Tensor:
        """x [..., input] -> W_ih x + b_ih + b_hh [..., G*H]; for a whole sequence in one product."""
        return nn.functional.linear(x, self.weight_ih, self.bias_ih + self.bias_hh)

    def gate_activations(
        self, x: torch.Tensor, state: tuple[torch.Tensor, ...]
    ) -> GateActivations | SLSTMActivations:
        """One step: x [B, input] and the state at t-1 ((h, c) or (h, c, n, m), each [B, H]) ->
        every gate's activation and the new state."""
        gates = torch.addmm(self.input_projection(x), state[0], self.recurrent_weight().T)
        if self.variant == "slstm":
            return slstm_step(gates, *state[1:])
        return lstm_step(gates, state[1], self.peephole, self.variant == "cifg")

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """One step: x [B, input], the state at t-1 -> the state at t ((h_t, c_t) or (h_t, c_t, n_t, m_t))."""
        step = self.gate_activations(x, state)
        if isinstance(step, SLSTMActivations):
            return step.hidden, step.cell, step.normaliser, step.stabiliser
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
        heads: int = 1,
    ) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        if not batch_first:
            raise ValueError("GatedLSTM is batch-first only")
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.directions = 2 if bidirectional else 1
        self.variant = variant
        self.dropout = nn.Dropout(dropout)
        # run the time loop as TorchScript (False: the plain Python `run_direction`, same results)
        self.scripted = True
        self.cells = nn.ModuleList(
            GatedLSTMCell(
                input_size if layer == 0 else hidden_size * self.directions, hidden_size, variant, heads
            )
            for layer in range(num_layers)
            for _ in range(self.directions)
        )

    def initial_state(self, batch: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The zero state, each [layers * dirs, B, H]; an sLSTM's stabiliser starts at -inf."""
        zeros = like.new_zeros(self.num_layers * self.directions, batch, self.hidden_size)
        if self.variant == "slstm":
            return zeros, zeros, zeros, torch.full_like(zeros, -math.inf)
        return zeros, zeros

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """x [B, T, input] -> (out [B, T, dirs * H], final state), the state being (h, c), or
        (h, c, n, m) for slstm, each [layers * dirs, B, H]. A given sLSTM state needs n > 0
        (or m = -inf where n = 0, as in `initial_state`)."""
        if state is None:
            state = self.initial_state(x.shape[0], x)
        elif len(state) != state_size(self.variant):
            raise ValueError(
                f"a {self.variant} state has {state_size(self.variant)} tensors, got {len(state)}"
            )
        finals: list[list[torch.Tensor]] = [[] for _ in state]
        layer_input = x
        for layer in range(self.num_layers):
            if layer > 0:  # like nn.LSTM: dropout between layers, not after the last
                layer_input = self.dropout(layer_input)
            outputs = []
            for direction in range(self.directions):
                index = layer * self.directions + direction
                cell = self.cells[index]
                run = run_direction_scripted if self.scripted else run_direction
                out, final = run(
                    cell.input_projection(layer_input),
                    [part[index] for part in state],
                    cell.recurrent_weight(),
                    cell.peephole,
                    self.variant,
                    reverse=direction == 1,
                )
                outputs.append(out)
                for kept, part in zip(finals, final, strict=True):
                    kept.append(part)
            layer_input = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
        return layer_input, tuple(torch.stack(parts) for parts in finals)
