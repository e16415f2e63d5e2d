"""Forecast timestamps computed without pandas equal pandas' own calendar."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from service.calendar import future_timestamps

CASES = [
    # (last observation, frequency)
    ("2021-08-01", "MS"),
    ("2021-08-31", "MS"),  # a month-end date handed to a month-start model: next is 1 September
    ("2021-01-31", "ME"),
    ("2020-02-29", "ME"),
    ("2021-10-01", "QS-OCT"),
    ("2021-12-31", "QE-DEC"),
    ("2019-01-01", "YS-JAN"),
    ("2021-08-06", "B"),
    ("2021-08-06", "D"),
    ("2021-08-08", "W-SUN"),
    ("2021-08-06 23:00", "h"),
    ("2021-08-06 23:30", "30min"),
]


@pytest.mark.parametrize(("last", "freq"), CASES)
def test_future_timestamps_follow_the_pandas_calendar(last, freq):
    expected = pd.date_range(last, periods=14, freq=freq)
    expected = expected[expected > pd.Timestamp(last)][:12]
    assert future_timestamps(datetime.fromisoformat(last), freq, 12) == [t.isoformat() for t in expected]


def test_an_unknown_frequency_gives_no_timestamps():
    assert future_timestamps(datetime(2021, 1, 1), "C", 3) is None
    assert future_timestamps(datetime(2021, 1, 1), None, 3) is None
