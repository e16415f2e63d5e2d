"""b. Hot reload under load: a new champion registered and `POST /models/reload` sent while the
load generator in loadgen.py records the model version of every answer."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.reliability.server import reload_models
from benchmarks.reliability.settings import NAME, PROJECT, RELOAD_SECONDS
from benchmarks.reliability.store import client_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reload:
    """What happened, on the load generator's clock (time.monotonic())."""

    old_version: str
    new_version: str
    registered_at: float
    sent: float
    answered: float
    report: dict


def start_load(url: str, connections: int, out: Path) -> subprocess.Popen:
    """loadgen.py on CPU 1 for RELOAD_SECONDS, returned once it has started."""
    generator = subprocess.Popen(
        [
            *("taskset", "-c", "1", sys.executable, "-m", "benchmarks.reliability.loadgen"),
            *("--url", url, "--connections", str(connections)),
            *("--seconds", str(RELOAD_SECONDS), "--out", str(out)),
        ],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
    )
    generator.stdout.readline()  # "started"
    return generator


def hot_reload(base: str, uri: str, scratch: Path, connections: int = 16) -> dict:
    client = client_for(uri)
    current = client.get_model_version_by_alias(NAME, "champion")
    out = scratch / "hot_reload.json"
    log.info(f"hot reload: c={connections} for {RELOAD_SECONDS} s, reload at about a third of it")
    generator = start_load(f"{base}/forecast", connections, out)
    time.sleep(RELOAD_SECONDS / 3)
    registered_at = time.monotonic()
    new = client.create_model_version(NAME, current.source, run_id=current.run_id)
    client.set_registered_model_alias(NAME, "champion", new.version)
    sent = time.monotonic()
    report = reload_models(base)
    reload = Reload(str(current.version), str(new.version), registered_at, sent, time.monotonic(), report)
    generator.wait(timeout=RELOAD_SECONDS + 120)
    return {
        "connections": connections,
        "seconds": RELOAD_SECONDS,
        **summary(json.loads(out.read_text()), reload),
    }


def summary(records: list[list], reload: Reload) -> dict:
    """The figures of the report from the load generator's records (see loadgen.closed_loop)."""
    old, new = reload.old_version, reload.new_version
    failures = [r for r in records if r[2] != 200]
    versions = Counter(record[3] for record in records)
    first_new = min((r[1] for r in records if r[3] == new), default=None)
    # a request sent after the reload answered, or after some answer already carried the
    # new version, must carry the new version (no flip-flop back to the old one)
    stale_after_reload = [r for r in records if r[0] > reload.answered and r[3] != new]
    flip_flops = [r for r in records if first_new is not None and r[0] > first_new and r[3] == old]
    t0 = records[0][0] if records else 0.0
    return {
        "requests": len(records),
        "failed": len(failures),
        "failure_examples": [r[4] or r[2] for r in failures[:5]],
        "old_version": old,
        "new_version": new,
        "answers_by_version": {str(k): v for k, v in versions.items()},
        "only_old_or_new": set(versions) <= {old, new},
        "reload_report": reload.report,
        "reload_ms": round((reload.answered - reload.sent) * 1000, 1),
        "registered_s": round(reload.registered_at - t0, 2),
        "reload_sent_s": round(reload.sent - t0, 2),
        "reload_answered_s": round(reload.answered - t0, 2),
        "first_new_answer_s": round(first_new - t0, 2) if first_new else None,
        "sent_after_reload_not_new": len(stale_after_reload),
        "old_after_first_new": len(flip_flops),
        "old_answers_in_flight_during_reload": sum(
            1 for r in records if r[3] == old and reload.sent <= r[1] <= reload.answered
        ),
        "timeline": [[round(r[1] - t0, 3), r[3]] for r in records],
    }
