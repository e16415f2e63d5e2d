"""One training run, as a story: load -> resolve config -> initialise -> fit -> calibrate ->
backtest -> log -> register. Each step lives in the module named for it.

The test part (the last `test_size` points) is cut off before anything is fitted: the
scaler sees the train part, early stopping and calibration see the validation part, and
the backtest scores the held-out fit on the test part. Only then is the served model refit
through the last point (same seed, the epoch count validation chose); the run's tags say
which fit each number comes from.

A candidate started from the base network (zero-shot or fine-tuned, `training.finetune`)
goes through the same steps and is scored on the same windows.

A panel (a file with an id column) trains ONE model through the same story: every step takes
the list of series where a single series is a list of one, each series is split by its own
end, their windows are pooled, and the backtest is run per series and reported as the mean.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import MLFlowLogger

from models.artifact import MAX_HORIZON_MULTIPLE, ArtifactMetadata, ForecasterArtifact, StoredSeries
from models.base_artifact import BaseArtifact
from models.calibration import WINDOWS_FOR_95, Calibration
from models.loading import Artifact
from models.scaling import WindowScaler
from training import tracking
from training.backtest import Backtest, mase_scale, mean_backtest, run_backtest, validation_mase
from training.baselines import Baselines
from training.calibrate import validation_scores
from training.config import TrainConfig, load_panel, trained_on
from training.config import load_series as load_series  # re-exported: benchmarks and tests import it here
from training.data import DataError, SeriesData
from training.finetune import BaseCandidate
from training.fit import fit_network, new_network
from training.initialise import SkipStart, choose_transform, fit_scaler
from training.windows import Pair, WindowDataModule, normalised

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    name: str
    # the cell of a local model, or "zero-shot" / "fine-tuned" (TrainConfig.label)
    cell: str
    run_id: str
    version: str | None
    champion: str | None
    val_mase: float
    # per horizon; for a panel the mean over its series (each one's in `series_backtests`)
    backtests: dict[int, Backtest]
    series_backtests: dict[str, dict[int, Backtest]]
    # the registered model
    artifact: Artifact
    seconds: float
    # the fit the backtest scored, and its forecasts of each series' whole validation windows
    held_out: Artifact | None = None
    validation: list[torch.Tensor] = field(default_factory=list)


def fit_artifact(
    config: TrainConfig,
    series: SeriesData | Sequence[SeriesData],
    logger: MLFlowLogger | None = None,
    progress: bool | Callback = False,
) -> ForecasterArtifact:
    """Train on everything before the test part of one series, or of each series of a panel
    (`_fit_local`): the held-out fit the backtest scores."""
    return _fit_local(config, series, logger, progress)[0]


def _fit_local(
    config: TrainConfig,
    series: SeriesData | Sequence[SeriesData],
    logger: MLFlowLogger | None = None,
    progress: bool | Callback = False,
    stored: Sequence[SeriesData] | None = None,
) -> tuple[ForecasterArtifact, SkipStart | None, list[torch.Tensor]]:
    """Train on everything before the test part of one series, or of each series of a panel;
    returns the artifact (storing the tails of `stored`, default the series trained on), the
    transform and ridge skip it started from, and the validated fit's forecasts of each series'
    whole validation windows.

    Phase 1 trains on the train part with early stopping on the validation part; its
    validation errors give the validation score and the calibration scores, to which the
    ridge skip's held-out scores on the older rolling-origin folds are added. With
    `config.refit`, phase 2 retrains from the same seed on train + validation for the
    number of epochs phase 1 found best: the network the backtest scores (and that
    `refit_through_end` retrains on every point to serve).
    """
    panel = [series] if isinstance(series, SeriesData) else list(series)
    fitted = [one.values[: len(one) - config.test_size] for one in panel]
    for one in panel:
        check_training_part(config, one)
    start = _initialise(config, fitted)
    scaler = (
        start.scaler
        if start is not None
        else fit_scaler(
            [values[: len(values) - config.val_size] for values in fitted],
            config.season_length,
            config.transform,
            config.profile_seasons,
        )
    )
    network_config = config.network_config(scaler.profile_length)
    datamodule = _datamodule(config, scaler, fitted, config.val_size)
    network = new_network(config, network_config, _skip(config, start, scaler, datamodule))
    best_epoch = fit_network(network, scaler, datamodule, config, logger, progress)
    scores, validation = validation_scores(network.eval(), scaler, datamodule)
    val_mase = validation_mase([one.values for one in panel], config, validation)
    calibration = Calibration.of(scores, *(start.earlier_calibration_scores() if start else []))
    _warn_if_few_windows(config.name, calibration.windows)
    if config.refit:
        full = _datamodule(config, scaler, fitted, 0)
        network = new_network(config, network_config, _skip(config, start, scaler, full))
        epochs = max(best_epoch, config.min_epochs, 1)
        fit_network(network, scaler, full, config, None, progress, epochs)
    metadata = series_metadata(
        list(stored or panel), config, scaler.lookback(config.context_length), config.horizon
    )
    metadata.val_mase = val_mase
    metadata.calibration_windows = calibration.windows
    metadata.epochs = best_epoch
    if start is not None:
        metadata.ridge = asdict(start.skip)
        metadata.transform_cv_mae = start.transform_errors
    return (
        ForecasterArtifact(network_config, scaler, network.eval(), calibration, metadata),
        start,
        validation,
    )


def refit_through_end(
    held_out: ForecasterArtifact,
    start: SkipStart | None,
    config: TrainConfig,
    panel: list[SeriesData],
    progress: bool | Callback = False,
) -> ForecasterArtifact:
    """The local model that is served: retrained from the same seed on every point of each
    series (test part included, after the backtest has scored `held_out`) for the epoch count
    validation chose, with the held-out fit's scaler, ridge penalty and calibration."""
    full = _datamodule(config, held_out.scaler, [one.values for one in panel], 0)
    network = new_network(config, held_out.config, _skip(config, start, held_out.scaler, full))
    epochs = max(held_out.metadata.epochs or 0, config.min_epochs, 1)
    fit_network(network, held_out.scaler, full, config, None, progress, epochs)
    return ForecasterArtifact(
        held_out.config, held_out.scaler, network.eval(), held_out.calibration, held_out.metadata
    )


def check_training_part(config: TrainConfig, series: SeriesData) -> None:
    """Refuse a series whose training part is constant: no MASE scale to validate against."""
    train_end = len(series) - config.test_size - config.val_size
    if mase_scale(series.values[:train_end], config.season_length) == 0:
        raise DataError(
            f"series {series.name!r} is constant over its training part (the first {train_end} points): "
            "there is nothing to learn and no error scale to validate against"
        )


def _initialise(config: TrainConfig, fitted: list[np.ndarray]) -> SkipStart | None:
    """The transform and ridge skip to start from, when the network has a ridge-initialised skip."""
    if config.linear_skip and config.skip_init == "ridge":
        return choose_transform(config, fitted)
    return None


def _skip(
    config: TrainConfig, start: SkipStart | None, scaler: WindowScaler, datamodule: WindowDataModule
) -> Pair | None:
    """The ridge skip fitted on the datamodule's training windows (None without one)."""
    if start is None:
        return None
    return start.skip.fit(*normalised(scaler, datamodule.train, config.context_length))


def _warn_if_few_windows(name: str, windows: int) -> None:
    if windows < WINDOWS_FOR_95:
        log.warning(
            "series %r: the last forecast step is calibrated on %d window(s); a 95 %% interval needs "
            "%d (with fewer it is the largest error seen and covers less than it says). A longer "
            "validation part (--val-size), a shorter horizon or a longer series gives more",
            name,
            windows,
            WINDOWS_FOR_95,
        )


def _datamodule(
    config: TrainConfig, scaler: WindowScaler, values: list[np.ndarray], val_size: int
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


def series_metadata(
    panel: list[SeriesData], config: TrainConfig, lookback: int, trained_horizon: int
) -> ArtifactMetadata:
    """What a model of these series stores about them: the latest `lookback` values of each and
    the timestamps a forecast of up to MAX_HORIZON_MULTIPLE x `trained_horizon` steps carries."""
    if config.id_column is None:
        return _series_metadata(panel[0], config, lookback, trained_horizon)
    return _panel_metadata(panel, config, lookback)


def _series_metadata(
    series: SeriesData, config: TrainConfig, lookback: int, trained_horizon: int
) -> ArtifactMetadata:
    future: list[str] = []
    if series.freq:
        steps = pd.date_range(
            series.timestamps[-1], periods=trained_horizon * MAX_HORIZON_MULTIPLE + 1, freq=series.freq
        )
        future = [stamp.isoformat() for stamp in steps[1:]]
    return ArtifactMetadata(
        name=series.name,
        freq=series.freq,
        season_length=series.season_length,
        last_timestamp=series.timestamps[-1].isoformat() if series.timestamps is not None else None,
        tail=[float(v) for v in series.values[-lookback:]],
        future_timestamps=future,
        train_config=config.to_dict(),
    )


def _panel_metadata(panel: list[SeriesData], config: TrainConfig, lookback: int) -> ArtifactMetadata:
    """A panel model's metadata: every series' tail and last timestamp, by id (the service
    dates a forecast from the model's frequency and the series' last timestamp)."""
    stored = {
        one.name: StoredSeries(
            tail=[float(v) for v in one.values[-lookback:]],
            last_timestamp=one.timestamps[-1].isoformat() if one.timestamps is not None else None,
        )
        for one in panel
    }
    return ArtifactMetadata(
        name=config.name,
        freq=config.freq,
        season_length=config.season_length,
        series=stored,
        train_config=config.to_dict(),
    )


def backtest(artifact: Artifact, config: TrainConfig, values: np.ndarray) -> dict[int, Backtest]:
    """The rolling-origin backtest of ../shared/BENCHMARK.md at the trained horizon and at h = 1."""
    backtests = {
        config.horizon: run_backtest(
            artifact, values, config.test_size, config.horizon, config.multi_step_stride, config.season_length
        )
    }
    if config.horizon != 1:
        backtests[1] = run_backtest(artifact, values, config.test_size, 1, 1, config.season_length)
    return backtests


def backtest_panel(
    artifact: Artifact, config: TrainConfig, panel: list[SeriesData]
) -> tuple[dict[int, Backtest], dict[str, dict[int, Backtest]]]:
    """`backtest` on every series, and per horizon their mean, which the artifact records."""
    per_series = {one.name: backtest(artifact, config, one.values) for one in panel}
    backtests = {
        horizon: mean_backtest([results[horizon] for results in per_series.values()])
        for horizon in next(iter(per_series.values()))
    }
    artifact.metadata.test_metrics = {
        f"h{horizon}": {
            "metrics": result.metrics,
            "coverage": {str(k): v for k, v in result.coverage.items()},
        }
        for horizon, result in backtests.items()
    }
    return backtests, per_series


def train(
    config: TrainConfig,
    tracking_uri: str | None = None,
    progress: bool | Callback = True,
    register: bool = True,
    series: SeriesData | Sequence[SeriesData] | None = None,
    baselines: Baselines | None = None,
    promote: bool = True,
) -> TrainResult:
    """Load -> resolve -> fit -> backtest -> log -> register one candidate; `series` (one, or a
    panel's list) saves re-reading `config.data` when the caller has loaded it already;
    `baselines` (the statistical baselines' validation MASE) are logged next to its own.
    `promote`: move the champion alias to the lowest validation score now; False when a
    later step chooses among this run's candidates (`training.ensemble.combine`)."""
    started = time.perf_counter()
    if series is None:
        panel = load_panel(config)
    else:
        panel = [series] if isinstance(series, SeriesData) else list(series)
    config = config.resolve_panel(panel)
    # every series is stored and served; those too short for a training window are not trained on
    stored, panel = panel, trained_on(config, panel)
    if config.transform == "auto" and any(np.any(one.values <= 0) for one in stored):
        # the log scale is chosen on the training part, but the served model must take the
        # stored series as its history: one that turns non-positive later cannot be logged
        config = replace(config, transform="none")
    if config.candidate == "ensemble":
        raise ValueError(
            "the ensemble is combined from the other candidates (training.ensemble), not trained"
        )
    # the base network this series' season routes to (models.base_artifact.second_network_rows)
    base = (
        None
        if config.candidate == "local"
        else BaseArtifact.load(config.base_path).for_season(config.season_length)
    )
    with tracking.training_run(config, tracking_uri, base) as logger:
        if base is None:
            artifact, start, validation = _fit_local(config, panel, logger, progress, stored)
        else:
            candidate = BaseCandidate(config, [one.values for one in panel], base)
            metadata = series_metadata(stored, config, base.lookback, base.config.horizon)
            metadata.train_config = config.to_dict()
            for one in panel:
                check_training_part(config, one)
            artifact = candidate.held_out(metadata, logger, progress)
            validation = candidate.validation
        backtests, series_backtests = backtest_panel(artifact, config, panel)
        if base is None:
            refit_started = time.perf_counter()
            served = refit_through_end(artifact, start, config, panel, progress) if config.refit else artifact
            provenance = _local_provenance(config, artifact)
            seconds = {"refit_served": time.perf_counter() - refit_started} if config.refit else {}
        else:
            served = candidate.served(artifact, progress)
            provenance, seconds = candidate.provenance, candidate.seconds
        tracking.log_results(
            artifact,
            backtests,
            series_backtests,
            panel,
            f"{config.name} ({config.label})",
            time.perf_counter() - started,
        )
        tracking.log_provenance(provenance, seconds)
        if baselines is not None:
            tracking.log_baselines(baselines, baselines.candidate_mase(panel, config, validation))
        version = tracking.register(served, config.name, config.label) if register else None
        champion = tracking.promote_best(config.name) if register and promote else None
    return TrainResult(
        name=config.name,
        cell=config.label,
        run_id=logger.run_id,
        version=version,
        champion=champion,
        val_mase=artifact.metadata.val_mase,
        backtests=backtests,
        series_backtests=series_backtests,
        artifact=served,
        seconds=time.perf_counter() - started,
        held_out=artifact,
        validation=validation,
    )


def _local_provenance(config: TrainConfig, artifact: ForecasterArtifact) -> dict[str, str]:
    fit = "fitted on the training part, early-stopped on the validation part"
    epochs = artifact.metadata.epochs
    return {
        "val_mase_from": fit,
        "calibration_from": "the validation errors of the fit val_mase comes from",
        "test_metrics_from": f"refitted on the training and validation parts for {epochs} epochs"
        if config.refit
        else fit,
        "served_from": f"refitted on every point for {epochs} epochs" if config.refit else fit,
    }
