"""The accuracy report's coverage summary: which rows miss their nominal coverage by more than
sampling on that many test windows explains."""

import math

import pytest

from benchmarks.accuracy import accuracy_summary, coverage_summary, sampling_band


def _row(horizon: int, windows: int, coverage: dict[str, float]) -> dict:
    return {
        "horizon": horizon,
        "windows": windows,
        "champion": "lstm",
        "models": {"lstm": {"coverage": coverage}},
    }


def test_the_sampling_band_is_the_binomial_95_percent_band():
    assert sampling_band(0.8, 100) == pytest.approx(1.96 * 0.04)
    assert sampling_band(0.95, 19) == pytest.approx(1.96 * 0.05)


def test_the_summary_flags_only_the_rows_outside_their_band():
    report = {
        "builtin": [{"name": "long", "rows": [_row(1, 400, {"80": 0.75, "95": 0.95})]}],
        "extra": [{"name": "short", "rows": [_row(4, 16, {"80": 0.69, "95": 0.94})]}],
    }
    lines = coverage_summary(report)
    row_80 = next(line for line in lines if line.startswith("| 80 %"))
    row_95 = next(line for line in lines if line.startswith("| 95 %"))
    # 0.75 on 400 windows is 5 points off with a band of +-0.039; 0.69 on 16 windows is inside +-0.196
    assert "| 1: long h1 (0.75, band ±0.04) |" in row_80 and "short" not in row_80
    assert row_95.endswith("| 0 |")
    cells = [cell.strip() for cell in row_80.split("|")]
    assert cells[2:5] == ["2", "0.72", "0.080"]
    expected = (math.sqrt(2 / math.pi * 0.16 / 400) + math.sqrt(2 / math.pi * 0.16 / 16)) / 2
    assert cells[5] == f"{expected:.3f}"


def test_the_accuracy_summary_counts_wins_and_takes_the_geometric_mean_of_the_ratios():
    def row(horizon: int, champion: float, best: float) -> dict:
        return {
            "horizon": horizon,
            "champion_mase": champion,
            "best_baseline_mase": best,
            "beats": champion < best,
        }

    report = {
        "builtin": [{"name": "a", "rows": [row(12, 0.5, 1.0), row(1, 2.0, 1.0)]}],
        "extra": [{"name": "b", "rows": [row(4, 1.5, 1.0)]}, {"name": "c", "rows": [row(4, 0.9, 1.0)]}],
    }
    lines = accuracy_summary(report)
    builtin = next(line for line in lines if line.startswith("| built-in"))
    extra = next(line for line in lines if line.startswith("| generalisation"))
    # ratios 0.5 and 2.0: one win, geometric mean 1; the worst row first
    assert [cell.strip() for cell in builtin.split("|")][2:6] == [
        "2",
        "1",
        "1.000",
        "a h1 (2.00), a h12 (0.50)",
    ]
    assert f"| 2 | 1 | {math.sqrt(1.5 * 0.9):.3f} | b h4 (1.50), c h4 (0.90) |" in extra
