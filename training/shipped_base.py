"""The shipped base as model `base`: the folder `make pretrain` wrote (models/base/) is logged in
an MLflow run as a pyfunc model, as training logs a local model, registered as `base` and given
the alias `champion` - unless a version of `base` already holds exactly these files (tag
`base_digest`). No training; seconds.

`python -m training --if-missing` (what `make run` calls) does this first, so a fresh store
serves `base` at once, and a store made by an older release, or before a `make pretrain`
rebuild, serves the new base once it runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, Array, ColSpec, DataType, ParamSchema, ParamSpec, Schema

from models.artifact import BASE_MODEL, CHAMPION_ALIAS, PYFUNC_ARTIFACT
from models.base_artifact import DIGEST_TAG, SHIPPED_BASE, BaseArtifact, folder_digest
from training.tracking import PYFUNC_ENTRY, configure_tracking, models_code, pip_requirements

# what `mlflow models serve` shows as the input example: the first year of the airline passengers
EXAMPLE_HISTORY = [112.0, 118.0, 132.0, 129.0, 121.0, 135.0, 148.0, 148.0, 136.0, 119.0, 104.0, 118.0]


def base_signature(horizon: int) -> ModelSignature:
    """A base model's pyfunc contract: the local model's (see `tracking.pyfunc_signature`), plus
    the `season` param and the season each row used in the output."""
    return ModelSignature(
        inputs=Schema([ColSpec(Array(AnyType()), "history")]),
        outputs=Schema([ColSpec(Array(DataType.double), "forecast"), ColSpec(DataType.long, "season")]),
        params=ParamSchema(
            [ParamSpec("horizon", DataType.long, horizon), ParamSpec("season", DataType.long, None)]
        ),
    )


def register_base(tracking_uri: str | None = None, folder: Path = SHIPPED_BASE) -> str | None:
    """Register the base artifact in `folder` as `base@champion` unless a version of `base`
    already holds the same files; returns the new version (None when one did)."""
    configure_tracking(tracking_uri)
    client = MlflowClient()
    digest = folder_digest(folder)
    versions = client.search_model_versions(f"name = '{BASE_MODEL}'")
    if any(version.tags.get(DIGEST_TAG) == digest for version in versions):
        return None
    artifact = BaseArtifact.load(folder)
    with (
        mlflow.start_run(run_name="register-base"),
        tempfile.TemporaryDirectory() as scratch,
        models_code() as code,
    ):
        mlflow.set_tags({"job": "register-base", "cell": artifact.cell or "none"})
        mlflow.log_params(artifact.config.to_dict())
        mlflow.log_dict(artifact.facts, "base_facts.json")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_ENTRY),
            artifacts={PYFUNC_ARTIFACT: str(artifact.save(Path(scratch) / PYFUNC_ARTIFACT))},
            code_paths=[code],
            signature=base_signature(artifact.config.horizon),
            input_example=pd.DataFrame({"history": [EXAMPLE_HISTORY]}),
            registered_model_name=BASE_MODEL,
            pip_requirements=pip_requirements(),
        )
    version = str(info.registered_model_version)
    client.set_model_version_tag(BASE_MODEL, version, "cell", artifact.cell or "none")
    client.set_model_version_tag(BASE_MODEL, version, DIGEST_TAG, digest)
    client.set_registered_model_alias(BASE_MODEL, CHAMPION_ALIAS, version)
    return version
