"""The Lightning side of a fit: a LightningModule around an injected network, and the Trainer
(`train_module`, which fine-tuning the base network uses too).

The module owns the loss and the optimiser only: L1 in the window-normalised space (a
per-window MASE), AdamW, cosine learning-rate decay. Every ensemble member gets its own
loss; validation scores the ensemble mean, which is what gets served. The network comes in
already initialised (`new_network`: seeded, its linear skip at the ridge fit), as Lightning's
own examples inject a backbone.
"""

from __future__ import annotations

import tempfile

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import MLFlowLogger
from torch import nn

from models.network import Forecaster, ForecasterConfig
from models.scaling import WindowScaler
from training.config import TrainConfig
from training.windows import Pair, WindowDataModule


class ForecastModule(L.LightningModule):
    def __init__(
        self,
        network: Forecaster,
        scaler: WindowScaler,
        learning_rate: float,
        weight_decay: float,
        max_epochs: int,
    ) -> None:
        super().__init__()
        self.save_hyperparameters({"network": network.config.to_dict(), "scaler": scaler.to_dict()})
        self.network = network
        self.scaler = scaler
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.loss = nn.L1Loss()

    def _normalised(self, batch: Pair) -> Pair:
        history, target = batch
        z, level, scale = self.scaler.encode(history, self.network.config.context_length)
        return self.network(z), self.scaler.normalise(target, level, scale)

    def training_step(self, batch: Pair, batch_index: int) -> torch.Tensor:
        members, target = self._normalised(batch)
        loss = self.loss(members, target.expand_as(members))
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch: Pair, batch_index: int) -> None:
        members, target = self._normalised(batch)
        self.log("val_loss", self.loss(members.mean(dim=0), target), on_epoch=True, prog_bar=True)

    def configure_optimizers(self) -> dict:
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(self.max_epochs, 1))
        return {"optimizer": optimizer, "lr_scheduler": schedule}


def new_network(config: TrainConfig, network_config: ForecasterConfig, skip: Pair | None) -> Forecaster:
    """A freshly initialised network, seeded (same config, same weights), its linear skip at
    `skip` (weight [H, T], bias [H]) and, unless `config.train_skip`, kept there: Adam steps
    would pull it off its closed-form optimum, and the recurrent part learns the correction."""
    L.seed_everything(config.seed, workers=True, verbose=False)
    # these networks are far too small for intra-op parallelism to pay: on a shared 2-core
    # machine two torch threads spin against each other and every step gets several times slower
    torch.set_num_threads(config.num_threads)
    network = Forecaster(network_config)
    if skip is not None:
        network.set_linear_skip(*skip)
        if not config.train_skip:
            for member in network.members:
                member.skip.requires_grad_(False)
    return network


def fit_network(
    network: Forecaster,
    scaler: WindowScaler,
    datamodule: WindowDataModule,
    config: TrainConfig,
    logger: MLFlowLogger | None = None,
    progress: bool | Callback = False,
    epochs: int | None = None,
) -> int:
    """Train `network` in place (`train_module`); returns the best epoch count, or `epochs`."""
    max_epochs = epochs or config.max_epochs
    module = ForecastModule(network, scaler, config.learning_rate, config.weight_decay, max_epochs)
    return train_module(module, datamodule, config, max_epochs, config.patience, logger, progress, epochs)


def train_module(
    module: L.LightningModule,
    datamodule: L.LightningDataModule,
    config: TrainConfig,
    max_epochs: int,
    patience: int,
    logger: MLFlowLogger | None = None,
    progress: bool | Callback = False,
    epochs: int | None = None,
) -> int:
    """Train `module` in place. epochs=None: early stopping on its `val_loss`, the best
    checkpoint restored; returns the best epoch count. Otherwise exactly `epochs`.
    `progress`: Lightning's progress bar, none, or a callback that reports progress elsewhere
    (`training.jobs` draws the bars of fits running side by side in the parent process)."""
    options = dict(
        accelerator="cpu",
        max_epochs=epochs or max_epochs,
        gradient_clip_val=config.gradient_clip,
        deterministic=True,
        logger=logger if logger is not None else False,
        enable_progress_bar=progress is True,
        enable_model_summary=False,
        log_every_n_steps=1,
    )
    bars = [progress] if isinstance(progress, Callback) else []
    if epochs is not None:
        trainer = L.Trainer(**options, callbacks=bars, limit_val_batches=0, enable_checkpointing=False)
        trainer.fit(module, datamodule=datamodule)
        return epochs
    with tempfile.TemporaryDirectory() as checkpoints:
        checkpoint = ModelCheckpoint(dirpath=checkpoints, monitor="val_loss", mode="min", save_top_k=1)
        stopping = EarlyStopping(monitor="val_loss", mode="min", patience=patience)
        trainer = L.Trainer(**options, callbacks=[stopping, checkpoint, *bars], min_epochs=config.min_epochs)
        trainer.fit(module, datamodule=datamodule)
        best = torch.load(checkpoint.best_model_path, weights_only=True, map_location="cpu")
    module.load_state_dict(best["state_dict"])
    return int(best["epoch"]) + 1
