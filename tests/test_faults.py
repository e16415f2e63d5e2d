"""Faults not covered by test_service.py / test_fuzz.py: a training run killed mid-fit, an
artifact store training cannot write to, corrupt weights on reload and at start-up, and the
batch-size limit. Each leaves the registry (and what the service answers) as it was."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest
from live_server import running_service
from mlflow import MlflowClient

from benchmarks.reliability.store import epochs_logged, registry_state, start_training, tiny_network
from service.registry import SqliteRegistry

TINY_NETWORK = tiny_network(hidden_size=8, windows_per_epoch=32)


def copy_store(trained_store, folder: Path) -> tuple[str, MlflowClient]:
    """A private copy of the shared store's database (its artifacts stay where they are)."""
    shutil.copy(trained_store.store_dir / "mlflow.db", folder / "mlflow.db")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    return uri, MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_training_killed_mid_fit_leaves_the_registry_untouched(trained_store, tmp_path):
    uri, client = copy_store(trained_store, tmp_path)
    before = registry_state(client, trained_store.name)
    process, log = start_training(
        tmp_path,
        uri,
        *TINY_NETWORK,
        "--max-epochs",
        "100000",
        "--patience",
        "100000",
        MLFLOW_EXPERIMENT_NAME="killed-run",
    )
    try:
        deadline = time.monotonic() + 90
        while epochs_logged(tmp_path / "mlflow.db") == 0:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "training never reached its first epoch"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert registry_state(client, trained_store.name) == before


@pytest.fixture(scope="module")
def unwritable_run(trained_store, tmp_path_factory):
    """Training into an experiment whose artifact root lies under a regular file: the
    directories cannot be created whoever runs it (chmod would not stop root)."""
    folder = tmp_path_factory.mktemp("unwritable")
    uri, client = copy_store(trained_store, folder)
    blocker = folder / "blocker"
    blocker.write_text("a file where the artifact directory should be\n")
    client.create_experiment("unwritable", artifact_location=str(blocker / "artifacts"))
    before = registry_state(client, trained_store.name)
    process, log = start_training(
        folder, uri, *TINY_NETWORK, "--max-epochs", "1", MLFLOW_EXPERIMENT_NAME="unwritable"
    )
    process.wait(timeout=300)
    return process.returncode, log.read_text(), before, registry_state(client, trained_store.name)


def test_unwritable_artifact_store_fails_and_leaves_the_registry_untouched(unwritable_run):
    returncode, output, before, after = unwritable_run
    assert returncode != 0, output[-3000:]
    assert after == before


def test_unwritable_artifact_store_gives_a_clear_message(unwritable_run):
    _, output, _, _ = unwritable_run
    assert "Traceback" not in output, output[-3000:]
    assert "error:" in output and "blocker" in output


def test_batch_over_the_limit_is_422_naming_series(trained_store):
    history = trained_store.result.artifact.metadata.tail
    body = {"model": trained_store.name, "horizon": 2}
    with running_service(trained_store.store_dir, trained_store.tracking_uri, FORECAST_MAX_BATCH="5") as base:
        batch = [{"id": str(i), "history": history} for i in range(6)]
        over = httpx.post(f"{base}/forecast", json={**body, "series": batch}, timeout=30)
        assert over.status_code == 422, over.text
        (problem,) = over.json()["detail"]
        assert problem["loc"] == ["body", "series"]
        assert "6" in problem["msg"] and "5" in problem["msg"]
        at_limit = httpx.post(f"{base}/forecast", json={**body, "series": batch[:5]}, timeout=30)
        assert at_limit.status_code == 200, at_limit.text
        assert len(at_limit.json()["forecasts"]) == 5


def corrupt_copy(trained_store, folder: Path, weights: bytes) -> Path:
    """A model folder like the champion's, with `weights.pt` replaced by `weights`."""
    registry = SqliteRegistry(trained_store.tracking_uri)
    source = registry.fetch(registry.resolve(trained_store.name, "champion"), folder)
    shutil.copytree(source, folder / "artifacts" / "forecaster")
    (folder / "artifacts" / "forecaster" / "weights.pt").write_bytes(weights)
    return folder


@pytest.mark.parametrize(
    "weights",
    [b"\x80\x04not a pickle", b"", b"PK\x03\x04 truncated zip"],
    ids=["garbage", "empty", "truncated"],
)
def test_corrupt_weights_on_reload_keep_the_old_model(trained_store, tmp_path, weights):
    """torch.load raises UnpicklingError / EOFError here, not only OSError or ValueError:
    the reload must still answer 200 with `failed`, and the old model keep serving."""
    uri, client = copy_store(trained_store, tmp_path)
    current = client.get_model_version_by_alias(trained_store.name, "champion")
    broken = corrupt_copy(trained_store, tmp_path / "broken", weights)
    with running_service(tmp_path, uri) as base:
        version = client.create_model_version(trained_store.name, str(broken), run_id=current.run_id)
        client.set_registered_model_alias(trained_store.name, "champion", version.version)
        reload = httpx.post(f"{base}/models/reload", timeout=30)
        assert reload.status_code == 200, reload.text
        assert reload.json()["ok"] is False
        assert reload.json()["models"][0]["status"] == "failed"
        answer = httpx.post(f"{base}/forecast", json={"model": trained_store.name}, timeout=30)
        assert answer.status_code == 200
        assert answer.json()["model"]["version"] == str(current.version)


def test_corrupt_champion_at_start_up_is_retried_until_fixed(trained_store, tmp_path):
    """The start-up loader must survive an unloadable champion: not ready, with the reason,
    and ready as soon as the alias points at a good version again."""
    uri, client = copy_store(trained_store, tmp_path)
    good = client.get_model_version_by_alias(trained_store.name, "champion")
    broken = corrupt_copy(trained_store, tmp_path / "broken", b"\x80\x04not a pickle")
    bad = client.create_model_version(trained_store.name, str(broken), run_id=good.run_id)
    client.set_registered_model_alias(trained_store.name, "champion", bad.version)
    with running_service(tmp_path, uri, wait_ready=False) as base:
        deadline = time.monotonic() + 30
        while not (ready := httpx.get(f"{base}/ready").json()).get("error"):
            assert time.monotonic() < deadline, ready
            time.sleep(0.2)
        assert ready["ready"] is False and "unusable" in ready["error"]
        client.set_registered_model_alias(trained_store.name, "champion", good.version)
        while httpx.get(f"{base}/ready").status_code != 200:
            assert time.monotonic() < deadline, httpx.get(f"{base}/ready").text
            time.sleep(0.2)
        answer = httpx.post(f"{base}/forecast", json={"model": trained_store.name}, timeout=30)
        assert answer.json()["model"]["version"] == str(good.version)
