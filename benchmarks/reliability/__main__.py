"""`python -m benchmarks.reliability`: trains a tiny champion into a scratch store, runs every
part against it (see __init__.py) and writes the report."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.reliability.faults import killed_training, unwritable_artifacts
from benchmarks.reliability.hot_reload import hot_reload
from benchmarks.reliability.load import load_test
from benchmarks.reliability.report import plots, report
from benchmarks.reliability.security import code_checks, limits, pip_audit
from benchmarks.reliability.server import start_server
from benchmarks.reliability.settings import RESULTS
from benchmarks.reliability.soak import soak
from benchmarks.reliability.store import NETWORK, start_training
from benchmarks.serving import rss_mb, stop

log = logging.getLogger("benchmarks.reliability")


def show_progress() -> None:
    """Each part's progress lines on stdout, with the time of day."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def train_champion(scratch: Path, uri: str) -> None:
    log.info(f"training a tiny champion into {scratch}")
    process, log_path = start_training(scratch, uri, *NETWORK, "--max-epochs", "2")
    process.wait(timeout=900)
    if process.returncode != 0:
        sys.exit(f"training failed:\n{log_path.read_text()[-3000:]}")


def measure(scratch: Path, uri: str) -> dict:
    import torch

    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "loadavg_start": load_average(),
        }
    }
    train_champion(scratch, uri)
    server, base = start_server(scratch, uri)
    try:
        results["load"] = load_test(base)
        results["hot_reload"] = hot_reload(base, uri, scratch)
        results["faults"] = {"killed_training": killed_training(scratch, uri, base)}
        results["server_rss_after_load_mb"] = round(rss_mb(server), 1)
    finally:
        stop(server)
    results["faults"]["unwritable_artifacts"] = unwritable_artifacts(scratch, uri)
    results["soak"] = soak(scratch, uri)
    results["security"] = {"pip_audit": pip_audit(), "code": code_checks(uri), "limits": limits(scratch, uri)}
    results["machine"]["loadavg_end"] = load_average()
    return results


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(prog="python -m benchmarks.reliability", description=__doc__).parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk (the load generator this benchmark uses)")
    show_progress()
    began = time.monotonic()
    RESULTS.mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="reliability-"))
    results = measure(scratch, f"sqlite:///{scratch / 'mlflow.db'}")
    results["seconds"] = round(time.monotonic() - began, 1)
    shutil.rmtree(scratch, ignore_errors=True)

    plots(results)
    text = report(results)
    (RESULTS / "reliability.md").write_text(text)
    slim = json.loads(json.dumps(results))
    slim["hot_reload"].pop("timeline")  # thousands of points: the PNG shows them
    (RESULTS / "reliability.json").write_text(json.dumps(slim, indent=2))
    print(text)


if __name__ == "__main__":
    main()
