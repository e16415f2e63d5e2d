"""Series loading: the built-in CSVs and user CSVs go through the same checks.

A bad file stops training with a `DataError` that says what is wrong and where, before
any window is cut: missing or non-numeric values (unless a fill is asked for), unsorted
or duplicate timestamps, too few points for the split.

`load_csv` reads one series; `load_panel_csv` reads a long file of many series (an id, a
time and a value column) and runs the same checks on every series, each error naming the
series id and the file's data row.
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
    _check_fill(fill)
    frame = _read_frame(path)
    time_column = time_column or frame.columns[0]
    value_column = value_column or frame.columns[1]
    _check_columns(frame, path, [time_column, value_column])
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
        freq = _fitting_freq(timestamps, str(path), time_column)
    if freq is not None and len(timestamps) >= 3:
        rows = _data_rows(frame[time_column])
        timestamps, values = _on_grid(timestamps, values, freq, fill, str(path), time_column, rows)
    season_length = _season_length(season_length, freq)
    return SeriesData(name=name, values=values, timestamps=timestamps, freq=freq, season_length=season_length)


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
    mostly timestamps and repeats its values (a numeric id must be named); two such columns are
    refused, naming both. Of the other columns (passing over id-like ones when the id is named),
    the first is time and the next the value, as in `load_csv`. A file without an id column is
    one series, loaded by `load_csv` itself.

    Every series goes through `load_csv`'s checks (unparseable, unsorted or duplicate
    timestamps, non-numeric or missing values, steps off or missing from the calendar, `fill`)
    and must have `min_length` points and not be constant; each error names the series id and
    the file's data row (1-based, header excluded). Series may differ in length and start but
    share one frequency: `freq`, or the one inferred on the longest series.
    """
    path = Path(path)
    _check_fill(fill)
    frame = _read_frame(path)
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
    parsed = _parse_time_column(times, path, time_column)
    numbers, non_numeric = _numbers(raw_values, path, value_column)
    timestamps, values = [], []
    for source, take in zip(sources, positions, strict=True):
        timestamps.append(_checked_timestamps(parsed.iloc[take], times.iloc[take], source, time_column))
        values.append(
            _checked_values(
                numbers[take], non_numeric[take], raw_values.iloc[take], source, value_column, fill
            )
        )
    longest = int(np.argmax([len(stamps) for stamps in timestamps]))
    inferred = _infer_freq(timestamps[longest])
    if inferred is None and len(timestamps[longest]) >= 3 and not pd.api.types.is_numeric_dtype(times):
        # one date convention for the whole file, chosen on the longest series as in `load_csv`
        with contextlib.suppress(DataError):
            day_first = _parse_time_column(times, path, time_column, dayfirst=True)
            day_first_stamps = [
                _checked_timestamps(day_first.iloc[take], times.iloc[take], source, time_column)
                for source, take in zip(sources, positions, strict=True)
            ]
            if (day_first_freq := _infer_freq(day_first_stamps[longest])) is not None:
                timestamps, inferred = day_first_stamps, day_first_freq
    freq = freq or inferred
    if freq is None and len(timestamps[longest]) >= 3:
        freq = _fitting_freq(timestamps[longest], f"{sources[longest]} (the longest)", time_column)
    season_length = _season_length(season_length, freq)
    series = []
    for label, source, take, stamps, series_values in zip(
        labels, sources, positions, timestamps, values, strict=True
    ):
        rows = _data_rows(times.iloc[take])
        if freq is not None:
            stamps, series_values = _on_grid(stamps, series_values, freq, fill, source, time_column, rows)
        series.append(SeriesData(label, series_values, stamps, freq, season_length))
        _check_panel_series(series[-1], source, min_length, rows)
    return PanelData(name, labels, series, freq, season_length, id_column, time_column, value_column)


def _check_fill(fill: str | None) -> None:
    if fill is not None and fill not in FILL_METHODS:
        raise DataError(f"fill must be one of {FILL_METHODS}, got {fill!r}")


def _read_frame(path: Path) -> pd.DataFrame:
    """The file as a frame of at least two columns, without blank rows; its index + 1 is the data row."""
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
    return frame.dropna(how="all")  # blank lines and trailing empty rows


def _check_columns(frame: pd.DataFrame, path: Path, columns: list[str]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise DataError(f"{path}: no column {column!r}; columns are {list(frame.columns)}")


def _data_rows(column: pd.Series) -> np.ndarray:
    """The file's data row (1-based, header excluded) of each entry of a column or of a slice of it."""
    return column.index.to_numpy() + 1


def _season_length(season_length: int | None, freq: str | None) -> int:
    season_length = season_for_freq(freq) if season_length is None else season_length
    if season_length < 1:
        raise DataError(f"season length must be >= 1, got {season_length}")
    return season_length


def _fitting_freq(timestamps: pd.DatetimeIndex, source: str, time_column: str) -> str:
    freq = _grid_freq(timestamps)
    if freq is None:
        raise DataError(
            f"{source}: the timestamps in {time_column!r} are not evenly spaced and no frequency fits them; "
            "pass --freq (e.g. D, B, W, MS, QS, h) to name it, and --fill to fill the gaps"
        )
    return freq


def _panel_columns(
    frame: pd.DataFrame, path: Path, id_column: str | None, time_column: str | None, value_column: str | None
) -> tuple[str | None, str, str]:
    """(id, time, value) columns: the given ones, the rest inferred as `load_panel_csv` says."""
    given = [column for column in (id_column, time_column, value_column) if column is not None]
    _check_columns(frame, path, given)
    candidates = [
        column for column in frame.columns if column not in given and _looks_like_ids(frame[column])
    ]
    if id_column is None:
        if len(candidates) > 1:
            raise DataError(
                f"{path}: columns {candidates} could each be the series id (text that repeats); "
                "name it with --id-column"
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
    time_column = time_column or rest.pop(0)
    value_column = value_column or rest.pop(0)
    return id_column, time_column, value_column


def _looks_like_ids(column: pd.Series) -> bool:
    """Text (not numbers, not mostly timestamps) whose values repeat: one label per series."""
    present = column.dropna()
    if pd.api.types.is_numeric_dtype(column) or not present.duplicated().any():
        return False
    sample = pd.Series(present.unique()[:ID_SAMPLE]).astype(str)
    # half, not all: a time column with a few broken timestamps is still a time column
    return _to_datetime(sample, dayfirst=False).notna().mean() < 0.5


def _series_ids(column: pd.Series, path: Path, name: str) -> pd.Series:
    missing = np.flatnonzero(column.isna().to_numpy())
    if len(missing):
        raise DataError(
            f"{path}: column {name!r} has {len(missing)} missing series ids "
            f"(first at data row {_data_rows(column)[missing[0]]}); every row needs one"
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
    timestamps: pd.DatetimeIndex,
    values: np.ndarray,
    freq: str,
    fill: str | None,
    source: str,
    name: str,
    rows: np.ndarray,
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Check the timestamps (from data rows `rows`) against the calendar of `freq`; fill
    missing steps when asked. `source` starts every message (the file, and the series in a panel)."""
    try:
        grid = pd.date_range(timestamps[0], timestamps[-1], freq=freq)
    except ValueError as error:
        raise DataError(f"--freq {freq!r} is not a pandas frequency ({error})") from error
    on_grid = timestamps.isin(grid)
    if not on_grid.all():
        off = int(np.flatnonzero(~on_grid)[0])
        raise DataError(
            f"{source}: timestamp {timestamps[off]} (data row {rows[off]}) in {name!r} is not on the "
            f"{freq!r} calendar; check --freq"
        )
    missing = grid.difference(timestamps)
    if len(missing) == 0:
        return timestamps, values
    if fill is not None:
        series = pd.Series(values, index=timestamps).reindex(grid)
        filled = series.ffill() if fill == "ffill" else series.interpolate(limit_direction="both")
        log.warning("%s: filled %d missing %s steps (%s)", source, len(missing), freq, fill)
        return grid, filled.to_numpy()
    base = freq.lstrip("0123456789").split("-")[0]
    if base in CLOSED_DAY_FREQS:
        log.warning(
            "%s: %d dates of the %s calendar are absent (first %s), taken as closures: rows are used as "
            "consecutive steps; pass --fill ffill to insert them instead",
            source,
            len(missing),
            freq,
            missing[0].date(),
        )
        return timestamps, values
    before = rows[int(timestamps.searchsorted(missing[0])) - 1]
    raise DataError(
        f"{source}: {len(missing)} {freq!r} steps are missing from {name!r} (first: {missing[0]}, "
        f"after data row {before}); add the rows or pass --fill {'|'.join(FILL_METHODS)} to fill them"
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


def _parse_time_column(column: pd.Series, path: Path, name: str, dayfirst: bool = False) -> pd.Series:
    """A whole column's timestamps (index kept), NaT where a value is missing or unparseable."""
    if pd.api.types.is_numeric_dtype(column):
        # pandas would read numbers as nanoseconds since 1970; whole numbers here are years
        whole = column.dropna()
        if not (whole == whole.round()).all() or not whole.between(1, 9999).all():
            raise DataError(
                f"{path}: column {name!r} is numeric; give dates (e.g. 2024-01-31) or whole years (e.g. 1987), "
                "or name the columns with --time-column and --value-column"
            )
        years = column.astype("Int64").astype(str).str.zfill(4)
        return pd.to_datetime(years, format="%Y", errors="coerce")
    parsed = _to_datetime(column, dayfirst)
    if not dayfirst and parsed.isna().any():
        day_first = _to_datetime(column, True)
        if not day_first.isna().any():
            parsed = day_first  # 13/01/2021: the day comes first
    return parsed


def _checked_timestamps(parsed: pd.Series, raw: pd.Series, source: str, name: str) -> pd.DatetimeIndex:
    """One series' parsed timestamps, refused if any is missing, duplicated or out of order."""
    rows = _data_rows(raw)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        raise DataError(
            f"{source}: column {name!r} has {len(bad)} missing or unparseable timestamps "
            f"(first at data row {rows[bad[0]]}: {raw.iloc[bad[0]]!r})"
        )
    index = pd.DatetimeIndex(parsed)
    duplicated = np.flatnonzero(index.duplicated())
    if len(duplicated):
        raise DataError(
            f"{source}: column {name!r} has {len(duplicated)} duplicate timestamps "
            f"(first: {index[duplicated[0]]} at data row {rows[duplicated[0]]}); keep one row per timestamp"
        )
    if not index.is_monotonic_increasing:
        position = int(np.flatnonzero(np.diff(index.asi8) < 0)[0]) + 1
        raise DataError(
            f"{source}: column {name!r} is not sorted oldest first "
            f"(data row {rows[position]}: {index[position]} comes after {index[position - 1]}); sort the file"
        )
    return index


def _parse_timestamps(column: pd.Series, path: Path, name: str, dayfirst: bool = False) -> pd.DatetimeIndex:
    return _checked_timestamps(_parse_time_column(column, path, name, dayfirst), column, str(path), name)


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


def _numbers(column: pd.Series, path: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A whole column as float64 (NaN where missing or non-finite) and the mask of its
    non-numeric entries; read with thousands separators if all its values follow one convention."""
    numeric = pd.to_numeric(column, errors="coerce")
    present = column.notna().to_numpy()
    non_numeric = numeric.isna().to_numpy() & present
    grouped = _ungrouped(column[present].astype(str).str.strip()) if non_numeric.any() else None
    if grouped is not None:
        first = int(np.flatnonzero(non_numeric)[0])
        log.warning(
            "%s: column %r: read with thousands separators (e.g. %r as %s)",
            path, name, column.iloc[first], grouped.iloc[int(np.count_nonzero(present[:first]))],
        )  # fmt: skip
        numeric = numeric.copy()
        numeric[present] = grouped.to_numpy()
        non_numeric = np.zeros_like(non_numeric)
    values = numeric.to_numpy(dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    return values, non_numeric


def _checked_values(
    values: np.ndarray, non_numeric: np.ndarray, raw: pd.Series, source: str, name: str, fill: str | None
) -> np.ndarray:
    """One series' values, refused if any is non-numeric, or missing without a `fill`."""
    rows = _data_rows(raw)
    bad = np.flatnonzero(non_numeric)
    if len(bad):
        raise DataError(
            f"{source}: column {name!r} has {len(bad)} non-numeric values "
            f"(first at data row {rows[bad[0]]}: {raw.iloc[bad[0]]!r})"
        )
    missing = np.flatnonzero(np.isnan(values))
    if len(missing):
        if fill is None:
            raise DataError(
                f"{source}: column {name!r} has {len(missing)} missing or non-finite values "
                f"(first at data row {rows[missing[0]]}); clean the file or pass --fill {'|'.join(FILL_METHODS)}"
            )
        series = pd.Series(values)
        filled = series.ffill() if fill == "ffill" else series.interpolate(limit_direction="both")
        values = filled.bfill().to_numpy()
        if np.isnan(values).any():
            raise DataError(f"{source}: column {name!r} has no value to fill from")
    return values


def _parse_values(column: pd.Series, path: Path, name: str, fill: str | None) -> np.ndarray:
    return _checked_values(*_numbers(column, path, name), column, str(path), name, fill)
