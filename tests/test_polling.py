"""Every replica follows the champion: a real server polls a real SQLite MLflow store
(FORECAST_POLL_SECONDS) and swaps to the version the alias moved to, while requests keep
being answered."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
from live_server import running_service
from mlflow import MlflowClient

POLL_SECONDS = 1.0
# a poll is one alias lookup plus, when the alias moved, loading one tiny artifact
LOAD_ALLOWANCE = 3.0


def copy_store(trained_store, folder: Path) -> tuple[str, MlflowClient]:
    """A copy of the shared store's registry, so moving the alias leaves the fixture alone."""
    shutil.copy(trained_store.store_dir / "mlflow.db", folder / "mlflow.db")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    return uri, MlflowClient(tracking_uri=uri, registry_uri=uri)


class RequestLoop:
    """POST /forecast back to back on a thread; records (time, status, served version)."""

    def __init__(self, base: str, name: str) -> None:
        self.base, self.name = base, name
        self.answers: list[tuple[float, int, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                response = client.post(f"{self.base}/forecast", json={"model": self.name, "horizon": 2})
                version = response.json()["model"]["version"] if response.status_code == 200 else None
                self.answers.append((time.monotonic(), response.status_code, version))
                self._stop.wait(0.02)

    def __enter__(self) -> RequestLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def first_answer_with(self, version: str, since: float, deadline: float) -> float | None:
        while time.monotonic() < deadline:
            for moment, status, served in list(self.answers):
                if moment >= since and status == 200 and served == version:
                    return moment
            time.sleep(0.05)
        return None


def test_moving_the_champion_is_followed_within_the_poll_interval(trained_store, tmp_path):
    uri, client = copy_store(trained_store, tmp_path)
    name = trained_store.name
    current = client.get_model_version_by_alias(name, "champion")
    broken_dir = tmp_path / "broken" / "artifacts" / "forecaster"
    broken_dir.mkdir(parents=True)
    (broken_dir / "forecaster.json").write_text("{not json")
    with (
        running_service(tmp_path, uri, FORECAST_POLL_SECONDS=str(POLL_SECONDS)) as base,
        RequestLoop(base, name) as requests,
    ):
        promoted = client.create_model_version(name, current.source, run_id=current.run_id)
        moved = time.monotonic()
        client.set_registered_model_alias(name, "champion", promoted.version)
        switched = requests.first_answer_with(
            str(promoted.version), moved, moved + POLL_SECONDS + LOAD_ALLOWANCE + 10
        )
        assert switched is not None, requests.answers[-3:]
        assert switched - moved <= POLL_SECONDS + LOAD_ALLOWANCE, switched - moved
        # a champion that cannot be loaded: the poll fails, the promoted version keeps serving
        broken = client.create_model_version(name, str(tmp_path / "broken"), run_id=current.run_id)
        client.set_registered_model_alias(name, "champion", broken.version)
        time.sleep(3 * POLL_SECONDS)
        assert httpx.get(f"{base}/models/{name}").json()["version"] == str(promoted.version)
        assert httpx.get(f"{base}/ready").status_code == 200
    statuses = [status for _, status, _ in requests.answers]
    assert statuses and set(statuses) == {200}, [s for s in statuses if s != 200][:5]
    after_switch = [version for moment, _, version in requests.answers if moment >= switched]
    assert set(after_switch) == {str(promoted.version)}


def test_poll_seconds_zero_keeps_the_loaded_version(trained_store, tmp_path):
    uri, client = copy_store(trained_store, tmp_path)
    name = trained_store.name
    current = client.get_model_version_by_alias(name, "champion")
    with running_service(tmp_path, uri, FORECAST_POLL_SECONDS="0", FORECAST_RETRY_SECONDS="0.2") as base:
        promoted = client.create_model_version(name, current.source, run_id=current.run_id)
        client.set_registered_model_alias(name, "champion", promoted.version)
        time.sleep(1.5)
        assert httpx.get(f"{base}/models/{name}").json()["version"] == str(current.version)
