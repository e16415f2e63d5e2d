"""The forecasting network: every cell x head x direction gives [K, B, H] forecasts."""

from __future__ import annotations

import itertools

import pytest
import torch

from models.network import CELLS, HEADS, Forecaster, ForecasterConfig, FusedEnsemble

K, B, T, H = 2, 3, 10, 4


@pytest.mark.parametrize(
    ("cell", "head", "bidirectional"), list(itertools.product(CELLS, HEADS, (False, True)))
)
def test_every_cell_head_and_direction_gives_k_b_h(cell, head, bidirectional):
    torch.manual_seed(0)
    config = ForecasterConfig(
        context_length=T,
        horizon=H,
        cell=cell,
        head=head,
        bidirectional=bidirectional,
        hidden_size=8,
        num_layers=2,
        ensemble_size=K,
    )
    network = Forecaster(config).eval()
    out = network(torch.randn(B, T))
    assert out.shape == (K, B, H)
    assert torch.isfinite(out).all()
    # trainable end to end
    network.train()
    network(torch.randn(B, T)).sum().backward()
    assert all(p.grad is not None for p in network.parameters() if p.requires_grad)


@pytest.mark.parametrize("linear_skip", [True, False])
@pytest.mark.parametrize("head", HEADS)
def test_rows_of_a_batch_are_independent(head, linear_skip):
    """Serving batches many series into one forward pass: each row's forecast must equal
    the forecast of that series alone."""
    torch.manual_seed(0)
    config = ForecasterConfig(
        context_length=T, horizon=H, cell="gru", head=head, hidden_size=8, linear_skip=linear_skip
    )
    network = Forecaster(config).eval()
    z = torch.randn(5, T)
    with torch.inference_mode():
        batched = network(z)
        single = torch.cat([network(z[i : i + 1]) for i in range(len(z))], dim=1)
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-5)


def test_ensemble_members_differ():
    torch.manual_seed(0)
    config = ForecasterConfig(context_length=T, horizon=H, cell="lstm", hidden_size=8, ensemble_size=3)
    out = Forecaster(config).eval()(torch.randn(B, T))
    assert not torch.allclose(out[0], out[1])


def test_eval_mode_is_deterministic():
    torch.manual_seed(0)
    config = ForecasterConfig(context_length=T, horizon=H, cell="lstm", hidden_size=8, dropout=0.5)
    network = Forecaster(config).eval()
    z = torch.randn(B, T)
    assert torch.equal(network(z), network(z))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cell", "transformer"),
        ("head", "attention"),
        ("horizon", 0),
        ("context_length", 0),
        ("hidden_size", 0),
        ("num_layers", 0),
        ("ensemble_size", 0),
        ("dropout", 1.0),
        ("dropout", -0.1),
    ],
)
def test_invalid_config_is_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        ForecasterConfig(**{"context_length": T, "horizon": H, field: value})


def test_config_round_trips_through_a_dict():
    config = ForecasterConfig(context_length=T, horizon=H, cell="cifg", head="seq2seq", bidirectional=True)
    assert ForecasterConfig.from_dict(config.to_dict()) == config
    # unknown keys (from a newer writer) are ignored
    assert ForecasterConfig.from_dict({**config.to_dict(), "future_option": 1}) == config


@pytest.mark.parametrize(
    ("cell", "num_layers", "bidirectional", "linear_skip", "patch_length", "profile", "profile_in_encoder"),
    [
        *(
            (*case, 0, False)
            for case in itertools.product(("lstm", "gru"), (1, 2), (False, True), (True, False), (1, 3))
        ),
        ("rnn", 2, False, True, 2, 0, False),
        *(
            ("lstm", 2, bidirectional, True, 3, 4, reads)
            for bidirectional in (False, True)
            for reads in (False, True)
        ),
        ("gru", 1, False, False, 1, 4, False),
    ],
)
def test_fused_ensemble_mean_equals_the_member_forward(
    cell, num_layers, bidirectional, linear_skip, patch_length, profile, profile_in_encoder
):
    torch.manual_seed(0)
    config = ForecasterConfig(
        context_length=T,
        horizon=H,
        cell=cell,
        num_layers=num_layers,
        bidirectional=bidirectional,
        linear_skip=linear_skip,
        patch_length=patch_length,
        hidden_size=8,
        ensemble_size=3,
        profile_length=profile,
        profile_in_encoder=profile_in_encoder,
    )
    network = Forecaster(config).eval()
    for parameter in network.parameters():  # heads start at zero: randomise every weight so all count
        torch.nn.init.uniform_(parameter, -0.5, 0.5)
    fused = network.inference_mean()
    assert isinstance(fused, FusedEnsemble)
    for batch in (1, 5):
        z = torch.randn(batch, config.input_length)
        with torch.inference_mode():
            torch.testing.assert_close(fused(z), network(z).mean(dim=0), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("head", HEADS)
def test_the_seasonal_profile_reaches_the_outputs_through_the_linear_skip_only(head):
    """The encoder reads the context; the profile before it only feeds the linear skip
    (artifacts of format 1 keep their encoder reading both, `profile_in_encoder`)."""
    torch.manual_seed(0)
    P = 4
    z = torch.randn(B, P + T)
    other_profile = torch.cat([torch.randn(B, P), z[:, P:]], dim=1)
    for reads in (False, True):
        config = ForecasterConfig(
            context_length=T,
            horizon=H,
            head=head,
            hidden_size=8,
            linear_skip=False,
            profile_length=P,
            profile_in_encoder=reads,
        )
        network = Forecaster(config).eval()
        for parameter in network.parameters():
            torch.nn.init.uniform_(parameter, -0.5, 0.5)
        with torch.inference_mode():
            unchanged = torch.equal(network(z), network(other_profile))
        assert unchanged is not reads


@pytest.mark.parametrize(("cell", "head"), [("lstm", "seq2seq"), ("gru", "seq2seq"), ("peephole", "direct")])
def test_unfused_configs_fall_back_to_the_member_forward(cell, head):
    torch.manual_seed(0)
    config = ForecasterConfig(
        context_length=T, horizon=H, cell=cell, head=head, hidden_size=8, ensemble_size=2
    )
    network = Forecaster(config).eval()
    mean = network.inference_mean()
    assert not isinstance(mean, FusedEnsemble)
    z = torch.randn(B, T)
    with torch.inference_mode():
        assert torch.equal(mean(z), network(z).mean(dim=0))
