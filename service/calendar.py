"""Forecast timestamps without pandas on the request path.

Covers the pandas frequency aliases that training infers for regular series: fixed steps
(`30min`, `h`, `D`, `W`, ...), business days (`B`) and calendar months, quarters and years
(start or end anchored). Anything else yields no timestamps rather than wrong ones; a request
that names such a frequency itself is refused (`supported`).
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

FIXED_UNITS = {
    "s": timedelta(seconds=1),
    "S": timedelta(seconds=1),
    "min": timedelta(minutes=1),
    "T": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "H": timedelta(hours=1),
    "D": timedelta(days=1),
    "W": timedelta(weeks=1),
}
MONTHS_PER_UNIT = {"M": 1, "Q": 3, "Y": 12, "A": 12}
ALIAS = re.compile(r"^(?P<count>\d*)(?P<unit>min|[A-Za-z])(?P<anchor>S|E)?(?:-[A-Z]{3})?$")


def _add_months(moment: datetime, months: int, month_end: bool) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    day = last_day if month_end else 1
    return moment.replace(year=year, month=month, day=day)


def future_timestamps(last: datetime, freq: str | None, steps: int) -> list[str] | None:
    """The `steps` timestamps after `last` at frequency `freq`, ISO 8601; None if unknown."""
    match = ALIAS.match(freq or "")
    if match is None:
        return None
    count = int(match["count"] or 1)
    unit, anchor = match["unit"], match["anchor"]
    if unit in FIXED_UNITS and anchor is None:
        step = FIXED_UNITS[unit] * count
        return [(last + step * k).isoformat() for k in range(1, steps + 1)]
    if unit == "B" and anchor is None:
        stamps, moment = [], last
        while len(stamps) < steps:
            moment += timedelta(days=1)
            if moment.weekday() < 5:
                stamps.append(moment.isoformat())
        return stamps
    if unit in MONTHS_PER_UNIT:
        month_end = anchor != "S"
        months = MONTHS_PER_UNIT[unit] * count
        return [_add_months(last, months * k, month_end).isoformat() for k in range(1, steps + 1)]
    return None


def supported(freq: str) -> bool:
    """Whether `future_timestamps` steps this alias (how a request's `freq` is checked)."""
    return future_timestamps(datetime(2000, 1, 1), freq, 1) is not None
