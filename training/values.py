"""A CSV's value column: numbers in any one of the usual conventions (thousands separators,
decimal commas), missing values refused or filled."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from training.series import FILL_METHODS, DataError, data_rows, shown

log = logging.getLogger("training.data")


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


def parse_numbers(column: pd.Series, path: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
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


def checked_values(
    values: np.ndarray, non_numeric: np.ndarray, raw: pd.Series, source: str, name: str, fill: str | None
) -> np.ndarray:
    """One series' values, refused if any is non-numeric, or missing without a `fill`."""
    rows = data_rows(raw)
    bad = np.flatnonzero(non_numeric)
    if len(bad):
        raise DataError(
            f"{source}: column {name!r} has {len(bad)} non-numeric values "
            f"(first at data row {rows[bad[0]]}: {shown(raw.iloc[bad[0]])})"
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


def parse_values(column: pd.Series, path: Path, name: str, fill: str | None) -> np.ndarray:
    return checked_values(*parse_numbers(column, path, name), column, str(path), name, fill)
