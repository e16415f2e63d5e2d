"""Season length of a history that came without one: the autocorrelation test of
statsforecast's / R forecast's `seasonal test`, over the periods real data usually have, with
an AR(1) discount.

A period m counts when the autocorrelation of the once-differenced history at lag m exceeds
what an AR(1) with the same lag-1 autocorrelation gives there, max(r_1, 0)^m, by the 90 % bound
of Bartlett's formula, sqrt((1 + 2 sum_{k<m} r_k^2) / n) * 1.645: differencing first keeps a
trend from passing as a season, the discount keeps steps that move together for a while (R's
WWWusage) from passing as one (ablations.md section 43). Of the periods that count, the one with the
largest autocorrelation wins - or half of it, as long as that counts too with nearly as large
an autocorrelation (monthly data correlate at lag 24 about as much as at 12). A history
shorter than three of a period's seasons cannot show it, so that period is not tried. No
period counts -> 1 (no season). Many histories are tested at once (one FFT per batch).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

CANDIDATE_PERIODS = (4, 5, 7, 12, 24, 48, 52)
# the one-sided 90 % normal quantile, as R forecast's `seasonal test` uses
CRITICAL_VALUE = 1.645
SEASONS_NEEDED = 3
# half the winning period takes its place when its autocorrelation is at least this share
HALF_SHARE = 0.6


def padded(histories: Sequence[Sequence[float]] | np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Histories -> (their values [B, T], NaN-padded on the left; each one's length [B]). A 2-D
    array or tensor is taken as already padded: its leading NaN are padding, not values."""
    if isinstance(histories, torch.Tensor | np.ndarray):
        values = np.asarray(histories, dtype=np.float64).reshape(len(histories), -1)
        finite = np.isfinite(values)
        first = np.where(finite.any(axis=1), finite.argmax(axis=1), values.shape[1])
        return values, values.shape[1] - first
    lengths = np.array([len(history) for history in histories], dtype=np.int64)
    if len(set(lengths.tolist())) <= 1:  # the usual batch: one conversion, no padding
        return np.asarray(histories, dtype=np.float64).reshape(len(histories), -1), lengths
    values = np.full((len(histories), int(lengths.max())), np.nan)
    for row, history in zip(values, histories, strict=True):
        if len(history):
            row[len(row) - len(history) :] = history
    return values, lengths


def autocorrelations(
    histories: Sequence[Sequence[float]] | np.ndarray | torch.Tensor, max_lag: int
) -> tuple[np.ndarray, np.ndarray]:
    """Autocorrelations r_0 .. r_max_lag [B, max_lag + 1] of each once-differenced history (the
    usual biased estimator; r_0 = 1, all 0 for a constant one or one with a gap) and the
    differences' counts [B]. Histories as `padded` reads them."""
    values, lengths = padded(histories)
    counts = np.maximum(lengths - 1, 0)
    width = max(values.shape[1] - 1, 1)
    steps = np.diff(values, axis=1) if values.shape[1] > 1 else np.zeros((len(values), 1))
    # step j joins values j and j + 1: inside a history from its first value on
    inside = np.arange(steps.shape[1])[None, :] >= (values.shape[1] - lengths)[:, None]
    tested = inside & np.isfinite(np.where(inside, steps, 0.0)).all(axis=1, keepdims=True)
    steps = np.where(tested, steps, 0.0)
    mean = steps.sum(axis=1, keepdims=True) / np.maximum(counts, 1)[:, None]
    centred = np.where(tested, steps - mean, 0.0)
    spectrum = np.fft.rfft(centred, n=2 * width)
    covariances = np.fft.irfft(spectrum * np.conj(spectrum), n=2 * width)[:, : max_lag + 1]
    if covariances.shape[1] < max_lag + 1:
        covariances = np.pad(covariances, ((0, 0), (0, max_lag + 1 - covariances.shape[1])))
    variance = covariances[:, :1]
    r = np.divide(covariances, variance, out=np.zeros_like(covariances), where=variance > 1e-12)
    r[:, 0] = 1.0
    return r, counts


def detect_seasons(
    histories: Sequence[Sequence[float]] | np.ndarray | torch.Tensor,
    candidates: Sequence[int] = CANDIDATE_PERIODS,
) -> list[int]:
    """The season length of each history (finite values, oldest first; or a NaN-left-padded
    2-D array, as `padded` reads it); 1 = none."""
    if len(histories) == 0:
        return []
    periods = np.array(sorted(candidates))
    r, counts = autocorrelations(histories, int(periods.max()))
    # Bartlett's bound at lag m: 1 + 2 * (r_1^2 + ... + r_{m-1}^2)
    spread = 1.0 + 2.0 * (np.cumsum(r**2, axis=1) - 1.0 - r**2)
    bounds = CRITICAL_VALUE * np.sqrt(spread[:, periods] / np.maximum(counts, 1)[:, None])
    testable = SEASONS_NEEDED * periods[None, :] <= (counts + 1)[:, None]
    at_periods = r[:, periods]
    persistence = np.clip(r[:, 1:2], 0.0, None) ** periods[None, :]
    passing = testable & (at_periods - persistence > bounds)
    rows = np.arange(len(r))
    # the passing period with the largest autocorrelation (the shortest of equals)
    best = np.where(passing, at_periods, -np.inf).argmax(axis=1)
    # then half of it, while that passes too with nearly as large an autocorrelation
    position = {int(m): index for index, m in enumerate(periods)}
    half = np.array([position.get(int(m) // 2, -1) if m % 2 == 0 else -1 for m in periods])
    for _ in periods:
        smaller = half[best]
        takes = (
            (smaller >= 0)
            & passing[rows, smaller]
            & (at_periods[rows, smaller] >= HALF_SHARE * at_periods[rows, best])
        )
        if not takes.any():
            break
        best = np.where(takes, smaller, best)
    return np.where(passing.any(axis=1), periods[best], 1).tolist()


def detect_season(history: Sequence[float], candidates: Sequence[int] = CANDIDATE_PERIODS) -> int:
    return detect_seasons([history], candidates)[0]
