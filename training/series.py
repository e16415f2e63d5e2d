"""The data model of loading: a series, its errors, and the season of a frequency."""

from __future__ import annotations

from dataclasses import dataclass

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
    # None: the file numbers its steps (1, 2, 3, ...) instead of dating them; forecasts carry no dates
    timestamps: pd.DatetimeIndex | None
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


def check_fill(fill: str | None) -> None:
    if fill is not None and fill not in FILL_METHODS:
        raise DataError(f"fill must be one of {FILL_METHODS}, got {fill!r}")


def shown(value: object) -> str:
    """A file's cell as an error message quotes it: text in quotes, a number as written (not np.int64(1))."""
    return (
        repr(value)
        if isinstance(value, str)
        else str(value.item() if isinstance(value, np.generic) else value)
    )


def data_rows(column: pd.Series) -> np.ndarray:
    """The file's data row (1-based, header excluded) of each entry of a column or of a slice of it."""
    return column.index.to_numpy() + 1


def resolve_season_length(season_length: int | None, freq: str | None) -> int:
    season_length = season_for_freq(freq) if season_length is None else season_length
    if season_length < 1:
        raise DataError(f"season length must be >= 1, got {season_length}")
    return season_length
