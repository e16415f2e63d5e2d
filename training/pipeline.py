"""One training run: series -> windows -> Lightning fit -> artifact -> backtest -> MLflow.

The test part (the last `test_size` points) is cut off before anything is fitted: the
scaler sees the train part, early stopping and calibration see the validation part, and
only the backtest touches the test part, with the fitted model and no retraining.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import lightning as L
import mlflow
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import MLFlowLogger

from models.artifact import ForecasterArtifact
from models.scaling import WindowScaler
from training.backtest import Backtest, mase_scale, plot_backtest, run_backtest
from training.config import MIN_TRAIN_WINDOWS, TrainConfig, load_series
from training.data import DataError, SeriesData
from training.datamodule import WindowDataModule, origin_windows
from training.module import ForecastModule, RidgeBlend, select_ridge
from training.registry import configure_tracking, log_and_register, promote_best

log = logging.getLogger(__name__)
# the split-conformal 95 % quantile of n residuals, ceil((n + 1) * 0.95) / n, is only <= 1 from here
CALIBRATION_WINDOWS_FOR_95 = 19
RIDGE_FOLDS = 3


@dataclass
class TrainResult:
    name: str
    cell: str
    run_id: str
    version: str | None
    champion: str | None
    val_mase: float
    backtests: dict[int, Backtest]
    artifact: ForecasterArtifact
    seconds: float


def fit_artifact(
    config: TrainConfig,
    series: SeriesData,
    logger: MLFlowLogger | None,
    progress: bool,
    progress_line: int = 0,
) -> ForecasterArtifact:
    """Train on everything before the test part.

    Phase 1 trains on the train part with early stopping on the validation part; its
    validation errors give the validation score and the calibration residuals, to which
    the ridge skip's held-out errors on the older rolling-origin folds are added. With
    `config.refit`, phase 2 retrains from the same seed on train + validation for the
    number of epochs phase 1 found best, and that network is served.
    """
    values = series.values
    fit_end = len(values) - config.test_size
    train_end = fit_end - config.val_size
    scale = mase_scale(values[:train_end], config.season_length)
    if scale == 0:
        raise DataError(
            f"series {series.name!r} is constant over its training part (the first {train_end} points): "
            "there is nothing to learn and no error scale to validate against"
        )
    skip = None
    earlier_residuals: list[torch.Tensor] = []
    transform_errors: dict[str, float] = {}
    if config.linear_skip and config.skip_init == "ridge":
        scaler, folds, skip, transform_errors = _choose_transform(config, values[:fit_end], train_end)
        # the older folds' held-out errors of the chosen ridge: more calibration windows,
        # from earlier origins, for series whose validation part holds only a dozen
        earlier_residuals = [fold.calibration_errors(skip) for fold in folds[1:]]
    else:
        scaler = WindowScaler.fit(
            values[:train_end], config.season_length, config.transform, config.profile_seasons
        )
    datamodule = _datamodule(config, scaler, values[:fit_end], config.val_size)
    network_config = config.network_config(scaler.profile_length)
    initial = None if skip is None else skip.fit(*_normalised_pairs(config, scaler, datamodule.train))
    module, best_epoch = _fit(
        config, network_config, scaler, datamodule, initial, logger, progress, None, progress_line
    )
    network = module.network.eval()
    calibration, val_mase = _validation_errors(network, scaler, datamodule, scale)
    calibration = torch.cat([calibration, *earlier_residuals])
    # the last step has the fewest errors: only whole windows reach it
    calibration_windows = int((~calibration.isnan()).sum(dim=0).min())
    if calibration_windows < CALIBRATION_WINDOWS_FOR_95:
        log.warning(
            "series %r: the last forecast step is calibrated on %d window(s); a 95 %% interval needs "
            "%d (with fewer it is the largest error seen and covers less than it says). A longer "
            "validation part (--val-size), a shorter horizon or a longer series gives more",
            series.name,
            calibration_windows,
            CALIBRATION_WINDOWS_FOR_95,
        )
    if config.refit:
        full = _datamodule(config, scaler, values[:fit_end], 0)
        if skip is not None:
            initial = skip.fit(*_normalised_pairs(config, scaler, full.train))
        epochs = max(best_epoch, config.min_epochs, 1)
        module, _ = _fit(config, network_config, scaler, full, initial, None, progress, epochs, progress_line)
        network = module.network.eval()
    metadata = _series_metadata(series, config, scaler.lookback(config.context_length))
    metadata["val_mase"] = val_mase
    metadata["calibration_windows"] = calibration_windows
    metadata["epochs"] = best_epoch
    if skip is not None:
        metadata["ridge"] = asdict(skip)
    if transform_errors:
        metadata["transform_cv_mae"] = transform_errors
    return ForecasterArtifact(network_config, scaler, network, calibration, metadata)


def _datamodule(
    config: TrainConfig, scaler: WindowScaler, values: np.ndarray, val_size: int
) -> WindowDataModule:
    return WindowDataModule(
        values,
        config.context_length,
        config.horizon,
        val_size,
        config.batch_size,
        config.windows_per_epoch,
        config.min_windows_per_epoch,
        scaler.lookback(config.context_length),
    )


@dataclass
class RidgeFold:
    """One rolling-origin fold in a scaler's normalised space, plus what it takes to score the
    held-out forecasts in the series' own units (so that two scalers can be compared)."""

    fit: tuple[torch.Tensor, torch.Tensor]
    held_out: tuple[torch.Tensor, torch.Tensor]
    held_out_level: torch.Tensor
    held_out_scale: torch.Tensor
    held_out_width_scale: torch.Tensor
    held_out_target: torch.Tensor
    # the chosen skip is fitted here twice, for the transform CV and for the calibration rows:
    # six robust fits each time, on weather's 14,000 windows
    _forecasts: dict[RidgeBlend, torch.Tensor] = field(default_factory=dict, repr=False)

    def held_out_forecast(self, skip: RidgeBlend) -> torch.Tensor:
        """The ridge `skip` fitted on this fold, applied to its held-out windows (normalised)."""
        if skip not in self._forecasts:
            weight, bias = skip.fit(*self.fit)
            self._forecasts[skip] = self.held_out[0] @ weight.T + bias
        return self._forecasts[skip]

    def calibration_errors(self, skip: RidgeBlend) -> torch.Tensor:
        """Absolute held-out errors of the ridge `skip` fitted on this fold, in interval-width units."""
        error = (self.held_out_forecast(skip) - self.held_out[1]).abs()
        return error * self.held_out_scale / self.held_out_width_scale

    def error(self, scaler: WindowScaler, skip: RidgeBlend) -> float:
        """Held-out MAE in original units of the ridge `skip` fitted on this fold."""
        forecast = scaler.decode(self.held_out_forecast(skip), self.held_out_level, self.held_out_scale)
        return float((forecast - self.held_out_target).abs().nanmean())


def _ridge_folds(config: TrainConfig, scaler: WindowScaler, values: np.ndarray) -> list[RidgeFold]:
    """Rolling-origin folds for the ridge penalty: the train/validation split, then the same
    split moved back by one validation length at a time while enough fit windows remain.

    Each fold is scored on every origin of its validation part, NaN past its end (as the
    calibration rows are): on short series the whole windows alone were one or a few, and the
    penalties chosen on them noise (ablations.md section 21)."""
    folds: list[RidgeFold] = []
    lookback = scaler.lookback(config.context_length)
    for k in range(RIDGE_FOLDS):
        end = len(values) - k * config.val_size
        windows = _datamodule(config, scaler, values[:end], config.val_size)
        if folds and len(windows.train) < max(MIN_TRAIN_WINDOWS, config.context_length):
            break
        # every origin of the fold's validation part, the last ones with partial windows: a
        # 12-point validation part of a 12-step model scores 12 origins instead of one window
        history, target = origin_windows(
            values[:end], config.context_length, config.horizon, end - config.val_size, lookback
        ).tensors
        z, level, scale = scaler.encode(history, config.context_length)
        folds.append(
            RidgeFold(
                fit=_normalised_pairs(config, scaler, windows.train),
                held_out=(z, scaler.normalise(target, level, scale)),
                held_out_level=level,
                held_out_scale=scale,
                held_out_width_scale=scaler.width_scale(history, config.context_length),
                held_out_target=target,
            )
        )
    return folds


def _choose_transform(
    config: TrainConfig, values: np.ndarray, train_end: int
) -> tuple[WindowScaler, list[RidgeFold], RidgeBlend, dict[str, float]]:
    """The scaler and ridge skip to train with. With transform "auto" on a positive series,
    log and no transform are both tried: each gets its ridge by CV in its own normalised
    space, and the one with the lower held-out MAE in the series' units over the same folds
    wins. Returns (scaler, its folds, its ridge skip, CV MAE per transform tried)."""
    train = values[:train_end]
    candidates = [config.transform]
    if config.transform == "auto":
        candidates = ["log", "none"] if bool(np.all(train > 0)) else ["none"]
    tried: dict[str, tuple[WindowScaler, list[RidgeFold], RidgeBlend]] = {}
    errors: dict[str, float] = {}
    for transform in candidates:
        scaler = WindowScaler.fit(train, config.season_length, transform, config.profile_seasons)
        folds = _ridge_folds(config, scaler, values)
        skip = select_ridge(
            [(fold.fit, fold.held_out) for fold in folds], scaler.profile_length, config.season_length
        )
        tried[transform] = (scaler, folds, skip)
        errors[transform] = sum(fold.error(scaler, skip) for fold in folds) / len(folds)
    return *tried[min(errors, key=errors.get)], errors


def _normalised_pairs(
    config: TrainConfig, scaler: WindowScaler, windows
) -> tuple[torch.Tensor, torch.Tensor]:
    history, target = windows.tensors
    z, level, scale = scaler.encode(history, config.context_length)
    return z, scaler.normalise(target, level, scale)


def _fit(
    config: TrainConfig,
    network_config,
    scaler: WindowScaler,
    datamodule: WindowDataModule,
    initial_skip: tuple[torch.Tensor, torch.Tensor] | None,
    logger: MLFlowLogger | None,
    progress: bool,
    epochs: int | None,
    progress_line: int = 0,
) -> tuple[ForecastModule, int]:
    """One Lightning fit. epochs=None: early stopping on validation, best checkpoint
    restored; returns the module and the best epoch count. Otherwise exactly `epochs`.
    `progress_line` moves the progress bar down that many lines (fits running side by side)."""
    L.seed_everything(config.seed, workers=True, verbose=False)
    # these networks are far too small for intra-op parallelism to pay: on a shared 2-core
    # machine two torch threads spin against each other and every step gets several times slower
    torch.set_num_threads(config.num_threads)
    max_epochs = epochs or config.max_epochs
    module = ForecastModule(network_config, scaler, config.learning_rate, config.weight_decay, max_epochs)
    if initial_skip is not None:
        module.network.set_linear_skip(*initial_skip)
        if not config.train_skip:
            for member in module.network.members:
                member.skip.requires_grad_(False)
    options = dict(
        accelerator="cpu",
        max_epochs=max_epochs,
        gradient_clip_val=config.gradient_clip,
        deterministic=True,
        logger=logger if logger is not None else False,
        enable_progress_bar=progress,
        enable_model_summary=False,
        log_every_n_steps=1,
    )
    bars = [TQDMProgressBar(process_position=progress_line)] if progress and progress_line else []
    if epochs is not None:
        trainer = L.Trainer(**options, callbacks=bars, limit_val_batches=0, enable_checkpointing=False)
        trainer.fit(module, datamodule=datamodule)
        return module, epochs
    with tempfile.TemporaryDirectory() as checkpoints:
        checkpoint = ModelCheckpoint(dirpath=checkpoints, monitor="val_loss", mode="min", save_top_k=1)
        stopping = EarlyStopping(monitor="val_loss", mode="min", patience=config.patience)
        trainer = L.Trainer(**options, callbacks=[stopping, checkpoint, *bars], min_epochs=config.min_epochs)
        trainer.fit(module, datamodule=datamodule)
        best = torch.load(checkpoint.best_model_path, weights_only=True, map_location="cpu")
    module.load_state_dict(best["state_dict"])
    return module, int(best["epoch"]) + 1


def _validation_errors(
    network, scaler: WindowScaler, datamodule: WindowDataModule, scale: float
) -> tuple[torch.Tensor, float]:
    """The calibration set and the validation MASE (on whole windows).

    One calibration row per origin in the validation part: the absolute errors per step in
    interval-width units, NaN where a step falls past the validation part. Step 1 is then
    calibrated on every origin, step H on the whole windows only - on a 72-point monthly series
    12 errors for step 1 instead of 1 (ablations.md section 19).
    """
    context = datamodule.context_length
    whole_windows, lookback = datamodule.val.tensors[0].shape
    # the first `whole_windows` origins are exactly the validation windows: one forward pass serves both
    history, target = origin_windows(
        datamodule.values, context, datamodule.horizon, datamodule.train_end, lookback
    ).tensors
    with torch.inference_mode():
        z, level, window_scale = scaler.encode(history, context)
        predicted = network(z).mean(dim=0)
        errors = (scaler.normalise(target, level, window_scale) - predicted).abs()
        residuals = errors * window_scale / scaler.width_scale(history, context)
        forecast = scaler.decode(
            predicted[:whole_windows], level[:whole_windows], window_scale[:whole_windows]
        )
    return residuals, float((forecast - target[:whole_windows]).abs().mean()) / scale


def _series_metadata(series: SeriesData, config: TrainConfig, lookback: int) -> dict:
    from models.artifact import MAX_HORIZON_MULTIPLE

    future: list[str] = []
    if series.freq:
        steps = pd.date_range(
            series.timestamps[-1], periods=config.horizon * MAX_HORIZON_MULTIPLE + 1, freq=series.freq
        )
        future = [stamp.isoformat() for stamp in steps[1:]]
    return {
        "name": series.name,
        "freq": series.freq,
        "season_length": series.season_length,
        "last_timestamp": series.timestamps[-1].isoformat(),
        # the latest values a forecast of the stored series reads (context and seasonal profile)
        "tail": [float(v) for v in series.values[-lookback:]],
        "future_timestamps": future,
        "train_config": config.to_dict(),
    }


def train(
    config: TrainConfig,
    tracking_uri: str | None = None,
    progress: bool = True,
    register: bool = True,
    series: SeriesData | None = None,
    progress_line: int = 0,
) -> TrainResult:
    """Fit, backtest, log and (optionally) register one model; `series` saves re-reading
    `config.data` when the caller has loaded it already."""
    started = time.perf_counter()
    series = series if series is not None else load_series(config)
    config = config.resolve(series)
    if config.transform == "auto" and np.any(series.values <= 0):
        # the log scale is chosen on the training part, but the served model must take the
        # stored series as its history: one that turns non-positive later cannot be logged
        config = replace(config, transform="none")
    configure_tracking(tracking_uri)
    with mlflow.start_run(run_name=f"{config.name}-{config.cell}") as run:
        logger = MLFlowLogger(run_id=run.info.run_id, tracking_uri=mlflow.get_tracking_uri())
        mlflow.log_params({key: str(value) for key, value in config.to_dict().items()})
        mlflow.set_tags({"series": config.name, "cell": config.cell, "head": config.head})
        # the resolved config as an artifact; also fails fast when the artifact store is not writable
        mlflow.log_dict(config.to_dict(), "config.json")
        artifact = fit_artifact(config, series, logger, progress, progress_line)
        backtests = {
            config.horizon: run_backtest(
                artifact,
                series.values,
                config.test_size,
                config.horizon,
                config.multi_step_stride,
                config.season_length,
            )
        }
        if config.horizon != 1:
            backtests[1] = run_backtest(artifact, series.values, config.test_size, 1, 1, config.season_length)
        artifact.metadata["test_metrics"] = {
            f"h{horizon}": {
                "metrics": result.metrics,
                "coverage": {str(k): v for k, v in result.coverage.items()},
            }
            for horizon, result in backtests.items()
        }
        mlflow.log_metric("val_mase", artifact.metadata["val_mase"])
        mlflow.log_metric("calibration_windows", artifact.metadata["calibration_windows"])
        mlflow.log_metrics(_flat_metrics(backtests))
        seconds = time.perf_counter() - started
        mlflow.log_metric("train_seconds", seconds)
        with tempfile.TemporaryDirectory() as scratch:
            plot = plot_backtest(
                series.values,
                series.timestamps,
                backtests[config.horizon],
                f"{config.name} ({config.cell})",
                Path(scratch) / "backtest.png",
            )
            mlflow.log_artifact(str(plot), artifact_path="plots")
            version = champion = None
            if register:
                artifact_dir = artifact.save(Path(scratch) / "forecaster")
                version = log_and_register(artifact, artifact_dir, config.name, artifact.metadata["val_mase"])
                champion = promote_best(config.name)
    return TrainResult(
        name=config.name,
        cell=config.cell,
        run_id=run.info.run_id,
        version=version,
        champion=champion,
        val_mase=artifact.metadata["val_mase"],
        backtests=backtests,
        artifact=artifact,
        seconds=time.perf_counter() - started,
    )


def _flat_metrics(backtests: dict[int, Backtest]) -> dict[str, float]:
    flat: dict[str, float] = {}
    for horizon, result in backtests.items():
        for method, metrics in result.metrics.items():
            prefix = "test" if method == "model" else f"{method}_test"
            for metric, value in metrics.items():
                flat[f"{prefix}_{metric}_h{horizon}"] = value
        for level, coverage in result.coverage.items():
            flat[f"test_coverage_{level}_h{horizon}"] = coverage
    return {key: value for key, value in flat.items() if np.isfinite(value)}
