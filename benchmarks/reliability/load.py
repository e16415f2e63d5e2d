"""a. Load: wrk at a fixed concurrency against the server; also the wrk run the soak uses."""

from __future__ import annotations

import logging
from collections.abc import Callable

from benchmarks.reliability.settings import BODY, LOAD_SECONDS
from benchmarks.wrk import run_wrk

log = logging.getLogger(__name__)
# counting answers in Lua costs a little; only the soak (a fixed request count) needs it
COUNT_ANSWERS = """
local limit = {limit}
local answered = 0
response = function(status, headers, body)
  answered = answered + 1
  if limit > 0 and answered >= limit then wrk.thread:stop() end
end
"""


def wrk_forecasts(
    base: str, connections: int, seconds: int, limit: int = 0, until: Callable[[], bool] | None = None
) -> dict:
    """wrk for `seconds`; with `limit`, each connection stops after that many answers in all,
    and `until()` ends the run early (wrk would otherwise idle out the whole duration)."""
    report, elapsed = run_wrk(
        f"{base}/forecast",
        BODY,
        connections,
        f"{seconds}s",
        lua=COUNT_ANSWERS.format(limit=limit) if limit else "",
        options=("--timeout", "30s"),
        until=until,
    )
    return {
        "connections": connections,
        "seconds": round(elapsed, 1),
        "requests": report.requests,
        "rps": report.rps,
        "p50_ms": report.p50_ms,
        "p90_ms": report.p90_ms,
        "p99_ms": report.p99_ms,
        "non_2xx": report.non_2xx,
        "socket_errors": report.socket_error_count,
        "socket_error_detail": f"Socket errors: {report.socket_errors}" if report.socket_errors else "none",
    }


def load_test(base: str) -> dict:
    log.info(f"load: wrk c=32 for {LOAD_SECONDS} s")
    result = wrk_forecasts(base, 32, LOAD_SECONDS)
    result["failed"] = result["non_2xx"] + result["socket_errors"]
    return result
