"""The LSTM variants of models/cells.py (peephole, cifg, slstm): equations, stability, gradients,
speed-independent behaviour, and their place in the network."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models.artifact import ForecasterArtifact
from models.calibration import Calibration
from models.cells import LSTM_VARIANTS, VARIANTS, GatedLSTM, GatedLSTMCell
from models.network import CELLS, HEADS, Forecaster, ForecasterConfig
from models.scaling import WindowScaler

INPUT, HIDDEN, LAYERS, BATCH, STEPS = 3, 5, 2, 4, 7


def lstm_with_weights_of(gated: GatedLSTM, bidirectional: bool, coupled: bool) -> nn.LSTM:
    """An nn.LSTM with the gated stack's weights; a coupled input gate becomes W_i = -W_f (σ(-a) = 1 - σ(a))."""
    lstm = nn.LSTM(INPUT, HIDDEN, LAYERS, batch_first=True, bidirectional=bidirectional)
    directions = 2 if bidirectional else 1
    with torch.no_grad():
        for layer in range(LAYERS):
            for direction in range(directions):
                cell = gated.cells[layer * directions + direction]
                suffix = f"l{layer}" + ("_reverse" if direction else "")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    value = getattr(cell, name)
                    if coupled:
                        forget = value[:HIDDEN]
                        value = torch.cat([-forget, value])
                    getattr(lstm, f"{name}_{suffix}").copy_(value)
    return lstm


def random_state(directions: int, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    shape = (LAYERS * directions, BATCH, HIDDEN)
    return torch.randn(shape, dtype=dtype), torch.randn(shape, dtype=dtype)


@pytest.mark.parametrize("scripted", [True, False], ids=["jit", "python"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("variant", LSTM_VARIANTS)
def test_matches_nn_lstm_without_peepholes(variant: str, bidirectional: bool, scripted: bool) -> None:
    """Peephole weights at zero: exactly an LSTM. cifg: an LSTM whose input gate is -1 x the forget gate's."""
    torch.manual_seed(0)
    gated = GatedLSTM(INPUT, HIDDEN, LAYERS, bidirectional=bidirectional, variant=variant)
    gated.scripted = scripted
    if variant == "peephole":
        assert all(torch.count_nonzero(cell.peephole) == 0 for cell in gated.cells)
    lstm = lstm_with_weights_of(gated, bidirectional, coupled=variant == "cifg")
    x = torch.randn(BATCH, STEPS, INPUT)
    state = random_state(2 if bidirectional else 1)
    for initial in (state, None):
        out, (h_n, c_n) = gated(x, initial)
        expected, (expected_h, expected_c) = lstm(x, initial)
        assert out.shape == expected.shape
        torch.testing.assert_close(out, expected)
        torch.testing.assert_close(h_n, expected_h)
        torch.testing.assert_close(c_n, expected_c)


def test_cifg_input_gate_is_one_minus_forget_gate() -> None:
    torch.manual_seed(1)
    cell = GatedLSTMCell(INPUT, HIDDEN, variant="cifg")
    assert cell.weight_ih.shape == (3 * HIDDEN, INPUT)  # gates f, g, o: no input-gate weights
    gates = cell.gate_activations(
        torch.randn(BATCH, INPUT), (torch.randn(BATCH, HIDDEN), torch.randn(BATCH, HIDDEN))
    )
    torch.testing.assert_close(gates.input, 1.0 - gates.forget)


def test_peephole_gates_follow_the_equations() -> None:
    """Nonzero peepholes, computed by hand from the weights: i, f see c_{t-1}; o sees c_t."""
    torch.manual_seed(2)
    cell = GatedLSTMCell(INPUT, HIDDEN, variant="peephole")
    with torch.no_grad():
        cell.peephole.normal_()
    x, h, c = torch.randn(BATCH, INPUT), torch.randn(BATCH, HIDDEN), torch.randn(BATCH, HIDDEN)
    pre = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    p_i, p_f, p_o = cell.peephole.detach()
    i = torch.sigmoid(pre[:, :HIDDEN] + p_i * c)
    f = torch.sigmoid(pre[:, HIDDEN : 2 * HIDDEN] + p_f * c)
    g = torch.tanh(pre[:, 2 * HIDDEN : 3 * HIDDEN])
    c_next = f * c + i * g
    o = torch.sigmoid(pre[:, 3 * HIDDEN :] + p_o * c_next)
    gates = cell.gate_activations(x, (h, c))
    for got, want in zip(gates, (i, f, g, o, c_next, o * torch.tanh(c_next)), strict=True):
        torch.testing.assert_close(got, want)
    h_next, c_out = cell(x, (h, c))
    torch.testing.assert_close(h_next, gates.hidden)
    torch.testing.assert_close(c_out, gates.cell)


@pytest.mark.parametrize("variant", VARIANTS)
def test_scripted_and_python_loops_agree(variant: str) -> None:
    torch.manual_seed(3)
    gated = GatedLSTM(INPUT, HIDDEN, LAYERS, bidirectional=True, variant=variant)
    with torch.no_grad():
        for cell in gated.cells:
            if cell.peephole is not None:
                cell.peephole.normal_()
    x = torch.randn(BATCH, STEPS, INPUT)
    scripted = gated(x)
    gated.scripted = False
    plain = gated(x)
    torch.testing.assert_close(scripted, plain)


@pytest.mark.parametrize("scripted", [True, False], ids=["jit", "python"])
@pytest.mark.parametrize("variant", LSTM_VARIANTS)
def test_gradcheck(variant: str, scripted: bool) -> None:
    """Double precision, peepholes nonzero: the full Jacobian with respect to input and initial
    state, and (fast mode: random projections of it) with respect to every parameter too."""
    torch.manual_seed(4)
    gated = GatedLSTM(2, 2, num_layers=2, bidirectional=True, variant=variant).double()
    gated.scripted = scripted
    with torch.no_grad():
        for cell in gated.cells:
            if cell.peephole is not None:
                cell.peephole.uniform_(-1.0, 1.0)
    names = [name for name, _ in gated.named_parameters()]
    parameters = [value.detach().clone().requires_grad_() for _, value in gated.named_parameters()]
    x = torch.randn(2, 3, 2, dtype=torch.double, requires_grad=True)
    h0, c0 = (torch.randn(4, 2, 2, dtype=torch.double, requires_grad=True) for _ in range(2))

    def run(x, h0, c0, *parameters):
        weights = dict(zip(names, parameters, strict=True))
        out, (h_n, c_n) = torch.func.functional_call(gated, weights, (x, (h0, c0)))
        return out, h_n, c_n

    assert torch.autograd.gradcheck(lambda x, h0, c0: run(x, h0, c0, *parameters), (x, h0, c0))
    assert torch.autograd.gradcheck(run, (x, h0, c0, *parameters), fast_mode=True)


def test_rejects_unknown_variant_and_time_major() -> None:
    with pytest.raises(ValueError, match="variant"):
        GatedLSTM(1, 4, variant="gru")
    with pytest.raises(ValueError, match="batch-first"):
        GatedLSTM(1, 4, batch_first=False)
    with pytest.raises(ValueError, match="heads"):
        GatedLSTM(1, 6, variant="slstm", heads=4)
    with pytest.raises(ValueError, match="heads"):
        GatedLSTM(1, 4, variant="peephole", heads=2)
    with pytest.raises(ValueError, match="4 tensors"):
        GatedLSTM(1, 4, variant="slstm")(torch.randn(2, 3, 1), (torch.zeros(1, 2, 4),) * 2)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("cell", CELLS)
def test_forecaster_shapes_and_artifact_round_trip(
    cell: str, head: str, bidirectional: bool, tmp_path
) -> None:
    torch.manual_seed(5)
    horizon, ensemble, batch = 3, 2, 4
    config = ForecasterConfig(
        context_length=8,
        horizon=horizon,
        cell=cell,
        hidden_size=6,
        num_layers=2,
        bidirectional=bidirectional,
        head=head,
        ensemble_size=ensemble,
    )
    network = Forecaster(config)
    assert network(torch.randn(batch, 8)).shape == (ensemble, batch, horizon)

    artifact = ForecasterArtifact(
        config,
        WindowScaler(log=False, season_length=4, min_scale=1e-3),
        network,
        calibration=Calibration(torch.rand(10, horizon)),
    )
    loaded = ForecasterArtifact.load(artifact.save(tmp_path / "artifact"))
    history = torch.randn(batch, 12).cumsum(dim=1)
    for steps in (horizon, 2 * horizon + 1):  # within the trained horizon and recursively beyond it
        before = artifact.predict(history, steps, levels=(80.0,))
        after = loaded.predict(history, steps, levels=(80.0,))
        assert before.point.shape == (batch, steps)
        assert torch.equal(before.point, after.point)
        for bound_before, bound_after in zip(before.intervals[80.0], after.intervals[80.0], strict=True):
            assert torch.equal(bound_before, bound_after)


def slstm_reference(gated: GatedLSTM, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """sLSTM straight from the unstabilised equations, one head and one step at a time, from the
    zero state: c̄_t = σ(f̃) c̄_{t-1} + exp(ĩ) tanh(z̃), n̄_t = σ(f̃) n̄_{t-1} + exp(ĩ), h_t = σ(õ) c̄_t / n̄_t.
    Returns the stack's output and the final h, c̄, n̄ ([layers * dirs, B, H] each; the cell's
    stabilised c_t and n_t are c̄_t e^{-m_t} and n̄_t e^{-m_t})."""
    hidden = gated.hidden_size
    finals = []
    layer_input = x
    for layer in range(gated.num_layers):
        outputs = []
        for direction in range(gated.directions):
            cell = gated.cells[layer * gated.directions + direction]
            width = hidden // cell.heads
            recurrent = cell.weight_hh.view(4, cell.heads, width, width)  # gate, head, row, column
            batch = x.shape[0]
            h = c_bar = n_bar = x.new_zeros(batch, hidden)
            sequence = [h] * x.shape[1]
            order = range(x.shape[1]) if direction == 0 else reversed(range(x.shape[1]))
            for t in order:
                pre = layer_input[:, t] @ cell.weight_ih.T + cell.bias_ih + cell.bias_hh
                for head in range(cell.heads):
                    own = h[:, head * width : (head + 1) * width]
                    for gate in range(4):
                        rows = slice(gate * hidden + head * width, gate * hidden + (head + 1) * width)
                        pre[:, rows] = pre[:, rows] + own @ recurrent[gate, head].T
                i, f, z, o = pre.split(hidden, dim=1)
                c_bar = torch.sigmoid(f) * c_bar + torch.exp(i) * torch.tanh(z)
                n_bar = torch.sigmoid(f) * n_bar + torch.exp(i)
                h = torch.sigmoid(o) * c_bar / n_bar
                sequence[t] = h
            outputs.append(torch.stack(sequence, dim=1))
            finals.append(torch.stack([h, c_bar, n_bar]))
        layer_input = torch.cat(outputs, dim=-1)
    return layer_input, list(torch.stack(finals, dim=1))


@pytest.mark.parametrize("scripted", [True, False], ids=["jit", "python"])
@pytest.mark.parametrize(
    ("layers", "bidirectional", "heads"), [(1, False, 1), (2, True, 1), (2, False, 2)], ids=str
)
def test_slstm_follows_the_unstabilised_equations(
    layers: int, bidirectional: bool, heads: int, scripted: bool
) -> None:
    """Double precision, a tiny input: the stabilised cell equals the textbook form, and its states
    are the textbook ones scaled by e^{-m_t} (m_t = max(log σ(f̃) + m_{t-1}, ĩ), m_0 = -inf)."""
    torch.manual_seed(6)
    gated = GatedLSTM(INPUT, 4, layers, bidirectional=bidirectional, variant="slstm", heads=heads).double()
    gated.scripted = scripted
    with torch.no_grad():
        for cell in gated.cells:  # a recurrence that matters: larger recurrent weights
            cell.weight_hh.uniform_(-1.0, 1.0)
    x = torch.randn(BATCH, STEPS, INPUT, dtype=torch.double)
    out, (h_n, c_n, n_n, m_n) = gated(x)
    expected, (h_final, c_bar, n_bar) = slstm_reference(gated, x)
    torch.testing.assert_close(out, expected)
    assert out.shape == (BATCH, STEPS, 4 * gated.directions)
    torch.testing.assert_close(h_n, h_final)
    torch.testing.assert_close(c_n, c_bar * torch.exp(-m_n))
    torch.testing.assert_close(n_n, n_bar * torch.exp(-m_n))
    assert (n_n >= 1.0).all()  # max(i_t, f_t) = 1 at every step and n_1 = 1


def test_slstm_cell_gates() -> None:
    """One step by hand from a state with n > 0: stabiliser, stabilised gates, and new state."""
    torch.manual_seed(7)
    cell = GatedLSTMCell(INPUT, HIDDEN, variant="slstm").double()
    x, h, c = (torch.randn(BATCH, size, dtype=torch.double) for size in (INPUT, HIDDEN, HIDDEN))
    n, m = torch.rand(BATCH, HIDDEN, dtype=torch.double) + 1.0, torch.randn(BATCH, HIDDEN, dtype=torch.double)
    pre = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    i_raw, f_raw, z_raw, o_raw = pre.split(HIDDEN, dim=1)
    m_next = torch.maximum(torch.log(torch.sigmoid(f_raw)) + m, i_raw)
    i, f = torch.exp(i_raw - m_next), torch.sigmoid(f_raw) * torch.exp(m - m_next)
    c_next, n_next = f * c + i * torch.tanh(z_raw), f * n + i
    want = (i, f, torch.tanh(z_raw), torch.sigmoid(o_raw), c_next, n_next, m_next)
    step = cell.gate_activations(x, (h, c, n, m))
    for got, expected in zip(step, (*want, torch.sigmoid(o_raw) * c_next / n_next), strict=True):
        torch.testing.assert_close(got, expected)
    assert torch.equal(torch.maximum(step.input, step.forget), torch.ones_like(step.input))
    assert len(cell(x, (h, c, n, m))) == 4


def test_slstm_heads_do_not_mix_memories() -> None:
    """With 2 heads, a head's gates read only its own slice of h_{t-1}."""
    cell = GatedLSTMCell(1, 4, variant="slstm", heads=2)
    weight = cell.recurrent_weight()
    assert cell.weight_hh.shape == (16, 2)
    for gate in range(4):
        block = weight[gate * 4 : (gate + 1) * 4]
        assert torch.count_nonzero(block[:2, 2:]) == 0 and torch.count_nonzero(block[2:, :2]) == 0


def test_slstm_is_stable_over_long_sequences_with_large_pre_activations() -> None:
    """2,000 steps, pre-activations in the hundreds, float32: exp(ĩ) alone would overflow (the
    textbook form gives inf/NaN), the stabilised cell stays finite with |h| <= 1 and n >= 1."""
    torch.manual_seed(8)
    gated = GatedLSTM(1, 8, num_layers=2, variant="slstm")
    with torch.no_grad():
        for cell in gated.cells:
            cell.weight_ih.mul_(200.0)
            cell.weight_hh.mul_(50.0)
    x = 3.0 * torch.randn(2, 2000, 1)
    out, (h_n, c_n, n_n, m_n) = gated(x)
    for value in (out, h_n, c_n, n_n, m_n):
        assert torch.isfinite(value).all()
    assert out.abs().max() <= 1.0 + 1e-6 and (n_n >= 1.0).all()  # |c_t| <= n_t, up to rounding
    assert m_n.abs().max() > 88.0  # exp(88.7) is float32's largest: the stabiliser was needed
    with torch.no_grad():
        naive, _ = slstm_reference(gated, x[:, :50])
    assert not torch.isfinite(naive).all()
    out.sum().backward()
    for parameter in gated.parameters():
        assert torch.isfinite(parameter.grad).all()


@pytest.mark.parametrize("scripted", [True, False], ids=["jit", "python"])
def test_slstm_gradcheck(scripted: bool) -> None:
    """Gradients of the output and of c_T / n_T (the scale-free part of the state) with respect
    to the input, a given initial state and every parameter, 2 layers, both directions."""
    torch.manual_seed(9)
    gated = GatedLSTM(2, 2, num_layers=2, bidirectional=True, variant="slstm").double()
    gated.scripted = scripted
    names = [name for name, _ in gated.named_parameters()]
    parameters = [value.detach().clone().requires_grad_() for _, value in gated.named_parameters()]
    x = torch.randn(2, 3, 2, dtype=torch.double, requires_grad=True)
    h0, c0, m0 = (torch.randn(4, 2, 2, dtype=torch.double, requires_grad=True) for _ in range(3))
    n0 = (torch.rand(4, 2, 2, dtype=torch.double) + 1.0).requires_grad_()

    def run(x, h0, c0, n0, m0, *parameters):
        weights = dict(zip(names, parameters, strict=True))
        out, (h_n, c_n, n_n, _) = torch.func.functional_call(gated, weights, (x, (h0, c0, n0, m0)))
        return out, h_n, c_n / n_n

    assert torch.autograd.gradcheck(lambda *state: run(x, *state, *parameters), (h0, c0, n0, m0))
    assert torch.autograd.gradcheck(run, (x, h0, c0, n0, m0, *parameters), fast_mode=True)


def test_slstm_forecaster_learns_a_sine() -> None:
    """A tiny network with cell="slstm" (no linear skip: the recurrence does all the work)."""
    torch.manual_seed(10)
    context, horizon = 12, 6
    config = ForecasterConfig(
        context_length=context, horizon=horizon, cell="slstm", hidden_size=16, linear_skip=False, dropout=0.0
    )
    network = Forecaster(config)
    wave = torch.sin(torch.arange(150) * 2 * torch.pi / 12 + 0.3 * torch.randn(1))
    windows = wave.unfold(0, context + horizon, 1)
    inputs, targets = windows[:, :context], windows[:, context:]
    optimiser = torch.optim.Adam(network.parameters(), lr=2e-2)

    def loss() -> torch.Tensor:
        return nn.functional.mse_loss(network(inputs).mean(dim=0), targets)

    with torch.no_grad():
        before = float(loss())
    for _ in range(40):
        optimiser.zero_grad()
        value = loss()
        value.backward()
        optimiser.step()
    with torch.no_grad():
        after = float(loss())
    assert after < 0.1 * before, (before, after)
