"""Zero-shot accuracy and interval coverage of the shipped base: no training on the series.

python -m benchmarks.zero_shot                      # generalisation sets 1-5 (benchmarks/data)
python -m benchmarks.zero_shot --data-dir benchmarks/data/holdout --output-name zero_shot_holdout

For every CSV in the folder the series is read and its season, horizon and test part are
inferred exactly as `make train` would; the base then forecasts every rolling origin of the
test part (horizons 1 and H) from the history before it, as `POST /forecast {"model": "base",
"history": [...], "season": m}` does - and once more without `season`, detected from the
history as the service does. The statsforecast baselines are scored on the same windows (cached
per data folder: `benchmarks.baselines.BaselineCache`). None of these series is in the
pretraining corpus (training/corpus drops them by content; tests/test_corpus.py checks).

Writes benchmarks/results/<output-name>.json and .md: every row's MASE next to the baselines',
the geometric mean of MASE ratios against AutoETS, AutoARIMA and the best baseline of each row,
and the coverage of the 80 % and 95 % intervals.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from benchmarks.accuracy import EXTRA_DATA, RESULTS
from benchmarks.baselines import BaselineCache, cache_file
from models.artifact import left_padded
from models.base_artifact import SHIPPED_BASE, BaseArtifact
from training.backtest import mase_scale, rolling_origins, score
from training.config import TrainConfig
from training.pipeline import load_series
from training.series import DataError

LEVELS = (80, 95)
REFERENCES = ("AutoETS", "AutoARIMA")
# forecast(histories, season or None = detect, horizon) -> point [N, H] and {level: (lower, upper)}
ForecastFn = Callable[
    [list[np.ndarray], int | None, int], tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]
]


def artifact_forecast(artifact: BaseArtifact) -> ForecastFn:
    """The base's forecasts as the service computes them: one batch, the season given or detected."""

    def forecast(histories: list[np.ndarray], season: int | None, horizon: int):
        rows = [history[-512:].tolist() for history in histories]
        seasons = [season] * len(rows) if season is not None else artifact.detect_seasons(rows)
        batch = left_padded([row[-artifact.lookback :] for row in rows])
        prediction = artifact.predict(batch, horizon, LEVELS, seasons)
        intervals = {level: (lo.numpy(), hi.numpy()) for level, (lo, hi) in prediction.intervals.items()}
        return prediction.point.numpy().astype(np.float64), intervals

    return forecast


def series_rows(path: Path, forecast: ForecastFn, cache: BaselineCache, detect: bool = False) -> list[dict]:
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
        methods, _ = cache.forecasts(values, m, test, horizon, stride)
        point, intervals = forecast([values[:o] for o in origins], None if detect else m, horizon)
        mase = {
            name: metrics["mase"]
            for name, metrics in score(actual, {"base": point, **methods}, origins, scale).items()
        }
        best = min((name for name in mase if name != "base"), key=mase.get)
        coverage = {
            str(level): float(np.mean((actual >= lower) & (actual <= upper)))
            for level, (lower, upper) in intervals.items()
        }
        rows.append(
            {
                "series": path.stem,
                "season": m,
                "horizon": horizon,
                "windows": len(origins),
                "mase": mase,
                "best": best,
                "coverage": coverage,
            }
        )
    return rows


def geometric_mean_ratios(rows: list[dict], model: str = "base") -> dict[str, float]:
    """Against AutoETS and AutoARIMA over the rows that have them (statsforecast fits neither for
    seasons above 24: benchmarks.baselines), against the best baseline over every row; NaN
    where no row has the reference."""

    def mean_ratio(reference: Callable[[dict], float], name: str | None = None) -> float:
        logs = [
            math.log(row["mase"][model] / reference(row))
            for row in rows
            if name is None or name in row["mase"]
        ]
        return math.exp(float(np.mean(logs))) if logs else math.nan

    ratios = {name: mean_ratio(lambda row, name=name: row["mase"][name], name) for name in REFERENCES}
    ratios["best"] = mean_ratio(lambda row: row["mase"][row["best"]])
    ratios["wins_vs_best"] = sum(row["mase"][model] < row["mase"][row["best"]] for row in rows)
    return ratios


def coverage_summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per level: mean coverage, mean |coverage - nominal|, what sampling alone would give
    (sqrt(2 / pi) * the binomial sd of each row's windows) and the lowest row."""
    summary = {}
    for level in LEVELS:
        nominal = level / 100
        measured = [row["coverage"][str(level)] for row in rows if str(level) in row["coverage"]]
        if not measured:
            continue
        expected = [math.sqrt(2 / math.pi * nominal * (1 - nominal) / row["windows"]) for row in rows]
        summary[str(level)] = {
            "mean": float(np.mean(measured)),
            "mean_abs_deviation": float(np.mean([abs(c - nominal) for c in measured])),
            "sampling_only": float(np.mean(expected)),
            "lowest": float(min(measured)),
        }
    return summary


def evaluate(
    forecast: ForecastFn, data_dir: Path = EXTRA_DATA, detect: bool = False
) -> tuple[list[dict], dict[str, float], dict[str, str]]:
    """(rows, their geometric-mean ratios, the series `make train` refuses - too short for its
    splits - with why: they have no rows)."""
    cache = BaselineCache(cache_file(data_dir))
    rows, skipped = [], {}
    for path in sorted(data_dir.glob("*.csv")):
        try:
            rows += series_rows(path, forecast, cache, detect)
        except DataError as error:
            skipped[path.stem] = str(error)
    return rows, geometric_mean_ratios(rows), skipped


def markdown(report: dict) -> str:
    lines = [
        f"# Zero-shot: the shipped base on {report['data_dir']}",
        "",
        f"Generated by `python -m benchmarks.zero_shot` on {report['date']} ({report['seconds']:.0f} s), "
        f"base: {report['base']}. Every rolling origin of each series' test part, forecast from the "
        "history before it with no training; statsforecast's baselines fitted once before the test "
        "part on the same windows (benchmarks/accuracy.py). MASE, lower is better. The ratios to "
        "AutoETS and AutoARIMA count the rows with a season up to 24 (neither is fitted above: "
        "MSTL is); the ratio to the best baseline counts every row.",
        "",
        "| season | rows | vs AutoETS | vs AutoARIMA | vs best baseline per row | rows won vs best | "
        "coverage 80 % (mean abs dev; sampling alone; lowest) | coverage 95 % (same) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, title in (
        ("given", "given (as `make train` infers it)"),
        ("detected", "detected by the service"),
    ):
        run = report[key]
        ratios, coverage = run["ratios"], run["coverage"]
        cells = [
            f"{coverage[level]['mean']:.2f} ({coverage[level]['mean_abs_deviation']:.3f}; "
            f"{coverage[level]['sampling_only']:.3f}; {coverage[level]['lowest']:.2f})"
            for level in ("80", "95")
        ]
        lines.append(
            f"| {title} | {len(run['rows'])} | {ratios['AutoETS']:.3f} | {ratios['AutoARIMA']:.3f} | "
            f"{ratios['best']:.3f} | {ratios['wins_vs_best']} | {cells[0]} | {cells[1]} |"
        )
    if report.get("skipped"):
        lines += ["", f"No rows for {len(report['skipped'])} series `make train` refuses:", ""]
        lines += [f"- {name}: {reason}" for name, reason in report["skipped"].items()]
    lines += [
        "",
        "Season given:",
        "",
        "| series | m | h | windows | base | AutoETS | AutoARIMA | best baseline | its MASE | cov 80 | cov 95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["given"]["rows"]:
        mase = row["mase"]
        lines.append(
            f"| {row['series']} | {row['season']} | {row['horizon']} | {row['windows']} | "
            f"**{mase['base']:.3f}** | {mase.get('AutoETS', math.nan):.3f} | "
            f"{mase.get('AutoARIMA', math.nan):.3f} | {row['best']} | {mase[row['best']]:.3f} | "
            f"{row['coverage'].get('80', math.nan):.2f} | {row['coverage'].get('95', math.nan):.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.zero_shot", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--base", type=Path, default=SHIPPED_BASE, help="a base artifact folder")
    parser.add_argument("--data-dir", type=Path, default=EXTRA_DATA, help="folder of CSV series")
    parser.add_argument("--output-name", default="zero_shot", help="results/<name>.json and .md")
    args = parser.parse_args(argv)
    logging.getLogger("training").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    started = time.perf_counter()
    forecast = artifact_forecast(BaseArtifact.load(args.base))
    report: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "base": shown_path(args.base),
        "data_dir": shown_path(args.data_dir),
    }
    for key, detect in (("given", False), ("detected", True)):
        rows, ratios, report["skipped"] = evaluate(forecast, args.data_dir, detect)
        report[key] = {"rows": rows, "ratios": ratios, "coverage": coverage_summary(rows)}
    report["seconds"] = time.perf_counter() - started
    write_results(args.output_name, report, markdown(report))
    return 0


def shown_path(path: Path) -> str:
    """`path` relative to the working directory when it is under it (result files name no home)."""
    here = Path.cwd().resolve()
    return str(path.resolve().relative_to(here)) if path.resolve().is_relative_to(here) else str(path)


def write_results(name: str, report: dict, text: str) -> None:
    """benchmarks/results/<name>.json and .md; the markdown also to stdout."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=1))
    (RESULTS / f"{name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    raise SystemExit(main())
