"""What every part of the reliability run shares: the knobs, the served model and the request."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
RESULTS = PROJECT / "benchmarks" / "results"
LOAD_SECONDS = int(os.environ.get("RELIABILITY_LOAD_SECONDS", "60"))
RELOAD_SECONDS = int(os.environ.get("RELIABILITY_RELOAD_SECONDS", "30"))
SOAK_REQUESTS = int(os.environ.get("RELIABILITY_SOAK_REQUESTS", "100000"))
SOAK_MAX_SECONDS = int(os.environ.get("RELIABILITY_SOAK_MAX_SECONDS", "600"))
NAME = "passengers"
HISTORY = 24
HORIZON = 12
BODY = {"model": NAME, "horizon": HORIZON, "history": [float(100 + 3 * (i % 12)) for i in range(HISTORY)]}
