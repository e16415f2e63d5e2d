"""Zero-shot accuracy of the shipped base: every generalisation series, no training.

python -m benchmarks.zero_shot [--base models/base] [--data-dir benchmarks/data]

For every CSV in the folder the series is read and its season, horizon and test part are
inferred exactly as `make train` would; the base then forecasts every rolling origin of the
test part (horizons 1 and H) from the history before it, and the statsforecast baselines
(cached by benchmarks.accuracy on the same windows) are scored beside it. Prints every row and the geometric mean of MASE ratios against AutoETS,
AutoARIMA and the best baseline of each row.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from benchmarks.accuracy import CACHE, EXTRA_DATA, baselines
from models.artifact import left_padded
from models.base_artifact import SHIPPED_BASE, BaseArtifact
from training.backtest import mase_scale, rolling_origins, score
from training.config import TrainConfig
from training.pipeline import load_series

# forecast(histories, season, horizon) -> [len(histories), horizon]
ForecastFn = Callable[[list[np.ndarray], int, int], np.ndarray]
REFERENCES = ("AutoETS", "AutoARIMA")


def series_rows(path: Path, forecast: ForecastFn, cache: dict) -> list[dict]:
    config = TrainConfig(name=path.stem, data=str(path), fill="ffill")
    series = load_series(config)
    config = config.resolve(series)
    values = np.asarray(series.values, dtype=np.float64)
    m, test = config.season_length, config.test_size
    scale = mase_scale(values[: len(values) - test], m)
    rows = []
    for horizon, stride in ((1, 1), (config.horizon, config.multi_step_stride)):
        origins = rolling_origins(len(values), test, horizon, stride)
        actual = np.stack([values[o : o + horizon] for o in origins])
        methods, _ = baselines(values, m, test, horizon, stride, cache, refresh=False)
        methods = {"base": forecast([values[:o] for o in origins], m, horizon), **methods}
        mase = {name: metrics["mase"] for name, metrics in score(actual, methods, origins, scale).items()}
        best = min((name for name in mase if name != "base"), key=mase.get)
        rows.append(
            {"series": path.stem, "horizon": horizon, "windows": len(origins), "mase": mase, "best": best}
        )
    return rows


def geometric_mean_ratios(rows: list[dict], model: str = "base") -> dict[str, float]:
    def gm(reference: Callable[[dict], float]) -> float:
        return math.exp(float(np.mean([math.log(row["mase"][model] / reference(row)) for row in rows])))

    ratios = {name: gm(lambda row, name=name: row["mase"][name]) for name in REFERENCES}
    ratios["best"] = gm(lambda row: row["mase"][row["best"]])
    ratios["wins_vs_best"] = sum(row["mase"][model] < row["mase"][row["best"]] for row in rows)
    return ratios


def evaluate(forecast: ForecastFn, data_dir: Path = EXTRA_DATA) -> tuple[list[dict], dict[str, float]]:
    cache = json.loads(CACHE.read_text()) if CACHE.is_file() else {}
    rows = [row for path in sorted(data_dir.glob("*.csv")) for row in series_rows(path, forecast, cache)]
    return rows, geometric_mean_ratios(rows)


def artifact_forecast(artifact: BaseArtifact) -> ForecastFn:
    """The base's forecasts as `POST /forecast {"model": "base", "season": m}` computes them."""

    def forecast(histories: list[np.ndarray], season: int, horizon: int) -> np.ndarray:
        rows = [history[-artifact.lookback :].tolist() for history in histories]
        point = artifact.predict(left_padded(rows), horizon, seasons=[season] * len(rows)).point
        return point.numpy().astype(np.float64)

    return forecast


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.zero_shot", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--base", type=Path, default=SHIPPED_BASE, help="a base artifact folder")
    parser.add_argument("--data-dir", type=Path, default=EXTRA_DATA, help="folder of CSV series")
    args = parser.parse_args(argv)
    logging.getLogger("training").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    rows, ratios = evaluate(artifact_forecast(BaseArtifact.load(args.base)), args.data_dir)
    for row in rows:
        mase = row["mase"]
        print(
            f"{row['series']:22s} h{row['horizon']:<3d} base {mase['base']:.3f}  "
            f"best {row['best']} {mase[row['best']]:.3f}  AutoETS {mase.get('AutoETS', math.nan):.3f}"
        )
    print(
        "geometric mean of MASE ratios: "
        + ", ".join(f"vs {name} {value:.3f}" for name, value in ratios.items() if name != "wins_vs_best")
        + f"; rows won against the best baseline {ratios['wins_vs_best']} of {len(rows)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
