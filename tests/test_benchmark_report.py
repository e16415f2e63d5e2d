"""Pieces of the benchmark reports: the accuracy report's coverage summary (which rows miss
their nominal coverage by more than sampling on that many test windows explains) and its
accuracy summary, the reading of wrk's report that the serving and reliability reports use, and
the cache of the statistical baselines' forecasts."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from benchmarks.accuracy import accuracy_summary, coverage_summary, sampling_band
from benchmarks.baselines import (
    BUILTIN,
    CACHE_DIR,
    LOCAL_CACHE_DIR,
    PROJECT_ROOT,
    BaselineCache,
    baseline_forecasts,
    cache_file,
)
from benchmarks.wrk import WrkReport, parse

# wrk 4.1.0 against `python -m http.server` (which answers POST with 501), with the line wrk
# adds when sockets failed (its format: "Socket errors: connect %d, read %d, write %d, timeout %d")
WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:18931/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.36ms    2.43ms  22.80ms   89.50%
    Req/Sec     1.98k   412.17     2.76k    80.00%
  Latency Distribution
     50%    1.55ms
     75%    2.62ms
     90%    4.89ms
     99%   14.13ms
  1966 requests in 1.00s, 1.04MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 1966
Requests/sec:   1965.29
Transfer/sec:      1.04MB
"""


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


def test_the_wrk_report_gives_counts_rates_latencies_and_failures():
    report = parse(WRK_OUTPUT)
    assert report == WrkReport(
        requests=1966,
        rps=1965.29,
        p50_ms=1.55,
        p90_ms=4.89,
        p99_ms=14.13,
        non_2xx=1966,
        socket_errors="connect 0, read 3, write 0, timeout 2",
    )
    assert report.socket_error_count == 5


def test_wrk_latencies_in_other_units_are_read_as_milliseconds_and_missing_failures_as_none():
    output = (
        WRK_OUTPUT.replace("1.55ms", "850.00us")
        .replace("14.13ms", "1.20s")
        .replace("  Socket errors: connect 0, read 3, write 0, timeout 2\n", "")
        .replace("  Non-2xx or 3xx responses: 1966\n", "")
    )
    report = parse(output)
    assert report.p50_ms == pytest.approx(0.85)
    assert report.p99_ms == pytest.approx(1200.0)
    assert (report.non_2xx, report.socket_errors, report.socket_error_count) == (0, "", 0)


def test_output_that_is_not_a_wrk_report_is_refused_with_the_output():
    with pytest.raises(ValueError, match="not a wrk report:\nunable to connect"):
        parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_each_data_folder_has_its_own_baseline_cache_file(tmp_path):
    assert cache_file(BUILTIN) == CACHE_DIR / "builtin.json"
    holdout = cache_file(PROJECT_ROOT / "benchmarks" / "data" / "holdout")
    assert holdout == CACHE_DIR / "benchmarks_data_holdout.json"
    # a folder outside the repository is cached where git does not look
    outside = cache_file(tmp_path / "fresh")
    assert outside.parent == LOCAL_CACHE_DIR and outside.name.startswith("fresh-")
    assert cache_file(tmp_path / "other" / "fresh") != outside


def test_the_committed_cache_covers_every_folder_make_benchmark_reads():
    for folder in (BUILTIN, PROJECT_ROOT / "data", PROJECT_ROOT / "benchmarks" / "data"):
        assert cache_file(folder).is_file(), folder
    assert cache_file(PROJECT_ROOT / "benchmarks" / "data" / "holdout").is_file()


def test_the_baseline_cache_keeps_what_it_computed(tmp_path):
    values = 10 + np.sin(np.arange(60) * 2 * np.pi / 12) + np.arange(60) * 0.05
    path = tmp_path / "cache.json"
    computed, _ = BaselineCache(path).forecasts(values, 12, 12, 3, 3)
    assert set(computed) >= {"Naive", "SeasonalNaive", "AutoETS"} and computed["Naive"].shape == (4, 3)
    # read back, not computed again: an entry changed on disk comes back changed
    entries = json.loads(path.read_text())
    (key,) = entries
    entries[key]["forecasts"]["Naive"] = (2 * computed["Naive"]).tolist()
    path.write_text(json.dumps(entries))
    again, _ = BaselineCache(path).forecasts(values, 12, 12, 3, 3)
    assert np.array_equal(again["Naive"], 2 * computed["Naive"])
    assert np.array_equal(again["AutoETS"], computed["AutoETS"])
    # another protocol on the same series is another entry
    BaselineCache(path).forecasts(values, 12, 12, 1, 1)
    assert len(BaselineCache(path).entries) == 2
    assert np.array_equal(baseline_forecasts(values, 12, 12, 3, 3)[0]["Naive"], computed["Naive"])


def test_the_zero_shot_benchmark_lists_the_series_make_train_refuses(tmp_path, monkeypatch):
    """A folder of fresh series may hold some too short for `make train`'s splits (M3's 20-point
    yearly ones): they get no rows and are named with make train's reason; the run goes on."""
    from benchmarks import zero_shot

    data = tmp_path / "data"
    data.mkdir()
    months = pd.date_range("2000-01-01", periods=60, freq="MS").strftime("%Y-%m-%d")
    values = 100 + 10 * np.sin(np.arange(60) * 2 * np.pi / 12) + np.arange(60)
    pd.DataFrame({"date": months, "value": values}).to_csv(data / "monthly.csv", index=False)
    pd.DataFrame({"year": range(1990, 2010), "value": np.arange(20.0) ** 1.5}).to_csv(
        data / "short.csv", index=False
    )
    monkeypatch.setattr(zero_shot, "cache_file", lambda folder: tmp_path / "baselines.json")

    def last_value(histories, season, horizon):
        point = np.stack([np.repeat(history[-1], horizon) for history in histories])
        return point, {level: (point - 1.0, point + 1.0) for level in zero_shot.LEVELS}

    rows, ratios, skipped = zero_shot.evaluate(last_value, data)
    assert {row["series"] for row in rows} == {"monthly"} and np.isfinite(ratios["AutoETS"])
    assert list(skipped) == ["short"] and "20 points" in skipped["short"]
