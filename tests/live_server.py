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
        deadline = time.monotonic() + timeout
        probe = "/ready" if wait_ready else "/health"
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"service exited with {process.returncode}:\n{log_path.read_text()[-3000:]}"
                )
            try:
                if httpx.get(base + probe, timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"service not up after {timeout} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
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
