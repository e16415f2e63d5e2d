"""The issue-21 goals table, from the result files the benchmarks wrote in their last runs.

python -m benchmarks.goals      # after make benchmark (and make bench-serve for the speed row)

Reads benchmarks/results/{accuracy, builtin/accuracy, builtin_csv/accuracy, holdout/accuracy,
zero_shot, zero_shot_holdout, serving}.json and models/base/base_network.json; writes
benchmarks/results/goals.md. A row whose file is missing says so instead of a number. The
accuracy rows pool the generalisation sets 1-5 (benchmarks/data) and the hold-out set
(benchmarks/data/holdout): geometric means of MASE ratios over every row of both.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.accuracy import RESULTS
from benchmarks.zero_shot import coverage_summary, geometric_mean_ratios
from models.base_artifact import LONG_SEASONS_FOLDER, SHIPPED_BASE
from models.base_network import CONFIG_FILE

# series of about this many points stand for "a 150-point series" in the fine-tuning time row
FINE_TUNE_LENGTHS = (120, 180)


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def champion_rows(report: dict | None) -> list[dict]:
    """accuracy.json's generalisation rows in zero_shot.py's row shape, the champion as `base`."""
    rows = []
    for result in (report or {}).get("extra", []):
        for row in result["rows"]:
            mase = {"base": row["champion_mase"], **{k: v["mase"] for k, v in row["baselines"].items()}}
            coverage = row["models"][row["champion"]]["coverage"]
            rows.append(
                {"mase": mase, "best": row["best_baseline"], "windows": row["windows"], "coverage": coverage}
            )
    return rows


def _ratios_cell(rows: list[dict], goals: tuple[float, float, float]) -> tuple[str, str]:
    if not rows:
        return "not measured", ""
    ratios = geometric_mean_ratios(rows)
    values = (ratios["AutoETS"], ratios["AutoARIMA"], ratios["best"])
    met = all(value <= goal for value, goal in zip(values, goals, strict=True))
    shortfall = [
        f"{name} {value - goal:+.3f}"
        for name, value, goal in zip(("AutoETS", "AutoARIMA", "best"), values, goals, strict=True)
        if value > goal
    ]
    text = " / ".join(f"{value:.3f}" for value in values) + f" ({len(rows)} rows)"
    return text, "yes" if met else "no: " + ", ".join(shortfall)


def _coverage_cell(rows: list[dict]) -> tuple[str, str]:
    if not rows:
        return "not measured", ""
    summary = coverage_summary(rows)
    text = "; ".join(
        f"{level} %: {s['mean_abs_deviation']:.3f} (sampling alone {s['sampling_only']:.3f}, lowest {s['lowest']:.2f})"
        for level, s in summary.items()
    )
    within = all(s["mean_abs_deviation"] <= s["sampling_only"] for s in summary.values())
    floor = summary.get("80", {}).get("lowest", 1.0) >= 0.65
    return text, "yes" if within and floor else "no"


def _builtin_cell() -> tuple[str, str]:
    """Rows won with the built-in configs (builtin/) and as user CSVs (builtin_csv/: the same
    files through `make train DATA=data/<name>.csv`, every setting inferred)."""
    parts, met = [], True
    for folder, key, label in (
        ("builtin", "builtin", "built-in configs"),
        ("builtin_csv", "extra", "as user CSVs"),
    ):
        report = _load(RESULTS / folder / "accuracy.json")
        if not report:
            parts.append(f"{label}: not measured")
            met = False
            continue
        won = [row["beats"] for result in report[key] for row in result["rows"]]
        parts.append(f"{sum(won)} of {len(won)} ({label})")
        met &= all(won)
    return "; ".join(parts), "yes" if met else "no"


def goals_table() -> str:
    champion = champion_rows(_load(RESULTS / "accuracy.json")) + champion_rows(
        _load(RESULTS / "holdout" / "accuracy.json")
    )
    zero_shot = [
        row
        for name in ("zero_shot", "zero_shot_holdout")
        for row in ((_load(RESULTS / f"{name}.json") or {}).get("given") or {}).get("rows", [])
    ]
    serving = _load(RESULTS / "serving.json")
    base = _load(SHIPPED_BASE / CONFIG_FILE) or {}

    rows = [("zero-shot base vs AutoETS / AutoARIMA / best baseline per row", "<= 0.95 / 1.00 / 1.05")]
    rows[-1] += _ratios_cell(zero_shot, (0.95, 1.00, 1.05))
    rows.append(("champion vs AutoETS / AutoARIMA / best baseline per row", "<= 0.88 / 0.92 / 0.97"))
    rows[-1] += _ratios_cell(champion, (0.88, 0.92, 0.97))
    rows.append(("built-in rows won", "6 of 6, through the user-CSV path too", *_builtin_cell()))
    rows.append(
        (
            "interval coverage of the champions, mean abs(coverage - nominal)",
            "within sampling; no 80 % row < 0.65",
        )
    )
    rows[-1] += _coverage_cell(champion)
    rows.append(("interval coverage of the zero-shot base", "within sampling; no 80 % row < 0.65"))
    rows[-1] += _coverage_cell(zero_shot)
    if serving and "base_batch_1000_ms" in serving:
        given = serving["base_batch_1000_ms"]["season given"]
        detected = serving["base_batch_1000_ms"]["season detected"]
        rows.append(
            (
                "1,000 series, one request to `base`, one core",
                "<= 150 ms",
                f"{given:.0f} ms (season given), {detected:.0f} ms (detected)",
                "yes" if max(given, detected) <= 150 else "no",
            )
        )
    else:
        rows.append(("1,000 series, one request to `base`, one core", "<= 150 ms", "not measured", ""))
    # `make pretrain` trains both networks of the shipped base, one after the other
    networks = [base, _load(SHIPPED_BASE / LONG_SEASONS_FOLDER / CONFIG_FILE) or {}]
    runs = [(network.get("pretrain") or {}).get("seconds") for network in networks if network]
    seconds = sum(runs) if runs and all(runs) else None
    rows.append(
        (
            "`make pretrain` on 2 cores (the shipped base's runs)",
            "<= 90 min",
            f"{seconds / 60:.1f} min ({' + '.join(f'{run / 60:.1f}' for run in runs)})"
            if seconds
            else "not recorded",
            ("yes" if seconds / 60 <= 90 else "no") if seconds else "",
        )
    )
    fine_tune = [
        result["cells"]["fine-tuned"]["seconds"]
        for report in (_load(RESULTS / "accuracy.json"), _load(RESULTS / "holdout" / "accuracy.json"))
        for result in (report or {}).get("extra", [])
        if "fine-tuned" in result["cells"]
        and FINE_TUNE_LENGTHS[0] <= result["length"] <= FINE_TUNE_LENGTHS[1]
    ]
    rows.append(
        (
            f"fine-tune a {FINE_TUNE_LENGTHS[0]}-{FINE_TUNE_LENGTHS[1]}-point series (the fine-tuned "
            "candidate's whole run: fine-tune, backtest, refit, log)",
            "<= 30 s",
            f"median {np.median(fine_tune):.1f} s, max {max(fine_tune):.1f} s ({len(fine_tune)} series)"
            if fine_tune
            else "not measured",
            ("yes" if max(fine_tune) <= 30 else "no") if fine_tune else "",
        )
    )
    lines = [
        "# Issue 21 goals",
        "",
        "Assembled by `python -m benchmarks.goals` from the last `make benchmark` and `make bench-serve` "
        "result files (benchmarks/results). Accuracy rows: generalisation sets 1-5 and the hold-out set "
        "pooled, geometric mean of MASE ratios; none of these series is in the pretraining corpus.",
        "",
        "| goal | target | measured | met |",
        "|---|---|---|---|",
        *(f"| {name} | {target} | {measured} | {met} |" for name, target, measured, met in rows),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m benchmarks.goals", description=__doc__.split("\n\n")[0]
    ).parse_args(argv)
    text = goals_table()
    (RESULTS / "goals.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
