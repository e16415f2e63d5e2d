"""Accuracy benchmark: trained LSTM/GRU champions vs statistical baselines, same windows.

python -m benchmarks.accuracy                       # built-in series + generalisation set
python -m benchmarks.accuracy --series passengers --cells lstm gru --no-extra

For every built-in series and cell the training pipeline runs end to end (fit, backtest,
MLflow logging and registration) into a temporary MLflow store; the champion is the cell
with the best validation score, as the registry picks it. The statsforecast baselines are
fitted once on the part before the test (refit=False) and scored on exactly the same
rolling-origin windows (../shared/BENCHMARK.md). Their forecasts are cached per data folder
(`benchmarks.baselines.BaselineCache`); --refresh-baselines recomputes them.

The generalisation set (benchmarks/data/*.csv, see its README for which set informed which
decision) trains with default settings only, exactly like
`python -m training --csv f.csv --name x --fill ffill`; --extra-dir runs another folder
instead, such as a folder of series held out from the experiments.

Writes benchmarks/results/accuracy.md and accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import pickle
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.baselines import BUILTIN, BaselineCache, cache_file
from training.backtest import mase_scale, rolling_origins, score
from training.config import BUILTIN_SERIES, TrainConfig
from training.data import DataError
from training.ensemble import BASE_MEMBERS, ENSEMBLE, combine, members_of
from training.pipeline import TrainResult, load_series, train

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
EXTRA_DATA = ROOT / "data"
CELLS = ("lstm", "gru", "peephole", "cifg")
LEVELS = ("80", "95")


def evaluate_series(
    config_for_cell,
    cells: list[str],
    tracking_uri: str,
    cache: BaselineCache,
    refresh: bool,
    forecasts: dict | None = None,
) -> dict:
    """Train every cell (and, with the base candidates, their ensemble), pick the champion as
    `make train` does, score the baselines; with `forecasts`, record every candidate's
    validation and test forecasts in it (`record_forecasts`)."""
    runs: dict[str, TrainResult] = {}
    # as `make train`: with the base candidates only the ensemble moves the alias
    promote = not set(BASE_MEMBERS) & set(cells)
    for cell in cells:
        if cell in BASE_MEMBERS:
            config = replace(config_for_cell(next(c for c in cells if c not in BASE_MEMBERS)), candidate=cell)
        else:
            config = config_for_cell(cell)
        print(f"== {config.name} ({cell})", flush=True)
        runs[cell] = train(config, tracking_uri=tracking_uri, progress=False, promote=promote)
    members = members_of(list(runs.values()))
    if members is None:
        champion = min(runs, key=lambda cell: runs[cell].val_mase)
    else:  # the ensemble candidate, the champion, as `make train` runs it
        config = TrainConfig.from_dict(members[0].artifact.metadata.train_config)
        runs[ENSEMBLE] = combine(members, [load_series(config)], tracking_uri)
        champion = ENSEMBLE
    if forecasts is not None:
        record_forecasts(forecasts, runs)
    first = runs[champion]
    config = TrainConfig.from_dict(first.artifact.metadata.train_config)
    series = load_series(config)
    values = series.values
    scale = mase_scale(values[: len(values) - config.test_size], config.season_length)
    rows = []
    for horizon, backtest in first.backtests.items():
        stride = config.multi_step_stride if horizon == config.horizon else 1
        forecasts, seconds = cache.forecasts(
            values, config.season_length, config.test_size, horizon, stride, refresh
        )
        origins = rolling_origins(len(values), config.test_size, horizon, stride)
        if not np.array_equal(origins, backtest.origins):
            raise RuntimeError("baseline and model windows differ")
        base = score(backtest.actual, forecasts, origins, scale)
        best = min(base, key=lambda name: base[name]["mase"])
        model_rows = {
            cell: {
                "metrics": run.backtests[horizon].metrics["model"],
                "coverage": {str(k): v for k, v in run.backtests[horizon].coverage.items()},
            }
            for cell, run in runs.items()
        }
        champion_mase = model_rows[champion]["metrics"]["mase"]
        rows.append(
            {
                "horizon": horizon,
                "stride": stride,
                "windows": len(origins),
                "champion": champion,
                "models": model_rows,
                "baselines": base,
                "baseline_seconds": seconds,
                "best_baseline": best,
                "best_baseline_mase": base[best]["mase"],
                "champion_mase": champion_mase,
                "margin": base[best]["mase"] - champion_mase,
                "beats": champion_mase < base[best]["mase"],
            }
        )
    return {
        "name": config.name,
        "length": len(values),
        "freq": config.freq,
        "season_length": config.season_length,
        "horizon": config.horizon,
        "test_size": config.test_size,
        "val_size": config.val_size,
        "context_length": config.context_length,
        "champion": champion,
        "cells": {
            cell: {
                "val_mase": run.val_mase,
                "seconds": run.seconds,
                "epochs": run.artifact.metadata.epochs,
                "ridge": run.artifact.metadata.ridge,
            }
            for cell, run in runs.items()
        },
        "rows": rows,
    }


def record_forecasts(forecasts: dict, runs: dict[str, TrainResult]) -> None:
    """Every candidate's forecasts by (series, candidate): its validated fit's forecasts of the
    whole validation windows and its held-out fit's test windows per horizon (forecast, actual,
    origins, interval bounds) - what a champion rule can be replayed on without training."""
    for cell, run in runs.items():
        forecasts[(run.name, cell)] = {
            "validation": [window.numpy() for window in run.validation],
            "test": {
                horizon: {
                    "forecast": backtest.forecasts["model"],
                    "actual": backtest.actual,
                    "origins": backtest.origins,
                    "intervals": backtest.intervals,
                }
                for horizon, backtest in run.backtests.items()
            },
        }


def sampling_band(nominal: float, windows: int) -> float:
    """Half-width of the 95 % normal-approximation band of a coverage measured on `windows`
    test windows when the intervals are exactly calibrated. Each window counts once (its h
    steps share one origin and are correlated); errors of neighbouring windows are often
    correlated too, which widens the true band, so a row just outside it may still be noise."""
    return 1.96 * math.sqrt(nominal * (1.0 - nominal) / windows)


def accuracy_summary(report: dict) -> list[str]:
    """Markdown lines: per table, the rows where the champion beats the best baseline and the
    geometric mean of champion MASE / best baseline MASE (below 1 = better on average)."""
    lines = [
        "## Summary",
        "",
        "| series | rows | champion beats the best baseline | geometric mean of MASE / best baseline MASE "
        "| worst rows (ratio) |",
        "|---|---|---|---|---|",
    ]
    for title, key in (("built-in", "builtin"), ("generalisation", "extra")):
        rows = [(result["name"], row) for result in report.get(key) or [] for row in result["rows"]]
        if not rows:
            continue
        ratios = [(row["champion_mase"] / row["best_baseline_mase"], name, row) for name, row in rows]
        worst = sorted(ratios, key=lambda item: item[0], reverse=True)[:5]
        lines.append(
            f"| {title} | {len(rows)} | {sum(row['beats'] for _, row in rows)} | "
            f"{math.exp(np.mean([math.log(ratio) for ratio, *_ in ratios])):.3f} | "
            + ", ".join(f"{name} h{row['horizon']} ({ratio:.2f})" for ratio, name, row in worst)
            + " |"
        )
    return [*lines, ""]


def coverage_summary(report: dict) -> list[str]:
    """Markdown lines: measured coverage against nominal over every row, next to the deviation
    that sampling alone would give (sqrt(2 / pi) * binomial sd: a calibrated interval measured
    on 13 windows is off by about 9 points at 80 % on average), and the rows outside their band."""
    rows = [
        (result["name"], row)
        for key in ("builtin", "extra")
        for result in report.get(key) or []
        for row in result["rows"]
    ]
    lines = [
        "## Interval coverage (champions, every row)",
        "",
        "| level | rows | mean coverage | mean abs(coverage - nominal) | same, expected from sampling "
        "alone | rows outside their 95 % sampling band |",
        "|---|---|---|---|---|---|",
    ]
    for level in LEVELS:
        nominal = int(level) / 100
        measured = [
            (name, row, row["models"][row["champion"]]["coverage"][level])
            for name, row in rows
            if level in row["models"][row["champion"]]["coverage"]
        ]
        if not measured:
            continue
        deviation = [abs(coverage - nominal) for *_, coverage in measured]
        expected = [
            math.sqrt(2.0 / math.pi * nominal * (1.0 - nominal) / row["windows"]) for _, row, _ in measured
        ]
        outside = [
            f"{name} h{row['horizon']} ({coverage:.2f}, band ±{sampling_band(nominal, row['windows']):.2f})"
            for name, row, coverage in measured
            if abs(coverage - nominal) > sampling_band(nominal, row["windows"])
        ]
        lines.append(
            f"| {level} % | {len(measured)} | {np.mean([c for *_, c in measured]):.2f} | "
            f"{np.mean(deviation):.3f} | {np.mean(expected):.3f} | "
            f"{len(outside)}{': ' + ', '.join(outside) if outside else ''} |"
        )
    return [*lines, ""]


def _ridge_member(member: dict) -> str:
    """'trend[12] 0.3*': prior, how many of the latest context values it reads (all when left
    out), penalty, * when the bias is penalised."""
    recent = f"[{member['recent']}]" if member.get("recent") else ""
    return f"{member['prior']}{recent} {member['alpha']:g}{'*' if member['penalise_bias'] else ''}"


def _f(value: float, digits: int = 3) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def markdown(report: dict) -> str:
    lines = [
        "# Accuracy: the champions of `make train` vs statistical baselines",
        "",
        f"Generated by `python -m benchmarks.accuracy` on {report['date']} "
        f"({report['seconds']:.0f} s). Protocol: ../shared/BENCHMARK.md (rolling origin, fitted "
        "once before the test part, no refit). Champion = the candidate `make train` serves: with "
        "the base candidates their ensemble (training/ensemble.py), else the cell with "
        "the lowest validation MASE. Baselines: statsforecast, fitted once on the part before "
        "the test, `refit=False`, on exactly the same windows. MASE, lower is better; margin = "
        "best baseline MASE - champion MASE (positive = champion wins).",
        "",
        *accuracy_summary(report),
    ]
    for title, key in (("Built-in series", "builtin"), ("Generalisation (default settings)", "extra")):
        if not report.get(key):
            continue
        lines += [f"## {title}", ""]
        lines += [
            "| series | h | windows | champion | MASE | MAE | RMSE | sMAPE | best baseline | "
            "its MASE | margin | beats | cov 80 | cov 95 |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for result in report[key]:
            for row in result["rows"]:
                metrics = row["models"][row["champion"]]["metrics"]
                coverage = row["models"][row["champion"]]["coverage"]
                lines.append(
                    f"| {result['name']} | {row['horizon']} | {row['windows']} | {row['champion']} | "
                    f"**{_f(metrics['mase'])}** | {_f(metrics['mae'])} | {_f(metrics['rmse'])} | "
                    f"{_f(metrics['smape'], 2)} | {row['best_baseline']} | {_f(row['best_baseline_mase'])} | "
                    f"{row['margin']:+.3f} | {'yes' if row['beats'] else '**no**'} | "
                    f"{_f(coverage.get('80', math.nan), 2)} | {_f(coverage.get('95', math.nan), 2)} |"
                )
        lines += ["", "Every method's MASE per row:", ""]
        for result in report[key]:
            methods = list(result["rows"][0]["baselines"])
            cells = list(result["cells"])
            lines += [
                f"**{result['name']}** (n={result['length']}, freq {result['freq']}, m={result['season_length']}, "
                f"h={result['horizon']}, test {result['test_size']}, validation {result['val_size']}, "
                f"context {result['context_length']})",
                "",
                "| h | " + " | ".join(cells + methods) + " |",
                "|---|" + "---|" * (len(cells) + len(methods)),
            ]
            for row in result["rows"]:
                values = [row["models"][cell]["metrics"]["mase"] for cell in cells]
                values += [row["baselines"][method]["mase"] for method in methods]
                best = min(values)
                cells_text = [f"**{_f(v)}**" if v == best else _f(v) for v in values]
                lines.append(f"| {row['horizon']} | " + " | ".join(cells_text) + " |")
            lines += [
                "",
                "| cell | val MASE | epochs | ridge blend: prior[latest values read] alpha (* = bias penalised) | "
                "train seconds | "
                + " | ".join(f"cov{lv} h{row['horizon']}" for row in result["rows"] for lv in LEVELS)
                + " |",
                "|---|---|---|---|---|" + "---|" * (len(LEVELS) * len(result["rows"])),
            ]
            for cell, info in result["cells"].items():
                ridge = ", ".join(
                    _ridge_member(member) for member in (info.get("ridge") or {}).get("members", [])
                )
                coverage = [
                    _f(row["models"][cell]["coverage"].get(lv, math.nan), 2)
                    for row in result["rows"]
                    for lv in LEVELS
                ]
                lines.append(
                    f"| {cell}{' (champion)' if cell == result['champion'] else ''} | {_f(info['val_mase'])} | "
                    f"{info.get('epochs')} | {ridge} | "
                    f"{info['seconds']:.1f} | " + " | ".join(coverage) + " |"
                )
            lines.append("")
    lines += coverage_summary(report)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy", description=__doc__.split("\n")[0])
    parser.add_argument("--series", nargs="*", default=list(BUILTIN_SERIES), choices=BUILTIN_SERIES)
    parser.add_argument("--cells", nargs="+", default=list(CELLS))
    parser.add_argument("--extra-cells", nargs="+", default=["lstm", "gru"])
    parser.add_argument("--extra", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--base",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also the zero-shot and fine-tuned candidates from the shipped base, as make train runs them",
    )
    parser.add_argument("--extra-dir", default=str(EXTRA_DATA), help="folder of generalisation CSVs")
    parser.add_argument("--refresh-baselines", action="store_true")
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite accuracy.md from the accuracy.json in --output"
    )
    parser.add_argument(
        "--forecasts",
        metavar="FILE",
        help="also pickle every candidate's validation and test forecasts into FILE, to replay champion rules",
    )
    args = parser.parse_args(argv)
    if args.base:
        args.cells = [*args.cells, *BASE_MEMBERS]
        args.extra_cells = [*args.extra_cells, *BASE_MEMBERS]
    if args.render_only:
        output = Path(args.output)
        (output / "accuracy.md").write_text(markdown(json.loads((output / "accuracy.json").read_text())))
        return 0
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("lightning", "lightning.pytorch", "lightning.fabric", "mlflow"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    RESULTS.mkdir(parents=True, exist_ok=True)
    builtin_cache, extra_cache = BaselineCache(cache_file(BUILTIN)), BaselineCache(cache_file(args.extra_dir))
    started = time.perf_counter()
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "builtin": [], "extra": []}
    extra_paths = sorted(Path(args.extra_dir).resolve().glob("*.csv")) if args.extra else []
    if args.extra and not extra_paths:
        parser.error(f"no CSV files in {args.extra_dir}")
    extra_configs = [TrainConfig(name=path.stem, data=str(path), fill="ffill") for path in extra_paths]
    for config in extra_configs:  # a file training would refuse stops the run now, not after an hour
        try:
            config.resolve(load_series(config))
        except DataError as error:
            parser.error(str(error))
    forecasts: dict | None = {} if args.forecasts else None
    with tempfile.TemporaryDirectory() as store:
        uri = f"sqlite:///{store}/mlflow.db"
        import os

        os.environ.setdefault("MLFLOW_ARTIFACTS_DESTINATION", f"{store}/artifacts")
        cwd = os.getcwd()
        os.chdir(store)  # MLflow writes ./mlruns
        try:
            for name in args.series:
                report["builtin"].append(
                    evaluate_series(
                        lambda cell, name=name: TrainConfig.builtin(name, cell=cell),
                        args.cells,
                        uri,
                        builtin_cache,
                        args.refresh_baselines,
                        forecasts,
                    )
                )
            for config in extra_configs:  # empty with --no-extra
                report["extra"].append(
                    evaluate_series(
                        lambda cell, config=config: replace(config, cell=cell),
                        args.extra_cells,
                        uri,
                        extra_cache,
                        args.refresh_baselines,
                        forecasts,
                    )
                )
        finally:
            os.chdir(cwd)
    report["seconds"] = time.perf_counter() - started
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    if args.forecasts:
        Path(args.forecasts).parent.mkdir(parents=True, exist_ok=True)
        Path(args.forecasts).write_bytes(pickle.dumps(forecasts))
    (output / "accuracy.json").write_text(json.dumps(report, indent=1, default=float))
    (output / "accuracy.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
