"""Real source datasets and the cut rule: a dataset's time range runs from its earliest to its
latest timestamp over every column and key; `cut = first + 0.8 * (last - first)` and a series
keeps the points at or before the cut (a dataset without timestamps: its row index 0..n-1)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


CUT_FRACTION = 0.8


MIN_POINTS = 16


# Larger frames are records (flights, tweets, loans), not series; also bounds the scan time.
MAX_ROWS = 200_000


MAX_KEYS = 2_000


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
        return series_id(self.package, self.dataset, self.column, self.key)


def series_id(package: str, dataset: str, column: str, key: str) -> str:
    """A real series' id in the manifest: package:dataset:column[:key]."""
    return ":".join([package, dataset, column] + ([key] if key else []))


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
