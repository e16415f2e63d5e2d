"""LightningModule: L1 loss in the window-normalised space (a per-window MASE), AdamW,
cosine learning-rate decay. Every ensemble member gets its own loss; validation scores the
ensemble mean, which is what gets served.
"""

from __future__ import annotations

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
        context, target = batch
        z, level, scale = self.scaler.encode(context)
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
