"""SIGTERM on a real service process: readiness drops first, requests are still answered
during the drain delay, and a request in flight when the listener closes completes."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator

import httpx
from live_server import service_process

DRAIN_SECONDS = 1.0
# the slow request's body arrives over this long: well past the drain delay
UPLOAD_SECONDS = 5.0


def refused(url: str) -> bool:
    try:
        httpx.get(url, timeout=1.0)
    except httpx.ConnectError:
        return True
    return False


def test_sigterm_drops_readiness_then_finishes_requests_in_flight(trained_store, tmp_path):
    body = json.dumps({"model": trained_store.name, "horizon": 3}).encode()
    uploading = threading.Event()
    answer: dict[str, httpx.Response] = {}

    def slow_body() -> Iterator[bytes]:
        yield body[:10]
        uploading.set()
        pieces = 5
        for index in range(pieces):
            time.sleep(UPLOAD_SECONDS / pieces)
            yield body[10:] if index == pieces - 1 else b" "

    def slow_request(base: str) -> None:
        answer["slow"] = httpx.post(
            f"{base}/forecast", content=slow_body(), headers={"content-type": "application/json"}, timeout=60
        )

    with service_process(
        tmp_path,
        trained_store.tracking_uri,
        FORECAST_SHUTDOWN_DRAIN_SECONDS=str(DRAIN_SECONDS),
    ) as service:
        in_flight = threading.Thread(target=slow_request, args=(service.base,))
        in_flight.start()
        assert uploading.wait(10)
        service.process.send_signal(signal.SIGTERM)
        terminated = time.monotonic()

        # the signal handler runs on the server's next tick (at most 0.1 s)
        while (ready := httpx.get(f"{service.base}/ready", timeout=5)).status_code == 200:
            assert time.monotonic() - terminated < DRAIN_SECONDS, "still ready after SIGTERM"
            time.sleep(0.02)
        assert ready.status_code == 503
        assert ready.json()["ready"] is False and "shutting down" in ready.json()["error"]
        during_drain = httpx.post(
            f"{service.base}/forecast", json={"model": trained_store.name, "horizon": 3}, timeout=5
        )
        assert during_drain.status_code == 200, during_drain.text

        # after the drain the listener closes while the slow request is still uploading
        while not refused(f"{service.base}/health"):
            assert time.monotonic() - terminated < UPLOAD_SECONDS, "listener still open"
            time.sleep(0.1)
        assert in_flight.is_alive(), "the slow request ended before the listener closed"
        in_flight.join(timeout=30)
        assert answer["slow"].status_code == 200, answer["slow"].text
        assert len(answer["slow"].json()["forecast"]) == 3
        assert service.process.wait(timeout=15) in (0, -signal.SIGTERM)
