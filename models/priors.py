"""Classical forecasts computed inside every window, for the base network to mix.

What AutoETS and Theta estimate per series, in closed form and batched: a seasonal profile
(the window's values minus a centred moving average, averaged per phase with recent seasons
weighing more), exponentially weighted levels of the deseasonalised values at three
smoothing rates, linear trends over the whole window and over its recent part, and the
seasonal random walk with drift (the last season plus the window's mean seasonal difference per
season ahead; naive with drift without a season), and an autoregression fitted inside the
window (ARIMA's short-term dynamics: ridge least squares on the latest values and, with a
season, the values one season back, shrunk toward the seasonal random walk). Each prior is one
classical method's forecast; the network only chooses and corrects.

Everything works on `NormalisedWindow`s (models.window): the values z [B, C] with
padding on the left (observed [B, C] says where), the effective season m [B] (1 = none).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import torch

from models.window import NormalisedWindow, effective_seasons, normalise_values

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
    "autoregressive",
    "holt_winters",
)
# the priors of base networks saved before their config named them
FIRST_PRIORS = tuple(
    name for name in PRIORS if name not in ("seasonal_drift", "autoregressive", "holt_winters")
)
# priors a network mixes on the log scale only (a row without positive values gets them on its
# plain values, as every log candidate does): ablations.md section 47 found the plain one adds nothing
LOG_SCALE_ONLY = ("holt_winters",)
# the priors computed in closed form from the window's profile, levels and lines
CLOSED_FORM_PRIORS = PRIORS[: PRIORS.index("autoregressive")]
# the shipped first network's: the closed-form priors and Holt-Winters (ablations.md sections 48-49)
DEFAULT_PRIORS = (*CLOSED_FORM_PRIORS, "holt_winters")
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
# the autoregression reads the latest AR_LAGS values and, with a season m, those m and m + 1 back
AR_LAGS = 3
# its ridge penalty toward the seasonal random walk (naive without a season), in normalised units
AR_PENALTY = 1.0
# Holt-Winters' smoothing rates (additive seasons, damped trend), fitted per window in two stages:
# level alpha x season gamma without a trend, then (beta, phi) for the chosen pair
HW_LEVEL_RATES = (0.05, 0.15, 0.3, 0.5, 0.8)
HW_SEASON_RATES = (0.02, 0.1, 0.3)
HW_TRENDS = ((0.05, 0.9), (0.2, 0.9), (0.05, 0.98), (0.2, 0.98))


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
    inside: torch.Tensor  # [B, C] 1.0 where that average lies wholly on observed values
    profile_weights: torch.Tensor  # [B, C] each position's weight in its phase's index
    phase_weights: torch.Tensor  # [B, C] the total weight of phase p at index p
    profile_kept: torch.Tensor  # [B, C] 1.0 at the phases of a usable profile
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
        # masks are 0.0 / 1.0 and multiply: several times faster than torch.where on CPU
        inside = ((position[None, :] >= first_whole) & (position[None, :] <= last_whole)).to(dtype)
        profile_weights = decay.index_select(0, row) * inside
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
            profile_kept=(usable[:, None] & in_season).to(dtype),
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
    filled = z * observed + z.gather(1, layout.first) * (1.0 - observed)
    sums = torch.nn.functional.pad(filled.cumsum(dim=1), (1, 0))
    average = (sums.gather(1, layout.moving_end) - sums.gather(1, layout.moving_start)) / season[:, None]
    detrended = (filled - average) * layout.inside
    totals = torch.zeros_like(z).scatter_add(1, layout.phase, layout.profile_weights * detrended)
    index = totals / layout.phase_weights.clamp_min(1e-12) * (layout.phase_weights > 0).to(z.dtype)
    index = index * layout.profile_kept
    index = index - index.sum(dim=1, keepdim=True) / season[:, None]
    index = index * layout.profile_kept
    return index.gather(1, layout.phase), index


def prior_forecasts(
    window: NormalisedWindow,
    horizon: int,
    layout: WindowLayout | None = None,
    priors: tuple[str, ...] = PRIORS,
) -> torch.Tensor:
    """The classical forecasts `priors` of every window, in its normalised space: [B, H, len(priors)]."""
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
    closed_form = torch.stack(
        [naive, seasonal_naive, seasonal_drift, *(level + future_index for level in [*levels, *trends])],
        dim=2,
    )
    chosen = [CLOSED_FORM_PRIORS.index(name) for name in priors if name in CLOSED_FORM_PRIORS]
    forecasts = closed_form[:, :, chosen] if len(chosen) < len(CLOSED_FORM_PRIORS) else closed_form
    if "autoregressive" in priors:
        forecasts = torch.cat([forecasts, autoregression(window, horizon)[0][:, :, None]], dim=2)
    if "holt_winters" in priors:
        forecasts = torch.cat([forecasts, holt_winters(window, horizon, 0)[0][:, :, None]], dim=2)
    return forecasts


def _lagged(values: torch.Tensor, lag: int) -> torch.Tensor:
    """values [B, C] shifted right by `lag` positions, zeros coming in on the left."""
    return torch.nn.functional.pad(values[:, :-lag], (lag, 0))


def autoregression(
    window: NormalisedWindow, horizon: int, origins: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """An autoregression fitted inside each window: (its forecast iterated `horizon` steps
    [B, H]; the one-step forecasts of the window's last `origins` values [B, origins], each from
    the fit on the values before it, latest first). The model is z_t = c + sum_i a_i z_(t-i)
    (i <= AR_LAGS) + b_0 z_(t-m) + b_1 z_(t-m-1), fitted by ridge least squares over the
    positions whose lags are all observed and shrunk toward the seasonal random walk
    z_t = z_(t-1) + z_(t-m) - z_(t-m-1) (naive without a season), so a short window forecasts
    like those. The path stays within one range of the window's values beyond its extremes
    (an explosive fit is cut there). Fitted and iterated in float64: a trending window's sums of
    squares reach 1e8, where float32 moves a near-unit-root path by up to half a window unit."""
    dtype = window.z.dtype
    z, observed, season = window.z.double(), window.observed.double(), window.season
    batch, context = z.shape
    seasonal = (season > 1)[:, None]
    back = torch.arange(context, device=z.device)[None, :] - season[:, None]
    inside = back >= 0
    season_back = torch.where(inside & seasonal, z.gather(1, back.clamp_min(0)), 0.0)
    # without a season the seasonal lags are zero columns (their coefficients stay at 0)
    season_observed = torch.where(seasonal, inside * observed.gather(1, back.clamp_min(0)), 1.0)
    usable = observed * season_observed * _lagged(season_observed, 1)
    for lag in range(1, AR_LAGS + 1):
        usable = usable * _lagged(observed, lag)
    design = torch.stack(
        [
            *(_lagged(z, lag) for lag in range(1, AR_LAGS + 1)),
            season_back,
            _lagged(season_back, 1),
            torch.ones_like(z),
        ],
        dim=2,
    )
    features = design.shape[2]
    # least squares over the positions up to each fit's end: the forecast's fit over every
    # position; the backtests' (ending before each origin, latest first) from one product over the
    # positions they all share and running sums over the last `origins`
    weighted = design * usable[:, :, None]
    grams = [weighted.transpose(1, 2) @ design]
    moments = [weighted.transpose(1, 2) @ z[:, :, None]]
    if origins:
        shared = context - origins
        gram = weighted[:, :shared].transpose(1, 2) @ design[:, :shared]
        moment = weighted[:, :shared].transpose(1, 2) @ z[:, :shared, None]
        tail_grams = (weighted[:, shared:, :, None] * design[:, shared:, None, :]).cumsum(dim=1)
        tail_moments = (weighted[:, shared:] * z[:, shared:, None]).cumsum(dim=1)[..., None]
        grams += [gram + tail_grams[:, -1 - origin] for origin in range(1, origins)] + [gram]
        moments += [moment + tail_moments[:, -1 - origin] for origin in range(1, origins)] + [moment]
    toward = torch.zeros(batch, 1, features, 1, device=z.device, dtype=z.dtype)
    toward[:, 0, 0] = 1.0
    toward[:, 0, AR_LAGS, 0] = seasonal[:, 0].to(z.dtype)
    toward[:, 0, AR_LAGS + 1, 0] = -seasonal[:, 0].to(z.dtype)
    penalty = torch.full((features,), AR_PENALTY, device=z.device, dtype=z.dtype)
    penalty[-1] = 1e-3  # the intercept is hardly shrunk
    coefficients = torch.linalg.solve(
        torch.stack(grams, dim=1) + torch.diag(penalty),
        torch.stack(moments, dim=1) + penalty[:, None] * toward,
    )[..., 0]
    fitted_ends = torch.tensor(
        [context - origin for origin in range(1, origins + 1)], device=z.device, dtype=torch.long
    )
    backtests = (design[:, fitted_ends] * coefficients[:, 1:]).sum(dim=2)
    coefficients = coefficients[:, 0]
    lags = torch.cat(
        [
            torch.arange(1, AR_LAGS + 1, device=z.device).expand(batch, -1),
            season[:, None],
            season[:, None] + 1,
        ],
        dim=1,
    )
    path = torch.cat([z, torch.zeros(batch, horizon, device=z.device, dtype=z.dtype)], dim=1)
    low = torch.where(observed > 0, z, torch.inf).amin(dim=1)
    high = torch.where(observed > 0, z, -torch.inf).amax(dim=1)
    span = (high - low).clamp_min(1.0)
    floor, ceiling = low - span, high + span
    # what each step reads and its bounds, computed once: 6 small tensor operations a step, not
    # 11 (at batch 1 the forecast's cost is the number of operations, not their size)
    reads = (context + torch.arange(horizon, device=z.device)[:, None, None] - lags[None]).clamp_min(0)
    weights, intercept = coefficients[:, :-1], coefficients[:, -1]
    for step in range(horizon):
        next_value = (path.gather(1, reads[step]) * weights).sum(dim=1) + intercept
        path[:, context + step] = torch.clamp(next_value, floor, ceiling)
    return path[:, context:].to(dtype), backtests.to(dtype)


# every rate set the fit tries (alpha, beta, gamma, phi): the level-season pairs without a trend,
# then each pair's HW_TRENDS - pair p's trend k at HW_PAIRS + p len(HW_TRENDS) + k
_UNTRENDED = [(alpha, 0.0, gamma, 1.0) for alpha in HW_LEVEL_RATES for gamma in HW_SEASON_RATES]
HW_PAIRS = len(_UNTRENDED)
HW_RATE_SETS = torch.tensor(
    _UNTRENDED + [(alpha, beta, gamma, phi) for alpha, _, gamma, _ in _UNTRENDED for beta, phi in HW_TRENDS]
)
# one set of maps is about 75 x values x (values + 26) floats (2.7 MB at 96 values, season 12): at most
# this many kept; a call builds those of at most HW_MAP_BUILDS keys, each holding at least
# 1 / HW_MAP_SHARE of its windows (building costs about one run of the loop, so rare keys - the
# windows of many lengths pretraining draws - run the loop together instead)
HW_MAPS_KEPT = 32
HW_MAP_BUILDS = 4
HW_MAP_SHARE = 16


@torch.no_grad()
def holt_winters(window: NormalisedWindow, horizon: int, origins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Additive Holt-Winters with a damped trend, its smoothing rates fitted inside each window:
    (the forecast [B, horizon], its one-step predictions of the last `origins` values, latest
    first [B, origins]). The rates minimise the one-step squared error before those values -
    first the level and season rates (HW_LEVEL_RATES x HW_SEASON_RATES) without a trend, then
    HW_TRENDS' (beta, phi) for the chosen pair - so the rates never see the values their
    predictions are scored on. States start from the window's seasonal profile and its first
    value, as ETS estimates initial states on the whole sample: the initial seasonal states (only
    they) have seen the whole window.

    For fixed rates every output is linear in the window's values, so windows whose (season,
    values) has maps (`_holt_winters_maps`) are computed through them; the rest run
    `_holt_winters_by_loop`, the recursion itself, which the maps equal to float rounding."""
    z = window.z
    batch, context = z.shape
    forecast = z.new_empty(batch, horizon)
    one_step = z.new_empty(batch, origins)
    looped = []
    builds = HW_MAP_BUILDS
    for season, values, rows in _windows_by_key(window):
        key = (context, season, values, origins)
        if key not in _HW_MAPS and (not builds or len(rows) * HW_MAP_SHARE < batch):
            looped.append(rows)
            continue
        builds -= key not in _HW_MAPS
        maps = _holt_winters_maps(*key)
        forecast[rows], one_step[rows] = _through_maps(z[rows, context - values :], maps, season, horizon)
    if looped:
        rows = torch.cat(looped)
        part = NormalisedWindow(
            z=z[rows],
            observed=window.observed[rows],
            level=window.level[rows],
            scale=window.scale[rows],
            season=window.season[rows],
        )
        forecast[rows], one_step[rows] = _holt_winters_by_loop(part, horizon, origins)
    return forecast, one_step


def _windows_by_key(window: NormalisedWindow) -> list[tuple[int, int, torch.Tensor]]:
    """The windows one linear map serves, those of one (effective season, number of values):
    (season, values, their rows), the key with most windows first."""
    count = window.observed.sum(dim=1).long()
    keys = torch.stack([window.season.long(), count], dim=1)
    distinct, group, sizes = torch.unique(keys, dim=0, return_inverse=True, return_counts=True)
    if len(distinct) == 1:
        return [(*distinct[0].tolist(), torch.arange(len(keys)))]
    order = sizes.argsort(descending=True, stable=True).tolist()
    return [(*distinct[number].tolist(), (group == number).nonzero()[:, 0]) for number in order]


@dataclass(frozen=True)
class _Maps:
    """One (season, values, origins)'s Holt-Winters, linear in the window's `values` values z
    [N, values]: z @ errors[:, s] are rate set s's one-step errors the rates are fitted on
    [N, fitted]; z @ outputs[s] its one-step predictions of the last origins (latest first),
    then its final level, trend and seasonal states (phase 0 ... m - 1)."""

    errors: torch.Tensor  # [values, sets, fitted] (fitted = 0: every rate set scores 0)
    outputs: torch.Tensor  # [sets, values, origins + 2 + m]


# the kept maps, the latest used last; the service forecasts from several threads
_HW_MAPS: dict[tuple[int, int, int, int], _Maps] = {}
_HW_MAPS_LOCK = threading.Lock()


def _holt_winters_maps(context: int, season: int, count: int, origins: int) -> _Maps:
    """The maps of the windows of `count` values and effective season `season`: the loop run
    once over the `count` unit windows (1 at one value, 0 at the others) with every rate set,
    kept (the HW_MAPS_KEPT latest used)."""
    key = (context, season, count, origins)
    with _HW_MAPS_LOCK:
        if key in _HW_MAPS:
            _HW_MAPS[key] = maps = _HW_MAPS.pop(key)
            return maps
    dtype = torch.float32
    first = context - count
    unit = NormalisedWindow(
        z=torch.eye(context, dtype=dtype)[first:],
        observed=(torch.arange(context) >= first).to(dtype).expand(count, -1),
        level=torch.zeros(count, 1, dtype=dtype),
        scale=torch.ones(count, 1, dtype=dtype),
        season=torch.full((count,), season),
    )
    errors, one_step, final = _smoothed(unit, HW_RATE_SETS.to(dtype).expand(count, -1, -1), origins)
    fitted = _fitted_positions(unit, origins)[0] > 0
    maps = _Maps(
        errors=errors[:, :, fitted].contiguous(),
        outputs=torch.cat([one_step, final[:, :, : 2 + season]], dim=2).transpose(0, 1).contiguous(),
    )
    with _HW_MAPS_LOCK:
        _HW_MAPS[key] = maps
        while len(_HW_MAPS) > HW_MAPS_KEPT:
            del _HW_MAPS[next(iter(_HW_MAPS))]
    return maps


def _through_maps(
    values: torch.Tensor, maps: _Maps, season: int, horizon: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """`holt_winters` of windows of one key from their values [N, values]: the two-stage choice
    on the mapped errors, then the chosen set's one-step predictions and forecast."""
    trends = len(HW_TRENDS)
    errors, outputs = maps.errors.to(values.dtype), maps.outputs.to(values.dtype)
    squared = torch.einsum("nv,vsf->nsf", values, errors[:, :HW_PAIRS]).square().sum(dim=2)
    pair = squared.argmin(dim=1)
    rows = torch.arange(values.shape[0])
    candidates = torch.empty(values.shape[0], 1 + trends, dtype=values.dtype)
    candidates[:, 0] = squared[rows, pair]
    for chosen in pair.unique().tolist():
        among = (pair == chosen).nonzero()[:, 0]
        trended = errors[:, HW_PAIRS + chosen * trends : HW_PAIRS + (chosen + 1) * trends]
        candidates[among, 1:] = torch.einsum("nv,vsf->nsf", values[among], trended).square().sum(dim=2)
    best = candidates.argmin(dim=1)
    chosen_set = torch.where(best == 0, pair, HW_PAIRS + pair * trends + best - 1)
    mapped = torch.bmm(values[:, None, :], outputs[chosen_set])[:, 0]
    origins = mapped.shape[1] - 2 - season
    seasons = torch.full((values.shape[0],), season)
    forecast = _forecast(mapped[:, origins:], HW_RATE_SETS[chosen_set, 3].to(values.dtype), seasons, horizon)
    return forecast, mapped[:, :origins]


def _forecast(final: torch.Tensor, phi: torch.Tensor, season: torch.Tensor, horizon: int) -> torch.Tensor:
    """The forecast [N, horizon] from the final states [N, 2 + m] (level, trend, seasonal states
    by phase) and the damping phi [N]: step h reads its phase's latest state, (h - 1) mod m."""
    steps = torch.arange(1, horizon + 1, dtype=final.dtype)
    damped = (phi[:, None] ** steps[None, :]).cumsum(dim=1)
    phase = 2 + torch.remainder(torch.arange(horizon)[None, :], season[:, None])
    return final[:, :1] + damped * final[:, 1:2] + final.gather(1, phase)


def _holt_winters_by_loop(
    window: NormalisedWindow, horizon: int, origins: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """`holt_winters` by running the recursion: the untrended pairs, then the chosen pair's trends."""
    batch = window.z.shape[0]
    rates = HW_RATE_SETS.to(window.z.dtype)
    counted = _fitted_positions(window, origins).sum(dim=1, keepdim=True).clamp_min(1.0)
    errors, one_step, final = _smoothed(window, rates[:HW_PAIRS].expand(batch, -1, -1), origins)
    squared = errors.square().sum(dim=2) / counted
    rows = torch.arange(batch)
    pair = squared.argmin(dim=1)
    trended = HW_PAIRS + pair[:, None] * len(HW_TRENDS) + torch.arange(len(HW_TRENDS))[None, :]
    trend_errors, trend_one_step, trend_final = _smoothed(window, rates[trended], origins)
    squared = torch.cat([squared[rows, pair][:, None], trend_errors.square().sum(dim=2) / counted], dim=1)
    best = squared.argmin(dim=1)
    chosen_set = torch.where(best == 0, pair, trended[rows, (best - 1).clamp_min(0)])
    final = torch.cat([final[rows, pair][:, None], trend_final], dim=1)[rows, best]
    one_step = torch.cat([one_step[rows, pair][:, None], trend_one_step], dim=1)[rows, best]
    return _forecast(final, rates[chosen_set, 3], window.season.long(), horizon), one_step


def _fitted_positions(window: NormalisedWindow, origins: int) -> torch.Tensor:
    """1.0 where a one-step error counts in the fit of the rates [B, C]: after the window's
    first season and two values, before its last `origins` values."""
    context = window.z.shape[1]
    position = torch.arange(context)
    first = context - window.observed.sum(dim=1).long()
    fitted = (position[None, :] >= (first + window.season.long() + 2)[:, None]) & (
        position[None, :] < context - origins
    )
    return (fitted & (window.observed > 0)).to(window.z.dtype)


def _smoothed(
    window: NormalisedWindow, rates: torch.Tensor, origins: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Holt-Winters run through every window once per set of rates [B, G, 4] (alpha, beta, gamma,
    phi): (its one-step errors at `_fitted_positions`, 0 elsewhere [B, G, C]; its one-step
    predictions of the last `origins` values, latest first [B, G, origins]; its final level,
    trend and seasonal states by phase [B, G, 2 + the largest season]). Time-major, one column
    per window and rate set; the seasonal state of time t is read at t and written, updated, at
    t + m."""
    z, observed, season = window.z, window.observed, window.season.long()
    batch, context = z.shape
    sets = rates.shape[1]
    alpha, beta, gamma, phi = (rates[:, :, i].reshape(-1) for i in range(4))
    m = season.repeat_interleave(sets)
    gamma = gamma * (m > 1).to(z.dtype)
    trend_rate = alpha * beta
    first = context - observed.sum(dim=1).long()
    position = torch.arange(context)
    largest = int(season.max())
    # the window's profile by phase (p steps before its last value), for every position
    _, index = seasonal_profile(window)
    states = torch.zeros(context + largest, batch, dtype=z.dtype)
    states[:context] = index.gather(1, torch.remainder(context - 1 - position[None, :], season[:, None])).t()
    states = states.repeat_interleave(sets, dim=1)
    values = z.t().repeat_interleave(sets, dim=1)
    # an error counts from the value after the first (it moves the states)
    active = ((position[:, None] > first[None, :]) & (observed.t() > 0)).to(z.dtype)
    active = active.repeat_interleave(sets, dim=1)
    fitted = _fitted_positions(window, origins).t().repeat_interleave(sets, dim=1)
    start = first.clamp_max(context - 1).repeat_interleave(sets)
    level = values.gather(0, start[None, :])[0] - states.gather(0, start[None, :])[0]
    trend = torch.zeros_like(level)
    errors = torch.empty(context, level.shape[0], dtype=z.dtype)
    one_step = torch.empty(origins, level.shape[0], dtype=z.dtype)
    ahead = (position[:, None] + m[None, :]).clamp_max(states.shape[0] - 1)
    for t in range(context):
        seasonal = states[t]
        predicted = torch.addcmul(level, phi, trend) + seasonal
        error = (values[t] - predicted) * active[t]
        if t >= context - origins:
            one_step[context - 1 - t] = predicted
        torch.mul(error, fitted[t], out=errors[t])
        # before the first value error is 0 and the trend 0: the states stay as they started
        level = torch.addcmul(predicted - seasonal, alpha, error)
        trend = torch.addcmul(phi * trend, trend_rate, error)
        states.scatter_(0, ahead[t][None, :], torch.addcmul(seasonal, gamma, error)[None, :])
    # phase p's latest state was written at context + p
    final = torch.cat([level[None, :], trend[None, :], states[context:]])
    return (
        errors.t().reshape(batch, sets, context),
        one_step.t().reshape(batch, sets, origins),
        final.t().reshape(batch, sets, 2 + largest),
    )


# a log-scale prior reaches at most this many times the window's largest value (e^3)
LOG_MARGIN = 3.0
# up to this many windows the plain and the log autoregression are fitted in one call: a small
# batch's cost is its number of tensor operations (batch 1: 0.8 against 1.6 ms); a large one's is
# memory traffic, which twice the rows at once makes worse (1,000 windows: 52 against 33 ms)
JOINT_AUTOREGRESSION_ROWS = 32


def candidate_names(priors: tuple[str, ...]) -> tuple[str, ...]:
    """The candidates of a base network mixing `priors`: each on the plain, then on the log scale
    (LOG_SCALE_ONLY's on the log scale only)."""
    plain = tuple(name for name in priors if name not in LOG_SCALE_ONLY)
    return plain + tuple(f"log_{name}" for name in priors)


# every candidate `candidate_priors` computes, in its order
CANDIDATES = candidate_names(PRIORS)


def log_window(window: NormalisedWindow) -> tuple[NormalisedWindow, torch.Tensor]:
    """The window on a log scale, normalised afresh, and which rows it is [B] (every observed
    value > 0); other rows keep their values, so their log priors equal the plain ones."""
    values = window.decode(window.z)
    present = window.observed > 0
    positive = (~present | (values > 0)).all(dim=1)
    on_log = positive[:, None].to(values.dtype)
    logged = values.clamp_min(1e-30).log() * on_log + values * (1.0 - on_log)
    return normalise_values(logged * window.observed, window.observed, window.season), positive


def _log_in_window(
    window: NormalisedWindow, logged: NormalisedWindow, positive: torch.Tensor, forecasts: torch.Tensor
) -> torch.Tensor:
    """Forecasts [B, H, P] in the log window's normalised space -> in `window`'s, through the
    original units where the row is on a log scale (at most LOG_MARGIN above its largest log)."""
    in_log = logged.level[:, :, None] + logged.scale[:, :, None] * forecasts
    top = torch.where(window.observed > 0, logged.decode(logged.z), -torch.inf).amax(dim=1)
    in_log = torch.where(
        positive[:, None, None], in_log.clamp_max(top[:, None, None] + LOG_MARGIN).exp(), in_log
    )
    return (in_log - window.level[:, :, None]) / window.scale[:, :, None]


def candidate_priors(
    window: NormalisedWindow, horizon: int, priors: tuple[str, ...] = PRIORS
) -> torch.Tensor:
    """`priors` on the plain and on the log scale, in the window's normalised space:
    [B, H, len(candidate_names(priors))]."""
    forecasts, _ = _candidates(window, horizon, 0, priors)
    assert forecasts is not None
    return forecasts


def backtest_errors(window: NormalisedWindow, origins: int, priors: tuple[str, ...] = PRIORS) -> torch.Tensor:
    """How well each candidate of `priors` forecast the window's own recent values one step
    ahead: the mean absolute one-step error per candidate [B, 2 len(priors)] over the last
    `origins` values (each forecast from the values before it), in the window's normalised
    space - the evidence AutoETS's likelihood weighs its models by. Origins with fewer than
    three values before them do not count; 0 for a window with no such origin."""
    _, errors = _candidates(window, 0, origins, priors)
    assert errors is not None
    return errors


def candidate_forecasts(
    window: NormalisedWindow, horizon: int, backtest_origins: int, priors: tuple[str, ...] = PRIORS
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`candidate_priors` and, with `backtest_origins`, their `backtest_errors` (else None), from
    one log window and one autoregression fit per scale."""
    forecasts, errors = _candidates(window, horizon, backtest_origins, priors)
    assert forecasts is not None
    return forecasts, errors


def _candidates(
    window: NormalisedWindow, horizon: int, origins: int, priors: tuple[str, ...]
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(`candidate_priors` over `horizon` steps, None for 0; `backtest_errors` over `origins`,
    None for 0), plain candidates first, then the log-scale ones, each in `priors`' order."""
    closed_form = tuple(name for name in priors if name in CLOSED_FORM_PRIORS)
    logged, positive = log_window(window)
    plain, logs, plain_errors, log_errors = [], [], [], []
    if horizon and closed_form:
        layout = WindowLayout.of(window)
        plain.append(prior_forecasts(window, horizon, layout, closed_form))
        logs.append(prior_forecasts(logged, horizon, layout, closed_form))
    if origins:
        origins = min(origins, window.z.shape[1] - 3)
        actual, usable = _backtest_targets(window, origins)
        if closed_form:
            one_step = _closed_form_backtests(window, origins, closed_form)
            plain_part, log_part = _mean_errors(one_step, actual, usable).chunk(2, dim=1)
            plain_errors.append(plain_part)
            log_errors.append(log_part)
    if "autoregressive" in priors:
        # one fit per scale: its forecast, and its refits before each origin from running sums
        if window.z.shape[0] <= JOINT_AUTOREGRESSION_ROWS:
            paths, all_backtests = autoregression(
                NormalisedWindow.concatenated([window, logged]), horizon, origins
            )
            (path, log_path), (backtests, log_backtests) = paths.chunk(2), all_backtests.chunk(2)
        else:
            path, backtests = autoregression(window, horizon, origins)
            log_path, log_backtests = autoregression(logged, horizon, origins)
        plain.append(path[:, :, None])
        logs.append(log_path[:, :, None])
        if origins:
            plain_errors.append(_mean_errors(backtests[:, :, None], actual, usable))
            in_log = _log_in_window(window, logged, positive, log_backtests[:, :, None])
            log_errors.append(_mean_errors(in_log, actual, usable))
    if "holt_winters" in priors:
        log_path, log_one_step = holt_winters(logged, horizon, origins)
        logs.append(log_path[:, :, None])
        if origins:
            in_log = _log_in_window(window, logged, positive, log_one_step[:, :, None])
            log_errors.append(_mean_errors(in_log, actual, usable))
    forecasts = (
        torch.cat([*plain, _log_in_window(window, logged, positive, torch.cat(logs, dim=2))], dim=2)
        if horizon
        else None
    )
    return forecasts, torch.cat([*plain_errors, *log_errors], dim=1) if origins else None


def _backtest_targets(window: NormalisedWindow, origins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The window's last `origins` values, latest first [B, origins], and 1.0 where a value has
    at least three values before it (an origin that counts)."""
    z, context = window.z, window.z.shape[1]
    count = window.observed.sum(dim=1).long()
    actual = torch.stack([z[:, context - back] for back in range(1, origins + 1)], dim=1)
    usable = torch.stack([count - back >= 3 for back in range(1, origins + 1)], dim=1).to(z.dtype)
    return actual, usable


def _mean_errors(forecasts: torch.Tensor, actual: torch.Tensor, usable: torch.Tensor) -> torch.Tensor:
    """One-step forecasts [B, origins, P] -> their mean absolute error over the usable origins [B, P]."""
    errors = (forecasts - actual[:, :, None]).abs() * usable[:, :, None]
    return errors.sum(dim=1) / usable.sum(dim=1, keepdim=True).clamp_min(1.0)


@torch.no_grad()
def _closed_form_backtests(
    window: NormalisedWindow, origins: int, closed_form: tuple[str, ...]
) -> torch.Tensor:
    """The one-step forecasts of the closed-form candidates from the values before each of the
    last `origins` values [B, origins, 2 len(closed_form)], plain then log scale.

    Every closed-form prior is linear in the window's values once the season and the number of
    values are fixed (profiles, levels and lines are weighted sums), and equivariant: a shifted
    and scaled window's forecasts are shifted and scaled alike. So the plain backtests are
    z @ one map per (season, values), and the log ones the same map applied to the log values,
    clamped and exponentiated as `_log_in_window` does for the window before each origin - what
    computing every shifted window's candidates gives, at a fraction of the cost."""
    z, observed = window.z, window.observed
    batch, context = z.shape
    values = window.decode(z)
    logs = values.clamp_min(1e-30).log()
    # log values relative to the last one (for float precision), 0 where padded like z
    anchor = logs[:, -1:]
    relative_logs = (logs - anchor) * observed
    plain = torch.empty(batch, origins, len(closed_form), dtype=z.dtype)
    logged = torch.empty_like(plain)
    for season, values_in_window, rows in _windows_by_key(window):
        mapping = _backtest_map(context, season, values_in_window, origins, closed_form).to(z.dtype)
        plain[rows] = torch.einsum("bc,cop->bop", z[rows], mapping)
        logged[rows] = torch.einsum("bc,cop->bop", relative_logs[rows], mapping)
    # the log-scale window before each origin (back = 1 ... origins): every value before it
    # positive, its largest log value capping the forecast (LOG_MARGIN)
    present = observed > 0
    before = [context - back - 1 for back in range(1, origins + 1)]  # each window's last position
    positive = torch.where(present, values, torch.inf).cummin(dim=1).values[:, before] > 0
    top = torch.where(present, logs, -torch.inf).cummax(dim=1).values[:, before]
    in_log = (anchor[:, :, None] + logged).clamp_max(top[:, :, None] + LOG_MARGIN).exp()
    logged = torch.where(
        positive[:, :, None], (in_log - window.level[:, :, None]) / window.scale[:, :, None], plain
    )
    return torch.cat([plain, logged], dim=2)


# one backtest map is context x origins x priors floats (41 KB at 96 x 12 x 9): at most this many kept
BACKTEST_MAPS = 1024


@functools.lru_cache(maxsize=BACKTEST_MAPS)
def _backtest_map(
    context: int, season: int, count: int, origins: int, closed_form: tuple[str, ...]
) -> torch.Tensor:
    """[context, origins, len(closed_form)]: row i is the closed-form priors' one-step forecasts
    at each of the last `origins` values of the window of `count` values (season `season`) that
    is 1 at position i and 0 elsewhere - by linearity, a window z's are z @ this map. Computed
    from the windows before each origin, as the forecasts themselves are."""
    dtype = torch.float32
    observed = (torch.arange(context) >= context - count).to(dtype).expand(context, -1)
    z = torch.eye(context, dtype=dtype) * observed
    shifted_z, shifted_observed, seasons = [], [], []
    for back in range(1, origins + 1):
        observed_before = torch.nn.functional.pad(observed[:, :-back], (back, 0))
        # a window without a value at this origin still needs a last value; its error is dropped
        observed_before[:, -1] = 1.0
        shifted_z.append(torch.nn.functional.pad(z[:, :-back], (back, 0)))
        shifted_observed.append(observed_before)
        seasons.append(
            effective_seasons(torch.full((context,), season), torch.full((context,), count - back))
        )
    earlier = NormalisedWindow(
        z=torch.cat(shifted_z),
        observed=torch.cat(shifted_observed),
        level=torch.zeros(origins * context, 1, dtype=dtype),
        scale=torch.ones(origins * context, 1, dtype=dtype),
        season=torch.cat(seasons),
    )
    forecasts = prior_forecasts(earlier, 1, None, closed_form)[:, 0]
    return forecasts.view(origins, context, -1).transpose(0, 1).contiguous()
