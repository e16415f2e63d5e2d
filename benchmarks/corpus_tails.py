"""A development set: the base on what came after the corpus's cut, its real series' tails.

python -m benchmarks.corpus_tails                                # the shipped base
python -m benchmarks.corpus_tails --base DIR --vs models/base    # a candidate base against another

The corpus takes each real dataset up to 80 % of its time range (training/corpus); the values
after that cut never entered it. Each series of the committed manifest is read again from its
package as `make corpus` reads it and split at its dataset's cut: the base forecasts its tail
one step ahead from every origin (h1, at most MAX_HORIZON origins) and as one window from the
cut (hT: the whole tail, at most MAX_HORIZON values), told the season the manifest records.
MASE uses the history's seasonal step; the closed-form naive and seasonal naive forecast the
same windows.

NOT zero-shot: these series are in the manifest, and their histories were pretraining data.
The set is for development - thousands of rows where sets 1-5 and the hold-out have 94 (whose
16 hold-out rows move by 0.04 between two pretraining seeds: ablations.md section 30) - so a
change is read here first and the goal rows confirm it. Yearly series are most of the rows, so
every figure is also given per season.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmarks.zero_shot import LEVELS, ForecastFn, artifact_forecast, shown_path, write_results
from models.base_artifact import SHIPPED_BASE, BaseArtifact
from training.backtest import mase_scale
from training.corpus import real
from training.corpus.build import read_manifest
from training.corpus.datasets import series_id

# the base's trained horizon: the hT window and the h1 origins stop there
MAX_HORIZON = 24
# histories shorter than this are left out (a level, a step and a seasonal step to scale by)
MIN_HISTORY = 8
# forecasts per predict call
CHUNK = 2_000
ROWS = Path(__file__).resolve().parent.parent / ".cache" / "corpus_tails"


@dataclass(frozen=True)
class TailSeries:
    id: str
    season: int
    history: np.ndarray
    tail: np.ndarray


def tail_series(min_tail: int = 2) -> list[TailSeries]:
    """Every manifest series with a finite history of at least MIN_HISTORY values and a finite
    tail of at least `min_tail`, split at its dataset's cut as training/corpus cuts it."""
    manifest = {row["id"]: row for row in read_manifest()}
    found = []
    for dataset in real.load_source_datasets(real.available_sources()):
        if not dataset.series:
            continue
        cut = dataset.cut
        for item in dataset.series:
            found_id = series_id(dataset.package, dataset.dataset, item.column, item.key)
            if found_id not in manifest:
                continue
            used = item.times <= cut
            history = np.asarray(item.values[used], dtype=np.float64)
            tail = np.asarray(item.values[~used], dtype=np.float64)[:MAX_HORIZON]
            if len(history) < MIN_HISTORY or len(tail) < min_tail:
                continue
            if not (np.isfinite(history[-512:]).all() and np.isfinite(tail).all()):
                continue
            season = int(manifest[found_id]["season_length"] or 1)
            found.append(TailSeries(found_id, season, history, tail))
    return found


def _forecast_groups(
    forecast: ForecastFn, requests: list[tuple[int, np.ndarray, int]]
) -> list[tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]]:
    """(season, history, horizon) per request -> its (point [horizon], {level: (lower, upper)}),
    forecast in batches of one season and horizon."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, (season, _, horizon) in enumerate(requests):
        groups[(season, horizon)].append(index)
    answers: list = [None] * len(requests)
    for (season, horizon), indices in groups.items():
        for start in range(0, len(indices), CHUNK):
            chunk = indices[start : start + CHUNK]
            point, intervals = forecast([requests[i][1] for i in chunk], season, horizon)
            for row, index in enumerate(chunk):
                answers[index] = (
                    point[row],
                    {level: (lower[row], upper[row]) for level, (lower, upper) in intervals.items()},
                )
    return answers


def _naive(history: np.ndarray, horizon: int, season: int) -> tuple[np.ndarray, np.ndarray]:
    """(naive, seasonal naive) over `horizon` steps from the end of `history`."""
    naive = np.full(horizon, history[-1])
    if season <= 1 or len(history) < season:
        return naive, naive
    return naive, np.resize(history[-season:], horizon)


def score_rows(series: list[TailSeries], forecast: ForecastFn) -> list[dict]:
    """Two rows per series - h1 (every origin of the tail) and hT (the tail from the cut) - each
    with the MASE of the model, naive and seasonal naive and the model's interval coverage."""
    requests, owners = [], []
    for number, item in enumerate(series):
        full = np.concatenate([item.history, item.tail])
        cut = len(item.history)
        for origin in range(cut, cut + len(item.tail)):
            requests.append((item.season, full[:origin], 1))
            owners.append((number, "h1", origin - cut))
        requests.append((item.season, item.history, len(item.tail)))
        owners.append((number, "hT", 0))
    answers = _forecast_groups(forecast, requests)
    collected: dict[tuple[int, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for (number, kind, offset), (season, history, horizon), (point, intervals) in zip(
        owners, requests, answers, strict=True
    ):
        item = series[number]
        actual = item.tail[offset : offset + horizon]
        naive, seasonal_naive = _naive(history, horizon, season)
        bucket = collected[(number, kind)]
        for name, values in (("model", point), ("Naive", naive), ("SeasonalNaive", seasonal_naive)):
            bucket[name].extend(np.abs(np.asarray(values, dtype=np.float64) - actual))
        for level, (lower, upper) in intervals.items():
            bucket[str(level)].extend((actual >= lower) & (actual <= upper))
    rows = []
    for (number, kind), bucket in collected.items():
        item = series[number]
        scale = mase_scale(item.history, item.season if len(item.history) > item.season else 1)
        if not scale > 0:
            continue
        rows.append(
            {
                "series": item.id,
                "season": item.season,
                "row": kind,
                "windows": len(item.tail) if kind == "h1" else 1,
                "mase": {
                    name: float(np.mean(bucket[name])) / scale for name in ("model", "Naive", "SeasonalNaive")
                },
                "coverage": {str(level): float(np.mean(bucket[str(level)])) for level in LEVELS},
            }
        )
    return rows


def _ratio(value: float, reference: float) -> float:
    """value / reference; NaN where the reference is 0 (a tail the reference forecast exactly)."""
    return value / reference if reference > 0 else math.nan


def _geometric_mean(values: list[float]) -> float:
    """Over the positive finite values (a NaN ratio is a row left out)."""
    logs = [math.log(value) for value in values if value > 0 and math.isfinite(value)]
    return math.exp(float(np.mean(logs))) if logs else math.nan


def summary(rows: list[dict], versus: list[dict] | None = None) -> list[dict]:
    """Per season and row kind (and over all rows): geometric-mean MASE ratios to naive and
    seasonal naive, coverage, and with `versus` (the same rows by another model) the ratio to it."""
    other = {(row["series"], row["row"]): row for row in versus or []}
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(str(row["season"]), row["row"])].append(row)
        groups[("all", row["row"])].append(row)
    table = []
    for (season, kind), members in sorted(groups.items(), key=lambda item: (item[0][0] != "all", item[0])):
        entry = {
            "season": season,
            "row": kind,
            "rows": len(members),
            "vs_naive": _geometric_mean(
                [_ratio(row["mase"]["model"], row["mase"]["Naive"]) for row in members]
            ),
            "vs_seasonal_naive": _geometric_mean(
                [_ratio(row["mase"]["model"], row["mase"]["SeasonalNaive"]) for row in members]
            ),
            "coverage": {
                level: float(np.mean([row["coverage"][level] for row in members])) for level in ("80", "95")
            },
            # the goals' measure of calibration: how far each row's coverage is from nominal
            "deviation": {
                level: float(np.mean([abs(row["coverage"][level] - int(level) / 100) for row in members]))
                for level in ("80", "95")
            },
        }
        if versus is not None:
            pairs = [
                _ratio(row["mase"]["model"], other[(row["series"], row["row"])]["mase"]["model"])
                for row in members
                if (row["series"], row["row"]) in other
            ]
            entry["vs_other"] = _geometric_mean(pairs)
            entry["better_by_3pct"] = sum(ratio < 0.97 for ratio in pairs)
            entry["worse_by_3pct"] = sum(ratio > 1.03 for ratio in pairs)
        table.append(entry)
    return table


def markdown(report: dict) -> str:
    versus = report.get("versus")
    header = (
        "| season | row | rows | vs naive | vs seasonal naive | coverage 80 % | coverage 95 % "
        "| mean abs(coverage - nominal) 80 % / 95 % |"
    )
    if versus:
        header += f" vs {versus} | better / worse by > 3 % |"
    lines = [
        f"# Corpus tails: {report['base']} on the post-cut values of the corpus's real series",
        "",
        f"Generated by `python -m benchmarks.corpus_tails` on {report['date']} ({report['seconds']:.0f} s). "
        f"{report['series']} manifest series with a tail of at least 2 values. **Not zero-shot**: a "
        "development set (these series' histories were pretraining data; the values scored came after "
        "the cut and never entered the corpus). h1: every tail value one step ahead; hT: the tail "
        f"(at most {MAX_HORIZON} values) as one window from the cut. Geometric means of MASE ratios.",
        "",
        header,
        "|---|---|---|---|---|---|---|---|" + ("---|---|" if versus else ""),
    ]
    for entry in report["summary"]:
        line = (
            f"| {entry['season']} | {entry['row']} | {entry['rows']} | {entry['vs_naive']:.3f} | "
            f"{entry['vs_seasonal_naive']:.3f} | {entry['coverage']['80']:.3f} | {entry['coverage']['95']:.3f} | "
            f"{entry['deviation']['80']:.3f} / {entry['deviation']['95']:.3f} |"
        )
        if versus:
            line += f" {entry['vs_other']:.3f} | {entry['better_by_3pct']} / {entry['worse_by_3pct']} |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.corpus_tails", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--base", type=Path, default=SHIPPED_BASE, help="a base artifact folder")
    parser.add_argument("--vs", type=Path, help="another base artifact folder, scored on the same rows")
    parser.add_argument("--output-name", default="corpus_tails", help="results/<name>.json and .md")
    args = parser.parse_args(argv)
    logging.getLogger("training").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    started = time.perf_counter()
    series = tail_series()
    rows = score_rows(series, artifact_forecast(BaseArtifact.load(args.base)))
    other = score_rows(series, artifact_forecast(BaseArtifact.load(args.vs))) if args.vs else None
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "base": shown_path(args.base),
        "versus": shown_path(args.vs) if args.vs else None,
        "series": len(series),
        "summary": summary(rows, other),
    }
    report["seconds"] = time.perf_counter() - started
    # every row (several MB), for replays; not a result file
    ROWS.mkdir(parents=True, exist_ok=True)
    (ROWS / f"{args.output_name}.json").write_text(json.dumps({"rows": rows, "versus_rows": other}))
    write_results(args.output_name, report, markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
