"""A real `python -m service` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServiceProcess:
    process: subprocess.Popen
    base: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


def wait_until_answering(process: subprocess.Popen, url: str, log_path: Path, timeout: float) -> None:
    """Poll `url` until it answers 200; fail with the process's log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args} exited with {process.returncode}:\n{log_path.read_text()[-3000:]}"
            )
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not answering after {timeout} s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)


@contextmanager
def ready_client(app: FastAPI) -> Iterator[TestClient]:
    """An in-process client of `app`, once its /ready answers 200."""
    with TestClient(app, raise_server_exceptions=False) as client:
        deadline = time.monotonic() + 30
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, client.get("/ready").text
            time.sleep(0.1)
        yield client


@contextmanager
def service_process(
    workdir: Path,
    tracking_uri: str,
    wait_ready: bool = True,
    timeout: float = 60.0,
    prefix: Sequence[str] = (),
    **env: str,
) -> Iterator[ServiceProcess]:
    """Start the service (behind `prefix`, e.g. a `setpriv` command line), wait for /ready
    (or /health), yield it, stop it with SIGTERM as an orchestrator would."""
    port = free_port()
    log_path = Path(workdir) / f"service-{port}.log"
    environment = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "FORECAST_RETRY_SECONDS": "0.5",
        # tests that move an alias swap models themselves (POST /models/reload); the ones
        # about polling turn it on
        "FORECAST_POLL_SECONDS": "0",
        **env,
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "service"],
            cwd=workdir,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, base + ("/ready" if wait_ready else "/health"), log_path, timeout)
        yield ServiceProcess(process, base, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_service(
    workdir: Path, tracking_uri: str, wait_ready: bool = True, timeout: float = 60.0, **env: str
) -> Iterator[str]:
    """Start the service, wait for /ready (or /health), yield its base URL, stop it."""
    with service_process(workdir, tracking_uri, wait_ready, timeout, **env) as service:
        yield service.base


@contextmanager
def _command_serving(
    command: list[str], workdir: Path, environment: dict[str, str], log_name: str, ready: str, timeout: float
) -> Iterator[str]:
    """`command` (a server taking `--port`) on a free port, its output in `workdir / log_name`;
    yields its base URL once `ready` answers 200, and stops it after."""
    port = free_port()
    log_path = workdir / log_name
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, base + ready, log_path, timeout=timeout)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def mlflow_models_serve(model_uri: str, tracking_uri: str, workdir: Path) -> Iterator[str]:
    """A real `mlflow models serve -m model_uri` (as the README documents it) on a free port;
    yields its base URL. MLflow's server runs `uvicorn` from PATH: the venv's bin goes first,
    as `make mlflow-serve` does; MLflow's own variables of this process are not passed on."""
    bin_dir = str(Path(sys.executable).parent)
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")},
        "MLFLOW_TRACKING_URI": tracking_uri,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [
        str(Path(bin_dir) / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local", "--workers", "1",
    ]  # fmt: skip
    with _command_serving(command, workdir, environment, "serve.log", "/ping", 120) as base:
        yield base


@contextmanager
def mlflow_tracking_server(backend_uri: str, workdir: Path, artifacts: Path | None = None) -> Iterator[str]:
    """A real `mlflow server` on `backend_uri` on a free port; with `artifacts`, it serves the
    artifacts itself (`mlflow-artifacts:/` locations, as in the compose deployment). Yields its URL."""
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_uri, "--workers", "1"]
    if artifacts is not None:
        command += ["--artifacts-destination", str(artifacts), "--serve-artifacts"]
    environment = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with _command_serving(command, workdir, environment, "mlflow-server.log", "/health", 90) as base:
        yield base
