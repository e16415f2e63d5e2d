"""Series loading: the built-in CSVs and user CSVs go through the same checks.

A bad file stops training with a `DataError` that says what is wrong and where, before
any window is cut: missing or non-numeric values (unless a fill is asked for), unsorted
or duplicate timestamps, too few points for the split.

`load_csv` reads one series; `training.panel.load_panel_csv` reads a long file of many series (an id, a
time and a value column) and runs the same checks on every series, each error naming the
series id and the file's data row.
"""

from __future__ import annotations

import contextlib
import csv
import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from models.seasonality import detect_seasons
from training.series import (
    DataError,
    SeriesData,
    check_fill,
    data_rows,
    resolve_season_length,
    shown,
)
from training.timestamps import (
    counts_steps,
    fitting_freq,
    infer_freq,
    mostly_dates,
    numbers_steps,
    on_grid,
    parse_timestamps,
    unknown_freq,
)
from training.values import parse_values

log = logging.getLogger(__name__)


def load_csv(
    path: str | Path,
    name: str,
    time_column: str | None = None,
    value_column: str | None = None,
    freq: str | None = None,
    season_length: int | None = None,
    fill: str | None = None,
) -> SeriesData:
    """Read a CSV with a header; by default the first column is time (`time_and_value`) and the
    next the value."""
    path = Path(path)
    check_fill(fill)
    frame = read_frame(path)
    check_columns(frame, path, [column for column in (time_column, value_column) if column is not None])
    time_column, value_column = time_and_value(frame, list(frame.columns), time_column, value_column)
    if numbers_steps(frame[time_column]):
        return _step_series(frame, path, name, time_column, value_column, freq, season_length, fill)
    timestamps = parse_timestamps(frame[time_column], path, time_column)
    values = parse_values(frame[value_column], path, value_column, fill)
    inferred = infer_freq(timestamps)
    if inferred is None and len(timestamps) >= 3 and not pd.api.types.is_numeric_dtype(frame[time_column]):
        # 01/02/2020 is 1 February in most of the world: if reading the day first gives
        # evenly spaced timestamps, that was the file's convention (whether or not --freq is given)
        with contextlib.suppress(DataError):
            day_first = parse_timestamps(frame[time_column], path, time_column, dayfirst=True)
            if (day_first_freq := infer_freq(day_first)) is not None:
                timestamps, inferred = day_first, day_first_freq
    freq = freq or inferred
    if freq is None and len(timestamps) >= 3:
        freq = fitting_freq(timestamps, str(path), time_column)
    if freq is not None and len(timestamps) >= 3:
        rows = data_rows(frame[time_column])
        timestamps, values = on_grid(timestamps, values, freq, fill, str(path), time_column, rows)
    season_length = resolve_season_length(season_length, freq)
    return SeriesData(name=name, values=values, timestamps=timestamps, freq=freq, season_length=season_length)


def _step_series(
    frame: pd.DataFrame,
    path: Path,
    name: str,
    time_column: str,
    value_column: str,
    freq: str | None,
    season_length: int | None,
    fill: str | None,
) -> SeriesData:
    """A series whose time column numbers its steps: no dates (forecasts carry none), so no
    calendar to check; its season from `step_season`."""
    column = frame[time_column]
    values = parse_values(frame[value_column], path, value_column, fill)
    steps = (
        f"column {time_column!r} numbers the steps ({shown(column.iloc[0])}, {shown(column.iloc[1])}, ...)"
    )
    return SeriesData(name, values, None, None, step_season(name, steps, [values], freq, season_length))


def step_season(
    name: str, steps: str, values: list[np.ndarray], freq: str | None, season_length: int | None
) -> int:
    """The season of series whose time column numbers their steps (`steps` says which column):
    the one given, else the one `freq` names (what the steps are), else the one their values
    show most often (`models.seasonality`, as the base detects a history's). Logs that forecasts
    of them carry no timestamps."""
    if season_length is not None:
        source = "given"
    elif freq is not None:
        try:
            pd.tseries.frequencies.to_offset(freq)
        except ValueError as error:
            raise unknown_freq(freq, error) from error
        season_length, source = resolve_season_length(None, freq), f"the season of --freq {freq}"
    else:
        detected = Counter(detect_seasons(values))
        season_length = detected.most_common(1)[0][0]
        source = "detected from the values (--season sets it)"
    log.warning(
        "%s: %s instead of dating them: forecasts carry no timestamps; season %d %s",
        name,
        steps,
        season_length,
        source,
    )
    return resolve_season_length(season_length, None)


def time_and_value(
    frame: pd.DataFrame, columns: list[str], time_column: str | None, value_column: str | None
) -> tuple[str, str]:
    """The time and value columns: the given ones, the others from `columns` (in file order, at
    least as many as are missing): time is the first - or, when that one holds numbers, the first
    that holds dates (a value, date file; decimal years) - and the value the first other one that
    does not number the rows (R's exported row names: rownames, time, value)."""
    if time_column is None:
        first = columns[0]
        # the columns are read for dates only when the first holds numbers
        if pd.api.types.is_numeric_dtype(frame[first]):
            time_column = next((column for column in columns if mostly_dates(frame[column])), first)
        else:
            time_column = first
    if value_column is None:
        others = [column for column in columns if column != time_column]
        value_column = next((column for column in others if not counts_steps(frame[column])), others[0])
    return time_column, value_column


def read_frame(path: Path) -> pd.DataFrame:
    """The file as a frame of at least two columns, without blank rows; its index + 1 is the data row."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    encoding = _encoding(path)
    try:
        frame = pd.read_csv(path, encoding=encoding)
    except pd.errors.ParserError as error:
        # e.g. a ';' file whose decimal commas give some rows a second ',' field
        frame = _read_other_separator(path, encoding)
        if frame is None:
            raise DataError(f"{path}: not a readable CSV ({error})") from error
    except (pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV ({error})") from error
    if frame.shape[1] < 2 and (other := _read_other_separator(path, encoding)) is not None:
        frame = other
    if frame.shape[1] < 2:
        raise DataError(f"{path}: needs a time column and a value column, found {list(frame.columns)}")
    return frame.dropna(how="all")  # blank lines and trailing empty rows


def check_columns(frame: pd.DataFrame, path: Path, columns: list[str]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise DataError(f"{path}: no column {column!r}; columns are {list(frame.columns)}")


def _encoding(path: Path) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252, what spreadsheet programs
    in Western Europe save (an accented header such as 'ventes été'), else Latin-1 (any bytes)."""
    content = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def _read_other_separator(path: Path, encoding: str) -> pd.DataFrame | None:
    """A file that is not comma-separated may be a ';' (European, with decimal commas), tab
    or '|' one, named by its header line; None if it is none of them."""
    with path.open(newline="", encoding=encoding, errors="replace") as handle:
        header = handle.readline()
    try:
        separator = csv.Sniffer().sniff(header, delimiters=";\t|").delimiter
    except csv.Error:
        return None
    try:
        return pd.read_csv(path, sep=separator, decimal="," if separator == ";" else ".", encoding=encoding)
    except (pd.errors.ParserError, UnicodeDecodeError):
        return None
