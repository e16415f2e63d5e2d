"""Panel loading: a long CSV (an id, a time and a value column) of many series, each through
the single-series checks, each error naming the series id and the file's data row."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from training.data import check_columns, load_csv, read_frame, step_season, time_and_value
from training.series import DataError, SeriesData, check_fill, data_rows, resolve_season_length
from training.timestamps import (
    Calendar,
    checked_timestamps,
    fitting_freq,
    infer_freq,
    mostly_dates,
    numbers_steps,
    on_grid,
    parse_time_column,
)
from training.values import checked_values, parse_numbers


@dataclass
class PanelData:
    """The series of one long file, in the order their ids first appear; one calendar for all."""

    name: str
    ids: list[str]
    series: list[SeriesData]  # series[k].name == ids[k]
    freq: str | None
    season_length: int
    id_column: str | None  # None: the file holds one series, whose id is `name`
    time_column: str
    value_column: str

    def __len__(self) -> int:
        return len(self.series)


# A series of a panel needs at least this many points: the fewest whose steps can be
# checked against the calendar (training asks for more, depending on its windows).
MIN_PANEL_SERIES_LENGTH = 3


# Ids are recognised among the first distinct values of a column (a panel may hold millions of rows).
ID_SAMPLE = 1000


def load_panel_csv(
    path: str | Path,
    name: str,
    id_column: str | None = None,
    time_column: str | None = None,
    value_column: str | None = None,
    freq: str | None = None,
    season_length: int | None = None,
    fill: str | None = None,
    min_length: int = MIN_PANEL_SERIES_LENGTH,
) -> PanelData:
    """Read a long CSV (one row per series and timestamp) into one `SeriesData` per id.

    Columns not given are inferred: the id column is the one column that is not numeric, is not
    mostly timestamps and repeats its values; without one, a whole-number column that tells the
    series apart (`_whole_number_ids`); two candidates are refused, naming both. Of the other
    columns (passing over id-like ones when the id is named), the first is time - or, when it holds
    numbers, the first that holds dates - and the next the value. A file without an id column is
    one series, loaded by `load_csv` itself.

    Every series goes through `load_csv`'s checks (unparseable, unsorted or duplicate
    timestamps, non-numeric or missing values, steps off or missing from the calendar, `fill`)
    and must have `min_length` points and not be constant; each error names the series id and
    the file's data row (1-based, header excluded). Series may differ in length and start but
    share one frequency: `freq`, or the one inferred on the longest series.
    """
    path = Path(path)
    check_fill(fill)
    frame = read_frame(path)
    id_column, time_column, value_column = _panel_columns(frame, path, id_column, time_column, value_column)
    if id_column is None:
        series = load_csv(path, name, time_column, value_column, freq, season_length, fill)
        _check_panel_series(series, f"{path}: series {name!r}", min_length, rows=None)
        return PanelData(
            name, [name], [series], series.freq, series.season_length, None, time_column, value_column
        )
    ids = _series_ids(frame[id_column], path, id_column)
    labels, positions = _group_positions(ids)
    sources = [f"{path}: series {label!r}" for label in labels]
    times, raw_values = frame[time_column], frame[value_column]
    numbers, non_numeric = parse_numbers(raw_values, path, value_column)
    if all(numbers_steps(times.iloc[take]) for take in positions):
        # every series numbers its steps (1, 2, 3, ... each): no dates, no calendar
        values = [
            checked_values(
                numbers[take], non_numeric[take], raw_values.iloc[take], source, value_column, fill
            )
            for source, take in zip(sources, positions, strict=True)
        ]
        steps = f"column {time_column!r} numbers each series' steps"
        season_length = step_season(name, steps, values, freq, season_length)
        series = [
            SeriesData(label, one, None, None, season_length)
            for label, one in zip(labels, values, strict=True)
        ]
        for one, source, take in zip(series, sources, positions, strict=True):
            _check_panel_series(one, source, min_length, data_rows(times.iloc[take]))
        return PanelData(name, labels, series, None, season_length, id_column, time_column, value_column)
    parsed = parse_time_column(times, path, time_column)
    timestamps, values = [], []
    for source, take in zip(sources, positions, strict=True):
        timestamps.append(checked_timestamps(parsed.iloc[take], times.iloc[take], source, time_column))
        values.append(
            checked_values(
                numbers[take], non_numeric[take], raw_values.iloc[take], source, value_column, fill
            )
        )
    timestamps, freq = _file_calendar(timestamps, freq, times, path, time_column, sources, positions)
    season_length = resolve_season_length(season_length, freq)
    series = []
    calendar = (
        Calendar(freq, min(stamps[0] for stamps in timestamps), max(stamps[-1] for stamps in timestamps))
        if freq is not None
        else None
    )
    for label, source, take, stamps, series_values in zip(
        labels, sources, positions, timestamps, values, strict=True
    ):
        rows = data_rows(times.iloc[take])
        if calendar is not None:
            stamps, series_values = on_grid(
                stamps, series_values, calendar.freq, fill, source, time_column, rows, calendar
            )
        series.append(SeriesData(label, series_values, stamps, freq, season_length))
        _check_panel_series(series[-1], source, min_length, rows)
    return PanelData(name, labels, series, freq, season_length, id_column, time_column, value_column)


def find_id_column(
    path: str | Path,
    id_column: str | None = None,
    time_column: str | None = None,
    value_column: str | None = None,
) -> str | None:
    """The id column `load_panel_csv` would use for this file (None: the file is one series)."""
    path = Path(path)
    return _panel_columns(read_frame(path), path, id_column, time_column, value_column)[0]


def _file_calendar(
    timestamps: list[pd.DatetimeIndex],
    freq: str | None,
    times: pd.Series,
    path: Path,
    time_column: str,
    sources: list[str],
    positions: list[np.ndarray],
) -> tuple[list[pd.DatetimeIndex], str | None]:
    """One date convention and one frequency for the whole file, chosen on the longest series
    as `load_csv` chooses them: day-first dates when only they are evenly spaced; `freq`, else
    the inferred one, else the coarsest grid the timestamps fit."""
    longest = int(np.argmax([len(stamps) for stamps in timestamps]))
    inferred = infer_freq(timestamps[longest])
    if inferred is None and len(timestamps[longest]) >= 3 and not pd.api.types.is_numeric_dtype(times):
        with contextlib.suppress(DataError):
            day_first = parse_time_column(times, path, time_column, dayfirst=True)
            day_first_stamps = [
                checked_timestamps(day_first.iloc[take], times.iloc[take], source, time_column)
                for source, take in zip(sources, positions, strict=True)
            ]
            if (day_first_freq := infer_freq(day_first_stamps[longest])) is not None:
                timestamps, inferred = day_first_stamps, day_first_freq
    freq = freq or inferred
    if freq is None and len(timestamps[longest]) >= 3:
        freq = fitting_freq(timestamps[longest], f"{sources[longest]} (the longest)", time_column)
    return timestamps, freq


def _panel_columns(
    frame: pd.DataFrame, path: Path, id_column: str | None, time_column: str | None, value_column: str | None
) -> tuple[str | None, str, str]:
    """(id, time, value) columns: the given ones, the rest inferred as `load_panel_csv` says."""
    given = [column for column in (id_column, time_column, value_column) if column is not None]
    check_columns(frame, path, given)
    candidates = [
        column for column in frame.columns if column not in given and _looks_like_ids(frame[column])
    ]
    if id_column is None:
        candidates = candidates or _whole_number_ids(frame, given)
        if not candidates and (pairs := _step_numbered_ids(frame, given, time_column)):
            candidates = list(dict.fromkeys(pair[0] for pair in pairs))
            time_column = pairs[0][1] if len(pairs) == 1 else time_column
        if len(candidates) > 1:
            raise DataError(
                f"{path}: columns {candidates} could each be the series id; name it with --id-column"
            )
        id_column = candidates[0] if candidates else None
    # time and value come from the other columns, passing over id-like text (a region next to a store)
    named = (id_column, time_column, value_column)
    rest = [column for column in frame.columns if column not in named and column not in candidates]
    if len(rest) < (time_column is None) + (value_column is None):
        raise DataError(
            f"{path}: needs a time column and a value column besides the id column {id_column!r}, "
            f"found {list(frame.columns)}"
        )
    return id_column, *time_and_value(frame, rest, time_column, value_column)


def _whole_number_ids(frame: pd.DataFrame, given: list[str]) -> list[str]:
    """Whole-number columns that tell a file's series apart when no text column does (store 1,
    2, 3): the file's one date column (text) repeats its timestamps - it holds several series -,
    no timestamp repeats within one value of the column, and one timestamp holds every value.
    A single series' counts never qualify: its timestamps do not repeat."""
    free = [column for column in frame.columns if column not in given]
    dates = [column for column in free if mostly_dates(frame[column], ID_SAMPLE)]
    if len(dates) != 1 or not frame[dates[0]].duplicated().any():
        return []
    # the most series at one timestamp: an id column has exactly that many values (a count
    # column beside it has more), if some timestamp holds every series
    widest = int(frame[dates[0]].value_counts().max())
    return [
        column
        for column in free
        if pd.api.types.is_integer_dtype(frame[column])
        and frame[column].nunique() == widest
        and not frame.duplicated([column, dates[0]]).any()
    ]


# names that say a column is the time, when whole-number ids and step counts could swap roles
_TIME_NAMES = re.compile(
    r"^(t|time.*|.*_time|step|steps|period|index|ds|date|year|quarter|month|week|day|hour)$", re.I
)


def _step_numbered_ids(
    frame: pd.DataFrame, given: list[str], time_column: str | None
) -> list[tuple[str, str]]:
    """(id, steps) pairs of whole-number columns for a panel whose series each number their
    steps (store 1, 2, 3 next to t = 1, 2, ...; no dates to tell time apart): grouped by the id,
    the steps column counts by one within every series and repeats across them. In a balanced
    panel the two can swap roles (within one t the stores count 1, 2, 3 too): a time-like name
    (`_TIME_NAMES`) or a given --time-column settles it, else both are returned (and refused)."""
    free = [column for column in frame.columns if column not in given]
    integers = [column for column in free if pd.api.types.is_integer_dtype(frame[column])]
    steps = [time_column] if time_column is not None else integers
    pairs = [
        (series, step)
        for series in integers
        for step in steps
        if series != step
        and pd.api.types.is_integer_dtype(frame[step])
        and frame[step].duplicated().any()
        and frame[series].duplicated().any()
        and frame[series].nunique() > 1
        and bool((frame.groupby(series, sort=False)[step].diff().dropna() == 1).all())
    ]
    timed = [
        pair for pair in pairs if _TIME_NAMES.match(str(pair[1])) and not _TIME_NAMES.match(str(pair[0]))
    ]
    return timed if len(timed) == 1 else pairs


def _looks_like_ids(column: pd.Series) -> bool:
    """Text (not numbers, not mostly timestamps) whose values repeat: one label per series."""
    if pd.api.types.is_numeric_dtype(column) or not column.dropna().duplicated().any():
        return False
    return not mostly_dates(column, ID_SAMPLE)


def _series_ids(column: pd.Series, path: Path, name: str) -> pd.Series:
    missing = np.flatnonzero(column.isna().to_numpy())
    if len(missing):
        raise DataError(
            f"{path}: column {name!r} has {len(missing)} missing series ids "
            f"(first at data row {data_rows(column)[missing[0]]}); every row needs one"
        )
    return column.astype(str).str.strip()


def _group_positions(ids: pd.Series) -> tuple[list[str], list[np.ndarray]]:
    """Distinct ids in order of first appearance and the positions of each one's rows, in file order."""
    codes, labels = pd.factorize(ids)
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(labels)))[:-1]
    return [str(label) for label in labels], np.split(order, bounds)


def _check_panel_series(series: SeriesData, source: str, min_length: int, rows: np.ndarray | None) -> None:
    """The rules a panel adds per series (a single series meets them later, in training)."""
    where = "" if rows is None else f" (data rows {rows[0]} to {rows[-1]})"
    if len(series) < min_length:
        raise DataError(
            f"{source} has {len(series)} points{where}; at least {min_length} are needed: "
            "give it more history or remove it from the file"
        )
    if np.ptp(series.values) == 0:
        raise DataError(
            f"{source} is constant ({series.values[0]:g}){where}: there is nothing to learn from it; "
            "remove it from the file"
        )
