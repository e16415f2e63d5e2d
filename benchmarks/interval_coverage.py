"""Interval coverage against a known process (issue 19, item 14).

Each realization is a 120-point monthly series y[t] = 100 + 0.5 t + 10 sin(2 pi t / 12) + e[t],
e ~ N(0, sigma^2) iid, trained with the default settings on all 120 points; the forecast from
the end is scored against the true distribution of the next 12 values, so a step's coverage is
Phi((upper - mu) / sigma) - Phi((lower - mu) / sigma) exactly, with no sampling of outcomes.
The mean over realizations is the marginal coverage a split-conformal interval promises; a
single realization's is conditional on its point forecast and varies around it.

    python -m benchmarks.interval_coverage [--realizations 40] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import norm

LENGTH, HORIZON, SEASON, SIGMA = 120, 12, 12, 3.0
LEVELS = (80, 95)
RESULTS = Path(__file__).resolve().parent / "results" / "interval_coverage.json"


def process_mean(steps: np.ndarray) -> np.ndarray:
    return 100 + 0.5 * steps + 10 * np.sin(2 * np.pi * steps / SEASON)


def realization(seed: int, overrides: dict | None = None) -> dict:
    """Train on one realization (default settings, or `overrides` of them); per-step coverage of
    the 80 / 95 % intervals and the point bias."""
    from training.config import TrainConfig
    from training.data import load_csv
    from training.pipeline import fit_artifact

    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    values = process_mean(np.arange(LENGTH)) + rng.normal(0, SIGMA, LENGTH)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "series.csv"
        stamps = pd.date_range("2000-01-01", periods=LENGTH, freq="MS").strftime("%Y-%m-%d")
        pd.DataFrame({"time": stamps, "value": values}).to_csv(path, index=False)
        series = load_csv(path, "coverage")
    config = TrainConfig(name="coverage", data=str(path), **(overrides or {})).resolve(series)
    artifact = fit_artifact(config, series)
    forecast = artifact.predict(torch.tensor(values[None], dtype=torch.float32), HORIZON, LEVELS)
    mean = process_mean(np.arange(LENGTH, LENGTH + HORIZON))
    coverage = {}
    for level, (lower, upper) in forecast.intervals.items():
        lower, upper = lower[0].double().numpy(), upper[0].double().numpy()
        coverage[str(level)] = (norm.cdf((upper - mean) / SIGMA) - norm.cdf((lower - mean) / SIGMA)).tolist()
    return {
        "seed": seed,
        "coverage": coverage,
        "bias": (forecast.point[0].double().numpy() - mean).tolist(),
        "calibration_windows": artifact.calibration.windows,
        "calibration_counts": artifact.calibration.counts.tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--realizations", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    # each worker trains 40 / jobs small models: their calibration warnings (13 windows) are expected
    with ProcessPoolExecutor(args.jobs, initializer=logging.disable, initargs=(logging.WARNING,)) as pool:
        runs = list(pool.map(realization, range(args.realizations)))
    summary = {"realizations": len(runs), "sigma": SIGMA, "length": LENGTH}
    for level in LEVELS:
        per_step = np.array([run["coverage"][str(level)] for run in runs])  # [realizations, H]
        mean = per_step.mean(axis=0)
        # the spread of the mean over realizations, for a tolerance that sampling alone explains
        error = per_step.std(axis=0, ddof=1) / np.sqrt(len(runs))
        summary[str(level)] = {
            "mean_by_step": mean.round(3).tolist(),
            "standard_error_by_step": error.round(3).tolist(),
            "mean": round(float(mean.mean()), 3),
            "lowest_realization_step": round(float(per_step.min()), 3),
        }
        print(
            f"{level} %: mean coverage by step {mean.round(2).tolist()} (overall {mean.mean():.3f}, "
            f"standard error ~{error.mean():.3f}); lowest single realization and step {per_step.min():.2f}"
        )
    bias = np.array([run["bias"] for run in runs])
    summary["mean_abs_bias_over_sigma"] = round(float(np.abs(bias).mean() / SIGMA), 3)
    summary["calibration_windows"] = sorted({run["calibration_windows"] for run in runs})
    RESULTS.write_text(json.dumps({"summary": summary, "runs": runs}, indent=1))
    print(f"mean |point - true mean| / sigma {summary['mean_abs_bias_over_sigma']}; written to {RESULTS}")


if __name__ == "__main__":
    main()
