"""Statistical baselines on exactly the backtest windows (statsforecast, optional `bench` extra).

Every model is fitted once on the part before the test (refit=False) and then forecasts
from each rolling origin with its fitted parameters, as ../shared/BENCHMARK.md describes.
statsforecast is imported here only, never by the runtime packages.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from training.backtest import rolling_origins

# Above this season length ETS / ARIMA / Theta are impractically slow; MSTL takes over.
MAX_PLAIN_SEASON = 24


def baseline_models(season: int) -> list:
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, AutoTheta, Naive, SeasonalNaive

    models = [Naive(), SeasonalNaive(season_length=season)]
    if season <= MAX_PLAIN_SEASON:
        models += [
            AutoETS(season_length=season),
            AutoTheta(season_length=season),
            AutoARIMA(season_length=season),
        ]
    else:
        models.append(MSTL(season_length=season, trend_forecaster=AutoETS(model="ZZN")))
    return models


def baseline_forecasts(
    values: np.ndarray, season: int, test_size: int, horizon: int, stride: int
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """method -> forecasts [windows, horizon] on the rolling origins, and fit+predict seconds."""
    from statsforecast import StatsForecast

    origins = rolling_origins(len(values), test_size, horizon, stride)
    frame = pd.DataFrame(
        {"unique_id": "s", "ds": np.arange(len(values)), "y": np.asarray(values, dtype=np.float64)}
    )
    forecasts: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for model in baseline_models(season):
        started = time.perf_counter()
        engine = StatsForecast(models=[model], freq=1, n_jobs=1)
        # the last window must end at the last point: cut the frame there
        end = int(origins[-1]) + horizon
        result = engine.cross_validation(
            df=frame.iloc[:end],
            h=horizon,
            n_windows=len(origins),
            step_size=stride,
            refit=False,
        )
        name = next(c for c in result.columns if c not in ("unique_id", "ds", "cutoff", "y"))
        cutoffs = np.sort(result["cutoff"].unique())
        if not np.array_equal(cutoffs + 1, origins):
            raise RuntimeError(f"{name}: cutoffs {cutoffs[:3]}... do not match origins {origins[:3]}...")
        forecasts[name] = result[name].to_numpy().reshape(len(origins), horizon)
        seconds[name] = time.perf_counter() - started
    return forecasts, seconds
