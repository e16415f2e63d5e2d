"""Statistical baselines on exactly the backtest windows (statsforecast, optional `bench` extra).

Every model is fitted once on the part before the test (refit=False) and then forecasts
from each rolling origin with its fitted parameters, as ../shared/BENCHMARK.md describes.
statsforecast is imported here only, never by the runtime packages.

Their forecasts are cached (`BaselineCache`; MSTL's 1,344 next-step windows on weather take
about 25 minutes on this machine), one JSON file per data folder, keyed by a hash of the series
and the protocol: the files of the repository's folders are committed with the results that read
them (`benchmarks/results/baselines_cache/`), so a run on one folder rewrites that folder's file
only; a folder outside the repository is cached under `.cache/baselines/`, never committed.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from training.backtest import rolling_origins

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT_ROOT / "benchmarks" / "results" / "baselines_cache"
LOCAL_CACHE_DIR = PROJECT_ROOT / ".cache" / "baselines"
# the cache file of the built-in series' configs (`TrainConfig.builtin`)
BUILTIN = "builtin"

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


def cache_file(data_dir: str | Path) -> Path:
    """The cache file of a data folder's series (BUILTIN: the built-in configs'): one committed
    file per folder of the repository, named for its path ('benchmarks/data/holdout' ->
    benchmarks_data_holdout.json); a folder elsewhere gets an uncommitted one in LOCAL_CACHE_DIR."""
    if data_dir == BUILTIN:
        return CACHE_DIR / f"{BUILTIN}.json"
    folder = Path(data_dir).resolve()
    if folder.is_relative_to(PROJECT_ROOT):
        return CACHE_DIR / f"{folder.relative_to(PROJECT_ROOT).as_posix().replace('/', '_')}.json"
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:8]
    return LOCAL_CACHE_DIR / f"{folder.name}-{digest}.json"


class BaselineCache:
    """`baseline_forecasts` of a folder's series, kept in its `cache_file`: written after every
    new entry (an interrupted run keeps what it computed), keys sorted so that a run computing
    nothing new leaves the file unchanged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict = json.loads(path.read_text()) if path.is_file() else {}

    @staticmethod
    def key(values: np.ndarray, season: int, test: int, horizon: int, stride: int) -> str:
        digest = hashlib.sha1(np.ascontiguousarray(values, dtype=np.float64).tobytes()).hexdigest()[:16]
        return f"{digest}:m{season}:test{test}:h{horizon}:s{stride}"

    def forecasts(
        self, values: np.ndarray, season: int, test: int, horizon: int, stride: int, refresh: bool = False
    ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """method -> forecasts [windows, horizon] and seconds, from the cache unless `refresh`."""
        key = self.key(values, season, test, horizon, stride)
        if not refresh and key in self.entries:
            entry = self.entries[key]
            return {name: np.asarray(v) for name, v in entry["forecasts"].items()}, entry["seconds"]
        forecasts, seconds = baseline_forecasts(values, season, test, horizon, stride)
        self.entries[key] = {"forecasts": {k: v.tolist() for k, v in forecasts.items()}, "seconds": seconds}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.entries, sort_keys=True))
        return forecasts, seconds
