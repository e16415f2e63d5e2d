"""Running wrk against `POST /forecast` and reading its `--latency` report; shared by the
serving and reliability benchmarks. wrk runs on CPU 1 (the servers are pinned to CPU 0)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{body}]]
"""


@dataclass(frozen=True)
class WrkReport:
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    # wrk's own words ("connect 0, read 2, write 0, timeout 0"); "" when it reported none
    socket_errors: str

    @property
    def socket_error_count(self) -> int:
        return sum(int(count) for count in re.findall(r"\d+", self.socket_errors))


def latency_ms(output: str, percentile: str) -> float:
    """The latency at `percentile` (e.g. "99%") of wrk's latency distribution, in ms."""
    value, unit = re.search(rf"\s{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * UNIT_MS[unit]


def parse(output: str) -> WrkReport:
    """wrk's summary of a `--latency` run."""
    requests = re.search(r"(\d+) requests in", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if requests is None or rps is None:
        raise ValueError(f"not a wrk report:\n{output[-2000:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return WrkReport(
        requests=int(requests.group(1)),
        rps=float(rps.group(1)),
        p50_ms=latency_ms(output, "50%"),
        p90_ms=latency_ms(output, "90%"),
        p99_ms=latency_ms(output, "99%"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors.group(1) if socket_errors else "",
    )


def run_wrk(
    url: str,
    body: dict,
    connections: int,
    duration: str,
    *,
    lua: str = "",
    options: Sequence[str] = (),
    until: Callable[[], bool] | None = None,
) -> tuple[WrkReport, float]:
    """One thread of wrk POSTing `body` to `url` over `connections` connections for `duration`
    (wrk's syntax: "10s"); `lua` is appended to the request script. `until()`, polled twice a
    second, ends the run early with SIGINT, after which wrk reports what it did. Returns the
    report and the wall-clock seconds the run took."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(SCRIPT.format(body=json.dumps(body)) + lua)
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}", *options]
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            [*command, "--latency", "-s", script.name, url], stdout=subprocess.PIPE, text=True
        )
        interrupted = False
        while until is not None and process.poll() is None:
            if until():
                process.send_signal(signal.SIGINT)
                interrupted = True
                break
            time.sleep(0.5)
        output, _ = process.communicate()
    finally:
        os.unlink(script.name)
    if process.returncode != 0 and not interrupted:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{output[-2000:]}")
    return parse(output), time.monotonic() - started
