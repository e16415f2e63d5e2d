"""Series loading: the built-in CSVs and user CSVs go through the same checks.

A bad file stops training with a `DataError` that says what is wrong and where, before
any window is cut: missing or non-numeric values (unless a fill is asked for), unsorted
or duplicate timestamps, too few points for the split.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

FILL_METHODS = ("ffill", "interpolate")
# Season length for the usual pandas frequency aliases (prefix match on the alias).
SEASON_BY_FREQ = {
    "30min": 48,
    "30T": 48,
    "15min": 96,
    "min": 60,
    "T": 60,
    "h": 24,
    "H": 24,
    "B": 5,
    "D": 7,
    "W": 52,
    "MS": 12,
    "ME": 12,
    "M": 12,
    "QS": 4,
    "QE": 4,
    "Q": 4,
    "YS": 1,
    "YE": 1,
    "Y": 1,
    "A": 1,
}


class DataError(ValueError):
    """A series that cannot be trained on; the message says why and how to fix it."""


@dataclass
class SeriesData:
    name: str
    values: np.ndarray  # float64, oldest first
    timestamps: pd.DatetimeIndex
    freq: str | None
    season_length: int

    def __len__(self) -> int:
        return len(self.values)


def season_for_freq(freq: str | None) -> int:
    if not freq:
        return 1
    for alias in sorted(SEASON_BY_FREQ, key=len, reverse=True):
        if freq == alias or freq.startswith(alias + "-") or freq == "1" + alias:
            return SEASON_BY_FREQ[alias]
    base = freq.lstrip("0123456789")
    if base in ("min", "T"):
        minutes = int(freq[: len(freq) - len(base)] or 1)
        return max(1, 24 * 60 // minutes) if 24 * 60 % minutes == 0 else 1
    if base in ("h", "H"):
        hours = int(freq[: len(freq) - len(base)] or 1)
        return 24 // hours if 24 % hours == 0 else 1
    return 1


def load_csv(
    path: str | Path,
    name: str,
    time_column: str | None = None,
    value_column: str | None = None,
    freq: str | None = None,
    season_length: int | None = None,
    fill: str | None = None,
) -> SeriesData:
    """Read a CSV with a header; by default the first column is time and the second the value."""
    path = Path(path)
    if fill is not None and fill not in FILL_METHODS:
        raise DataError(f"fill must be one of {FILL_METHODS}, got {fill!r}")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path)
    except pd.errors.ParserError as error:
        # e.g. a ';' file whose decimal commas give some rows a second ',' field
        frame = _read_other_separator(path)
        if frame is None:
            raise DataError(f"{path}: not a readable CSV ({error})") from error
    except (pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV ({error})") from error
    if frame.shape[1] < 2 and (other := _read_other_separator(path)) is not None:
        frame = other
    if frame.shape[1] < 2:
        raise DataError(f"{path}: needs a time column and a value column, found {list(frame.columns)}")
    frame = frame.dropna(how="all")  # blank lines and trailing empty rows
    time_column = time_column or frame.columns[0]
    value_column = value_column or frame.columns[1]
    for column in (time_column, value_column):
        if column not in frame.columns:
            raise DataError(f"{path}: no column {column!r}; columns are {list(frame.columns)}")
    timestamps = _parse_timestamps(frame[time_column], path, time_column)
    values = _parse_values(frame[value_column], path, value_column, fill)
    inferred = _infer_freq(timestamps)
    if inferred is None and len(timestamps) >= 3 and not pd.api.types.is_numeric_dtype(frame[time_column]):
        # 01/02/2020 is 1 February in most of the world: if reading the day first gives
        # evenly spaced timestamps, that was the file's convention (whether or not --freq is given)
        with contextlib.suppress(DataError):
            day_first = _parse_timestamps(frame[time_column], path, time_column, dayfirst=True)
            if (day_first_freq := _infer_freq(day_first)) is not None:
                timestamps, inferred = day_first, day_first_freq
    freq = freq or inferred
    if freq is None and len(timestamps) >= 3:
        freq = _grid_freq(timestamps)
        if freq is None:
            raise DataError(
                f"{path}: the timestamps in {time_column!r} are not evenly spaced and no frequency fits them; "
                "pass --freq (e.g. D, B, W, MS, QS, h) to name it, and --fill to fill the gaps"
            )
    if freq is not None and len(timestamps) >= 3:
        timestamps, values = _on_grid(timestamps, values, freq, fill, path, time_column)
    if season_length is None:
        season_length = season_for_freq(freq)
    if season_length < 1:
        raise DataError(f"season length must be >= 1, got {season_length}")
    return SeriesData(name=name, values=values, timestamps=timestamps, freq=freq, season_length=season_length)


# Calendars whose gaps are usually closures (holidays, weekends of a daily series), not
# missing data: their rows are taken as consecutive steps, with a warning.
CLOSED_DAY_FREQS = ("B", "C", "D")


def _read_other_separator(path: Path) -> pd.DataFrame | None:
    """A file that is not comma-separated may be a ';' (European, with decimal commas), tab
    or '|' one, named by its header line; None if it is none of them."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    try:
        separator = csv.Sniffer().sniff(header, delimiters=";\t|").delimiter
    except csv.Error:
        return None
    try:
        return pd.read_csv(path, sep=separator, decimal="," if separator == ";" else ".")
    except (pd.errors.ParserError, UnicodeDecodeError):
        return None


# pandas names a quarterly-start calendar by its anchor in the year's last quarter (QS-OCT for
# quarters starting in January, April, July and October); the same calendar, as people write it
_QUARTER_START = re.compile(r"(\d*B?QS)-(OCT|NOV|DEC)")
_FIRST_QUARTER_MONTH = {"OCT": "JAN", "NOV": "FEB", "DEC": "MAR"}


def _infer_freq(timestamps: pd.DatetimeIndex) -> str | None:
    freq = pd.infer_freq(timestamps) if len(timestamps) >= 3 else None
    if freq and (quarterly := _QUARTER_START.fullmatch(freq)):
        return f"{quarterly[1]}-{_FIRST_QUARTER_MONTH[quarterly[2]]}"
    return freq


def _grid_freq(timestamps: pd.DatetimeIndex) -> str | None:
    """The frequency of a calendar the timestamps lie on with some steps missing: the one
    pandas infers from the longest evenly spaced run, if every timestamp falls on it."""
    steps = np.diff(timestamps.asi8)
    breaks = np.flatnonzero(steps != np.median(steps))
    edges = np.concatenate([[-1], breaks, [len(steps)]])
    longest = int(np.argmax(np.diff(edges)))
    start, stop = edges[longest] + 1, edges[longest + 1] + 1
    if stop - start < 3:
        return None
    candidates = {_infer_freq(timestamps[start:stop])} - {None}
    if timestamps.dayofweek.max() < 5:
        candidates.add("B")  # weekdays only: a run of five days is a business-day calendar
    fitting = [
        (len(grid), freq)
        for freq in candidates
        if timestamps.isin(grid := pd.date_range(timestamps[0], timestamps[-1], freq=freq)).all()
    ]
    return min(fitting)[1] if fitting else None


def _on_grid(
    timestamps: pd.DatetimeIndex, values: np.ndarray, freq: str, fill: str | None, path: Path, name: str
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Check the timestamps against the calendar of `freq`; fill missing steps when asked."""
    try:
        grid = pd.date_range(timestamps[0], timestamps[-1], freq=freq)
    except ValueError as error:
        raise DataError(f"--freq {freq!r} is not a pandas frequency ({error})") from error
    on_grid = timestamps.isin(grid)
    if not on_grid.all():
        off = timestamps[~on_grid][0]
        raise DataError(f"{path}: timestamp {off} in {name!r} is not on the {freq!r} calendar; check --freq")
    missing = grid.difference(timestamps)
    if len(missing) == 0:
        return timestamps, values
    if fill is not None:
        series = pd.Series(values, index=timestamps).reindex(grid)
        filled = series.ffill() if fill == "ffill" else series.interpolate(limit_direction="both")
        log.warning("%s: filled %d missing %s steps (%s)", path, len(missing), freq, fill)
        return grid, filled.to_numpy()
    base = freq.lstrip("0123456789").split("-")[0]
    if base in CLOSED_DAY_FREQS:
        log.warning(
            "%s: %d dates of the %s calendar are absent (first %s), taken as closures: rows are used as "
            "consecutive steps; pass --fill ffill to insert them instead",
            path,
            len(missing),
            freq,
            missing[0].date(),
        )
        return timestamps, values
    raise DataError(
        f"{path}: {len(missing)} {freq!r} steps are missing from {name!r} (first: {missing[0]}); "
        f"add the rows or pass --fill {'|'.join(FILL_METHODS)} to fill them"
    )


def _to_datetime(column: pd.Series, dayfirst: bool) -> pd.Series:
    with warnings.catch_warnings():
        # "could not infer format" and mixed-offset notices: a per-element parse is what a
        # free-form CSV needs, and mixed offsets are handled below
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        parsed = pd.to_datetime(column, errors="coerce", dayfirst=dayfirst)
    if parsed.dtype == object:
        # mixed UTC offsets (a daylight-saving change): one time line, in UTC
        parsed = pd.to_datetime(column, errors="coerce", dayfirst=dayfirst, utc=True)
    return parsed


def _parse_timestamps(column: pd.Series, path: Path, name: str, dayfirst: bool = False) -> pd.DatetimeIndex:
    if pd.api.types.is_numeric_dtype(column):
        # pandas would read numbers as nanoseconds since 1970; whole numbers here are years
        whole = column.dropna()
        if not (whole == whole.round()).all() or not whole.between(1, 9999).all():
            raise DataError(
                f"{path}: column {name!r} is numeric; give dates (e.g. 2024-01-31) or whole years (e.g. 1987), "
                "or name the columns with --time-column and --value-column"
            )
        column = column.astype("Int64").astype(str).str.zfill(4)
        parsed = pd.to_datetime(column, format="%Y", errors="coerce")
    else:
        parsed = _to_datetime(column, dayfirst)
        if not dayfirst and parsed.isna().any():
            day_first = _to_datetime(column, True)
            if not day_first.isna().any():
                parsed = day_first  # 13/01/2021: the day comes first
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        raise DataError(
            f"{path}: column {name!r} has {len(bad)} missing or unparseable timestamps "
            f"(first at data row {bad[0] + 1}: {column.iloc[bad[0]]!r})"
        )
    index = pd.DatetimeIndex(parsed)
    duplicated = np.flatnonzero(index.duplicated())
    if len(duplicated):
        raise DataError(
            f"{path}: column {name!r} has {len(duplicated)} duplicate timestamps "
            f"(first: {index[duplicated[0]]} at data row {duplicated[0] + 1}); keep one row per timestamp"
        )
    if not index.is_monotonic_increasing:
        position = int(np.flatnonzero(np.diff(index.asi8) < 0)[0]) + 1
        raise DataError(
            f"{path}: column {name!r} is not sorted oldest first "
            f"(data row {position + 1}: {index[position]} comes after {index[position - 1]}); sort the file"
        )
    return index


# Digit grouping in exported spreadsheets: 5,048.5 / 5.048,5 / 5 048,5 / 5'048.5. A column is
# read with one convention only when every one of its values fits it (plain numbers included).
GROUPED_NUMBERS = (
    (re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"), ",", "."),
    (re.compile(r"[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?"), ".", ","),
    (re.compile(r"[-+]?(\d{1,3}([ \u00a0\u202f']\d{3})+|\d+)([.,]\d+)?"), " \u00a0\u202f'", ","),
)


def _ungrouped(texts: pd.Series) -> pd.Series | None:
    """A column of numbers written with thousands separators -> floats; None if its values
    do not all follow one convention."""
    for pattern, separators, decimal in GROUPED_NUMBERS:
        if texts.str.fullmatch(pattern).all():
            plain = texts
            for separator in separators:
                plain = plain.str.replace(separator, "", regex=False)
            return pd.to_numeric(plain.str.replace(decimal, ".", regex=False), errors="coerce")
    return None


def _parse_values(column: pd.Series, path: Path, name: str, fill: str | None) -> np.ndarray:
    numeric = pd.to_numeric(column, errors="coerce")
    present = column.notna().to_numpy()
    non_numeric = np.flatnonzero(numeric.isna().to_numpy() & present)
    grouped = _ungrouped(column[present].astype(str).str.strip()) if len(non_numeric) else None
    if grouped is not None:
        first = non_numeric[0]
        log.warning(
            "%s: column %r: read with thousands separators (e.g. %r as %s)",
            path, name, column.iloc[first], grouped.iloc[int(np.count_nonzero(present[:first]))],
        )  # fmt: skip
        numeric = numeric.copy()
        numeric[present] = grouped.to_numpy()
        non_numeric = non_numeric[:0]
    if len(non_numeric):
        raise DataError(
            f"{path}: column {name!r} has {len(non_numeric)} non-numeric values "
            f"(first at data row {non_numeric[0] + 1}: {column.iloc[non_numeric[0]]!r})"
        )
    values = numeric.to_numpy(dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    missing = np.flatnonzero(np.isnan(values))
    if len(missing):
        if fill is None:
            raise DataError(
                f"{path}: column {name!r} has {len(missing)} missing or non-finite values "
                f"(first at data row {missing[0] + 1}); clean the file or pass --fill {'|'.join(FILL_METHODS)}"
            )
        series = pd.Series(values)
        filled = series.ffill() if fill == "ffill" else series.interpolate(limit_direction="both")
        values = filled.bfill().to_numpy()
        if np.isnan(values).any():
            raise DataError(f"{path}: column {name!r} has no value to fill from")
    return values
