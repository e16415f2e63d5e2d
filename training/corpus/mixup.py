"""TSMixup (Ansari et al. 2024, "Chronos", section 4.1): a convex mix of 1-3 windows of the same
length drawn from the pool, each divided by its mean absolute value first so that no series
dominates by its units, with weights from a symmetric Dirichlet(1.5).

The mix keeps a frequency and a season length only when every window that went into it has the
same ones; otherwise they are unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DIRICHLET_ALPHA = 1.5


@dataclass(frozen=True)
class PoolSeries:
    values: np.ndarray
    freq: str | None
    season_length: int | None


@dataclass(frozen=True)
class MixedSeries:
    values: np.ndarray
    freq: str | None
    season_length: int | None


def mean_scaled(window: np.ndarray) -> np.ndarray:
    scale = float(np.mean(np.abs(window)))
    return window / scale if scale > 0 else window


def tsmixup_series(
    rng: np.random.Generator,
    pool: Sequence[PoolSeries],
    min_length: int = 64,
    max_length: int = 1024,
    max_components: int = 3,
) -> MixedSeries:
    components = int(rng.integers(1, max_components + 1))
    picks = rng.choice(len(pool), size=components, replace=False)
    chosen = [pool[index] for index in picks]
    shortest = min(len(item.values) for item in chosen)
    length = min(int(rng.integers(min_length, max_length + 1)), shortest)
    weights = rng.dirichlet(np.full(components, DIRICHLET_ALPHA))
    mixed = np.zeros(length)
    for weight, item in zip(weights, chosen, strict=True):
        start = int(rng.integers(0, len(item.values) - length + 1))
        mixed += weight * mean_scaled(np.asarray(item.values[start : start + length], dtype=float))
    freqs = {item.freq for item in chosen}
    seasons = {item.season_length for item in chosen}
    return MixedSeries(
        values=mixed,
        freq=freqs.pop() if len(freqs) == 1 else None,
        season_length=seasons.pop() if len(seasons) == 1 else None,
    )
