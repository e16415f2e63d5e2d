"""The MLflow store the reliability run (and tests/test_faults.py) trains into: a tiny
passengers model through the real CLI, the registry's state, and the epochs a run in
progress has logged. Imports no MLflow itself: callers hand in their client."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.reliability.settings import HISTORY, PROJECT

if TYPE_CHECKING:
    from mlflow import MlflowClient

# The built-in passengers series through the real CLI (what `make train` runs), made as
# cheap as it goes: no ridge start, no refit, one small network (`tiny_network`). Python and
# Lightning imports still take most of the ~10-20 s a run needs on a busy 2-core machine.
TINY_YAML = f"""
name: passengers
data: {PROJECT / "data" / "passengers.csv"}
freq: MS
season_length: 12
horizon: 12
test_size: 24
val_size: 24
multi_step_stride: 12
context_length: {HISTORY}
refit: false
linear_skip: false
"""


def tiny_network(hidden_size: int, windows_per_epoch: int) -> list[str]:
    """CLI options for one small LSTM fitted on few windows per epoch."""
    return [
        *("--cell", "lstm", "--hidden-size", str(hidden_size), "--ensemble-size", "1"),
        *("--windows-per-epoch", str(windows_per_epoch), "--batch-size", "32", "--no-progress"),
    ]


# the reliability run's model (the report names its size)
NETWORK = tiny_network(hidden_size=16, windows_per_epoch=64)


def client_for(uri: str) -> MlflowClient:
    import mlflow

    # MLflow resolves `models:/m-...` sources through the process-global URIs
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def registry_state(client: MlflowClient, name: str) -> dict:
    """The versions registered under `name` and the one `champion` points at."""
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{name}'"))
    return {
        "versions": versions,
        "champion": int(client.get_model_version_by_alias(name, "champion").version),
    }


def start_training(
    folder: Path, uri: str, *arguments: str, prefix: tuple[str, ...] = (), **env: str
) -> tuple[subprocess.Popen, Path]:
    """`python -m training` on TINY_YAML in the background, run from `folder` (behind the
    `prefix` command, if any); its output goes to a file (no pipe to fill)."""
    log = folder / "training.log"
    (folder / "tiny.yaml").write_text(TINY_YAML)
    command = [*prefix, sys.executable, "-m", "training", "--config", "tiny.yaml"]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [*command, "--tracking-uri", uri, *arguments],
            cwd=folder,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return process, log


def epochs_logged(database: Path) -> int:
    """Epoch metrics logged so far by a run still in progress (0 before fitting starts)."""
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute(
                "SELECT COUNT(*) FROM metrics JOIN runs ON metrics.run_uuid = runs.run_uuid "
                "WHERE runs.status = 'RUNNING' AND metrics.key = 'train_loss'"
            ).fetchone()[0]
    except sqlite3.Error:
        return 0
