"""From a package's data frame to a `SourceDataset`: which columns are series, which is time,
what frequency the timestamps follow, panels with key columns."""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pandas as pd

from training.corpus.datasets import SourceDataset, SourceSeries

log = logging.getLogger(__name__)


# Calendar counters are not series.
CALENDAR_PARTS = {"year", "quarter", "month", "week", "day", "hour", "minute", "second", "time", "date"}


SEASON_BY_FREQ = {"YS": 1, "QS": 4, "MS": 12, "W": 52, "D": 7, "B": 5, "h": 24, "30min": 48}


# Step of a regular calendar series -> frequency alias (the product's aliases).
FREQ_BY_STEP = {
    pd.Timedelta(minutes=30): "30min",
    pd.Timedelta(hours=1): "h",
    pd.Timedelta(days=1): "D",
    pd.Timedelta(days=7): "W",
}


def numeric_columns(frame: pd.DataFrame, exclude: set[str]) -> list[str]:
    """Numeric columns that can be series: not ids, not indicators (two values or fewer)."""
    columns = []
    for column in frame.columns:
        if column in exclude or str(column).lower() in {"rownames", "unnamed: 0", ""} | CALENDAR_PARTS:
            continue
        series = frame[column]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            continue
        if series.nunique(dropna=True) <= 2:
            continue
        columns.append(str(column))
    return columns


def finite_values(values: np.ndarray) -> np.ndarray | None:
    """The values if all finite after trimming missing ends; None when a gap is inside."""
    finite = np.isfinite(values)
    if not finite.any():
        return None
    start, end = int(np.argmax(finite)), len(finite) - int(np.argmax(finite[::-1]))
    return None if not finite[start:end].all() else values[start:end]


def _finite_run(values: np.ndarray) -> tuple[int, np.ndarray] | None:
    """(position of the first finite value, `finite_values(values)`), None when there are none."""
    kept = finite_values(values)
    return None if kept is None else (int(np.argmax(np.isfinite(values))), kept)


def regular_frequency(stamps: pd.DatetimeIndex) -> str | None:
    """The frequency alias of regular calendar stamps, or None if they are irregular."""
    if len(stamps) < 3 or not stamps.is_monotonic_increasing or stamps.has_duplicates:
        return None
    inferred = pd.infer_freq(stamps)
    if inferred is not None:
        if inferred.startswith(("MS", "ME", "M")):
            return "MS"
        if inferred.startswith(("QS", "QE", "Q")):
            return "QS"
        if inferred.startswith(("YS", "YE", "Y", "AS", "A")):
            return "YS"
        if inferred.startswith("W"):
            return "W"
        if inferred == "B":
            return "B"
        step = pd.Timedelta(stamps[1] - stamps[0])
        return FREQ_BY_STEP.get(step)
    step_ns = np.diff(stamps.asi8)
    hour_ns = pd.Timedelta(hours=1).value
    values, counts = np.unique(step_ns, return_counts=True)
    usual = int(values[np.argmax(counts)])
    # Local clock times: the hour skipped when daylight saving starts (about once a year) is no
    # missing data.
    spring_forward = step_ns == usual + hour_ns
    years = len(stamps) * usual / (365 * 24 * hour_ns)
    clock_regular = ((step_ns == usual) | spring_forward).all() and spring_forward.sum() <= 2 * (years + 1)
    if usual <= hour_ns and pd.Timedelta(usual) in FREQ_BY_STEP and clock_regular:
        return FREQ_BY_STEP[pd.Timedelta(usual)]
    # Trading days: weekdays only, gaps of at most a long weekend plus a holiday.
    steps = np.diff(stamps.values).astype("timedelta64[D]").astype(int)
    if (stamps.dayofweek < 5).all() and steps.min() >= 1 and steps.max() <= 5 and np.median(steps) == 1:
        return "B"
    return None


def panel_dataset(
    package: str,
    dataset: str,
    frame: pd.DataFrame,
    stamps: pd.Series,
    key_columns: list[str],
    value_columns: list[str] | None = None,
) -> SourceDataset:
    """A long frame (time column parsed into `stamps`, optional keys) as calendar series."""
    frame = frame.assign(_stamp=pd.DatetimeIndex(stamps).tz_localize(None) if stamps.dt.tz else stamps)
    frame = frame[frame["_stamp"].notna()]
    columns = value_columns or numeric_columns(frame, set(key_columns) | {"_stamp"})
    groups = frame.groupby(key_columns, sort=True) if key_columns else [((), frame)]
    result = SourceDataset(package, dataset, "calendar")
    for key, group in groups:
        group = group.sort_values("_stamp")
        index = pd.DatetimeIndex(group["_stamp"])
        freq = regular_frequency(index)
        if freq is None:
            continue
        key_label = "/".join(str(part) for part in (key if isinstance(key, tuple) else (key,)))
        times = index.asi8.astype(np.float64)
        for column in columns:
            values = pd.to_numeric(group[column], errors="coerce").to_numpy(dtype=np.float64)
            if (run := _finite_run(values)) is None:
                continue
            start, kept = run
            result.series.append(
                SourceSeries(
                    column=column,
                    key=key_label,
                    times=times[start : start + len(kept)],
                    values=kept,
                    freq=freq,
                    season_length=SEASON_BY_FREQ.get(freq),
                )
            )
    return result


def index_dataset(
    package: str, dataset: str, frame: pd.DataFrame, freq: str | None, season_length: int | None
) -> SourceDataset:
    """Columns without timestamps: the row index is the time axis."""
    result = SourceDataset(package, dataset, "index")
    rows = np.arange(len(frame), dtype=np.float64)
    for column in numeric_columns(frame, set()):
        if (run := _finite_run(frame[column].to_numpy(dtype=np.float64))) is None:
            continue
        start, kept = run
        result.series.append(
            SourceSeries(column, "", rows[start : start + len(kept)], kept, freq, season_length)
        )
    return result


_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$")


_WEEK = re.compile(r"^\s*(\d{4})\s*-?\s*W(\d{1,2})\s*$")


# In order of preference when a frame has several (a date beats the year it contains).
TIME_COLUMN_NAMES = (
    "date",
    "datetime",
    "timestamp",
    "time_hour",
    "dteday",
    "datetime_gmt",
    "month",
    "quarter",
    "week",
    "year",
)


def parse_stamps(column: pd.Series) -> pd.Series | None:
    """Calendar stamps from a date-like column (ISO dates, "1998 Jan", "1998 Q1", "2019 W05", years), or None."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return column
    if pd.api.types.is_integer_dtype(column):
        # Years within pandas' nanosecond calendar (1678-2261); older ones are not read as dates.
        if column.between(1678, 2100).all():
            return pd.to_datetime(column.astype(str), format="%Y")
        return None
    if not pd.api.types.is_object_dtype(column) and not pd.api.types.is_string_dtype(column):
        return None
    text = column.astype(str)
    sample = text.iloc[0]
    if _QUARTER.match(sample):
        parts = text.str.extract(_QUARTER)
        if parts.isna().any().any():
            return None
        months = (parts[1].astype(int) - 1) * 3 + 1
        return pd.to_datetime(parts[0] + "-" + months.astype(str) + "-01", format="%Y-%m-%d")
    if _WEEK.match(sample):
        parts = text.str.extract(_WEEK)
        if parts.isna().any().any():
            return None
        return pd.to_datetime(parts[0] + "-W" + parts[1].str.zfill(2) + "-1", format="%G-W%V-%u")
    for fmt in ("%Y %b", "%Y-%m", "%b %d %Y", "%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "ISO8601"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=fmt == "ISO8601")
        if parsed.notna().all():
            return parsed.dt.tz_localize(None) if fmt == "ISO8601" else parsed
    return None


def decimal_year_dataset(
    package: str, dataset: str, times: np.ndarray, values: np.ndarray
) -> SourceDataset | None:
    """An R `ts` (decimal-year times at a constant step): calendar stamps for yearly, quarterly, monthly."""
    steps = np.diff(times)
    if len(steps) < 2 or steps.min() <= 0 or not np.allclose(steps, steps[0], rtol=1e-3):
        return None
    per_year = 1.0 / steps[0]
    kept = finite_values(values.astype(np.float64))
    if kept is None:
        return None
    start = int(np.argmax(np.isfinite(values)))
    times = times[start : start + len(kept)]
    rounded = int(np.rint(per_year))
    if times[0] < 1000 and rounded == 1:
        # An index (1, 2, 3, ...), not years: no calendar.
        return SourceDataset(
            package, dataset, "index", [SourceSeries("value", "", times - 1, kept, None, None)]
        )
    if rounded in (1, 4, 12) and abs(per_year - rounded) < 1e-6 and times[0] >= 1678:
        freq = {1: "YS", 4: "QS", 12: "MS"}[rounded]
        first = pd.Timestamp(year=int(np.floor(times[0] + 1e-6)), month=1, day=1)
        first += pd.DateOffset(months=int(np.rint((times[0] - np.floor(times[0] + 1e-6)) * 12)))
        stamps = pd.date_range(first, periods=len(kept), freq=freq)
        return SourceDataset(
            package,
            dataset,
            "calendar",
            [SourceSeries("value", "", stamps.asi8.astype(np.float64), kept, freq, SEASON_BY_FREQ[freq])],
        )
    season = rounded if 2 <= rounded <= 400 else None
    return SourceDataset(
        package, dataset, "decimal_year", [SourceSeries("value", "", times, kept, None, season)]
    )
