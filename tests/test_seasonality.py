"""Season detection for histories sent without a season (the shipped base's requests)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.seasonality import detect_season, detect_seasons


def seasonal(period: int, length: int, seed: int, noise: float = 0.3) -> list[float]:
    rng = np.random.default_rng(seed)
    steps = np.arange(length)
    return list(10.0 + 0.02 * steps + np.sin(2 * np.pi * steps / period) + rng.normal(0.0, noise, length))


@pytest.mark.parametrize("period", [4, 7, 12, 24])
def test_a_clear_season_is_found(period: int) -> None:
    assert detect_season(seasonal(period, 12 * period, seed=period, noise=0.05)) == period


def test_noise_trends_and_short_histories_have_no_season() -> None:
    rng = np.random.default_rng(0)
    assert detect_season(list(rng.normal(size=300))) == 1
    assert detect_season(list(np.arange(100.0))) == 1  # a line: every difference is equal
    assert detect_season(list(np.full(50, 3.0))) == 1
    # two and a half cycles are too few to tell a season of 12 from chance
    assert detect_season(seasonal(12, 30, seed=1, noise=0.0)) == 1
    assert detect_season([1.0, 2.0]) == 1 and detect_season([]) == 1
    assert detect_season([1.0, float("nan"), *seasonal(4, 40, seed=2)]) == 1


def _persistent_steps(phi: float, length: int, seed: int, period: int = 0) -> list[float]:
    """A walk whose steps are an AR(1) with coefficient `phi` (R's WWWusage, BJsales), with a
    season of `period` added when given."""
    rng = np.random.default_rng(seed)
    steps = np.zeros(length)
    for t in range(1, length):
        steps[t] = phi * steps[t - 1] + rng.normal()
    season = np.sin(2 * np.pi * np.arange(length) / period) * 3.0 if period else 0.0
    return list(100.0 + np.cumsum(steps) + season)


def test_steps_that_move_together_are_not_a_season() -> None:
    """An AR(1) of the steps correlates at every short lag (0.8^4 = 0.41 at lag 4): discounting
    what the lag-1 autocorrelation implies keeps it from passing as a season of 4 (without the
    discount 85 of these 100 passed), while a season on top of such steps is still found (96)."""
    walks = [_persistent_steps(0.8, 150, seed) for seed in range(100)]
    assert sum(season > 1 for season in detect_seasons(walks)) <= 10
    seasonal_walks = [_persistent_steps(0.5, 150, seed, period=12) for seed in range(100)]
    assert detect_seasons(seasonal_walks).count(12) >= 90


def test_a_period_is_not_mistaken_for_its_multiples() -> None:
    """Monthly data correlate at lags 24 and 48 about as much as at 12: 12 must win."""
    found = detect_seasons([seasonal(12, 200, seed) for seed in range(300)])
    assert found.count(12) >= 0.98 * len(found)


def test_a_batch_gives_what_each_history_gives_alone() -> None:
    histories = [seasonal(12, 200, 1), seasonal(7, 60, 2), list(np.arange(10.0)), seasonal(4, 13, 3)]
    assert detect_seasons(histories) == [detect_season(history) for history in histories]
    assert detect_seasons([]) == []


def test_a_nan_left_padded_batch_reads_as_its_histories() -> None:
    """Leading NaN of a padded row are padding; a NaN after a row's first value is a gap."""
    histories = [seasonal(12, 200, 1), seasonal(7, 60, 2), seasonal(4, 40, 3), list(np.arange(10.0))]
    batch = torch.full((len(histories), 200), torch.nan, dtype=torch.float64)
    for row, history in zip(batch, histories, strict=True):
        row[200 - len(history) :] = torch.tensor(history)
    assert detect_seasons(batch) == detect_seasons(histories) == [12, 7, 4, 1]
    batch[1, 170] = torch.nan
    assert detect_seasons(batch.numpy()) == [12, 1, 4, 1]
