"""KernelSynth (Ansari et al. 2024, "Chronos", appendix; reference: amazon-science/chronos-forecasting
scripts/kernel-synth.py, Apache-2.0): each series is one sample of a zero-mean Gaussian process
whose kernel is a random sum/product of 1-5 kernels drawn from a bank of periodic, linear, RBF,
rational-quadratic, white-noise and constant kernels, on 1,024 points of [0, 1].

Differences from the reference: sampling uses a Cholesky factor (with a small jitter, falling back
to an eigendecomposition) instead of scikit-learn's SVD, a seeded `numpy.random.Generator` is
passed in instead of numpy's global state, and each series is a random window (128-1,024 points)
of the 1,024-point grid, sampled on that window only (the trainer sees series of many lengths).
The periods of the bank are kept in steps (24 hourly, 7 daily, 12 monthly, ...), so a window
keeps them.
"""

from __future__ import annotations

import functools
import operator

import numpy as np
from sklearn.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    DotProduct,
    ExpSineSquared,
    Kernel,
    RationalQuadratic,
    WhiteKernel,
)

SAMPLE_POINTS = 1024
# Periods in steps, with the frequency they stand for (as in the reference bank).
PERIODS = (24, 48, 96, 24 * 7, 48 * 7, 96 * 7, 7, 14, 30, 60, 365, 730, 4, 26, 52, 6, 12, 40, 10)


def kernel_bank() -> list[Kernel]:
    periodic: list[Kernel] = [ExpSineSquared(periodicity=period / SAMPLE_POINTS) for period in PERIODS]
    others: list[Kernel] = [
        DotProduct(sigma_0=0.0),
        DotProduct(sigma_0=1.0),
        DotProduct(sigma_0=10.0),
        RBF(length_scale=0.1),
        RBF(length_scale=1.0),
        RBF(length_scale=10.0),
        RationalQuadratic(alpha=0.1),
        RationalQuadratic(alpha=1.0),
        RationalQuadratic(alpha=10.0),
        WhiteKernel(noise_level=0.1),
        WhiteKernel(noise_level=1.0),
        ConstantKernel(),
    ]
    return periodic + others


_BANK = kernel_bank()


def random_kernel(rng: np.random.Generator, max_kernels: int = 5) -> tuple[Kernel, list[int]]:
    """A random composite kernel and the periods (in steps) of its periodic parts."""
    picks = rng.integers(0, len(_BANK), size=rng.integers(1, max_kernels + 1))
    chosen = [_BANK[index] for index in picks]
    operators = rng.integers(0, 2, size=len(chosen) - 1)
    combined = functools.reduce(
        lambda left, pair: operator.add(left, pair[1]) if pair[0] == 0 else operator.mul(left, pair[1]),
        zip(operators, chosen[1:], strict=True),
        chosen[0],
    )
    periods = [PERIODS[index] for index in picks if index < len(PERIODS)]
    return combined, periods


def sample_gp(kernel: Kernel, rng: np.random.Generator, grid: np.ndarray) -> np.ndarray:
    """One draw from the zero-mean GP prior with `kernel` at the points `grid` of [0, 1]."""
    points = len(grid)
    covariance = kernel(grid[:, None])
    noise = rng.standard_normal(points)
    # Periodic and linear kernels give singular covariances: a jitter relative to their scale
    # keeps the factorisation stable without visibly changing the sample.
    jitter = 1e-8 * max(float(np.mean(np.diag(covariance))), 1e-12)
    try:
        factor = np.linalg.cholesky(covariance + jitter * np.eye(points))
        return factor @ noise
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        return eigenvectors @ (np.sqrt(np.clip(eigenvalues, 0.0, None)) * noise)


def kernel_synth_series(
    rng: np.random.Generator, min_length: int = 128, max_kernels: int = 5
) -> tuple[np.ndarray, int | None]:
    """A KernelSynth series cut to a random length, and its season when exactly one period is in it."""
    kernel, periods = random_kernel(rng, max_kernels)
    length = int(rng.integers(min_length, SAMPLE_POINTS + 1))
    start = int(rng.integers(0, SAMPLE_POINTS - length + 1))
    # The window [start, start + length) of the reference's 1,024-point grid, sampled directly:
    # the same distribution as cutting a full sample, at a fraction of the O(n^3) cost.
    grid = np.linspace(0.0, 1.0, SAMPLE_POINTS)[start : start + length]
    season = periods[0] if len(set(periods)) == 1 and periods[0] < length // 2 else None
    return sample_gp(kernel, rng, grid), season
