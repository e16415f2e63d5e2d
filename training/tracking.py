"""Everything MLflow in training: the tracking store, a run's params, metrics and plot, the
artifact logged as a pyfunc model and registered under the series name, and the `champion`
alias pointed at the version with the best validation score.

Registration is the last step of a run and the alias moves only after the version exists,
so a run that dies earlier leaves the registry as it was.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from lightning.pytorch.loggers import MLFlowLogger
from mlflow import MlflowClient
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, Array, ColSpec, DataType, ParamSchema, ParamSpec, Schema

from models.artifact import CHAMPION_ALIAS, PYFUNC_ARTIFACT, tracking_uri_or_default
from models.base_artifact import BaseArtifact
from models.loading import Artifact
from models.network import NetworkSettings
from training.backtest import Backtest, plot_backtest
from training.baselines import Baselines
from training.config import TrainConfig
from training.data import SeriesData

EXPERIMENT = "forecasting"
SCORE_TAG = "val_mase"
PYFUNC_ENTRY = Path(__file__).with_name("pyfunc_model.py")
MODELS_PACKAGE = Path(__file__).resolve().parent.parent / "models"


def configure_tracking(tracking_uri: str | None = None) -> str:
    uri = tracking_uri_or_default(tracking_uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME", EXPERIMENT))
    return uri


@contextmanager
def training_run(
    config: TrainConfig, tracking_uri: str | None, base: BaseArtifact | None = None
) -> Iterator[MLFlowLogger]:
    """An MLflow run for one candidate, its params (the whole config; a candidate started from
    the base network: the base's settings instead of a local network's) and tags logged; yields
    the Lightning logger that records the per-epoch losses into it."""
    configure_tracking(tracking_uri)
    with mlflow.start_run(run_name=f"{config.name}-{config.label}") as run:
        params = config.to_dict()
        tags = {"series": config.name, "candidate": config.candidate}
        if base is None:
            tags |= {"cell": config.cell, "head": config.head}
        else:
            local_network = {f.name for f in fields(NetworkSettings)}
            params = {key: value for key, value in params.items() if key not in local_network}
            params |= {f"base.{key}": value for key, value in base.config.to_dict().items()}
            tags |= {"cell": base.cell or "none", "base": str(config.base_path)}
        mlflow.log_params({key: str(value) for key, value in params.items()})
        mlflow.set_tags(tags)
        # the resolved config as an artifact; also fails fast when the artifact store is not writable
        mlflow.log_dict(config.to_dict(), "config.json")
        yield MLFlowLogger(run_id=run.info.run_id, tracking_uri=mlflow.get_tracking_uri())


# a panel logs one backtest plot per series, of its first this many series
PLOTTED_SERIES = 10


def log_results(
    artifact: Artifact,
    backtests: dict[int, Backtest],
    series_backtests: dict[str, dict[int, Backtest]],
    panel: list[SeriesData],
    title: str,
    seconds: float,
) -> None:
    """The fit's validation score, calibration size, backtest metrics (a panel's: the mean over
    its series, and a per-series table as `backtest_by_series.csv`) and plots, into the active run."""
    mlflow.log_metric("val_mase", artifact.metadata.val_mase)
    mlflow.log_metric("calibration_windows", artifact.metadata.calibration_windows)
    mlflow.log_metrics(_flat_metrics(backtests))
    mlflow.log_metric("train_seconds", seconds)
    if len(panel) > 1:
        mlflow.log_metric("series", len(panel))
        mlflow.log_text(_series_table(series_backtests).to_csv(index=False), "backtest_by_series.csv")
    horizon = max(backtests)  # the trained horizon (the other one is h = 1)
    with tempfile.TemporaryDirectory() as scratch:
        for series in panel[:PLOTTED_SERIES]:
            safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", series.name)
            file = "backtest.png" if len(panel) == 1 else f"backtest_{safe_name}.png"
            plot = plot_backtest(
                series.values,
                series.timestamps,
                series_backtests[series.name][horizon],
                title if len(panel) == 1 else f"{title}, series {series.name}",
                Path(scratch) / file,
            )
            mlflow.log_artifact(str(plot), artifact_path="plots")


def log_provenance(provenance: dict[str, str], seconds: dict[str, float]) -> None:
    """Which fit each reported number and the served weights come from (tags), and how long
    each fine-tuning fit took (`<fit>_seconds` metrics)."""
    mlflow.set_tags(provenance)
    mlflow.log_metrics({f"{fit}_seconds": value for fit, value in seconds.items()})


def log_baselines(baselines: Baselines, candidate_mase: float | None = None) -> None:
    """The statistical baselines' validation MASE as `val_mase_<model>` metrics next to the
    candidate's own `val_mase`; a missing one as a `val_mase_<model>` tag with the reason. When
    they were scored on a sample of a panel's series, the tag `baseline_series` says which and
    `val_mase_baseline_series` is the candidate's own MASE on them (`candidate_mase`)."""
    mlflow.log_metrics({f"val_mase_{name}": value for name, value in baselines.val_mase.items()})
    mlflow.set_tags({f"val_mase_{name}": f"missing: {reason}" for name, reason in baselines.missing.items()})
    if baselines.sampled:
        mlflow.set_tag(
            "baseline_series",
            f"{len(baselines.series)} of {baselines.panel_size}, evenly spaced in the order their ids first appear",
        )
        if candidate_mase is not None:
            mlflow.log_metric("val_mase_baseline_series", candidate_mase)


def _series_table(series_backtests: dict[str, dict[int, Backtest]]) -> pd.DataFrame:
    """One row per series: every backtest metric and coverage, named as the run's metrics."""
    return pd.DataFrame(
        [{"series": name, **_flat_metrics(backtests)} for name, backtests in series_backtests.items()]
    )


def register(artifact: Artifact, name: str, candidate: str) -> str:
    """Log `artifact` as the active run's pyfunc model and register it under `name` (the
    version tagged with its `candidate` label); returns the new version. The champion alias
    is not moved here: services follow it, so it moves once, when every candidate that the
    choice weighs is registered (`promote_best`, `promote_chosen`)."""
    with tempfile.TemporaryDirectory() as scratch:
        artifact_dir = artifact.save(Path(scratch) / PYFUNC_ARTIFACT)
        version = log_and_register(artifact, artifact_dir, name, artifact.metadata.val_mase)
    MlflowClient().set_model_version_tag(name, version, "candidate", candidate)
    return version


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


@contextmanager
def models_code() -> Iterator[str]:
    """The `models` package as a pyfunc model's code, without the shipped base's weights
    (models/base/): a logged base carries its weights as its artifact, and no other model needs them."""
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / MODELS_PACKAGE.name
        shutil.copytree(MODELS_PACKAGE, target, ignore=shutil.ignore_patterns("base", "__pycache__"))
        yield str(target)


def log_and_register(artifact: Artifact, artifact_dir: Path, name: str, val_score: float) -> str:
    """Log the pyfunc model in the active run and register it; returns the new version."""
    metadata = artifact.metadata
    tail = metadata.tail or next(iter(metadata.series.values()))["tail"]
    example = pd.DataFrame({"history": [tail[-artifact.min_history :]]})
    with models_code() as code:
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_ENTRY),
            artifacts={PYFUNC_ARTIFACT: str(artifact_dir)},
            code_paths=[code],
            signature=pyfunc_signature(artifact.config.horizon),
            input_example=example,
            registered_model_name=name,
            pip_requirements=pip_requirements(),
        )
    version = str(info.registered_model_version)
    client = MlflowClient()
    client.set_model_version_tag(name, version, SCORE_TAG, f"{val_score:.6g}")
    client.set_model_version_tag(name, version, "cell", artifact.cell or "none")
    return version


def pyfunc_signature(horizon: int) -> ModelSignature:
    """What the pyfunc model takes and gives. `history` is a list of any values: MLflow's
    enforcement of a list of doubles refuses integers ("Can not safely convert int64 to
    float64"), so the model converts and checks them itself (`pyfunc_model._numbers`)."""
    return ModelSignature(
        inputs=Schema([ColSpec(Array(AnyType()), "history")]),
        outputs=Schema([ColSpec(Array(DataType.double), "forecast")]),
        params=ParamSchema([ParamSpec("horizon", DataType.long, horizon)]),
    )


def promote_best(name: str) -> str | None:
    """Move `champion` to the version with the lowest validation score, whatever its candidate
    (local, zero-shot or fine-tuned: each is scored on the same validation windows); returns it."""
    client = MlflowClient()
    scored = []
    for version in client.search_model_versions(f"name = '{name}'"):
        score = float(version.tags.get(SCORE_TAG, "nan"))
        if math.isfinite(score):
            scored.append((score, int(version.version)))
    if not scored:
        return None
    best = str(min(scored)[1])
    client.set_registered_model_alias(name, CHAMPION_ALIAS, best)
    return best


def promote_chosen(name: str, chosen: str, this_run: set[str]) -> str:
    """Move `champion` to version `chosen` - this run's ensemble (`training.ensemble`) - unless
    it points at a version of an earlier run with a lower validation score; returns the champion."""
    client = MlflowClient()
    current = champion_version(name)
    if current is not None and current not in this_run:
        held = float(client.get_model_version(name, current).tags.get(SCORE_TAG, "nan"))
        if float(client.get_model_version(name, chosen).tags.get(SCORE_TAG, "nan")) > held:
            return current
    client.set_registered_model_alias(name, CHAMPION_ALIAS, chosen)
    return chosen


def champion_version(name: str) -> str | None:
    """The version the champion alias of `name` points at, None without one."""
    try:
        # a string, as the versions `register` returns (MLflow's SQLite store gives an int)
        return str(MlflowClient().get_model_version_by_alias(name, CHAMPION_ALIAS).version)
    except mlflow.exceptions.MlflowException:
        return None


def has_champion(name: str) -> bool:
    return champion_version(name) is not None


def pip_requirements() -> list[str]:
    """The logged model's requirements, pinned to what trained it; MLflow as whichever
    distribution is installed (`mlflow`, or the client-only `mlflow-skinny`, e.g. in the image)."""
    from importlib.metadata import PackageNotFoundError, version

    def pinned(package: str) -> str:
        return f"{package}=={version(package)}"

    try:
        mlflow_requirement = pinned("mlflow")
    except PackageNotFoundError:
        mlflow_requirement = pinned("mlflow-skinny")
    return [pinned("torch"), mlflow_requirement, pinned("pandas"), pinned("numpy")]
