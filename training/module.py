"""LightningModule: L1 loss in the window-normalised space (a per-window MASE), AdamW,
cosine learning-rate decay. Every ensemble member gets its own loss; validation scores the
ensemble mean, which is what gets served.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import torch
from torch import nn

from models.network import Forecaster, ForecasterConfig
from models.scaling import WindowScaler


class ForecastModule(L.LightningModule):
    def __init__(
        self,
        network_config: ForecasterConfig,
        scaler: WindowScaler,
        learning_rate: float,
        weight_decay: float,
        max_epochs: int,
    ) -> None:
        super().__init__()
        self.save_hyperparameters({"network": network_config.to_dict(), "scaler": scaler.to_dict()})
        self.network = Forecaster(network_config)
        self.scaler = scaler
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.loss = nn.L1Loss()

    def _normalised(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        history, target = batch
        z, level, scale = self.scaler.encode(history, self.network.config.context_length)
        return self.network(z), self.scaler.normalise(target, level, scale)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_index: int) -> torch.Tensor:
        members, target = self._normalised(batch)
        loss = self.loss(members, target.expand_as(members))
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_index: int) -> None:
        members, target = self._normalised(batch)
        self.log("val_loss", self.loss(members.mean(dim=0), target), on_epoch=True, prog_bar=True)

    def configure_optimizers(self) -> dict:
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(self.max_epochs, 1))
        return {"optimizer": optimizer, "lr_scheduler": schedule}


RIDGE_ALPHAS = (1e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0, 100.0, 1000.0)
# What a heavily penalised ridge falls back to, in the window-normalised space: the window's
# level (zero map; for m = 1 that is the last value), the last value (naive, which a random
# walk needs), or - with a seasonal profile in the input - the profile's seasonal shape around
# the window's level (ETS's split: level from the recent past, season from the long run).
# A seasonal-naive prior, picked by the CV, was tried and dropped (ablations.md, section 7 c).
RIDGE_PRIORS = ("level", "naive", "profile")

Pair = tuple[torch.Tensor, torch.Tensor]
# Robust reweighting passes of the skip's fits once its penalties are chosen (`ridge_fit`)
SKIP_REWEIGHTINGS = 3


@dataclass(frozen=True)
class RidgeChoice:
    alpha: float
    penalise_bias: bool
    prior: str = "level"


def prior_map(prior: str, input_length: int, horizon: int, profile_length: int = 0) -> torch.Tensor:
    """The linear map [H, T] of a simple forecast in the normalised space; the input's first
    `profile_length` values are the seasonal profile (one season, ending where the context starts)."""
    weight = torch.zeros(horizon, input_length, dtype=torch.float64)
    if prior == "naive":
        weight[:, -1] = 1.0
    elif prior == "profile":
        if not profile_length:
            raise ValueError("the profile prior needs a seasonal profile in the input")
        context = input_length - profile_length
        # step h lies m * k + (h + context) % m steps after profile slot (h + context) % m,
        # the same phase; subtracting the profile's mean keeps the window's level
        steps = torch.arange(horizon)
        weight[steps, (steps + context) % profile_length] = 1.0
        weight[:, :profile_length] -= 1.0 / profile_length
    elif prior != "level":
        raise ValueError(f"prior must be one of {RIDGE_PRIORS}, got {prior!r}")
    return weight


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
    x = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], dim=1).double()
    residual = target.double() - z.double() @ prior.T
    penalty = torch.eye(x.shape[1], dtype=torch.float64)
    if not choice.penalise_bias:
        penalty[-1, -1] = 0.0
    penalty = choice.alpha * len(x) * penalty + 1e-8 * torch.eye(x.shape[1], dtype=torch.float64)
    weights = torch.ones(len(x), 1, dtype=torch.float64)
    for reweighting in range(reweightings + 1):
        weighted = x * weights
        solution = torch.linalg.solve(weighted.T @ x + penalty, weighted.T @ residual)  # [T + 1, H]
        if reweighting < reweightings:
            deviation = (residual - x @ solution).abs().mean(dim=1, keepdim=True)
            weights = (deviation.median() / deviation.clamp_min(1e-12)).clamp_max(1.0)
            weights = weights / weights.mean()
    weight = solution[:-1].T + prior
    return weight.float().contiguous(), solution[-1].float().contiguous()


@dataclass(frozen=True)
class RidgeBlend:
    """The linear skip: the average of one ridge per prior, each with its own penalty.

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


def select_ridge(folds: list[tuple[Pair, Pair]], profile_length: int = 0) -> RidgeBlend:
    """For every prior the input allows, pick the penalty and whether the bias is penalised by
    rolling-origin CV; the skip is their average.

    `folds` holds ((z, target) fit pairs, (z, target) held-out pairs), each a
    normalised-space window set; the score is the mean over folds of the held-out L1 loss.
    The candidates are plain least-squares fits: one solve each for 20 candidates per prior,
    and the robust fit chosen this way was also the more accurate (ablations.md, section 17).
    """
    members = []
    for prior in RIDGE_PRIORS:
        if prior == "profile" and not profile_length:
            continue
        best, best_loss = None, float("inf")
        for penalise_bias in (True, False):
            for alpha in RIDGE_ALPHAS:
                choice = RidgeChoice(alpha, penalise_bias, prior)
                losses = []
                for fit, held_out in folds:
                    weight, bias = ridge_fit(*fit, choice, profile_length)
                    losses.append(float((held_out[0] @ weight.T + bias - held_out[1]).abs().mean()))
                loss = sum(losses) / len(losses)
                if loss < best_loss:
                    best, best_loss = choice, loss
        members.append(best)
    return RidgeBlend(tuple(members), profile_length)
