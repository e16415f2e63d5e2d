"""Rolling-origin backtest exactly as ../shared/BENCHMARK.md describes.

The model is fitted once on everything before the test part; at every origin o it sees
y[:o] only and forecasts y[o:o+h]. Naive and seasonal naive are scored on the same
windows. MAE, RMSE and sMAPE per window come from utilsforecast; MASE divides the MAE by
the in-sample seasonal-naive scale of the part before the test, which is the same for all
windows, so the mean of per-window MASE is MAE / scale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from utilsforecast.losses import mae, rmse, smape

from models.artifact import interval_coverage
from models.loading import Artifact
from training.config import TrainConfig

# a model trained for the series (local) or started from the base network (zero-shot, fine-tuned)

METRICS = ("mase", "mae", "rmse", "smape")
LEVELS = (80, 95)


def rolling_origins(n: int, test_size: int, horizon: int, stride: int) -> np.ndarray:
    return np.arange(n - test_size, n - horizon + 1, stride)


def naive_forecast(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(values[origins - 1][:, None], horizon, axis=1)


def seasonal_naive_forecast(values: np.ndarray, origins: np.ndarray, horizon: int, season: int) -> np.ndarray:
    steps = np.arange(horizon)
    return values[origins[:, None] - season + steps % season]


def mase_scale(values: np.ndarray, season: int) -> float:
    """In-sample mean |y[t] - y[t-m]|; the lag-1 one when that is zero (a part that repeats
    exactly every season), so MASE stays finite unless the part is constant."""
    scale = float(np.mean(np.abs(values[season:] - values[:-season])))
    return scale if scale > 0 or season == 1 else mase_scale(values, 1)


def validation_errors(values: np.ndarray, config: TrainConfig, forecast: torch.Tensor) -> torch.Tensor:
    """One series' whole-window validation forecasts [n, H] -> |error| / its MASE scale [n, H]:
    what a candidate's validation MASE averages (the series' values through its validation part)."""
    values = values[: len(values) - config.test_size]
    train_end = len(values) - config.val_size
    origins = range(train_end, train_end + len(forecast))
    target = torch.as_tensor(np.stack([values[o : o + config.horizon] for o in origins]), dtype=torch.float32)
    return (forecast - target).abs() / mase_scale(values[:train_end], config.season_length)


def validation_mase(
    series: Sequence[np.ndarray], config: TrainConfig, forecasts: Sequence[torch.Tensor]
) -> float:
    """A candidate's validation MASE from its whole-window validation forecasts (one [n, H] per
    series): the mean over the series of each one's (a panel weighs every series alike)."""
    mases = [
        float(validation_errors(values, config, forecast).mean())
        for values, forecast in zip(series, forecasts, strict=True)
    ]
    return sum(mases) / len(mases)


@dataclass
class Backtest:
    horizon: int
    origins: np.ndarray
    actual: np.ndarray  # [windows, h]
    forecasts: dict[str, np.ndarray]  # method -> [windows, h]
    intervals: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    coverage: dict[int, float] = field(default_factory=dict)


def score(actual: np.ndarray, forecasts: dict[str, np.ndarray], origins: np.ndarray, scale: float) -> dict:
    """Mean over windows of MASE, MAE, RMSE, sMAPE (%) for every method."""
    horizon = actual.shape[1]
    frame = pd.DataFrame(
        {
            "unique_id": "series",
            "cutoff": np.repeat(origins, horizon),
            "y": actual.ravel(),
            **{name: forecast.ravel() for name, forecast in forecasts.items()},
        }
    )
    methods = list(forecasts)
    per_window = {
        "mae": mae(frame, methods)[methods].mean(),
        "rmse": rmse(frame, methods)[methods].mean(),
        "smape": smape(frame, methods)[methods].mean() * 200.0,
    }
    return {
        method: {
            "mase": float(per_window["mae"][method] / scale),
            "mae": float(per_window["mae"][method]),
            "rmse": float(per_window["rmse"][method]),
            "smape": float(per_window["smape"][method]),
        }
        for method in methods
    }


def run_backtest(
    artifact: Artifact,
    values: np.ndarray,
    test_size: int,
    horizon: int,
    stride: int,
    season: int,
    levels: Sequence[int] = LEVELS,
    extra_methods: dict[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] | None = None,
) -> Backtest:
    origins = rolling_origins(len(values), test_size, horizon, stride)
    context = artifact.min_history
    if origins[0] < context:
        raise ValueError(f"first origin {origins[0]} leaves less than the context {context} before it")
    # each origin sees up to `lookback` past values, NaN before the series starts
    padded = np.concatenate([np.full(artifact.lookback, np.nan), values])
    histories = torch.as_tensor(
        np.stack([padded[o : o + artifact.lookback] for o in origins]), dtype=torch.float32
    )
    # a base network is told the series' season, as the service tells a fine-tuned model
    prediction = artifact.predict(histories, horizon, levels, [season] * len(origins))
    actual = np.stack([values[o : o + horizon] for o in origins])
    forecasts = {
        "model": prediction.point.double().numpy(),
        "naive": naive_forecast(values, origins, horizon),
        "seasonal_naive": seasonal_naive_forecast(values, origins, horizon, season),
    }
    for name, method in (extra_methods or {}).items():
        forecasts[name] = method(values, origins, horizon)
    intervals = {
        level: (lower.double().numpy(), upper.double().numpy())
        for level, (lower, upper) in prediction.intervals.items()
    }
    result = Backtest(
        horizon=horizon, origins=origins, actual=actual, forecasts=forecasts, intervals=intervals
    )
    result.metrics = score(actual, forecasts, origins, mase_scale(values[: len(values) - test_size], season))
    actual_tensor = torch.as_tensor(actual)
    result.coverage = {
        level: interval_coverage(torch.as_tensor(lower), torch.as_tensor(upper), actual_tensor)
        for level, (lower, upper) in intervals.items()
    }
    return result


def mean_backtest(results: Sequence[Backtest]) -> Backtest:
    """The backtests of a panel's series at one horizon as one: each metric and each interval
    coverage averaged over the series (every series counts once, whatever its number of
    windows); the windows themselves stay in each series' backtest. Of one series, itself."""
    if len(results) == 1:
        return results[0]
    first = results[0]
    return Backtest(
        horizon=first.horizon,
        origins=np.empty(0, dtype=int),
        actual=np.empty((0, first.horizon)),
        forecasts={},
        metrics={
            method: {
                metric: float(np.mean([result.metrics[method][metric] for result in results]))
                for metric in first.metrics[method]
            }
            for method in first.metrics
        },
        coverage={
            level: float(np.mean([result.coverage[level] for result in results])) for level in first.coverage
        },
    )


def plot_backtest(
    values: np.ndarray, timestamps: pd.DatetimeIndex | None, result: Backtest, title: str, path: Path
) -> Path:
    """Test part with the non-overlapping h-step forecasts and their widest interval (against
    the steps of a series without dates)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if timestamps is None:
        timestamps = pd.RangeIndex(len(values))
    start = max(int(result.origins[0]) - 3 * result.horizon, 0)
    figure, axis = plt.subplots(figsize=(11, 4))
    axis.plot(timestamps[start:], values[start:], color="black", linewidth=1, label="actual")
    widest = max(result.intervals) if result.intervals else None
    stride = int(result.origins[1] - result.origins[0]) if len(result.origins) > 1 else result.horizon
    for index in range(0, len(result.origins), -(-result.horizon // stride)):
        origin = int(result.origins[index])
        span = timestamps[origin : origin + result.horizon]
        axis.plot(
            span,
            result.forecasts["model"][index],
            color="tab:blue",
            linewidth=1.2,
            label="model" if index == 0 else None,
        )
        axis.plot(
            span,
            result.forecasts["seasonal_naive"][index],
            color="tab:orange",
            linewidth=0.8,
            linestyle="--",
            label="seasonal naive" if index == 0 else None,
        )
        if widest is not None:
            lower, upper = result.intervals[widest]
            axis.fill_between(
                span,
                lower[index],
                upper[index],
                color="tab:blue",
                alpha=0.15,
                label=f"{widest}% interval" if index == 0 else None,
            )
    mase = result.metrics["model"]["mase"]
    axis.set_title(f"{title}: h={result.horizon} backtest, MASE {mase:.3f}")
    axis.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
