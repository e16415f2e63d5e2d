"""The window scaler's seasonal profile: per-phase means of the recent seasons, aligned as the
season before the context, built the same way from a padded batch as from one row."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.scaling import WindowScaler

SEASON = 4


def scaler(profile_seasons: int, season: int = SEASON, log: bool = False) -> WindowScaler:
    return WindowScaler(log=log, season_length=season, min_scale=1e-6, profile_seasons=profile_seasons)


@pytest.mark.parametrize("context", [8, 6, 3])
@pytest.mark.parametrize("trend", [0.0, 0.5])
def test_trend_plus_season_profile_is_the_season_before_the_context(context, trend):
    pattern = torch.tensor([1.0, 5.0, 2.0, 7.0])
    t = torch.arange(39.0)
    history = (pattern.repeat(10)[1:] + trend * t)[None]  # starts mid-season: phases not aligned with 0
    z, level, scale = scaler(5).encode(history, context)
    profile = z[:, :SEASON] * scale + level
    torch.testing.assert_close(profile, history[:, -context - SEASON : -context])
    # and the context part is the plain normalised context
    torch.testing.assert_close(z[:, SEASON:], (history[:, -context:] - level) / scale)


def test_the_profile_reads_only_the_last_profile_seasons():
    rng = np.random.default_rng(0)
    history = torch.tensor(rng.normal(10.0, 1.0, (1, 40)), dtype=torch.float32)
    s = scaler(3)
    assert s.lookback(8) == 12
    z, _, _ = s.encode(history, 8)
    older_changed = history.clone()
    older_changed[0, :-12] = 1e6
    torch.testing.assert_close(s.encode(older_changed, 8)[0], z)
    newer_changed = history.clone()
    newer_changed[0, -12] = 1e6  # older than the context, inside the lookback
    assert not torch.equal(s.encode(newer_changed, 8)[0][:, :SEASON], z[:, :SEASON])


def test_left_padding_reads_as_a_shorter_history():
    rng = np.random.default_rng(1)
    long = torch.tensor(rng.normal(50.0, 5.0, (1, 30)), dtype=torch.float32)
    short = long[:, -10:]
    padded = torch.cat([torch.full((1, 20), torch.nan), short], dim=1)
    s = scaler(20)
    torch.testing.assert_close(s.encode(padded, 8)[0], s.encode(short, 8)[0])
    assert not torch.isnan(s.encode(padded, 8)[0]).any()


def test_a_phase_the_history_never_reached_sits_at_the_level():
    # weekly data with a 52-week season and 12 weeks of history: 40 phases were never seen
    history = torch.arange(1.0, 13.0)[None]
    z, _, _ = scaler(20, season=52).encode(history, 12)
    assert z.shape == (1, 52 + 12)
    assert torch.isfinite(z).all()
    assert (z[0, :52] == 0).sum() >= 40


def test_non_positive_old_values_are_skipped_under_the_log():
    history = torch.tensor([[-3.0, 0.0, 2.0, 4.0, 2.0, 4.0, 2.0, 4.0, 2.0, 4.0]])
    z, _, _ = scaler(5, season=2, log=True).encode(history, 4)
    assert torch.isfinite(z).all()
    torch.testing.assert_close(z, scaler(5, season=2, log=True).encode(history[:, 2:], 4)[0])


def test_no_season_means_no_profile():
    fitted = WindowScaler.fit(np.arange(1.0, 50.0), season_length=1, profile_seasons=20)
    assert fitted.profile_length == 0 and fitted.lookback(10) == 10
    z, _, _ = fitted.encode(torch.arange(1.0, 21.0)[None], 10)
    assert z.shape == (1, 10)


@pytest.mark.parametrize("context", [24, 20, 5])
def test_the_fast_path_for_whole_seasons_equals_the_general_one(context):
    """A batch without padding takes a shorter computation; with one padded row in the batch
    every row goes the general way, and each must come out the same."""
    rng = np.random.default_rng(2)
    rows = torch.tensor(50.0 + np.cumsum(rng.normal(0.0, 1.0, (3, 90)), axis=1), dtype=torch.float32)
    padded = rows.clone()
    padded[2, :40] = torch.nan
    s = scaler(20, season=12)
    alone = s.encode(rows[:2], context)[0]
    together = s.encode(padded, context)[0][:2]
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-4)  # float32 summation order


# --- the unit of interval widths ---------------------------------------------------------------


def _width_scaler(interval_scale: str, season: int = SEASON) -> WindowScaler:
    return WindowScaler(log=False, season_length=season, min_scale=1e-6, interval_scale=interval_scale)


def test_seasonal_width_scale_is_the_mean_absolute_seasonal_difference_over_the_context():
    rng = np.random.default_rng(3)
    values = np.tile([10.0, 50.0, 20.0, 70.0], 6) + rng.normal(0.0, 1.0, 24)
    history = torch.tensor(values[None], dtype=torch.float32)
    context = values[-12:]
    expected = np.abs(context[SEASON:] - context[:-SEASON]).mean()
    width = _width_scaler("seasonal").width_scale(history, 12)
    torch.testing.assert_close(width, torch.tensor([[expected]], dtype=torch.float32))
    # the window scale is mostly the seasonal swing: ~30 against ~1 for the noise
    _, _, window_scale = _width_scaler("seasonal").encode(history, 12)
    assert float(window_scale) > 10 * float(width)


def test_step_width_scale_is_the_window_scale_older_artifacts_were_calibrated_in():
    history = torch.tensor([[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0]])
    _, _, window_scale = _width_scaler("step").encode(history, 8)
    assert torch.equal(_width_scaler("step").width_scale(history, 8), window_scale)


def test_a_context_of_one_season_measures_widths_in_steps():
    history = torch.tensor([[3.0, 1.0, 4.0, 1.0, 5.0, 9.0]])
    torch.testing.assert_close(
        _width_scaler("seasonal").width_scale(history, SEASON),
        _width_scaler("step").width_scale(history, SEASON),
    )


def test_the_trimmed_width_scale_leaves_out_the_largest_tenth_of_the_seasonal_differences():
    rng = np.random.default_rng(4)
    values = np.tile([10.0, 50.0, 20.0, 70.0], 8) + rng.normal(0.0, 1.0, 32)
    values[-6] += 40.0  # one holiday-like spike in the context: two large seasonal differences
    history = torch.tensor(values[None], dtype=torch.float32)
    differences = np.sort(np.abs(values[-24:][SEASON:] - values[-24:][:-SEASON]))  # 20 of them
    expected = differences[:18].mean()  # ceil(0.9 * 20) = 18 kept: both of the spike's left out
    trimmed = _width_scaler("trimmed_seasonal").width_scale(history, 24)
    torch.testing.assert_close(trimmed, torch.tensor([[expected]], dtype=torch.float32))
    # the spike's two differences (~40 each) would dominate the plain mean of ~1-unit noise
    assert float(_width_scaler("seasonal").width_scale(history, 24)) > 3 * float(trimmed)


def test_training_fits_trimmed_seasonal_widths_and_rejects_an_unknown_unit():
    assert WindowScaler.fit(np.arange(1.0, 30.0), SEASON).interval_scale == "trimmed_seasonal"
    with pytest.raises(ValueError, match="interval_scale"):
        _width_scaler("quantile")
