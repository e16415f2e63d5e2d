"""MLflow side of training: log the artifact as a pyfunc model, register it under the
series name and point the `champion` alias at the version with the best validation score.

Registration is the last step of a run and the alias moves only after the version exists,
so a run that dies earlier leaves the registry as it was.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature

from models.artifact import ForecasterArtifact

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
EXPERIMENT = "forecasting"
CHAMPION = "champion"
SCORE_TAG = "val_mase"
PYFUNC_ENTRY = Path(__file__).with_name("pyfunc_model.py")
MODELS_PACKAGE = Path(__file__).resolve().parent.parent / "models"


def configure_tracking(tracking_uri: str | None = None) -> str:
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME", EXPERIMENT))
    return uri


def log_and_register(artifact: ForecasterArtifact, artifact_dir: Path, name: str, val_score: float) -> str:
    """Log the pyfunc model in the active run and register it; returns the new version."""
    context = artifact.min_history
    example = pd.DataFrame({"history": [artifact.metadata["tail"][-context:]]})
    output = pd.DataFrame({"forecast": [[0.0] * artifact.config.horizon]})
    signature = infer_signature(example, output, params={"horizon": artifact.config.horizon})
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(PYFUNC_ENTRY),
        artifacts={"forecaster": str(artifact_dir)},
        code_paths=[str(MODELS_PACKAGE)],
        signature=signature,
        input_example=example,
        registered_model_name=name,
        pip_requirements=_pip_requirements(),
    )
    version = str(info.registered_model_version)
    client = MlflowClient()
    client.set_model_version_tag(name, version, SCORE_TAG, f"{val_score:.6g}")
    client.set_model_version_tag(name, version, "cell", artifact.config.cell)
    return version


def promote_best(name: str) -> str | None:
    """Move `champion` to the version with the lowest validation score; returns it."""
    client = MlflowClient()
    scored = []
    for version in client.search_model_versions(f"name = '{name}'"):
        score = float(version.tags.get(SCORE_TAG, "nan"))
        if math.isfinite(score):
            scored.append((score, int(version.version)))
    if not scored:
        return None
    best = str(min(scored)[1])
    client.set_registered_model_alias(name, CHAMPION, best)
    return best


def has_champion(name: str) -> bool:
    client = MlflowClient()
    try:
        client.get_model_version_by_alias(name, CHAMPION)
    except mlflow.exceptions.MlflowException:
        return False
    return True


def _pip_requirements() -> list[str]:
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
