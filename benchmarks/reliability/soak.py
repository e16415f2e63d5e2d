"""c. Soak: SOAK_REQUESTS requests against a fresh server while its RSS is sampled every
second, against the answers its own /metrics counts."""

from __future__ import annotations

import logging
import statistics
import threading
import time
import urllib.request
from pathlib import Path

from benchmarks.reliability.load import wrk_forecasts
from benchmarks.reliability.server import start_server
from benchmarks.reliability.settings import SOAK_MAX_SECONDS, SOAK_REQUESTS
from benchmarks.serving import rss_mb, stop

log = logging.getLogger(__name__)


def served_forecasts(base: str) -> int:
    """POST /forecast answers so far, from the service's own Prometheus counter."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("http_requests_total{") and 'handler="/forecast"' in line
        )
    )


def soak(store: Path, uri: str) -> dict:
    process, base = start_server(store, uri)
    samples: list[tuple[float, int, float]] = []  # seconds, answers so far, RSS MB
    done = threading.Event()
    started = time.monotonic()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.monotonic() - started, served_forecasts(base), rss_mb(process)))
            done.wait(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    log.info(f"soak: {SOAK_REQUESTS} requests, c=16, at most {SOAK_MAX_SECONDS} s")
    result = wrk_forecasts(
        base,
        16,
        SOAK_MAX_SECONDS,
        limit=SOAK_REQUESTS,
        until=lambda: bool(samples) and samples[-1][1] >= SOAK_REQUESTS,
    )
    time.sleep(2)  # two more samples after the last answer
    done.set()
    sampler.join()
    stop(process)
    result.update(failed=result["non_2xx"] + result["socket_errors"], **rss_figures(samples))
    return result


def rss_figures(samples: list[tuple[float, int, float]]) -> dict:
    """RSS at the start, after warm-up and at the end, and its growth in between."""
    # warm-up: the first 10 % of the requests (allocator pools, first-call caches, lazy imports)
    total = samples[-1][1]
    warm = [rss for _, count, rss in samples if count >= 0.1 * total]
    baseline = statistics.median(warm[:5])
    final = statistics.median([rss for _, _, rss in samples[-3:]])
    return {
        "served_by_metrics": total,
        "rss_start_mb": round(samples[0][2], 1),
        "rss_after_warmup_mb": round(baseline, 1),
        "rss_end_mb": round(final, 1),
        "rss_max_mb": round(max(rss for _, _, rss in samples), 1),
        "rss_growth_pct": round(100 * (final - baseline) / baseline, 2),
        "samples": [[round(t, 1), count, round(rss, 2)] for t, count, rss in samples],
    }
