"""From a validated request to the answer: model-specific checks, one tensor batch, one
forward pass, plain lists out. No pandas, no Lightning.

Every forecast uses one season length per series, and the answer says which: a model trained
on a series has that series' season (a request may repeat it, not change it); the zero-shot
`base` takes the request's, or detects one from the history.
"""

from __future__ import annotations

import itertools
from datetime import datetime

import torch

from models.artifact import ForecastInputError, StoredSeries, check_season, left_padded
from models.numerics import subnormals_as_zero
from service.calendar import future_timestamps
from service.schemas import ForecastRequest, SeriesInput
from service.store import LoadedModel


class RequestProblem(ValueError):
    """A request that is valid JSON for the schema but not for this model (-> 422)."""

    def __init__(self, loc: list[str | int], msg: str, kind: str = "value_error") -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg
        self.kind = kind


def level_key(level: float) -> str:
    return str(int(level)) if float(level).is_integer() else repr(float(level))


def batch_size(request: ForecastRequest) -> int:
    return len(request.series) if request.series is not None else 1


def _stored_series(model: LoadedModel, index: int, series_id: str) -> StoredSeries:
    """The series `series_id` the model was trained on; a 422 naming it when there is none."""
    stored = model.artifact.metadata.series or {}
    if series_id in stored:
        return stored[series_id]
    if stored:
        known = f"it knows {len(stored)} series, e.g. {list(itertools.islice(stored, 5))} (GET /models/{model.ref.name})"
    elif model.artifact.metadata.tail:
        known = "it was trained on one series: omit `series` and `history` to continue that one"
    else:
        known = "it keeps no series of its own"
    raise RequestProblem(
        ["body", "series", index, "id"],
        f"model {model.ref.name!r} has no stored series {series_id!r}: send its `history`, or an id it "
        f"was trained on; {known}",
        "unknown_series",
    )


def _histories(model: LoadedModel, request: ForecastRequest) -> list[tuple[list[str | int], list[float]]]:
    if request.series is not None:
        return [
            (["body", "series", i, "history"], item.history)
            if item.history is not None
            else (["body", "series", i, "id"], _stored_series(model, i, item.id)["tail"])
            for i, item in enumerate(request.series)
        ]
    if request.history is not None:
        return [(["body", "history"], request.history)]
    stored = model.artifact.metadata.series
    if stored:
        raise RequestProblem(
            ["body", "series"],
            f"model {model.ref.name!r} was trained on {len(stored)} series: name one in `series` "
            f'(e.g. {{"series": [{{"id": {next(iter(stored))!r}}}]}}) or send a `history`',
            "missing",
        )
    if not model.artifact.metadata.tail:
        raise RequestProblem(
            ["body", "history"],
            f"model {model.ref.name!r} has no series of its own to continue: send a `history` "
            "(or a batch in `series`)",
            "missing",
        )
    return [(["body", "history"], model.artifact.metadata.tail)]


def _given_seasons(request: ForecastRequest) -> list[tuple[list[str | int], int | None]]:
    """Per series, the season the request gives and where: the item's own, else the request's."""
    top = (["body", "season"], request.season)
    if request.series is None:
        return [top]
    return [
        (["body", "series", i, "season"], item.season) if item.season is not None else top
        for i, item in enumerate(request.series)
    ]


def _season(model: LoadedModel, loc: list[str | int], given: int | None) -> tuple[int | None, str]:
    """(season length, where it came from) for one series; None when it is to be detected."""
    fixed = model.fixed_season
    try:
        check_season(given, fixed)
    except ForecastInputError as problem:
        raise RequestProblem(loc, f"model {model.ref.name!r}: {problem}", problem.kind) from None
    if fixed is not None:
        return fixed, "model"
    if given is not None:
        return given, "given"
    return None, "detected"  # detected for every such row at once, after the loop


def _freq(model: LoadedModel, request: ForecastRequest) -> str | None:
    """The frequency of the forecast timestamps: the model's own; the request's for a model without one."""
    own = model.artifact.metadata.freq
    if request.freq is not None and own is not None and request.freq != own:
        raise RequestProblem(
            ["body", "freq"],
            f"model {model.ref.name!r} was trained on {own!r} data: leave `freq` out or send {own!r}",
            "freq_mismatch",
        )
    return request.freq or own


def _series_timestamps(
    model: LoadedModel, index: int, item: SeriesInput, freq: str | None, horizon: int
) -> list[str] | None:
    """A history's timestamps follow its `start`; a stored series' its last timestamp."""
    if item.history is not None:
        return _timestamps(item.start, freq, horizon)
    last = _stored_series(model, index, item.id)["last_timestamp"]
    return _timestamps(datetime.fromisoformat(last) if last else None, freq, horizon)


def run_forecast(model: LoadedModel, request: ForecastRequest) -> dict:
    artifact = model.artifact
    try:
        artifact.check_horizon(request.horizon)
    except ForecastInputError as problem:
        raise RequestProblem(["body", "horizon"], str(problem), problem.kind) from None
    freq = _freq(model, request)
    rows, seasons, season_sources = [], [], []
    for (loc, history), (season_loc, given) in zip(
        _histories(model, request), _given_seasons(request), strict=True
    ):
        try:
            artifact.check_history(history)
        except ForecastInputError as problem:
            message = str(problem)
            if loc[-1] == "id" and request.series is not None:  # a stored series: one set aside in training
                stored_id = request.series[int(loc[2])].id
                message = f"the stored values of series {stored_id!r}: {message}; send its `history`"
            raise RequestProblem(loc, message, problem.kind) from None
        season, source = _season(model, season_loc, given)
        seasons.append(season)
        season_sources.append(source)
        rows.append(history)
    undetected = [index for index, season in enumerate(seasons) if season is None]
    if undetected:
        detected = artifact.detect_seasons([rows[index] for index in undetected])
        for index, season in zip(undetected, detected, strict=True):
            seasons[index] = season
    rows = [history[-artifact.lookback :] for history in rows]
    with subnormals_as_zero():
        prediction = artifact.predict(left_padded(rows), request.horizon, request.level, seasons)
    tensors = [prediction.point, *(bound for pair in prediction.intervals.values() for bound in pair)]
    if not all(bool(torch.isfinite(tensor).all()) for tensor in tensors):
        raise RequestProblem(
            ["body", "history"],
            "these values are too large for the model: the forecast is not a finite number",
            "value_error",
        )
    point = prediction.point.tolist()
    intervals = {
        level_key(level): (lower.tolist(), upper.tolist())
        for level, (lower, upper) in prediction.intervals.items()
    }
    answer = {"model": model_ref(model), "horizon": request.horizon}
    if request.series is not None:
        answer["forecasts"] = [
            {
                "id": item.id if item.id is not None else str(index),
                "forecast": point[index],
                "season": seasons[index],
                "season_source": season_sources[index],
                "timestamps": _series_timestamps(model, index, item, freq, request.horizon),
                "intervals": _interval_rows(intervals, index),
            }
            for index, item in enumerate(request.series)
        ]
        return answer
    if request.history is None and request.start is None:
        stored = artifact.metadata.future_timestamps
        timestamps = stored[: request.horizon] if len(stored) >= request.horizon else None
    else:
        timestamps = _timestamps(request.start, freq, request.horizon)
    answer.update(
        forecast=point[0],
        season=seasons[0],
        season_source=season_sources[0],
        timestamps=timestamps,
        intervals=_interval_rows(intervals, 0),
    )
    return answer


def model_ref(model: LoadedModel) -> dict:
    return {
        "name": model.ref.name,
        "version": model.ref.version,
        "kind": model.kind,
        "cell": model.cell,
        "run_id": model.ref.run_id,
    }


def _timestamps(start: datetime | None, freq: str | None, horizon: int) -> list[str] | None:
    return future_timestamps(start, freq, horizon) if start is not None else None


def _interval_rows(intervals: dict[str, tuple[list, list]], index: int) -> dict | None:
    if not intervals:
        return None
    return {key: {"lower": lower[index], "upper": upper[index]} for key, (lower, upper) in intervals.items()}
