"""Reading wrk's `--latency` report; shared by the serving and reliability benchmarks."""

from __future__ import annotations

import re

UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def latency_ms(output: str, percentile: str) -> float:
    """The latency at `percentile` (e.g. "99%") of wrk's latency distribution, in ms."""
    value, unit = re.search(rf"\s{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * UNIT_MS[unit]
