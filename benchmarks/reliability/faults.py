"""d. Faults: a training run SIGKILLed mid-fit, and an artifact store training cannot write
to. Each must leave the registry (and what the service serves) as it was. Fast versions are
in tests/test_faults.py."""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from pathlib import Path

from benchmarks.reliability.server import reload_models
from benchmarks.reliability.settings import NAME
from benchmarks.reliability.store import NETWORK, client_for, epochs_logged, registry_state, start_training

log = logging.getLogger(__name__)


def killed_training(store: Path, uri: str, base: str) -> dict:
    log.info("fault: training killed mid-fit")
    before = registry_state(client_for(uri), NAME)
    process, _ = start_training(store, uri, *NETWORK, "--max-epochs", "100000", "--patience", "100000")
    started = time.monotonic()
    while epochs_logged(store / "mlflow.db") < 3 and process.poll() is None:
        if time.monotonic() - started > 180:
            break
        time.sleep(0.2)
    epochs = epochs_logged(store / "mlflow.db")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    after = registry_state(client_for(uri), NAME)
    reload = reload_models(base)
    return {
        "epochs_logged_before_kill": epochs,
        "returncode": process.returncode,
        "registry_before": before,
        "registry_after": after,
        "untouched": before == after,
        "service_reload_after_kill": reload["models"][0]["status"] if reload["models"] else reload,
    }


def unwritable(store: Path, uri: str, variant: str) -> dict:
    before = registry_state(client_for(uri), NAME)
    if variant == "read-only bind mount":
        # a private mount namespace in which the store's mlruns/ is a read-only bind (EROFS
        # even for root); the rest of the machine does not see it
        inner = f'mount --bind -o ro {store / "mlruns"} {store / "mlruns"} && exec "$@"'
        prefix = ("unshare", "-rm", "sh", "-c", inner, "sh")
        process, log_path = start_training(store, uri, *NETWORK, "--max-epochs", "1", prefix=prefix)
    else:
        blocker = store / "blocker"
        blocker.write_text("a regular file where the artifact directory should be\n")
        client_for(uri).create_experiment("unwritable", artifact_location=str(blocker / "artifacts"))
        process, log_path = start_training(
            store, uri, *NETWORK, "--max-epochs", "1", MLFLOW_EXPERIMENT_NAME="unwritable"
        )
    process.wait(timeout=600)
    output = log_path.read_text()
    lines = [line for line in output.strip().splitlines() if line.strip()]
    after = registry_state(client_for(uri), NAME)
    return {
        "variant": variant,
        "returncode": process.returncode,
        "traceback": "Traceback" in output,
        "last_line": lines[-1] if lines else "",
        "registry_before": before,
        "registry_after": after,
        "untouched": before == after,
    }


def unwritable_artifacts(store: Path, uri: str) -> list[dict]:
    results = []
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0:
        log.info("fault: read-only artifact folder (bind mount)")
        results.append(unwritable(store, uri, "read-only bind mount"))
    log.info("fault: artifact root under a regular file")
    results.append(unwritable(store, uri, "file where a directory is expected"))
    return results
