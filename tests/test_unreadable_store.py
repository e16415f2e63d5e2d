"""A store the service's uid may not read: the loader keeps retrying, /ready says why, and
the service becomes ready once the store is readable.

The scenario is the Docker image's: a non-root service and a store directory made by
`mktemp -d` (mode 0700, another owner). Run as root (as CI is), the service is started
under uid 65534 with `setpriv`, since root reads any file; run as another user, the test
takes every permission off its own store directory instead.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import service_process
from mlflow import MlflowClient

from service.registry import SqliteRegistry

UNPRIVILEGED_UID = 65534  # "nobody"
AS_ROOT = os.getuid() == 0


@pytest.fixture
def private_store(trained_store) -> Iterator[tuple[Path, str, str]]:
    """(directory, tracking URI, champion version): a copy of the shared store whose
    registry and champion artifact both live in one fresh `mkdtemp` directory (0700)."""
    directory = Path(tempfile.mkdtemp(prefix="private-store-"))
    try:
        shutil.copy(trained_store.store_dir / "mlflow.db", directory / "mlflow.db")
        registry = SqliteRegistry(trained_store.tracking_uri)
        champion = registry.resolve(trained_store.name, "champion")
        shutil.copytree(
            registry.fetch(champion, directory / "unused"), directory / "model" / "artifacts" / "forecaster"
        )
        uri = f"sqlite:///{directory / 'mlflow.db'}"
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        copy = client.create_model_version(
            trained_store.name, str(directory / "model"), run_id=champion.run_id
        )
        client.set_registered_model_alias(trained_store.name, "champion", copy.version)
        if AS_ROOT:
            for path in directory.rglob("*"):
                path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
        yield directory, uri, str(copy.version)
    finally:
        directory.chmod(0o700)
        shutil.rmtree(directory, ignore_errors=True)


def test_unreadable_store_is_reported_retried_and_recovered(trained_store, private_store):
    directory, uri, version = private_store
    if AS_ROOT:
        prefix = ("setpriv", f"--reuid={UNPRIVILEGED_UID}", f"--regid={UNPRIVILEGED_UID}", "--clear-groups")
        uid, locked, readable = UNPRIVILEGED_UID, 0o700, 0o755
    else:
        prefix, uid, locked, readable = (), os.getuid(), 0o000, 0o700
    directory.chmod(locked)
    # the service's working directory (and HOME) must be reachable by its uid
    workdir = Path(tempfile.mkdtemp(prefix="service-cwd-"))
    workdir.chmod(0o755)
    try:
        with service_process(workdir, uri, wait_ready=False, prefix=prefix, HOME=str(workdir)) as service:
            deadline = time.monotonic() + 30
            while (ready := httpx.get(f"{service.base}/ready")).json()["error"] is None:
                assert time.monotonic() < deadline, ready.text
                time.sleep(0.2)
            assert ready.status_code == 503
            error = ready.json()["error"]
            assert str(directory / "mlflow.db") in error, error
            assert "Permission denied" in error and f"uid {uid}" in error, error
            assert "registry unavailable" in service.log() and "Traceback" not in service.log()

            directory.chmod(readable)
            while httpx.get(f"{service.base}/ready").status_code != 200:
                assert time.monotonic() < deadline, httpx.get(f"{service.base}/ready").text
                time.sleep(0.2)
            answer = httpx.post(f"{service.base}/forecast", json={"model": trained_store.name}, timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.json()["model"]["version"] == version
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
