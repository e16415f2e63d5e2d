"""The ridge initialisation of the linear skip: priors, robust fits, the CV that picks the
penalties, and its one-Gram-matrix shortcut."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models.scaling import WindowScaler
from training import ridge
from training.ridge import FoldGram, RidgeChoice, prior_map, ridge_fit, select_ridge


@pytest.mark.parametrize(("prior", "column"), [("level", None), ("naive", -1)])
def test_a_heavily_penalised_ridge_is_its_prior_forecast(prior, column):
    generator = torch.Generator().manual_seed(0)
    z, target = torch.randn(200, 8, generator=generator), torch.randn(200, 3, generator=generator)
    weight, bias = ridge_fit(z, target, RidgeChoice(alpha=1e9, penalise_bias=True, prior=prior))
    expected = torch.zeros(3, 8)
    if column is not None:
        expected[:, column] = 1.0
    assert torch.allclose(weight, expected, atol=1e-5) and torch.allclose(bias, torch.zeros(3), atol=1e-5)


def test_the_robust_ridge_ignores_outlying_windows_that_pull_least_squares():
    """5 % of the windows carry a large shift (a holiday, a level break): least squares moves
    every weight and the bias towards them, the reweighted fit recovers the clean map."""
    generator = torch.Generator().manual_seed(3)
    z = torch.randn(400, 6, generator=generator)
    true_weight = torch.randn(3, 6, generator=generator)
    target = z @ true_weight.T + 0.1 * torch.randn(400, 3, generator=generator)
    target[::20] += 40.0 + 10 * z[::20, :1]
    choice = RidgeChoice(alpha=1e-6, penalise_bias=False, prior="level")
    least_squares = ridge_fit(z, target, choice)
    robust = ridge_fit(z, target, choice, reweightings=3)
    assert (least_squares[1] - 2.0).abs().max() < 0.5  # the bias absorbs the shift: 5 % of 40
    assert (least_squares[0] - true_weight).abs().max() > 0.3
    assert (robust[0] - true_weight).abs().max() < 0.05 and robust[1].abs().max() < 0.05
    # no outliers: the reweighted fit is the least-squares one, up to noise
    clean = z @ true_weight.T + 0.1 * torch.randn(400, 3, generator=generator)
    assert torch.allclose(
        ridge_fit(z, clean, choice, reweightings=3)[0], ridge_fit(z, clean, choice)[0], atol=0.02
    )


def test_ridge_cv_blends_one_ridge_per_prior_and_tracks_a_random_walk():
    generator = torch.Generator().manual_seed(1)
    walk = torch.cumsum(torch.randn(600, generator=generator), 0)
    windows = walk.unfold(0, 13, 1)
    z, target = windows[:, :8], windows[:, 8:]
    level = z[:, -4:].mean(dim=1, keepdim=True)
    z, target = z - level, target - level
    folds = [
        ((z[:300], target[:300]), (z[300:450], target[300:450])),
        ((z[:150], target[:150]), (z[150:300], target[150:300])),
    ]
    skip = select_ridge(folds)
    # no profile in the input: level and naive, each on the whole context and its latest half
    assert [(member.prior, member.recent) for member in skip.members] == [
        ("level", 0), ("level", 4), ("naive", 0), ("naive", 4),
    ]  # fmt: skip
    # the naive members are "repeat the last value"; the blend is a damped version of it
    for member in skip.members[2:]:
        assert torch.allclose(ridge_fit(z, target, member)[0][:, -1], torch.ones(5), atol=0.05)
    weight, _ = skip.fit(z, target)
    assert torch.allclose(weight[:, -1], torch.ones(5), atol=0.2)
    assert weight[:, :-1].abs().max() < 0.2
    # with a seasonal profile (the first 4 values) the level priors follow the trend
    assert [member.prior for member in select_ridge(folds, profile_length=4).members] == [
        "trend", "naive", "profile_trend",
    ]  # fmt: skip


@pytest.mark.parametrize(("context", "amplitude"), [(24, 10.0), (36, 10.0), (8, 0.0)])
def test_the_trend_prior_continues_a_trending_season_from_the_last_value(monkeypatch, context, amplitude):
    """On a noiseless line plus season, the profile rebuilds both and the slope from the
    profile's season to the context's last one is the line's: undamped, the profile-trend prior
    is the exact continuation (season placed at the right phase, level brought to the present);
    damped, it lies between that and the same forecast with no trend beyond the last value.
    A context shorter than the season (a short weekly series) has a level over part of a
    season, which is no deseasonalised level: there only the line is exact."""
    m, horizon = 12, 12
    t = np.arange(300, dtype=np.float64)
    values = 100 + 0.5 * t + amplitude * np.sin(2 * np.pi * t / m)
    scaler = WindowScaler.fit(values[:200], m, "none", profile_seasons=20)
    end = 280
    history = torch.tensor(values[None, :end], dtype=torch.float64)
    z, level, scale = scaler.encode(history, context)

    def forecast(prior: str) -> np.ndarray:
        weight = prior_map(prior, m + context, horizon, profile_length=m)
        return scaler.decode(z @ weight.T, level, scale)[0].numpy()

    actual = values[end : end + horizon]
    monkeypatch.setattr(ridge, "TREND_DAMPING", 1.0)
    np.testing.assert_allclose(forecast("profile_trend"), actual, atol=1e-6)
    monkeypatch.setattr(ridge, "TREND_DAMPING", 0.0)
    np.testing.assert_allclose(forecast("profile_trend"), actual - 0.5 * np.arange(1, horizon + 1), atol=1e-6)
    monkeypatch.undo()
    damped = forecast("profile_trend")
    assert np.all(damped > actual - 0.5 * np.arange(1, horizon + 1)) and np.all(damped[1:] < actual[1:])
    with pytest.raises(ValueError, match="profile"):
        prior_map("trend", context, horizon)


def test_a_recent_context_member_leaves_the_older_values_at_the_prior_and_cv_scores_it_as_a_fit():
    generator = torch.Generator().manual_seed(2)
    z, target = torch.randn(300, 10, generator=generator), torch.randn(300, 4, generator=generator)
    held_out = (torch.randn(50, 10, generator=generator), torch.randn(50, 4, generator=generator))
    for choice in (
        RidgeChoice(0.1, False, "trend", recent=3),
        RidgeChoice(1.0, True, "profile_trend", recent=0),
        RidgeChoice(0.01, True, "naive", recent=5),
    ):
        weight, bias = ridge_fit(z, target, choice, profile_length=2)
        prior = prior_map(choice.prior, 10, 4, profile_length=2).float()
        if choice.recent:
            assert torch.allclose(weight[:, 2 : 10 - choice.recent], prior[:, 2 : 10 - choice.recent])
        # the CV's shortcut through one Gram matrix per fold scores exactly this fit
        expected = float((held_out[0] @ weight.T + bias - held_out[1]).abs().mean())
        loss = FoldGram.of((z, target), held_out).held_out_loss(choice, profile_length=2)
        assert math.isclose(loss, expected, rel_tol=1e-5)
