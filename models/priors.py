"""Classical forecasts computed inside every window, for the base network to mix.

What AutoETS and Theta estimate per series, in closed form and batched: a seasonal profile
(the window's values minus a centred moving average, averaged per phase with recent seasons
weighing more), exponentially weighted levels of the deseasonalised values at three
smoothing rates, and linear trends over the whole window and over its recent part. Each
prior is one classical method's forecast; the network only chooses and corrects.

Everything works on `NormalisedWindow`s (models.window): the values z [B, C] with
padding on the left (observed [B, C] says where), the effective season m [B] (1 = none).
"""

from __future__ import annotations

import torch

from models.window import NormalisedWindow, normalise_window

PRIORS = (
    "naive",
    "seasonal_naive",
    "level_slow",
    "level_medium",
    "level_fast",
    "theta",
    "damped_local_trend",
    "linear_trend",
)
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


def _weighted_line(
    values: torch.Tensor, weights: torch.Tensor, positions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted least-squares line through `values` [B, C]: (its value at the last position,
    its slope), each [B, 1]; slope 0 where fewer than two points weigh."""
    total = weights.sum(dim=1, keepdim=True).clamp_min(1e-12)
    centre = (weights * positions).sum(dim=1, keepdim=True) / total
    mean = (weights * values).sum(dim=1, keepdim=True) / total
    spread = (weights * (positions - centre) ** 2).sum(dim=1, keepdim=True)
    slope = (weights * (positions - centre) * (values - mean)).sum(dim=1, keepdim=True)
    slope = torch.where(spread > 1e-9, slope / spread.clamp_min(1e-9), 0.0)
    return mean + slope * (positions[:, -1:] - centre), slope


def seasonal_profile(window: NormalisedWindow) -> tuple[torch.Tensor, torch.Tensor]:
    """Per position, the window's seasonal index, and the index of each phase [B, C] (phase p
    = p steps before the last value, modulo m); zeros without a season or without two whole
    seasons to estimate one from."""
    z, observed, season = window.z, window.observed, window.season
    batch, context = z.shape
    count = observed.sum(dim=1).long()
    # pad with the first observed value, so sums over a season never mix in zeros
    first = z.gather(1, (context - count).clamp_max(context - 1)[:, None])
    filled = torch.where(observed > 0, z, first)
    back = torch.arange(context - 1, -1, -1, device=z.device)  # steps before the last value
    phase = torch.remainder(back[None, :], season[:, None])
    # centred moving average over one season: positions t - m // 2 ... t - m // 2 + m - 1
    sums = torch.nn.functional.pad(filled.cumsum(dim=1), (1, 0))
    start = torch.arange(context, device=z.device)[None, :] - (season // 2)[:, None]
    end = start + season[:, None]
    inside = (start >= (context - count)[:, None]) & (end <= context)
    average = (sums.gather(1, end.clamp(0, context)) - sums.gather(1, start.clamp(0, context))) / season[
        :, None
    ]
    weights = inside * SEASON_DECAY ** torch.div(back[None, :], season[:, None], rounding_mode="floor")
    detrended = torch.where(inside, filled - average, 0.0)
    totals = torch.zeros(batch, context, device=z.device).scatter_add(1, phase, weights * detrended)
    counts = torch.zeros(batch, context, device=z.device).scatter_add(1, phase, weights)
    index = torch.where(counts > 0, totals / counts.clamp_min(1e-12), 0.0)
    in_season = torch.arange(context, device=z.device)[None, :] < season[:, None]
    index = torch.where(in_season, index, 0.0)
    index = index - index.sum(dim=1, keepdim=True) / season[:, None]
    usable = (season > 1) & (count >= 2 * season)
    index = torch.where(usable[:, None] & in_season, index, 0.0)
    return index.gather(1, phase), index


def prior_forecasts(window: NormalisedWindow, horizon: int) -> torch.Tensor:
    """The classical forecasts of every window, in its normalised space: [B, H, len(PRIORS)]."""
    z, observed, season = window.z, window.observed, window.season
    context = z.shape[1]
    steps = torch.arange(1, horizon + 1, device=z.device, dtype=z.dtype)
    naive = z[:, -1:].expand(-1, horizon)
    # step h repeats the value one season before it: position C - m + ((h - 1) mod m)
    same_phase = context - season[:, None] + (steps.long()[None, :] - 1) % season[:, None]
    seasonal_naive = z.gather(1, same_phase)

    position_index, index = seasonal_profile(window)
    future_phase = torch.remainder(-steps.long()[None, :], season[:, None])
    future_index = index.gather(1, future_phase)
    deseasonalised = (z - position_index) * observed
    back = torch.arange(context - 1, -1, -1, device=z.device, dtype=z.dtype)

    def level(rate: float) -> torch.Tensor:
        weights = observed * (1.0 - rate) ** back[None, :]
        return (weights * deseasonalised).sum(dim=1, keepdim=True) / weights.sum(dim=1, keepdim=True)

    levels = [level(rate) + future_index for rate in LEVEL_RATES]
    positions = torch.arange(context, device=z.device, dtype=z.dtype)[None, :].expand_as(z)
    line_end, slope = _weighted_line(deseasonalised, observed, positions)
    # Theta: SES level plus half the slope, which SES alone lags by (1 - alpha) / alpha steps
    theta = level(THETA_RATE) + 0.5 * slope * (steps[None, :] - 1.0 + 1.0 / THETA_RATE) + future_index
    linear = line_end + slope * steps[None, :] + future_index
    recent = torch.maximum(2 * season, torch.full_like(season, LOCAL_TREND_WINDOW)).to(z.dtype)
    local_weights = observed * (back[None, :] < recent[:, None])
    local_end, local_slope = _weighted_line(deseasonalised, local_weights, positions)
    damped = (TREND_DAMPING**steps).cumsum(0)
    damped_local = local_end + local_slope * damped[None, :] + future_index
    return torch.stack([naive, seasonal_naive, *levels, theta, damped_local, linear], dim=2)


# a log-scale prior reaches at most this many times the window's largest value (e^3)
LOG_MARGIN = 3.0
CANDIDATES = PRIORS + tuple(f"log_{name}" for name in PRIORS)


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
    logged, positive = log_window(window)
    # [B, H, P] back to the log window's units, then to the original units where it is a log
    in_log = logged.level[:, :, None] + logged.scale[:, :, None] * prior_forecasts(logged, horizon)
    top = torch.where(window.observed > 0, logged.decode(logged.z), -torch.inf).amax(dim=1)
    in_log = torch.where(
        positive[:, None, None], in_log.clamp_max(top[:, None, None] + LOG_MARGIN).exp(), in_log
    )
    in_window = (in_log - window.level[:, :, None]) / window.scale[:, :, None]
    return torch.cat([prior_forecasts(window, horizon), in_window], dim=2)


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
