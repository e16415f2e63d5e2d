"""The service's process-wide arithmetic settings, in a fresh interpreter each (they are global)."""

from __future__ import annotations

import subprocess
import sys

# a float32 below the normal range, as worker threads see it after the app is created (or not)
SUBNORMAL = """
import sys, threading, torch
if sys.argv[1] == "app":
    from service.app import create_app
    from service.settings import Settings
    create_app(Settings(tracking_uri="sqlite:///" + sys.argv[2]))
seen = []
worker = threading.Thread(target=lambda: seen.append(float(torch.tensor([1e-39]) * 1.0)))
worker.start()
worker.join()
print(seen[0])
"""


def subnormal_as_seen(mode: str, tmp_path) -> float:
    result = subprocess.run(
        [sys.executable, "-c", SUBNORMAL, mode, str(tmp_path / "store.db")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return float(result.stdout.split()[-1])


def test_the_service_reads_subnormal_floats_as_zero_in_its_worker_threads(tmp_path) -> None:
    """The base's fits of very regular series make float32 values below 1e-38, which cost CPU
    arithmetic many times over (serving.md, session 21): the app flushes them in every thread."""
    assert subnormal_as_seen("plain", tmp_path) > 0.0
    assert subnormal_as_seen("app", tmp_path) == 0.0
