"""Panel CSVs (training.data.load_panel_csv): many series in one long file, each one checked by
the single-series rules, every error naming the series id and the file's data row."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from training.data import DataError, load_csv
from training.panel import load_panel_csv

# id -> (first month, points): different lengths and starts, monthly
SERIES = {"store_a": ("2000-01-01", 48), "store_b": ("2002-07-01", 30), "store_c": ("1999-03-01", 60)}


def panel_frame(series: dict[str, tuple[str, int]] = SERIES, freq: str = "MS") -> pd.DataFrame:
    """A long (id, time, value) frame, rows ordered by time then id as exports usually are."""
    rng = np.random.default_rng(0)
    parts = [
        pd.DataFrame(
            {
                "id": name,
                "time": pd.date_range(start, periods=length, freq=freq),
                "value": 100.0 + rng.normal(size=length).cumsum(),
            }
        )
        for name, (start, length) in series.items()
    ]
    return pd.concat(parts).sort_values(["time", "id"], kind="stable").reset_index(drop=True)


def row_of(frame: pd.DataFrame, series_id: str, k: int) -> int:
    """Frame position of the k-th row of a series (its data row in the written file is this + 1)."""
    return int(np.flatnonzero(frame["id"].to_numpy() == series_id)[k])


def test_mixed_lengths_and_starts_load(write_csv):
    frame = panel_frame()
    panel = load_panel_csv(write_csv(frame), "stores")
    assert panel.ids == ["store_c", "store_a", "store_b"]  # order of first appearance
    assert (panel.id_column, panel.time_column, panel.value_column) == ("id", "time", "value")
    assert panel.freq == "MS" and panel.season_length == 12 and len(panel) == 3
    for series_id, series in zip(panel.ids, panel.series, strict=True):
        start, length = SERIES[series_id]
        expected = frame[frame["id"] == series_id]
        assert series.name == series_id and len(series) == length
        assert series.timestamps[0] == pd.Timestamp(start)
        np.testing.assert_allclose(series.values, expected["value"].to_numpy(), rtol=1e-12)
        assert series.freq == "MS" and series.season_length == 12


def test_single_series_file_is_one_series_equal_to_load_csv(make_series, make_frame, write_csv):
    path = write_csv(make_frame(make_series(60)))
    panel = load_panel_csv(path, "passengers")
    single = load_csv(path, "passengers")
    assert panel.ids == ["passengers"] and panel.id_column is None
    (series,) = panel.series
    np.testing.assert_array_equal(series.values, single.values)
    assert series.timestamps.equals(single.timestamps)
    assert (series.name, series.freq, series.season_length) == (
        single.name,
        single.freq,
        single.season_length,
    )


@pytest.mark.parametrize(
    ("columns", "order", "expected"),
    [
        (("unique_id", "ds", "y"), ["unique_id", "ds", "y"], ("unique_id", "ds", "y")),
        (("store", "date", "sales"), ["date", "store", "sales"], ("store", "date", "sales")),
        (("store", "date", "sales"), ["store", "sales", "date"], ("store", "date", "sales")),
    ],
    ids=["id-first", "id-second", "value-before-time"],
)
def test_columns_are_inferred(columns, order, expected, write_csv):
    frame = panel_frame().set_axis(list(columns), axis=1)[order]
    frame["promo"] = np.arange(len(frame)) % 2  # a numeric extra column is never the id
    panel = load_panel_csv(write_csv(frame), "stores")
    assert (panel.id_column, panel.time_column, panel.value_column) == expected
    assert sorted(panel.ids) == sorted(SERIES)


def test_two_id_like_columns_are_refused_naming_both(write_csv):
    frame = panel_frame().assign(region=lambda f: f["id"].map({"store_a": "north"}).fillna("south"))
    path = write_csv(frame[["region", "id", "time", "value"]])
    with pytest.raises(DataError, match=r"\['region', 'id'\] could each be the series id.*--id-column"):
        load_panel_csv(path, "stores")
    assert load_panel_csv(path, "stores", id_column="id").ids == ["store_c", "store_a", "store_b"]


def test_given_columns_win_and_numeric_ids_can_be_named(write_csv):
    frame = panel_frame()
    frame["id"] = frame["id"].map({"store_a": 1, "store_b": 2, "store_c": 3})
    frame["other"] = 0.0
    path = write_csv(frame[["other", "value", "time", "id"]])
    panel = load_panel_csv(path, "stores", id_column="id", time_column="time", value_column="value")
    assert panel.ids == ["3", "1", "2"]
    assert len(panel.series[1]) == SERIES["store_a"][1]


def test_whole_number_ids_are_inferred_when_the_dates_repeat(write_csv):
    """store 1, 2, 3 (Rossmann-style exports): no text column, the dates repeat across stores and
    never within one; an integer count column beside them is not taken for an id."""
    frame = panel_frame()
    frame["id"] = frame["id"].map({"store_a": 1, "store_b": 2, "store_c": 3})
    frame["time"] = frame["time"].dt.strftime("%Y-%m")
    frame["customers"] = np.arange(len(frame)) % 7
    panel = load_panel_csv(write_csv(frame[["id", "time", "value", "customers"]]), "stores")
    assert (panel.id_column, panel.time_column, panel.value_column) == ("id", "time", "value")
    assert panel.ids == ["3", "1", "2"] and len(panel.series[1]) == SERIES["store_a"][1]


def step_numbered_stores(columns: tuple[str, str]) -> pd.DataFrame:
    """Stores 1, 2, 3 of different lengths, each numbering its steps 1, 2, ..., in time order."""
    store, step = columns
    rng = np.random.default_rng(0)
    parts = [
        pd.DataFrame(
            {store: number, step: np.arange(1, length + 1), "sales": rng.normal(size=length).cumsum()}
        )
        for number, length in ((1, 40), (2, 40), (3, 40))
    ]
    return pd.concat(parts).sort_values([step, store], kind="stable").reset_index(drop=True)


def test_whole_number_ids_of_step_numbered_series_are_inferred_by_the_time_name(write_csv):
    """No dates tell time apart: store and step both count by one within each other's groups in a
    balanced panel. A time-like name says which is the time; otherwise the file is refused
    asking for --id-column (not read as one series whose 'time' is the store number), and
    --time-column settles it too."""
    panel = load_panel_csv(write_csv(step_numbered_stores(("store", "t"))), "stores")
    assert (panel.id_column, panel.time_column, panel.value_column) == ("store", "t", "sales")
    assert panel.ids == ["1", "2", "3"] and panel.freq is None and len(panel.series[2]) == 40
    assert panel.series[0].timestamps is None
    ambiguous = write_csv(step_numbered_stores(("a", "b")))
    with pytest.raises(DataError, match=r"columns \['a', 'b'\] could each be the series id.*--id-column"):
        load_panel_csv(ambiguous, "stores")
    assert load_panel_csv(ambiguous, "stores", time_column="b").id_column == "a"
    assert load_panel_csv(ambiguous, "stores", id_column="a").time_column == "b"


def test_a_single_series_of_whole_numbers_is_not_a_panel(write_csv):
    counts = pd.DataFrame(
        {"units": np.arange(60) % 5, "day": pd.date_range("2022-01-01", periods=60).strftime("%Y-%m-%d")}
    )
    panel = load_panel_csv(write_csv(counts[["day", "units"]]), "units")
    assert panel.id_column is None and panel.ids == ["units"] and len(panel.series[0]) == 60


def test_a_panel_without_time_and_value_besides_the_id_is_refused(write_csv):
    with pytest.raises(DataError, match="needs a time column and a value column"):
        load_panel_csv(write_csv("id,time\na,2020-01-01\na,2020-02-01\n"), "x")


# --- every single-series rule, per series: the message names the id and the data row ---------


# Each takes the panel frame and returns (the bad frame, the position of the row the message
# must name, fragments the message must contain); the file's data row is the position + 1.


def _missing_value(frame):
    position = row_of(frame, "store_b", 5)
    frame.loc[position, "value"] = None
    return frame, position, ["missing", "--fill"]


def _non_numeric_value(frame):
    frame = frame.astype({"value": object})
    position = row_of(frame, "store_b", 3)
    frame.loc[position, "value"] = "abc"
    return frame, position, ["non-numeric", "'abc'"]


def _unparseable_timestamp(frame):
    frame = frame.astype({"time": object})
    position = row_of(frame, "store_b", 7)
    frame.loc[position, "time"] = "not-a-date"
    return frame, position, ["unparseable", "'not-a-date'"]


def _duplicate_timestamp(frame):
    position = row_of(frame, "store_b", 4)
    frame.loc[position, "time"] = frame.loc[row_of(frame, "store_b", 3), "time"]
    return frame, position, ["duplicate"]


def _unsorted_timestamps(frame):
    first, second = row_of(frame, "store_b", 3), row_of(frame, "store_b", 4)
    frame.loc[[first, second], "time"] = frame.loc[[second, first], "time"].to_numpy()
    return frame, second, ["not sorted"]


def _off_calendar(frame):
    position = row_of(frame, "store_b", 6)
    frame.loc[position, "time"] += pd.Timedelta(days=14)
    return frame, position, ["not on the 'MS' calendar"]


def _missing_steps(frame):
    frame = frame.drop(index=row_of(frame, "store_b", 10)).reset_index(drop=True)
    return frame, row_of(frame, "store_b", 9), ["1 'MS' steps are missing", "after", "--fill"]


def _constant(frame):
    frame.loc[frame["id"] == "store_b", "value"] = 7.0
    return frame, row_of(frame, "store_b", 0), ["constant", "remove it"]


def _too_short(frame):
    frame = frame.drop(index=np.flatnonzero(frame["id"] == "store_b")[2:]).reset_index(drop=True)
    return frame, row_of(frame, "store_b", 0), ["has 2 points", "at least 3"]


BAD_SERIES = {
    "missing value": _missing_value,
    "non-numeric value": _non_numeric_value,
    "unparseable timestamp": _unparseable_timestamp,
    "duplicate timestamp": _duplicate_timestamp,
    "unsorted timestamps": _unsorted_timestamps,
    "timestamp off the calendar": _off_calendar,
    "missing steps": _missing_steps,
    "constant series": _constant,
    "too short series": _too_short,
}


@pytest.mark.parametrize("case", list(BAD_SERIES))
def test_a_bad_series_is_named_by_id_and_row(case, write_csv):
    frame, position, fragments = BAD_SERIES[case](panel_frame())
    path = write_csv(frame)
    with pytest.raises(DataError) as error:
        load_panel_csv(path, "stores")
    message = str(error.value)
    assert f"{path}: series 'store_b'" in message, message
    assert re.search(rf"rows? {position + 1}\b", message), message
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"


def test_missing_ids_are_named_by_row(write_csv):
    frame = panel_frame()
    frame.loc[9, "id"] = None
    with pytest.raises(DataError, match="column 'id' has 1 missing series ids \\(first at data row 10\\)"):
        load_panel_csv(write_csv(frame), "stores", id_column="id")


def test_fill_stays_within_each_series(write_csv):
    """A missing first value of one series is filled from that series, not from its neighbour rows."""
    frame = panel_frame()
    first_b = row_of(frame, "store_b", 0)
    frame.loc[first_b, "value"] = None
    frame.loc[row_of(frame, "store_b", 5), "value"] = None
    panel = load_panel_csv(write_csv(frame), "stores", fill="ffill")
    store_b = panel.series[panel.ids.index("store_b")]
    values = frame.loc[frame["id"] == "store_b", "value"].to_numpy()
    assert store_b.values[0] == pytest.approx(values[1]) and store_b.values[5] == pytest.approx(values[4])
    assert np.isfinite(store_b.values).all() and len(store_b) == SERIES["store_b"][1]


def test_missing_steps_are_filled_per_series_when_asked(write_csv):
    frame, _, _ = _missing_steps(panel_frame())
    panel = load_panel_csv(write_csv(frame), "stores", fill="interpolate")
    store_b = panel.series[panel.ids.index("store_b")]
    assert len(store_b) == SERIES["store_b"][1]
    assert store_b.timestamps.equals(pd.date_range("2002-07-01", periods=SERIES["store_b"][1], freq="MS"))


def test_the_frequency_comes_from_the_longest_series_or_is_given(write_csv):
    """A short series whose few steps look weekly-then-monthly cannot set the calendar; given, it wins."""
    frame = panel_frame({"long": ("2000-01-01", 40), "short": ("2001-01-01", 3)})
    path = write_csv(frame)
    assert load_panel_csv(path, "p").freq == "MS"
    with pytest.raises(DataError, match=r"series 'long'.*not on the 'W-SUN' calendar"):
        load_panel_csv(path, "p", freq="W-SUN")
    assert load_panel_csv(path, "p", season_length=6).season_length == 6


def test_day_first_dates_are_read_for_the_whole_file(write_csv):
    frame = panel_frame()
    frame["time"] = frame["time"].dt.strftime("%d/%m/%Y")
    panel = load_panel_csv(write_csv(frame), "stores")
    assert panel.freq == "MS"
    assert panel.series[panel.ids.index("store_b")].timestamps[0] == pd.Timestamp("2002-07-01")
