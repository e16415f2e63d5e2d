"""The service under test: a real `python -m service` on CPU 0, and its reload endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmarks.serving import free_port


def start_server(store: Path, uri: str, **env: str) -> tuple[subprocess.Popen, str]:
    """The service on a free loopback port, run from `store` with its log there; returns the
    process and its base URL once /ready answers 200."""
    port = free_port()
    process = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-m", "service"],
        cwd=store,
        env={
            **os.environ,
            "MLFLOW_TRACKING_URI": uri,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "FORECAST_LOG_LEVEL": "warning",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=open(store / f"service-{port}.log", "wb"),  # noqa: SIM115 (the child keeps it)
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"service exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/ready", timeout=2) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError("service not ready after 120 s")


def reload_models(base: str) -> dict:
    """The service's answer to `POST /models/reload`."""
    request = urllib.request.Request(f"{base}/models/reload", method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())
