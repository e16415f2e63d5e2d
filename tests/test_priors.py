"""The base network's classical priors: each continues exactly what it models."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from models import priors as priors_module
from models.priors import (
    CANDIDATES,
    CLOSED_FORM_PRIORS,
    PRIORS,
    autoregression,
    backtest_errors,
    candidate_forecasts,
    candidate_names,
    candidate_priors,
    holt_winters,
    latest_lines,
    prior_forecasts,
)
from models.window import NormalisedWindow, effective_seasons, normalise_window, pad_histories

CONTEXT = 32


def in_units(history: list[np.ndarray], seasons: list[int], horizon: int) -> torch.Tensor:
    """Every prior's forecast in the series' units, [len(PRIORS), B, H]."""
    window = normalise_window(pad_histories(history, CONTEXT), torch.tensor(seasons), CONTEXT)
    return window.decode(prior_forecasts(window, horizon).permute(2, 0, 1))


def test_a_periodic_series_is_continued_by_every_seasonal_prior() -> None:
    shape = np.array([0.0, 3.0, -1.0, 5.0])
    priors = in_units([np.tile(shape, 8) + 10.0], [4], 8)[:, 0]
    expected = torch.tensor(np.tile(shape, 2) + 10.0, dtype=torch.float32)
    for name in PRIORS:
        if name != "naive":  # the profile makes every level and trend prior seasonal
            torch.testing.assert_close(priors[PRIORS.index(name)], expected, msg=name)
    torch.testing.assert_close(priors[PRIORS.index("naive")], torch.full((8,), 15.0))


def test_trend_priors_follow_a_line() -> None:
    priors = in_units([2.0 * np.arange(30.0)], [1], 6)[:, 0]
    steps = torch.arange(1, 7, dtype=torch.float32)
    torch.testing.assert_close(priors[PRIORS.index("linear_trend")], 58.0 + 2.0 * steps)
    torch.testing.assert_close(priors[PRIORS.index("naive")], torch.full((6,), 58.0))
    # without a season the seasonal random walk with drift is naive with drift
    torch.testing.assert_close(priors[PRIORS.index("seasonal_drift")], 58.0 + 2.0 * steps)
    damped = priors[PRIORS.index("damped_local_trend")]
    assert bool((damped.diff() > 0).all()) and damped[0] > 58.0 and damped[-1] < 58.0 + 2.0 * 6
    # simple exponential smoothing lags a trend, the faster the less
    levels = [float(priors[PRIORS.index(name), 0]) for name in ("level_slow", "level_medium", "level_fast")]
    assert levels[0] < levels[1] < levels[2] < 58.0


def test_seasonal_drift_carries_a_season_forward_with_its_growth() -> None:
    shape = np.array([0.0, 3.0, -1.0, 5.0])
    history = np.tile(shape, 6) + 0.5 * np.arange(24.0)
    padded_too = history[5:]  # the window starts mid-season; the padding must not count
    priors = in_units([history, padded_too], [4, 4], 9)[PRIORS.index("seasonal_drift")]
    future = np.arange(24.0, 33.0)
    expected = torch.tensor(np.tile(shape, 3)[:9] + 0.5 * future, dtype=torch.float32)
    # the last season plus one season's growth (2.0) per season ahead: exact for this series
    torch.testing.assert_close(priors[0], expected)
    torch.testing.assert_close(priors[1], expected)


def test_log_priors_follow_exponential_growth_and_fall_back_without_positive_values() -> None:
    growth = 5.0 * 1.1 ** np.arange(30.0)
    crossing = np.arange(30.0) - 10.0
    window = normalise_window(pad_histories([growth, crossing], CONTEXT), torch.tensor([1, 1]), CONTEXT)
    priors, errors = candidate_forecasts(window, 4, backtest_origins=4)
    assert (
        priors.shape == (2, 4, len(CANDIDATES))
        and errors is not None
        and errors.shape == (2, len(CANDIDATES))
    )
    in_units_ = window.level[:, :, None] + window.scale[:, :, None] * priors
    expected = torch.tensor(5.0 * 1.1 ** np.arange(30.0, 34.0), dtype=torch.float32)
    torch.testing.assert_close(
        in_units_[0, :, CANDIDATES.index("log_linear_trend")], expected, rtol=1e-4, atol=1e-3
    )
    # a line (in its own scale) is forecast without in-context error by the linear trend
    assert float(errors[0, CANDIDATES.index("log_linear_trend")]) < 1e-3
    assert float(errors[1, CANDIDATES.index("linear_trend")]) < 1e-3
    # a series that crosses zero has no log scale: its log priors are the plain ones
    plain = prior_forecasts(window, 4)[1]
    logged = priors[1, :, [CANDIDATES.index(f"log_{name}") for name in PRIORS]]
    torch.testing.assert_close(logged, plain)


def test_short_histories_fall_back_and_stay_finite() -> None:
    """A season longer than the observed history gives the plain priors; a window of zeros or of
    two values still forecasts finite numbers; in-context errors need three values before them."""
    window = normalise_window(
        pad_histories([np.array([3.0, 4.0, 6.0, 5.0, 7.0])], 24), torch.tensor([12]), 24
    )
    priors = prior_forecasts(window, 6)[0]
    assert int(window.season) == 1
    torch.testing.assert_close(priors[:, PRIORS.index("seasonal_naive")], priors[:, PRIORS.index("naive")])
    for history in (np.zeros(30), np.array([1.0, 2.0])):
        window = normalise_window(pad_histories([history], 24), torch.tensor([4]), 24)
        priors, errors = candidate_forecasts(window, 6, backtest_origins=4)
        assert bool(torch.isfinite(priors).all()) and bool(torch.isfinite(errors).all())
    assert float(backtest_errors(window, 4).abs().sum()) == 0.0
    with pytest.raises(ValueError, match="finite last value"):
        normalise_window(torch.tensor([[1.0, float("nan")]]), torch.tensor([1]), 24)


def test_latest_lines_are_the_least_squares_lines_through_the_latest_values() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(6, 20)).cumsum(axis=1)
    lengths = np.array([[1], [2], [3], [7], [19], [20]], dtype=np.float32)
    ((end, slope),) = latest_lines(torch.tensor(values, dtype=torch.float32), (torch.tensor(lengths),))
    for row, (n,) in enumerate(lengths.astype(int)):
        if n == 1:
            expected_slope, expected_end = 0.0, values[row, -1]
        else:
            expected_slope, intercept = np.polyfit(np.arange(n), values[row, -n:], 1)
            expected_end = intercept + expected_slope * (n - 1)
        assert float(slope[row]) == pytest.approx(expected_slope, abs=1e-4)
        assert float(end[row]) == pytest.approx(expected_end, abs=1e-4)


def test_the_autoregression_learns_short_term_dynamics_the_other_priors_miss() -> None:
    """On a stationary AR(2) process the one-step autoregression is close to the process's own
    conditional mean, far closer than any closed-form prior."""
    rng = np.random.default_rng(3)
    values = np.zeros(400)
    for t in range(2, 400):
        values[t] = 1.2 * values[t - 1] - 0.5 * values[t - 2] + rng.normal()
    origins = range(300, 399)
    histories = [values[:origin] + 50.0 for origin in origins]
    truth = torch.tensor([1.2 * values[o - 1] - 0.5 * values[o - 2] + 50.0 for o in origins])
    window = normalise_window(pad_histories(histories, 96), torch.ones(len(histories), dtype=torch.long), 96)
    forecasts = window.decode(prior_forecasts(window, 1)[:, 0, :])  # [B, len(PRIORS)]
    errors = (forecasts - truth[:, None]).abs().mean(dim=0)
    autoregressive = float(errors[PRIORS.index("autoregressive")])
    assert autoregressive < 0.2  # the noise's sd is 1
    assert autoregressive < 0.5 * float(errors[: PRIORS.index("autoregressive")].min())


def test_autoregression_backtests_are_refits_on_the_values_before_each_origin() -> None:
    rng = np.random.default_rng(4)
    history = 10.0 + np.sin(np.arange(60.0) * 2 * np.pi / 7) * 3 + rng.normal(size=60).cumsum() * 0.3
    window = normalise_window(pad_histories([history], 48), torch.tensor([7]), 48)
    _, backtests = autoregression(window, 0, origins=5)
    for back in range(1, 6):
        earlier = NormalisedWindow(
            z=torch.nn.functional.pad(window.z[:, :-back], (back, 0)),
            observed=torch.nn.functional.pad(window.observed[:, :-back], (back, 0)),
            level=window.level,
            scale=window.scale,
            season=window.season,
        )
        refit, _ = autoregression(earlier, 1)
        torch.testing.assert_close(backtests[:, back - 1], refit[:, 0], rtol=1e-4, atol=1e-4)


def test_a_window_too_short_to_fit_an_autoregression_forecasts_its_random_walk() -> None:
    """With no position whose lags are all observed, the ridge leaves the seasonal random walk."""
    history = np.array([5.0, 7.0, 6.0, 9.0, 8.0])
    window = normalise_window(pad_histories([history], 24), torch.tensor([4]), 24)
    forecast = window.decode(autoregression(window, 3)[0])[0]
    # z_t = z_(t-1) + z_(t-4) - z_(t-5): the last value plus the step a season before
    torch.testing.assert_close(forecast, torch.tensor([10.0, 9.0, 12.0]), rtol=1e-3, atol=1e-2)


def test_a_trending_window_s_autoregression_does_not_depend_on_the_float_precision_of_its_input() -> None:
    """512 values of a trend with a random-walk part: sums of squares near 1e8, where a float32
    fit moved the iterated path by about half a window unit."""
    rng = np.random.default_rng(0)
    steps = np.arange(600.0)
    histories = [
        1000 + 0.5 * steps + rng.normal(size=600).cumsum() + 10 * np.sin(steps * 2 * np.pi / 24)
        for _ in range(64)
    ]
    window = normalise_window(pad_histories(histories, 512), torch.full((64,), 24), 512)
    in_float64 = NormalisedWindow(
        z=window.z.double(),
        observed=window.observed.double(),
        level=window.level.double(),
        scale=window.scale.double(),
        season=window.season,
    )
    path, backtests = autoregression(window, 24, origins=12)
    reference_path, reference_backtests = autoregression(in_float64, 24, origins=12)
    assert path.dtype == torch.float32
    torch.testing.assert_close(path.double(), reference_path, rtol=0, atol=1e-4)
    torch.testing.assert_close(backtests.double(), reference_backtests, rtol=0, atol=1e-4)


def test_closed_form_backtests_are_the_candidates_of_the_window_before_each_origin() -> None:
    """The one-step errors come from linear maps (`models.priors._backtest_map`); they must equal
    the errors of each candidate computed afresh on the window before every origin - on plain
    and log scales, short histories, every season class, and windows whose log scale changes
    between origins (a value <= 0 among the latest ones; a walk that crosses zero)."""
    rng = np.random.default_rng(7)
    context, origins, histories, seasons = 48, 6, [], []
    for row in range(40):
        length = int(rng.integers(4, context + 1))
        season = [1, 4, 7, 12, 24][row % 5]
        steps = np.arange(length)
        if row % 4 == 0:
            values = rng.normal(size=length).cumsum()
        else:
            values = 20.0 + 0.2 * steps + 3.0 * np.sin(2 * np.pi * steps / season) + rng.normal(size=length)
        if row % 8 == 1:
            values[-3] = -1.0
        histories.append(values)
        seasons.append(season)
    window = normalise_window(pad_histories(histories, context), torch.tensor(seasons), context)
    count = window.observed.sum(dim=1).long()
    errors, usable = [], []
    for back in range(1, origins + 1):
        earlier = NormalisedWindow(
            z=torch.nn.functional.pad(window.z[:, :-back], (back, 0)),
            observed=torch.nn.functional.pad(window.observed[:, :-back], (back, 0)),
            level=window.level,
            scale=window.scale,
            season=effective_seasons(window.season, count - back),
        )
        forecast = candidate_priors(earlier, 1, CLOSED_FORM_PRIORS)[:, 0]
        # an origin with fewer than three values before it does not count (its window may be empty)
        counts = (count - back >= 3)[:, None]
        errors.append(torch.where(counts, (forecast - window.z[:, -back, None]).abs(), 0.0))
        usable.append(counts.to(torch.float32))
    expected = torch.stack(errors).sum(dim=0) / torch.stack(usable).sum(dim=0).clamp_min(1.0)
    measured = backtest_errors(window, origins, CLOSED_FORM_PRIORS)
    torch.testing.assert_close(measured, expected, rtol=1e-4, atol=1e-4)


def test_holt_winters_continues_a_trending_season_and_predicts_its_origins_out_of_sample() -> None:
    steps = np.arange(60.0)
    shape = np.array([0.0, 4.0, -2.0, 1.0, 6.0, -3.0])
    history = 30.0 + 0.5 * steps + np.tile(shape, 10)
    window = normalise_window(pad_histories([history], 48), torch.tensor([6]), 48)
    forecast, _ = holt_winters(window, 6, origins=4)
    future = 30.0 + 0.5 * np.arange(60.0, 66.0) + shape
    torch.testing.assert_close(
        window.decode(forecast)[0], torch.tensor(future, dtype=torch.float32), atol=0.6, rtol=0.0
    )
    # without a season (no initial profile) the one-step predictions are out of sample: the last
    # value moved, neither its prediction nor the rates (chosen before the last `origins` values) move
    plain = normalise_window(pad_histories([history], 48), torch.tensor([1]), 48)
    _, one_step = holt_winters(plain, 6, origins=4)
    moved = plain.z.clone()
    moved[0, -1] += 5.0
    _, moved_one_step = holt_winters(replace(plain, z=moved), 6, origins=4)
    torch.testing.assert_close(moved_one_step, one_step)
    assert candidate_names(("naive", "holt_winters")) == ("naive", "log_naive", "log_holt_winters")


def mixed_windows(context: int = 48) -> NormalisedWindow:
    """Windows of four (season, values) keys: short and long, with and without a season, one
    crossing zero."""
    rng = np.random.default_rng(5)
    histories, seasons = [], []
    for length, season in ((10, 1), (30, 4), (60, 12), (200, 12), (200, 1), (60, 12), (30, 4)):
        steps = np.arange(length)
        wave = 4.0 * np.sin(2 * np.pi * steps / season) if season > 1 else 0.0
        histories.append(20.0 + 0.2 * steps + wave + rng.normal(size=length).cumsum())
        seasons.append(season)
    histories[4] = histories[4] - histories[4].mean()
    return normalise_window(pad_histories(histories, context), torch.tensor(seasons), context)


def test_holt_winters_through_its_maps_equals_the_recursion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(priors_module, "_HW_MAPS", {})
    monkeypatch.setattr(priors_module, "HW_MAP_BUILDS", 100)
    window = mixed_windows()
    for origins in (6, 0):
        forecast, one_step = holt_winters(window, 7, origins)
        expected_forecast, expected_one_step = priors_module._holt_winters_by_loop(window, 7, origins)
        torch.testing.assert_close(forecast, expected_forecast, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(one_step, expected_one_step, rtol=1e-4, atol=1e-4)
    # every row went through the maps: one set per (season, values) and number of origins
    assert len(priors_module._HW_MAPS) == 2 * 4


def test_holt_winters_builds_a_few_maps_per_call_and_keeps_a_few(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(priors_module, "_HW_MAPS", {})
    monkeypatch.setattr(priors_module, "HW_MAP_BUILDS", 2)
    monkeypatch.setattr(priors_module, "HW_MAPS_KEPT", 3)
    window = mixed_windows()
    expected = priors_module._holt_winters_by_loop(window, 5, 4)
    # the two keys with most windows get maps, the other two run the loop
    first = holt_winters(window, 5, 4)
    assert {key[1:3] for key in priors_module._HW_MAPS} == {(4, 30), (12, 48)}
    second = holt_winters(window, 5, 4)
    assert len(priors_module._HW_MAPS) == 3
    # a key with too small a share of the call's windows runs the loop however many builds are left
    monkeypatch.setattr(priors_module, "_HW_MAPS", {})
    monkeypatch.setattr(priors_module, "HW_MAP_SHARE", 3)
    third = holt_winters(window, 5, 4)
    assert {key[1:3] for key in priors_module._HW_MAPS} == {(12, 48)}
    for forecast, one_step in (first, second, third):
        torch.testing.assert_close(forecast, expected[0], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(one_step, expected[1], rtol=1e-4, atol=1e-4)


def test_a_window_s_candidates_do_not_depend_on_its_batch() -> None:
    """Small batches fit the plain and the log autoregression in one call, large ones each alone
    (`JOINT_AUTOREGRESSION_ROWS`): a window's candidates and in-context errors are the same either way."""
    window = mixed_windows()
    copies = -(-priors_module.JOINT_AUTOREGRESSION_ROWS // window.z.shape[0]) + 1
    large = NormalisedWindow.concatenated([window] * copies)
    assert window.z.shape[0] <= priors_module.JOINT_AUTOREGRESSION_ROWS < large.z.shape[0]
    small_forecasts, small_errors = candidate_forecasts(window, 7, 6, PRIORS)
    large_forecasts, large_errors = candidate_forecasts(large, 7, 6, PRIORS)
    rows = window.z.shape[0]
    torch.testing.assert_close(large_forecasts[:rows], small_forecasts)
    torch.testing.assert_close(large_errors[:rows], small_errors)
