"""Season length of a history that came without one: the autocorrelation test of
statsforecast's / R forecast's `seasonal test`, over the periods real data usually have.

A period m counts when the autocorrelation of the once-differenced history at lag m exceeds
the 90 % bound of Bartlett's formula, sqrt((1 + 2 sum_{k<m} r_k^2) / n) * 1.645 (differencing
first keeps a trend from passing as a season); of the periods that count, the one with the
largest autocorrelation wins - or half of it, when that counts too with nearly as large an autocorrelation
(monthly data correlate at lag 24 about as much as at 12). A history shorter than three of a period's seasons cannot show
it, so that period is not tried. No period counts -> 1 (no season).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

CANDIDATE_PERIODS = (4, 5, 7, 12, 24, 48, 52)
# the one-sided 90 % normal quantile, as R forecast's `seasonal test` uses
CRITICAL_VALUE = 1.645
SEASONS_NEEDED = 3
# half the winning period takes its place when its autocorrelation is at least this share
HALF_SHARE = 0.8


def autocorrelations(values: np.ndarray, max_lag: int) -> np.ndarray:
    """r_0 .. r_max_lag of `values` (r_0 = 1), the usual biased estimator."""
    centred = values - values.mean()
    denominator = float(centred @ centred)
    if denominator == 0.0:
        return np.concatenate([[1.0], np.zeros(max_lag)])
    return np.array(
        [1.0] + [float(centred[lag:] @ centred[:-lag]) / denominator for lag in range(1, max_lag + 1)]
    )


def detect_season(history: Sequence[float], candidates: Sequence[int] = CANDIDATE_PERIODS) -> int:
    values = np.diff(np.asarray(history, dtype=np.float64))
    testable = [m for m in candidates if SEASONS_NEEDED * m <= len(history)]
    if not testable or not np.all(np.isfinite(values)):
        return 1
    r = autocorrelations(values, max(testable))
    n = len(values)
    passing = [
        m for m in testable if r[m] > CRITICAL_VALUE * math.sqrt((1.0 + 2.0 * float(np.sum(r[1:m] ** 2))) / n)
    ]
    if not passing:
        return 1
    best = max(passing, key=lambda m: r[m])
    half = best // 2
    return half if best % 2 == 0 and half in passing and r[half] >= HALF_SHARE * r[best] else best
