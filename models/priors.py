"""Classical forecasts computed inside every window, for the base network to mix.

What AutoETS and Theta estimate per series, in closed form and batched: a seasonal profile
(the window's values minus a centred moving average, averaged per phase with recent seasons
weighing more), exponentially weighted levels of the deseasonalised values at three
smoothing rates, linear trends over the whole window and over its recent part, and the
seasonal random walk with drift (the last season plus the window's mean seasonal difference per
season ahead; naive with drift without a season). Each prior is one classical method's
forecast; the network only chooses and corrects.

Everything works on `NormalisedWindow`s (models.window): the values z [B, C] with
padding on the left (observed [B, C] says where), the effective season m [B] (1 = none).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models.window import NormalisedWindow, normalise_window

PRIORS = (
    "naive",
    "seasonal_naive",
    "seasonal_drift",
    "level_slow",
    "level_medium",
    "level_fast",
    "theta",
    "damped_local_trend",
    "linear_trend",
)
# the priors of base networks saved before their config named them
FIRST_PRIORS = tuple(name for name in PRIORS if name != "seasonal_drift")
# smoothing rates of the level priors (simple exponential smoothing's alpha)
LEVEL_RATES = (0.1, 0.3, 0.6)
# Theta's level (Hyndman & Billah: the theta = 2 line is SES with drift = half the OLS slope)
THETA_RATE = 0.3
# per-step damping of the local trend (damped-trend ETS's phi)
TREND_DAMPING = 0.9
# how much less each older season counts in the seasonal profile
SEASON_DECAY = 0.8
# the local trend reads at least this many of the latest values (two seasons when longer)
LOCAL_TREND_WINDOW = 8


def latest_lines(
    values: torch.Tensor, lengths: tuple[torch.Tensor, ...]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Least-squares lines through the latest n values of each row of `values` [B, C], one line
    per tensor of such n [B, 1] in `lengths`: [(its value at the last position, its slope), each
    [B, 1]]; slope 0 through a single value. In closed form over evenly spaced positions, from
    running sums over the steps back from the last value."""
    backwards = values.flip(1)
    steps_back = torch.arange(values.shape[1], device=values.device, dtype=values.dtype)
    sums = backwards.cumsum(dim=1)
    moments = (backwards * steps_back).cumsum(dim=1)
    lines = []
    for n in lengths:
        last = (n.long() - 1).clamp_min(0)
        total, moment = sums.gather(1, last), moments.gather(1, last)
        mean = total / n
        # in steps back the mean position is (n - 1) / 2 and the spread n (n^2 - 1) / 12
        centre = (n - 1.0) / 2.0
        spread = n * (n * n - 1.0) / 12.0
        slope = -torch.where(spread > 0.25, (moment - centre * total) / spread.clamp_min(0.25), 0.0)
        lines.append((mean + slope * centre, slope))
    return lines


@dataclass(frozen=True)
class WindowLayout:
    """What the priors read from where a window has values and from its season, not from the
    values: computed once per batch and shared by the plain and the log-scale priors, whose
    windows have the same observed positions and seasons. A window's values are a suffix of
    it (`normalise_window` pads histories on the left)."""

    first: torch.Tensor  # [B, 1] position of the first observed value
    phase: torch.Tensor  # [B, C] p steps before the last value -> p mod m
    moving_start: torch.Tensor  # [B, C] bounds of the centred one-season moving average
    moving_end: torch.Tensor
    inside: torch.Tensor  # [B, C] where that average lies wholly on observed values
    profile_weights: torch.Tensor  # [B, C] each position's weight in its phase's index
    phase_weights: torch.Tensor  # [B, C] the total weight of phase p at index p
    profile_kept: torch.Tensor  # [B, C] the phases of a usable profile
    level_weights: torch.Tensor  # [C, len(LEVEL_RATES)] each rate's weight per position
    level_totals: torch.Tensor  # [B, len(LEVEL_RATES)] their sums over each row's values
    line_lengths: tuple[torch.Tensor, torch.Tensor]  # [B, 1] whole window, its recent part

    @classmethod
    def of(cls, window: NormalisedWindow) -> WindowLayout:
        observed, season = window.observed, window.season
        batch, context = observed.shape
        device, dtype = observed.device, observed.dtype
        count = observed.sum(dim=1).long()
        back = torch.arange(context - 1, -1, -1, device=device)
        position = torch.arange(context, device=device)
        # what depends on the season alone, once per distinct season [S, C], then per row
        seasons, row = torch.unique(season, return_inverse=True)
        phase = torch.remainder(back[None, :], seasons[:, None]).index_select(0, row)
        decay = SEASON_DECAY ** torch.div(back[None, :], seasons[:, None], rounding_mode="floor")
        # centred moving average over one season: positions t - m // 2 ... t - m // 2 + m - 1
        start = position[None, :] - (seasons // 2)[:, None]
        moving_start = start.clamp(0, context).index_select(0, row)
        moving_end = (start + seasons[:, None]).clamp(0, context).index_select(0, row)
        first_whole = (context - count + season // 2)[:, None]
        last_whole = (context - season + season // 2)[:, None]
        inside = (position[None, :] >= first_whole) & (position[None, :] <= last_whole)
        profile_weights = torch.where(inside, decay.index_select(0, row), 0.0)
        phase_weights = torch.zeros(batch, context, device=device).scatter_add(1, phase, profile_weights)
        in_season = torch.arange(context, device=device)[None, :] < season[:, None]
        usable = (season > 1) & (count >= 2 * season)
        back = back.to(dtype)
        # the values are a suffix of the window (padding is on the left): n of them weigh
        # r^0 ... r^(n-1), which sum to (1 - r^n) / (1 - r)
        rates = 1.0 - torch.tensor(LEVEL_RATES, device=device, dtype=dtype)
        n = count.to(dtype)[:, None]
        recent = torch.maximum(2 * season, torch.full_like(season, LOCAL_TREND_WINDOW)).to(dtype)[:, None]
        return cls(
            first=(context - count).clamp_max(context - 1)[:, None],
            phase=phase,
            moving_start=moving_start,
            moving_end=moving_end,
            inside=inside,
            profile_weights=profile_weights,
            phase_weights=phase_weights,
            profile_kept=usable[:, None] & in_season,
            level_weights=rates[None, :] ** back[:, None],
            level_totals=(1.0 - rates[None, :] ** n) / (1.0 - rates[None, :]),
            line_lengths=(n, torch.minimum(n, recent)),
        )


def seasonal_profile(
    window: NormalisedWindow, layout: WindowLayout | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per position, the window's seasonal index, and the index of each phase [B, C] (phase p
    = p steps before the last value, modulo m); zeros without a season or without two whole
    seasons to estimate one from."""
    layout = layout or WindowLayout.of(window)
    z, observed, season = window.z, window.observed, window.season
    # pad with the first observed value, so sums over a season never mix in zeros
    filled = torch.where(observed > 0, z, z.gather(1, layout.first))
    sums = torch.nn.functional.pad(filled.cumsum(dim=1), (1, 0))
    average = (sums.gather(1, layout.moving_end) - sums.gather(1, layout.moving_start)) / season[:, None]
    detrended = torch.where(layout.inside, filled - average, 0.0)
    totals = torch.zeros_like(z).scatter_add(1, layout.phase, layout.profile_weights * detrended)
    index = torch.where(layout.phase_weights > 0, totals / layout.phase_weights.clamp_min(1e-12), 0.0)
    index = torch.where(layout.profile_kept, index, 0.0)
    index = index - index.sum(dim=1, keepdim=True) / season[:, None]
    index = torch.where(layout.profile_kept, index, 0.0)
    return index.gather(1, layout.phase), index


def prior_forecasts(
    window: NormalisedWindow, horizon: int, layout: WindowLayout | None = None
) -> torch.Tensor:
    """The classical forecasts of every window, in its normalised space: [B, H, len(PRIORS)]."""
    layout = layout or WindowLayout.of(window)
    z, observed, season = window.z, window.observed, window.season
    context = z.shape[1]
    steps = torch.arange(1, horizon + 1, device=z.device, dtype=z.dtype)
    naive = z[:, -1:].expand(-1, horizon)
    # step h repeats the value one season before it: position C - m + ((h - 1) mod m)
    same_phase = context - season[:, None] + (steps.long()[None, :] - 1) % season[:, None]
    seasonal_naive = z.gather(1, same_phase)
    # the mean of z_t - z_(t-m) over the window telescopes to (its last season's sum minus its
    # first season's) / (values - m): 0 without two values a season apart
    count = layout.line_lengths[0]
    sums = torch.nn.functional.pad(z.cumsum(dim=1), (1, 0))  # z is 0 where padded
    first_season_end = (layout.first + season[:, None]).clamp_max(context)
    seasonal_change = (sums[:, -1:] - sums.gather(1, context - season[:, None])) - (
        sums.gather(1, first_season_end) - sums.gather(1, layout.first)
    )
    differences = count - season[:, None]
    drift = torch.where(differences > 0, seasonal_change / differences.clamp_min(1), 0.0)
    seasons_ahead = torch.div(steps.long()[None, :] - 1, season[:, None], rounding_mode="floor") + 1
    seasonal_drift = seasonal_naive + drift * seasons_ahead

    position_index, index = seasonal_profile(window, layout)
    future_phase = torch.remainder(-steps.long()[None, :], season[:, None])
    future_index = index.gather(1, future_phase)
    deseasonalised = (z - position_index) * observed
    levels = list(((deseasonalised @ layout.level_weights) / layout.level_totals).split(1, dim=1))
    (line_end, slope), (local_end, local_slope) = latest_lines(deseasonalised, layout.line_lengths)
    # Theta: SES level plus half the slope, which SES alone lags by (1 - alpha) / alpha steps
    theta = levels[LEVEL_RATES.index(THETA_RATE)] + 0.5 * slope * (steps[None, :] - 1.0 + 1.0 / THETA_RATE)
    linear = line_end + slope * steps[None, :]
    damped = (TREND_DAMPING**steps).cumsum(0)
    damped_local = local_end + local_slope * damped[None, :]
    trends = [theta, damped_local, linear]
    return torch.stack(
        [naive, seasonal_naive, seasonal_drift, *(level + future_index for level in [*levels, *trends])],
        dim=2,
    )


# a log-scale prior reaches at most this many times the window's largest value (e^3)
LOG_MARGIN = 3.0


def candidate_names(priors: tuple[str, ...]) -> tuple[str, ...]:
    """The candidates of a base network mixing `priors`: each on the plain, then on the log scale."""
    return priors + tuple(f"log_{name}" for name in priors)


# every candidate `candidate_priors` computes, in its order
CANDIDATES = candidate_names(PRIORS)


def log_window(window: NormalisedWindow) -> tuple[NormalisedWindow, torch.Tensor]:
    """The window on a log scale, normalised afresh, and which rows it is [B] (every observed
    value > 0); other rows keep their values, so their log priors equal the plain ones."""
    values = window.decode(window.z)
    present = window.observed > 0
    positive = (~present | (values > 0)).all(dim=1)
    logged = torch.where(positive[:, None], values.clamp_min(1e-30).log(), values)
    return normalise_window(torch.where(present, logged, torch.nan), window.season, values.shape[1]), positive


def candidate_priors(window: NormalisedWindow, horizon: int) -> torch.Tensor:
    """Every prior on the plain and on the log scale, in the window's normalised space:
    [B, H, len(CANDIDATES)]."""
    layout = WindowLayout.of(window)
    logged, positive = log_window(window)
    # [B, H, P] back to the log window's units, then to the original units where it is a log
    in_log = logged.level[:, :, None] + logged.scale[:, :, None] * prior_forecasts(logged, horizon, layout)
    top = torch.where(window.observed > 0, logged.decode(logged.z), -torch.inf).amax(dim=1)
    in_log = torch.where(
        positive[:, None, None], in_log.clamp_max(top[:, None, None] + LOG_MARGIN).exp(), in_log
    )
    in_window = (in_log - window.level[:, :, None]) / window.scale[:, :, None]
    return torch.cat([prior_forecasts(window, horizon, layout), in_window], dim=2)


@torch.no_grad()
def backtest_errors(window: NormalisedWindow, origins: int) -> torch.Tensor:
    """How well each candidate forecast the window's own recent values one step ahead: the mean
    absolute one-step error per candidate [B, len(CANDIDATES)] over the last `origins` values
    (each forecast from the values before it), in the window's normalised space - the evidence
    AutoETS's likelihood weighs its models by. Origins with fewer than three values before them
    do not count; 0 for a window with no such origin."""
    z, observed = window.z, window.observed
    batch, context = z.shape
    origins = min(origins, context - 3)
    count = observed.sum(dim=1).long()
    shifted_z, shifted_observed, seasons, actual, usable = [], [], [], [], []
    for back in range(1, origins + 1):
        earlier_count = count - back
        observed_before = torch.nn.functional.pad(observed[:, :-back], (back, 0))
        # a row without a value at this origin still needs a last value; its error is dropped
        observed_before[:, -1] = 1.0
        shifted_z.append(torch.nn.functional.pad(z[:, :-back], (back, 0)))
        shifted_observed.append(observed_before)
        seasons.append(torch.where(window.season <= earlier_count.clamp_min(1), window.season, 1))
        actual.append(z[:, context - back])
        usable.append(earlier_count >= 3)
    earlier = NormalisedWindow(
        z=torch.cat(shifted_z),
        observed=torch.cat(shifted_observed),
        level=window.level.repeat(origins, 1),
        scale=window.scale.repeat(origins, 1),
        season=torch.cat(seasons),
    )
    errors = (candidate_priors(earlier, 1)[:, 0] - torch.cat(actual)[:, None]).abs()
    weights = torch.cat(usable).to(z.dtype)[:, None]
    errors = (errors * weights).view(origins, batch, -1).sum(dim=0)
    return errors / weights.view(origins, batch, 1).sum(dim=0).clamp_min(1.0)


def candidate_forecasts(
    window: NormalisedWindow, horizon: int, backtest_origins: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`candidate_priors` and, with `backtest_origins`, their `backtest_errors` (else None)."""
    priors = candidate_priors(window, horizon)
    return priors, backtest_errors(window, backtest_origins) if backtest_origins else None
