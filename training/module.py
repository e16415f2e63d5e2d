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
# level (zero map; for m = 1 that is the last value) or the last value (naive, which a random
# walk needs). A seasonal-naive prior was tried and dropped (ablations.md).
RIDGE_PRIORS = ("level", "naive")

Pair = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class RidgeChoice:
    alpha: float
    penalise_bias: bool
    prior: str = "level"


def prior_map(prior: str, context: int, horizon: int) -> torch.Tensor:
    """The linear map [H, T] of a simple forecast in the normalised space."""
    weight = torch.zeros(horizon, context, dtype=torch.float64)
    if prior == "naive":
        weight[:, -1] = 1.0
    elif prior != "level":
        raise ValueError(f"prior must be one of {RIDGE_PRIORS}, got {prior!r}")
    return weight


def ridge_fit(z: torch.Tensor, target: torch.Tensor, choice: RidgeChoice) -> Pair:
    """Closed-form ridge z [N, T] -> target [N, H] shrunk towards `choice.prior`; the penalty
    is alpha * N (scale-free in N).

    Returns (weight [H, T], bias [H]). A large alpha gives the prior forecast itself, so the
    fit can only add to a simple forecast what the data supports; an unpenalised bias keeps a drift.
    """
    prior = prior_map(choice.prior, z.shape[1], target.shape[1])
    x = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], dim=1).double()
    residual = target.double() - z.double() @ prior.T
    penalty = torch.eye(x.shape[1], dtype=torch.float64)
    if not choice.penalise_bias:
        penalty[-1, -1] = 0.0
    gram = x.T @ x + choice.alpha * len(x) * penalty + 1e-8 * torch.eye(x.shape[1], dtype=torch.float64)
    solution = torch.linalg.solve(gram, x.T @ residual)  # [T + 1, H]
    weight = solution[:-1].T + prior
    return weight.float().contiguous(), solution[-1].float().contiguous()


def select_ridge(folds: list[tuple[Pair, Pair]]) -> tuple[RidgeChoice, float]:
    """Pick the ridge prior, penalty and whether the bias is penalised by rolling-origin CV.

    `folds` holds ((z, target) fit pairs, (z, target) held-out pairs), each a
    normalised-space window set; the score is the mean over folds of the held-out L1 loss.
    """
    best, best_loss = RidgeChoice(RIDGE_ALPHAS[0], True), float("inf")
    for prior in RIDGE_PRIORS:
        for penalise_bias in (True, False):
            for alpha in RIDGE_ALPHAS:
                choice = RidgeChoice(alpha, penalise_bias, prior)
                losses = []
                for fit, held_out in folds:
                    weight, bias = ridge_fit(*fit, choice)
                    losses.append(float((held_out[0] @ weight.T + bias - held_out[1]).abs().mean()))
                loss = sum(losses) / len(losses)
                if loss < best_loss:
                    best, best_loss = choice, loss
    return best, best_loss
