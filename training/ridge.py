"""The ridge initialisation of the network's linear skip: priors, closed-form fits, the
penalty chosen by rolling-origin CV, and the robust refit.

The skip carries most of the accuracy on short series (ablations.md); the recurrent part is
trained as a correction on top of it. Everything here is in the window-normalised space of
`models.scaling`: z [N, T] (seasonal profile, then context) -> target [N, H].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

RIDGE_ALPHAS = (1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0, 100.0, 1000.0)
# What a heavily penalised ridge falls back to, in the window-normalised space:
# - "level": the window's level, the mean of its last season (zero map; for m = 1 the last value);
# - "naive": the last value, which a random walk needs;
# - "trend": the level moved along the series' recent slope from the middle of the last season,
#   where it stands ((m - 1) / 2 steps back), to the forecast step, damped beyond the last
#   value. The slope is the rise from the seasonal profile's season to the context's last one.
#   With the level alone, an unpenalised bias has to make up the lag as the average drift of
#   the training windows, which points the wrong way once the trend turns (ablations.md, section 20);
# - "profile_trend": the trend plus the profile's seasonal shape (ETS's split: level and trend
#   from the recent past, season from the long run).
# A seasonal-naive prior, picked by the CV, was tried and dropped (ablations.md, section 7 c).
RIDGE_PRIORS = ("level", "naive", "trend", "profile_trend")
# The priors the skip blends: with a seasonal profile in the input, and without one
SEASONAL_PRIORS = ("trend", "naive", "profile_trend")
PLAIN_PRIORS = ("level", "naive")
# Per-step damping of the trend priors' slope beyond the last value (damped-trend ETS's phi)
TREND_DAMPING = 0.9

Pair = tuple[torch.Tensor, torch.Tensor]
# Robust reweighting passes of the skip's fits once its penalties are chosen (`ridge_fit`)
SKIP_REWEIGHTINGS = 3


@dataclass(frozen=True)
class RidgeChoice:
    alpha: float
    penalise_bias: bool
    prior: str = "level"
    # how many of the latest context values the member reads (0 = the whole context); the
    # profile is always read, the older values keep the prior's weight
    recent: int = 0


def prior_map(prior: str, input_length: int, horizon: int, profile_length: int = 0) -> torch.Tensor:
    """The linear map [H, T] of a simple forecast in the normalised space; the input's first
    `profile_length` values are the seasonal profile (one season, ending where the context starts)."""
    if prior not in RIDGE_PRIORS:
        raise ValueError(f"prior must be one of {RIDGE_PRIORS}, got {prior!r}")
    weight = torch.zeros(horizon, input_length, dtype=torch.float64)
    if prior not in ("level", "naive") and not profile_length:
        raise ValueError(f"the {prior} prior needs a seasonal profile in the input")
    m, context = profile_length, input_length - profile_length
    steps = torch.arange(horizon)
    if prior == "naive":
        weight[:, -1] = 1.0
    if prior.startswith("profile"):
        # step h lies m * k + (h + context) % m steps after profile slot (h + context) % m,
        # the same phase; subtracting the profile's mean keeps the window's level
        slots = (steps + context) % m
        weight[steps, slots] = 1.0
        weight[:, :m] -= 1.0 / m
    if prior.endswith("trend"):
        # the slope per step: the level (mean of the last k = min(m, context) values) minus the
        # profile's mean, over the steps between their centres (`context` for a whole season)
        k = min(m, context)
        distance = context + (m - k) / 2
        slope = torch.zeros(input_length, dtype=torch.float64)
        slope[input_length - k :] = 1.0 / (k * distance)
        slope[:m] -= 1.0 / (m * distance)
        damped = (TREND_DAMPING ** torch.arange(1, horizon + 1, dtype=torch.float64)).cumsum(0)
        reach = (k - 1) / 2 + damped
        if prior == "profile_trend":
            # the profile holds the trend's rise across its season too: only its shape is seasonal
            reach = reach - (slots - (m - 1) / 2)
        weight += reach[:, None] * slope[None, :]
    return weight


def context_subsets(context_length: int, season_length: int) -> tuple[int, ...]:
    """The `RidgeChoice.recent` values each prior gets a member for: the whole context and its
    latest half (at least one season). The shorter map has half the coefficients to estimate
    from the same windows; which one suits a series varies (ablations.md sections 7 and 20),
    and averaging both was better than either on every set."""
    half = max(season_length, context_length // 2)
    return (0, half) if half < context_length else (0,)


def _ridge_solution(gram: torch.Tensor, cross: torch.Tensor, n: float, choice: RidgeChoice) -> torch.Tensor:
    """Solve (G + alpha * n * I) w = c, the bias (last row) unpenalised unless chosen; [k + 1, H]."""
    penalty = torch.eye(len(gram), dtype=torch.float64)
    if not choice.penalise_bias:
        penalty[-1, -1] = 0.0
    penalty = choice.alpha * n * penalty + 1e-8 * torch.eye(len(gram), dtype=torch.float64)
    return torch.linalg.solve(gram + penalty, cross)


def _member_columns(input_length: int, profile_length: int, recent: int) -> torch.Tensor:
    columns = torch.arange(input_length)
    if recent and profile_length + recent < input_length:
        columns = torch.cat([columns[:profile_length], columns[input_length - recent :]])
    return columns


def ridge_fit(
    z: torch.Tensor,
    target: torch.Tensor,
    choice: RidgeChoice,
    profile_length: int = 0,
    reweightings: int = 0,
) -> Pair:
    """Closed-form ridge z [N, T] -> target [N, H] shrunk towards `choice.prior`; the penalty
    is alpha * N (scale-free in N).

    Returns (weight [H, T], bias [H]). A large alpha gives the prior forecast itself, so the
    fit can only add to a simple forecast what the data supports; an unpenalised bias keeps a drift.

    `reweightings` > 0 makes it a robust (Huber) fit by iteratively reweighted least squares:
    each pass down-weights the windows whose mean absolute residual r exceeds the median one to
    median / r (weights rescaled to mean 1, so alpha keeps its meaning). Least squares lets a few
    outlying windows - holidays, level shifts - pull every forecast, while the network is
    trained and the forecasts scored in absolute error (ablations.md, section 17).
    """
    prior = prior_map(choice.prior, z.shape[1], target.shape[1], profile_length)
    columns = _member_columns(z.shape[1], profile_length, choice.recent)
    x = torch.cat([z[:, columns], torch.ones(len(z), 1, dtype=z.dtype)], dim=1).double()
    residual = target.double() - z.double() @ prior.T
    weights = torch.ones(len(x), 1, dtype=torch.float64)
    for reweighting in range(reweightings + 1):
        weighted = x * weights
        solution = _ridge_solution(weighted.T @ x, weighted.T @ residual, len(x), choice)
        if reweighting < reweightings:
            deviation = (residual - x @ solution).abs().mean(dim=1, keepdim=True)
            weights = (deviation.median() / deviation.clamp_min(1e-12)).clamp_max(1.0)
            weights = weights / weights.mean()
    weight = prior.clone()
    weight[:, columns] += solution[:-1].T
    return weight.float().contiguous(), solution[-1].float().contiguous()


@dataclass(frozen=True)
class RidgeBlend:
    """The linear skip: the average of one ridge per prior and context subset, each with its
    own penalty.

    Averaging beats picking the single best prior by CV: on 13-40 validation windows the pick
    is noisy (the profile prior wins the CV on passengers and loses the test part by 60 %),
    while the average is better than each member on most series (ablations.md, section 14).
    The price: on a random walk, where only the naive prior is right, the blend is a damped
    naive forecast. Each member is fitted robustly (`ridge_fit` with SKIP_REWEIGHTINGS).
    """

    members: tuple[RidgeChoice, ...]
    profile_length: int = 0

    def fit(self, z: torch.Tensor, target: torch.Tensor) -> Pair:
        fits = [
            ridge_fit(z, target, member, self.profile_length, SKIP_REWEIGHTINGS) for member in self.members
        ]
        return torch.stack([w for w, _ in fits]).mean(dim=0), torch.stack([b for _, b in fits]).mean(dim=0)


@dataclass
class FoldGram:
    """A CV fold's least-squares sufficient statistics, computed once for every candidate:
    X = [z, 1] of the fit windows, G = X'X and X'target (weather: 14,000 windows of 240 values)."""

    gram: torch.Tensor
    cross: torch.Tensor
    windows: int
    held_out: Pair

    @classmethod
    def of(cls, fit: Pair, held_out: Pair) -> FoldGram:
        z, target = fit
        x = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], dim=1).double()
        return cls(x.T @ x, x.T @ target.double(), len(x), held_out)

    def held_out_loss(self, choice: RidgeChoice, profile_length: int) -> float:
        """Mean absolute held-out error of `ridge_fit(fit windows, choice)` (least squares)."""
        z, target = self.held_out
        inputs = z.shape[1]
        prior = prior_map(choice.prior, inputs, target.shape[1], profile_length)
        columns = torch.cat([_member_columns(inputs, profile_length, choice.recent), torch.tensor([inputs])])
        # X'(target - z prior') = X'target - (X'z) prior', and X'z is G without its bias column
        cross = self.cross - self.gram[:, :inputs] @ prior.T
        solution = _ridge_solution(self.gram[columns][:, columns], cross[columns], self.windows, choice)
        weight = prior.clone()
        weight[:, columns[:-1]] += solution[:-1].T
        return float((z.double() @ weight.T + solution[-1] - target.double()).abs().nanmean())


def select_ridge(
    folds: list[tuple[Pair, Pair]], profile_length: int = 0, season_length: int = 1
) -> RidgeBlend:
    """For every prior the input allows and every context subset, pick the penalty and whether
    the bias is penalised by rolling-origin CV; the skip is the members' average.

    `folds` holds ((z, target) fit pairs, (z, target) held-out pairs), each a
    normalised-space window set; the score is the mean over folds of the held-out L1 loss.
    The candidates are plain least-squares fits (20 per member, all from one Gram matrix per
    fold), and the robust fit chosen this way was also the more accurate (ablations.md, section 17).
    """
    grams = [FoldGram.of(fit, held_out) for fit, held_out in folds]

    def cv_loss(choice: RidgeChoice) -> float:
        return sum(gram.held_out_loss(choice, profile_length) for gram in grams) / len(grams)

    context_length = folds[0][0][0].shape[1] - profile_length
    members = []
    for prior in SEASONAL_PRIORS if profile_length else PLAIN_PRIORS:
        for recent in context_subsets(context_length, profile_length or season_length):
            candidates = [
                RidgeChoice(alpha, penalise_bias, prior, recent)
                for penalise_bias in (True, False)
                for alpha in RIDGE_ALPHAS
            ]
            members.append(min(candidates, key=cv_loss))
    return RidgeBlend(tuple(members), profile_length)
