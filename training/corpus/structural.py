"""Structural synthetic series: the components classical models are built from, at random strengths.

Each series is level + trend (linear, damped or none, sometimes a random walk) + one or two
seasons (additive or multiplicative) + AR(2) noise, with optional level shifts and outliers; a
share of the series are intermittent counts instead (Poisson demand on a Bernoulli occurrence,
the shape Croston's method targets). The season lengths and lengths follow the frequencies the
product serves, so every series carries a frequency and a season length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FrequencyProfile:
    freq: str
    season: int
    second_season: int | None
    min_length: int
    max_length: int


PROFILES = (
    FrequencyProfile("YS", 1, None, 20, 80),
    FrequencyProfile("QS", 4, None, 40, 240),
    FrequencyProfile("MS", 12, None, 48, 600),
    FrequencyProfile("W", 52, None, 104, 600),
    FrequencyProfile("D", 7, 365, 120, 1500),
    FrequencyProfile("B", 5, None, 120, 1500),
    FrequencyProfile("h", 24, 168, 240, 2000),
    FrequencyProfile("30min", 48, 336, 480, 2000),
)
# How often each frequency is drawn: the product's common cases more often.
PROFILE_WEIGHTS = np.array([0.06, 0.14, 0.22, 0.1, 0.14, 0.08, 0.14, 0.12])


@dataclass(frozen=True)
class StructuralSeries:
    values: np.ndarray
    freq: str
    season_length: int


def seasonal_shape(rng: np.random.Generator, season: int, harmonics: int) -> np.ndarray:
    """One season of a random smooth periodic pattern with mean 0 and mean absolute value 1."""
    if season < 2:
        return np.zeros(max(season, 1))
    phase = np.arange(season) / season
    shape = np.zeros(season)
    for harmonic in range(1, min(harmonics, season // 2) + 1):
        amplitude = rng.normal() / harmonic
        shape += amplitude * np.sin(2 * np.pi * harmonic * phase + rng.uniform(0, 2 * np.pi))
    shape -= shape.mean()
    scale = np.mean(np.abs(shape))
    return shape / scale if scale > 0 else shape


def ar_noise(rng: np.random.Generator, length: int) -> np.ndarray:
    """Stationary AR(2) noise with unit innovation scale (coefficients drawn inside the stationarity triangle)."""
    while True:
        phi1, phi2 = rng.uniform(-0.5, 0.95), rng.uniform(-0.4, 0.4)
        if phi1 + phi2 < 0.97 and phi2 - phi1 < 0.97:
            break
    innovations = rng.standard_normal(length + 50)
    noise = np.zeros_like(innovations)
    for index in range(2, len(noise)):
        noise[index] = phi1 * noise[index - 1] + phi2 * noise[index - 2] + innovations[index]
    return noise[50:]


def trend_component(rng: np.random.Generator, length: int) -> np.ndarray:
    steps = np.arange(length, dtype=float)
    kind = rng.choice(["none", "linear", "damped", "random_walk", "piecewise"], p=[0.2, 0.3, 0.2, 0.15, 0.15])
    slope = rng.normal(0.0, 1.0) / max(length, 1) * rng.uniform(0.5, 4.0)
    if kind == "linear":
        return slope * steps
    if kind == "damped":
        phi = rng.uniform(0.9, 0.995)
        return slope * length * 0.1 * (1 - phi**steps) / (1 - phi)
    if kind == "random_walk":
        return np.cumsum(rng.normal(0.0, rng.uniform(0.02, 0.15), length))
    if kind == "piecewise":
        turn = rng.integers(length // 4, max(length // 4 + 1, 3 * length // 4))
        second_slope = rng.normal(0.0, 1.0) / max(length, 1) * rng.uniform(0.5, 4.0)
        return np.where(steps < turn, slope * steps, slope * turn + second_slope * (steps - turn))
    return np.zeros(length)


def level_shifts(rng: np.random.Generator, length: int) -> np.ndarray:
    shifts = np.zeros(length)
    for _ in range(rng.integers(1, 3)):
        shifts[rng.integers(1, length) :] += rng.normal(0.0, 0.3)
    return shifts


def continuous_series(rng: np.random.Generator, profile: FrequencyProfile, length: int) -> np.ndarray:
    """Level, trend, season(s), AR noise, shifts and outliers on a unit scale, then rescaled."""
    steps = np.arange(length)
    harmonics = int(rng.integers(1, 5))
    seasonal = np.zeros(length)
    if profile.season > 1:
        seasonal += (
            rng.uniform(0.05, 0.4) * seasonal_shape(rng, profile.season, harmonics)[steps % profile.season]
        )
    if profile.second_season and length >= 2 * profile.second_season and rng.random() < 0.5:
        second = seasonal_shape(rng, profile.second_season, harmonics)
        seasonal += rng.uniform(0.0, 0.25) * second[steps % profile.second_season]
    noise = rng.uniform(0.01, 0.15) * ar_noise(rng, length)
    level_path = trend_component(rng, length)
    if rng.random() < 0.2:
        level_path += level_shifts(rng, length)
    # Multiplicative seasonality: the swing grows with the level (the airline-passengers shape).
    multiplicative = rng.random() < 0.35
    base = 1.0 + level_path
    values = base * (1 + seasonal) + noise if multiplicative else base + seasonal + noise
    if rng.random() < 0.15:
        spikes = rng.random(length) < rng.uniform(0.005, 0.02)
        values = values + spikes * rng.normal(0.0, 1.0, length) * 5 * np.std(noise)
    scale = 10 ** rng.uniform(-1, 4)
    # A positive level for most series (sales, counts, prices); some are allowed to cross zero.
    offset = 0.0 if rng.random() < 0.2 else max(0.0, -float(values.min())) + rng.uniform(0.0, 1.0)
    return scale * (values + offset)


def intermittent_series(rng: np.random.Generator, length: int) -> np.ndarray:
    occurrence = rng.uniform(0.05, 0.6)
    demand_mean = rng.uniform(1.0, 20.0)
    happens = rng.random(length) < occurrence
    return happens * (1 + rng.poisson(demand_mean - 1, length))


def structural_series(rng: np.random.Generator, intermittent_share: float = 0.08) -> StructuralSeries:
    profile = PROFILES[rng.choice(len(PROFILES), p=PROFILE_WEIGHTS / PROFILE_WEIGHTS.sum())]
    length = int(np.exp(rng.uniform(np.log(profile.min_length), np.log(profile.max_length + 1))))
    if rng.random() < intermittent_share:
        # Demand with no seasonal pattern: season 1, whatever the calendar.
        return StructuralSeries(intermittent_series(rng, length).astype(float), profile.freq, 1)
    return StructuralSeries(continuous_series(rng, profile, length), profile.freq, profile.season)
