"""Season length of a history that came without one: the autocorrelation test of
statsforecast's / R forecast's `seasonal test`, over the periods real data usually have.

A period m counts when the autocorrelation of the once-differenced history at lag m exceeds
the 90 % bound of Bartlett's formula, sqrt((1 + 2 sum_{k<m} r_k^2) / n) * 1.645 (differencing
first keeps a trend from passing as a season); of the periods that count, the one with the
largest autocorrelation wins - or half of it, as long as that counts too with nearly as large
an autocorrelation (monthly data correlate at lag 24 about as much as at 12). A history
shorter than three of a period's seasons cannot show it, so that period is not tried. No
period counts -> 1 (no season). Many histories are tested at once (one FFT per batch).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CANDIDATE_PERIODS = (4, 5, 7, 12, 24, 48, 52)
# the one-sided 90 % normal quantile, as R forecast's `seasonal test` uses
CRITICAL_VALUE = 1.645
SEASONS_NEEDED = 3
# half the winning period takes its place when its autocorrelation is at least this share
HALF_SHARE = 0.6


def autocorrelations(histories: Sequence[Sequence[float]], max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Autocorrelations r_0 .. r_max_lag [B, max_lag + 1] of each once-differenced history (the
    usual biased estimator; r_0 = 1, all 0 for a constant one) and the differences' counts [B]."""
    counts = np.array([max(len(history) - 1, 0) for history in histories])
    width = max(int(counts.max(initial=0)), 1)
    centred = np.zeros((len(histories), width))
    for row, history in enumerate(histories):
        steps = np.diff(np.asarray(history, dtype=np.float64))
        if len(steps) and np.all(np.isfinite(steps)):  # a history with gaps is not tested
            centred[row, : len(steps)] = steps - steps.mean()
    spectrum = np.fft.rfft(centred, n=2 * width)
    covariances = np.fft.irfft(spectrum * np.conj(spectrum), n=2 * width)[:, : max_lag + 1]
    if covariances.shape[1] < max_lag + 1:
        covariances = np.pad(covariances, ((0, 0), (0, max_lag + 1 - covariances.shape[1])))
    variance = covariances[:, :1]
    r = np.divide(covariances, variance, out=np.zeros_like(covariances), where=variance > 1e-12)
    r[:, 0] = 1.0
    return r, counts


def detect_seasons(
    histories: Sequence[Sequence[float]], candidates: Sequence[int] = CANDIDATE_PERIODS
) -> list[int]:
    """The season length of each history (finite values, oldest first); 1 = none."""
    if not histories:
        return []
    periods = np.array(sorted(candidates))
    r, counts = autocorrelations(histories, int(periods.max()))
    # Bartlett's bound at lag m: 1 + 2 * (r_1^2 + ... + r_{m-1}^2)
    spread = 1.0 + 2.0 * (np.cumsum(r**2, axis=1) - 1.0 - r**2)
    bounds = CRITICAL_VALUE * np.sqrt(spread[:, periods] / np.maximum(counts, 1)[:, None])
    testable = SEASONS_NEEDED * periods[None, :] <= (counts + 1)[:, None]
    passing = testable & (r[:, periods] > bounds)
    seasons = []
    for row in range(len(histories)):
        found = {int(m): float(r[row, m]) for m in periods[passing[row]]}
        if not found:
            seasons.append(1)
            continue
        best = max(found, key=found.__getitem__)
        while best % 2 == 0 and best // 2 in found and found[best // 2] >= HALF_SHARE * found[best]:
            best //= 2
        seasons.append(best)
    return seasons


def detect_season(history: Sequence[float], candidates: Sequence[int] = CANDIDATE_PERIODS) -> int:
    return detect_seasons([history], candidates)[0]
