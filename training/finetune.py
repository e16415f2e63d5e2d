"""Candidates that start from the base network (`models.base_artifact`): the zero-shot base,
scored on a series as it is, and the base fine-tuned on that series' windows (or on a panel's).

Both are scored like a local model: validation MASE over the same whole validation windows
and MASE scale (`training.calibrate`), conformity scores from their validation errors in the
base's unit (|error| / the window's scale, as pretraining calibrates), and the backtest on the
test part. A fine-tuned candidate is fitted three times, all from the base's weights and seed:

1. on the training part, early-stopped on the validation part: its validation errors give the
   validation MASE and the calibration, and its best epoch count E;
2. on training + validation for E epochs: the held-out fit the backtest scores on the test part;
3. on every point for E epochs: the model that is registered and served.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import MLFlowLogger
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from models.artifact import ArtifactMetadata
from models.base_artifact import BaseArtifact
from models.base_network import BaseNetwork
from models.calibration import Calibration
from models.window import normalise_window
from training.backtest import validation_mase
from training.base_loss import base_window_loss
from training.config import TrainConfig
from training.fit import train_module
from training.windows import origin_windows, pooled, sliding_windows

ZERO_SHOT = "zero-shot"
FINE_TUNED = "fine-tuned"

# (history [B, L] NaN-padded on the left, target [B, H] NaN where a step has no value, season [B],
# the base network's candidate forecasts [B, H, K] and in-context errors [B, K] ([B, 0]: none))
BaseBatch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
# windows whose candidates are computed in one call (bounds the memory of the in-context backtests)
CANDIDATE_CHUNK = 4096


def _with_season(windows: TensorDataset, season: int, horizon: int) -> TensorDataset:
    """(history, target) windows -> (history, target NaN-padded to `horizon` steps, season)."""
    history, target = windows.tensors
    padded = torch.nn.functional.pad(target, (0, horizon - target.shape[1]), value=torch.nan)
    return TensorDataset(history, padded, torch.full((len(history),), season, dtype=torch.long))


def _with_candidates(windows: TensorDataset, base: BaseArtifact) -> TensorDataset:
    """(history, target, season) windows -> the same with the base network's candidates of each
    window (`BaseBatch`): they depend on the window alone, not on the weights being fine-tuned,
    so they are computed once here rather than at every step of every epoch."""
    history, _, season = windows.tensors
    network = base.network
    forecasts, errors = [], []
    with torch.no_grad():
        for start in range(0, len(history), CANDIDATE_CHUNK):
            rows = slice(start, start + CANDIDATE_CHUNK)
            window = normalise_window(history[rows], season[rows], network.config.context_length)
            chunk_forecasts, chunk_errors = network.candidates(window)
            forecasts.append(chunk_forecasts)
            errors.append(
                chunk_errors if chunk_errors is not None else chunk_forecasts.new_zeros(len(window.z), 0)
            )
    return TensorDataset(*windows.tensors, torch.cat(forecasts), torch.cat(errors))


def _candidates(batch: BaseBatch) -> tuple[torch.Tensor, torch.Tensor | None]:
    forecasts, errors = batch[3], batch[4]
    return forecasts, errors if errors.shape[1] else None


def training_windows(series: Sequence[np.ndarray], config: TrainConfig, base: BaseArtifact) -> TensorDataset:
    """Every origin of each series (cut where the fit ends) whose history has at least the local
    model's context, the base's whole horizon as targets, NaN past the cut: step 1 is trained
    on every origin, step H on the windows that reach it."""
    lookback, horizon = base.config.context_length, base.config.horizon
    context = min(config.context_length, lookback)
    return _with_candidates(
        pooled(
            [
                _with_season(
                    origin_windows(values, context, horizon, 0, lookback), config.season_length, horizon
                )
                for values in series
            ]
        ),
        base,
    )


def validation_windows(
    series: Sequence[np.ndarray], config: TrainConfig, base: BaseArtifact
) -> TensorDataset:
    """The whole validation windows of each series (those the validation MASE is taken over),
    with the first min(horizon, base horizon) steps as targets: what early stopping watches."""
    lookback, horizon = base.config.context_length, base.config.horizon
    context = min(config.context_length, lookback)
    steps = min(config.horizon, horizon)
    parts = []
    for values in series:
        val_end = len(values) - config.test_size
        train_end = val_end - config.val_size
        whole = sliding_windows(values[:val_end], context, config.horizon, train_end, val_end, lookback)
        history, target = whole.tensors
        parts.append(_with_season(TensorDataset(history, target[:, :steps]), config.season_length, horizon))
    return _with_candidates(pooled(parts), base)


class BaseWindowData(L.LightningDataModule):
    """Fine-tuning windows, drawn like `training.windows.WindowDataModule` draws a local model's:
    a short series' windows several times per epoch, so an epoch is a comparable number of steps."""

    def __init__(self, train: TensorDataset, val: TensorDataset | None, config: TrainConfig) -> None:
        super().__init__()
        self.train = train
        self.val = val
        self.batch_size = config.batch_size
        self.samples = min(max(len(train), config.min_windows_per_epoch), config.windows_per_epoch)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.train,
            batch_size=self.batch_size,
            sampler=RandomSampler(self.train, num_samples=self.samples),
            drop_last=len(self.train) > self.batch_size,
        )

    def val_dataloader(self) -> DataLoader:
        # a fit for a fixed number of epochs has no validation windows and runs no validation
        return DataLoader(self.val if self.val is not None else TensorDataset(), batch_size=1024)


class FineTuneModule(L.LightningModule):
    """The base network trained further with its pretraining loss (`training.base_loss`),
    AdamW with cosine decay over `max_epochs`."""

    def __init__(
        self, network: BaseNetwork, learning_rate: float, weight_decay: float, max_epochs: int
    ) -> None:
        super().__init__()
        # no save_hyperparameters: the run's params already hold the base's settings and the config
        self.network = network
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs

    def training_step(self, batch: BaseBatch, batch_index: int) -> torch.Tensor:
        loss = base_window_loss(self.network, *batch[:3], candidates=_candidates(batch))
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch: BaseBatch, batch_index: int) -> None:
        loss = base_window_loss(self.network, *batch[:3], candidates=_candidates(batch))
        self.log("val_loss", loss, on_epoch=True, prog_bar=True)

    def configure_optimizers(self) -> dict:
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(self.max_epochs, 1))
        return {"optimizer": optimizer, "lr_scheduler": schedule}


def fine_tune(
    base: BaseArtifact,
    data: BaseWindowData,
    config: TrainConfig,
    logger: MLFlowLogger | None = None,
    progress: bool | Callback = False,
    epochs: int | None = None,
) -> tuple[BaseNetwork, int]:
    """A copy of the base network trained on `data`: early-stopped on its validation windows
    (epochs=None) or for exactly `epochs`; returns it and its epoch count. Seeded: the same
    config gives the same weights."""
    L.seed_everything(config.seed, workers=True, verbose=False)
    torch.set_num_threads(config.num_threads)
    network = copy.deepcopy(base.network).train()
    max_epochs = epochs or config.finetune_max_epochs
    module = FineTuneModule(network, config.finetune_learning_rate, config.weight_decay, max_epochs)
    epochs_run = train_module(
        module, data, config, max_epochs, config.finetune_patience, logger, progress, epochs
    )
    return network.eval(), epochs_run


def validation_scores(
    artifact: BaseArtifact, series: Sequence[np.ndarray], config: TrainConfig
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(conformity scores [origins, horizon], each series' whole-window forecasts) of a base
    artifact: one score row per origin in each series' validation part, NaN past it
    (`BaseArtifact.scored_forecast`), as `training.calibrate.validation_scores` scores a local one."""
    rows, forecasts = [], []
    lookback, horizon = artifact.config.context_length, config.horizon
    for values in series:
        val_end = len(values) - config.test_size
        train_end = val_end - config.val_size
        context = min(config.context_length, lookback)
        history, target = origin_windows(values[:val_end], context, horizon, train_end, lookback).tensors
        season = torch.full((len(history),), config.season_length, dtype=torch.long)
        forecast, scores = artifact.scored_forecast(history, target, season)
        rows.append(scores)
        forecasts.append(forecast[: config.val_size - horizon + 1])  # the whole windows
    return torch.cat(rows), forecasts


@dataclass
class BaseCandidate:
    """A zero-shot or fine-tuned candidate of one series (or of a panel's series)."""

    config: TrainConfig
    series: list[np.ndarray]
    base: BaseArtifact
    # which fit each reported number and the served weights come from (logged as run tags)
    provenance: dict[str, str] = field(default_factory=dict)
    # seconds per fine-tuning fit (logged as metrics)
    seconds: dict[str, float] = field(default_factory=dict)
    epochs: int = 0
    # each series' whole validation windows as the validated fit forecast them
    validation: list[torch.Tensor] = field(default_factory=list)

    def held_out(
        self,
        metadata: ArtifactMetadata,
        logger: MLFlowLogger | None,
        progress: bool | Callback,
    ) -> BaseArtifact:
        """The candidate fitted on everything before the test part (what the backtest scores),
        its validation MASE and calibration recorded in `metadata`."""
        config = self.config
        if config.candidate == FINE_TUNED:
            train_parts = [
                values[: len(values) - config.test_size - config.val_size] for values in self.series
            ]
            validation = validation_windows(self.series, config, self.base)
            network, self.epochs = self._fine_tune("fine_tune", train_parts, validation, logger, progress)
            unscored = BaseArtifact(self.base.config, network, self.base.calibration, metadata)
        else:
            # the base as it serves this season: for seasons 2-23 the mean of its two networks
            unscored = replace(self.base, metadata=metadata)
        scores, self.validation = validation_scores(unscored, self.series, config)
        metadata.val_mase = validation_mase(self.series, config, self.validation)
        calibration = Calibration(scores)
        scored = unscored.with_scores(calibration, metadata)
        metadata.calibration_windows = calibration.windows
        metadata.epochs = self.epochs
        if config.candidate == ZERO_SHOT:
            self.provenance = {
                "val_mase_from": "the base as pretrained",
                "test_metrics_from": "the base as pretrained",
            }
            return scored
        self.provenance = {
            "val_mase_from": "fine-tuned on the training part, early-stopped on the validation part",
            "calibration_from": "the validation errors of the fit val_mase comes from",
            "test_metrics_from": "the same fit as val_mase",
        }
        if not config.refit:
            return scored
        before_test = [values[: len(values) - config.test_size] for values in self.series]
        network, _ = self._fine_tune("refit_held_out", before_test, None, None, progress, self.epochs)
        self.provenance["test_metrics_from"] = (
            f"fine-tuned on the training and validation parts for {self.epochs} epochs"
        )
        return BaseArtifact(self.base.config, network, scored.calibration, metadata)

    def served(self, held_out: BaseArtifact, progress: bool | Callback) -> BaseArtifact:
        """What is registered: the zero-shot base as it is; a fine-tuned one fine-tuned again from
        the base through the last point, for the epoch count validation chose."""
        if self.config.candidate == ZERO_SHOT:
            self.provenance["served_from"] = "the base as pretrained"
            return held_out
        network, _ = self._fine_tune("refit_served", self.series, None, None, progress, self.epochs)
        self.provenance["served_from"] = f"fine-tuned on every point for {self.epochs} epochs"
        return BaseArtifact(held_out.config, network, held_out.calibration, held_out.metadata)

    def _fine_tune(
        self,
        fit: str,
        series: list[np.ndarray],
        validation: TensorDataset | None,
        logger: MLFlowLogger | None,
        progress: bool | Callback,
        epochs: int | None = None,
    ) -> tuple[BaseNetwork, int]:
        started = time.perf_counter()
        data = BaseWindowData(training_windows(series, self.config, self.base), validation, self.config)
        network, epochs_run = fine_tune(self.base, data, self.config, logger, progress, epochs)
        self.seconds[fit] = time.perf_counter() - started
        return network, epochs_run
