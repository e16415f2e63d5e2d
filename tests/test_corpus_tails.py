"""benchmarks.corpus_tails' scoring: rows, windows and ratios on series whose answers are known
(the package-reading part is `make corpus`'s own loader, tested in test_corpus.py)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.corpus_tails import TailSeries, score_rows, summary


def _seasonal_naive_forecast(histories, season, horizon):
    """A ForecastFn that forecasts the last season again, with intervals of +-0.5."""
    point = np.stack([np.resize(history[-season:], horizon) for history in histories])
    return point, {80: (point - 0.5, point + 0.5), 95: (point - 1.0, point + 1.0)}


def test_a_model_that_is_seasonal_naive_scores_as_seasonal_naive() -> None:
    steps = np.arange(60.0)
    values = 30 + 10 * np.sin(2 * np.pi * steps / 12) + 0.1 * steps
    series = [TailSeries("demo", 12, values[:48], values[48:])]
    rows = score_rows(series, _seasonal_naive_forecast)
    assert [(row["row"], row["windows"]) for row in rows] == [("h1", 12), ("hT", 1)]
    for row in rows:
        assert row["mase"]["model"] == pytest.approx(row["mase"]["SeasonalNaive"])
        assert row["mase"]["model"] < row["mase"]["Naive"]
        # the tail sits 1.2 above last year's values: outside +-0.5 and +-1.0 at every step
        assert row["coverage"] == {"80": 0.0, "95": 0.0}
    table = summary(rows, versus=rows)
    overall = [entry for entry in table if entry["season"] == "all"]
    assert [entry["vs_seasonal_naive"] for entry in overall] == pytest.approx([1.0, 1.0])
    assert [entry["vs_other"] for entry in overall] == pytest.approx([1.0, 1.0])
    # nothing covered: each row is 0.80 and 0.95 from nominal
    assert [entry["deviation"] for entry in overall] == [{"80": 0.8, "95": 0.95}] * 2
    assert all(entry["better_by_3pct"] == entry["worse_by_3pct"] == 0 for entry in table)


def test_a_tail_that_naive_forecasts_exactly_is_left_out_of_the_ratios() -> None:
    flat = TailSeries("flat", 1, np.array([1.0, 2.0, 3.0, 2.0, 3.0, 4.0, 3.0, 5.0]), np.full(3, 5.0))
    rows = score_rows([flat], _seasonal_naive_forecast)
    assert all(row["mase"]["Naive"] == 0.0 for row in rows)
    assert all(np.isnan(entry["vs_naive"]) for entry in summary(rows))
