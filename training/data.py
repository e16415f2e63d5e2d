"""Series loading: the built-in CSVs and user CSVs go through the same checks.

A bad file stops training with a `DataError` that says what is wrong and where, before
any window is cut: missing or non-numeric values (unless a fill is asked for), unsorted
or duplicate timestamps, too few points for the split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV ({error})") from error
    if frame.shape[1] < 2:
        raise DataError(f"{path}: needs a time column and a value column, found {list(frame.columns)}")
    time_column = time_column or frame.columns[0]
    value_column = value_column or frame.columns[1]
    for column in (time_column, value_column):
        if column not in frame.columns:
            raise DataError(f"{path}: no column {column!r}; columns are {list(frame.columns)}")
    timestamps = _parse_timestamps(frame[time_column], path, time_column)
    values = _parse_values(frame[value_column], path, value_column, fill)
    inferred = pd.infer_freq(timestamps) if len(timestamps) >= 3 else None
    freq = freq or inferred
    if season_length is None:
        season_length = season_for_freq(freq)
    if season_length < 1:
        raise DataError(f"season length must be >= 1, got {season_length}")
    return SeriesData(name=name, values=values, timestamps=timestamps, freq=freq, season_length=season_length)


def _parse_timestamps(column: pd.Series, path: Path, name: str) -> pd.DatetimeIndex:
    if pd.api.types.is_numeric_dtype(column):
        # pandas would read numbers as nanoseconds since 1970; whole numbers here are years
        whole = column.dropna()
        if not (whole == whole.round()).all() or not whole.between(1, 9999).all():
            raise DataError(
                f"{path}: column {name!r} is numeric; give dates (e.g. 2024-01-31) or whole years (e.g. 1987)"
            )
        column = column.astype("Int64").astype(str).str.zfill(4)
        parsed = pd.to_datetime(column, format="%Y", errors="coerce")
    else:
        parsed = pd.to_datetime(column, errors="coerce")
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


def _parse_values(column: pd.Series, path: Path, name: str, fill: str | None) -> np.ndarray:
    numeric = pd.to_numeric(column, errors="coerce")
    non_numeric = np.flatnonzero(numeric.isna().to_numpy() & column.notna().to_numpy())
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
        if fill not in FILL_METHODS:
            raise DataError(f"fill must be one of {FILL_METHODS}, got {fill!r}")
        series = pd.Series(values)
        filled = series.ffill() if fill == "ffill" else series.interpolate(limit_direction="both")
        values = filled.bfill().to_numpy()
        if np.isnan(values).any():
            raise DataError(f"{path}: column {name!r} has no value to fill from")
    return values
