"""Shared fixtures: synthetic series, CSV writers, tiny training configs and one tiny model
trained into a temporary MLflow store (`trained_store`, reused by the service tests).

MLflow's tracking and registry URIs are process-global. `trained_store` sets them to its own
store while training; a test that talks to that store through the fluent API
(`mlflow.pyfunc.load_model("models:/...")`) calls `trained_store.activate()` first instead
of assuming whatever URI the previous test left behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch

from models.artifact import ArtifactMetadata
from models.base_artifact import BaseArtifact
from models.base_network import BaseConfig, BaseNetwork
from models.calibration import Calibration
from models.priors import PRIORS
from training.config import TrainConfig

# The networks under test are tiny: intra-op threads only add contention, and on a busy
# 2-core machine OpenMP spin-waiting made the suite about 4x slower.
torch.set_num_threads(1)

# Small enough that one fit takes about a second on a busy CPU.
TINY = {
    "hidden_size": 8,
    "num_layers": 2,
    "ensemble_size": 1,
    "max_epochs": 2,
    "windows_per_epoch": 64,
    "batch_size": 32,
}


def seasonal_series(n: int, season: int = 12, seed: int = 0) -> np.ndarray:
    """Positive, trending, seasonal, slightly noisy: the shape of the passengers series."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100.0 + 0.8 * t + 15.0 * np.sin(2 * np.pi * t / season) + rng.normal(0.0, 2.0, n)


def series_frame(values: np.ndarray, freq: str = "MS", start: str = "2000-01-01") -> pd.DataFrame:
    stamps = pd.date_range(start, periods=len(values), freq=freq)
    return pd.DataFrame({"time": stamps.strftime("%Y-%m-%d %H:%M:%S"), "value": values})


@pytest.fixture
def make_series() -> Callable[..., np.ndarray]:
    """make_series(n, season=12, seed=0): a synthetic positive seasonal series."""
    return seasonal_series


@pytest.fixture
def make_frame() -> Callable[..., pd.DataFrame]:
    """make_frame(values, freq="MS", start=...): a two-column (time, value) frame."""
    return series_frame


@pytest.fixture
def tiny() -> dict:
    """Overrides that make a TrainConfig train in about a second."""
    return dict(TINY)


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """write_csv(frame_or_text, name="series.csv") -> path of the written CSV."""

    def write(content: pd.DataFrame | str, name: str = "series.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content)
        else:
            content.to_csv(path, index=False)
        return path

    return write


@dataclass
class TrainedStore:
    tracking_uri: str
    name: str
    result: object  # training.pipeline.TrainResult
    store_dir: Path
    config: TrainConfig

    def activate(self) -> None:
        """Point MLflow's process-global tracking and registry URIs at this store."""
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)

    def client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrainedStore]:
    """A tiny LSTM on the built-in passengers series, trained, backtested, logged and
    registered (version 1, alias `champion`) in a SQLite store of its own.

    The store holds exactly this one registered model and version; tests that need more
    versions use a store of their own.
    """
    from training.pipeline import train

    store_dir = tmp_path_factory.mktemp("mlflow_store")
    tracking_uri = f"sqlite:///{store_dir / 'mlflow.db'}"
    # with the seasonal profile (the default), the served model reads more than its minimum history
    config = TrainConfig.builtin("passengers", cell="lstm", **TINY)
    with pytest.MonkeyPatch.context() as patch:
        # ./mlruns (the artifact root of a new SQLite store) lands in the store directory
        patch.chdir(store_dir)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
        result = train(config, tracking_uri=tracking_uri, progress=False)
    store = TrainedStore(
        tracking_uri=tracking_uri, name=config.name, result=result, store_dir=store_dir, config=config
    )
    store.activate()
    yield store


@pytest.fixture(scope="session")
def tiny_fit(tmp_path_factory: pytest.TempPathFactory):
    """One tiny model fitted (no MLflow) on a synthetic 96-point monthly series:
    (resolved config, series, artifact). Tests that refit compare against it."""
    from training.data import load_csv
    from training.pipeline import fit_artifact

    path = tmp_path_factory.mktemp("tiny_fit") / "monthly.csv"
    series_frame(seasonal_series(96)).to_csv(path, index=False)
    config = TrainConfig(name="tiny", data=str(path), **TINY)
    series = load_csv(path, "tiny")
    config = config.resolve(series)
    artifact = fit_artifact(config, series, logger=None, progress=False)
    return config, series, artifact


# what `mlflow.set_tracking_uri`, `set_registry_uri` and `set_experiment` write into os.environ
MLFLOW_VARIABLES = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_REGISTRY_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
)
TINY_BASE = BaseConfig(context_length=24, horizon=6, hidden_size=8, num_layers=1)
# the tiny base's second network (seasons of 24 and longer, and none) mixes every prior, the autoregression too
TINY_LONG_SEASONS = replace(TINY_BASE, priors=PRIORS)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny untrained zero-shot base artifact with its long-season network and the calibration
    of the two networks' mean, as `make pretrain` writes one into models/base/."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_base") / "base"
    metadata = ArtifactMetadata(name="", season_length=0)
    long_seasons = BaseArtifact(
        TINY_LONG_SEASONS,
        BaseNetwork(TINY_LONG_SEASONS),
        Calibration(torch.rand(40, TINY_BASE.horizon)),
        metadata,
    )
    calibration = Calibration(torch.rand(40, TINY_BASE.horizon))
    BaseArtifact(
        TINY_BASE,
        BaseNetwork(TINY_BASE),
        calibration,
        metadata,
        long_seasons=long_seasons,
        mean_calibration=Calibration(torch.rand(40, TINY_BASE.horizon)),
    ).save(folder)
    return folder


@contextmanager
def mlflow_pointed_at(store_dir: Path) -> Iterator[None]:
    """Work in `store_dir` (a new SQLite store puts its artifacts under ./mlruns); MLflow's global
    URIs and the variables it mirrors them into are restored after, so later tests' stores and
    subprocesses are not pointed here."""
    uris = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    variables = {name: os.environ.get(name) for name in MLFLOW_VARIABLES}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(store_dir)
        for name in MLFLOW_VARIABLES:
            patch.delenv(name, raising=False)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(uris[0])
            mlflow.set_registry_uri(uris[1])
            for name, value in variables.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    """The test's directory as the working directory, MLflow's globals restored after
    (`mlflow_pointed_at`), so later tests' fluent calls and `mlflow models serve` subprocesses
    are not pointed here."""
    with mlflow_pointed_at(tmp_path):
        yield tmp_path
