"""The LSTM variants of models/cells.py: equations, gradients, and their place in the network."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models.artifact import ForecasterArtifact
from models.calibration import Calibration
from models.cells import VARIANTS, GatedLSTM, GatedLSTMCell
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
@pytest.mark.parametrize("variant", VARIANTS)
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
    cell = GatedLSTMCell(INPUT, HIDDEN, peephole=False, coupled=True)
    assert cell.weight_ih.shape == (3 * HIDDEN, INPUT)  # gates f, g, o: no input-gate weights
    gates = cell.gate_activations(
        torch.randn(BATCH, INPUT), (torch.randn(BATCH, HIDDEN), torch.randn(BATCH, HIDDEN))
    )
    torch.testing.assert_close(gates.input, 1.0 - gates.forget)


def test_peephole_gates_follow_the_equations() -> None:
    """Nonzero peepholes, computed by hand from the weights: i, f see c_{t-1}; o sees c_t."""
    torch.manual_seed(2)
    cell = GatedLSTMCell(INPUT, HIDDEN, peephole=True, coupled=False)
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
@pytest.mark.parametrize("variant", VARIANTS)
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
