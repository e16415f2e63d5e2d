"""MLflow pyfunc entry point, logged as "model from code" (no pickled Python objects), so
`mlflow models serve -m models:/NAME@champion` serves the same artifact the service loads.

Input: a DataFrame with a `history` column (one list of observations per row, oldest first;
integers or floats); params `horizon` (default: the trained horizon) and `season` (default:
the model's own; the zero-shot base detects one per row). Output: a `forecast` column, and for
a base model the `season` each row used. A history, horizon or season the model cannot take is
refused with MLflow's invalid-input error (HTTP 400 from `mlflow models serve`) by the same
checks the service runs.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PythonModel, PythonModelContext

from models.artifact import PYFUNC_ARTIFACT, ForecastInputError, check_season, left_padded
from models.base_artifact import MAX_SEASON
from models.loading import Artifact, load_artifact
from models.numerics import subnormals_as_zero


def _invalid(message: str) -> MlflowException:
    return MlflowException.invalid_parameter_value(message)


def _numbers(history: Any, row: int) -> list[float]:
    """One row's history as floats; the signature admits any list so that integers pass."""
    try:
        return [float(value) for value in history]
    except (TypeError, ValueError):
        raise _invalid(f"row {row}: history must be a list of numbers") from None


def _season(params: dict[str, Any], fixed: int | None) -> int | None:
    """The `season` param, checked: a positive integer, and the model's own when it has one."""
    season = params.get("season")
    if season is None:
        return None
    if isinstance(season, bool) or not isinstance(season, Integral) or not 1 <= season <= MAX_SEASON:
        raise _invalid(f"season must be an integer from 1 to {MAX_SEASON}, got {season!r}")
    try:
        check_season(int(season), fixed)
    except ForecastInputError as problem:
        raise _invalid(str(problem)) from None
    return int(season)


class ForecasterPyfunc(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        folder = context.artifacts[PYFUNC_ARTIFACT]
        self.artifact: Artifact = load_artifact(folder)

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        params = params or {}
        horizon = params.get("horizon")
        horizon = self.artifact.config.horizon if horizon is None else int(horizon)
        season = _season(params, self.artifact.fixed_season)
        histories = [_numbers(history, row) for row, history in enumerate(model_input["history"])]
        try:
            self.artifact.check_horizon(horizon)
        except ForecastInputError as problem:
            raise _invalid(str(problem)) from None
        for row, history in enumerate(histories):
            try:
                self.artifact.check_history(history)
            except ForecastInputError as problem:
                raise _invalid(f"row {row}: {problem}") from None
        rows = left_padded([history[-self.artifact.lookback :] for history in histories])
        # a local model's season is its series' (it takes no seasons); a base answers with the ones it used
        local = self.artifact.kind == "local"
        seasons = [] if local else self.artifact.seasons_for(histories, season)
        with subnormals_as_zero():
            forecast = self.artifact.predict(rows, horizon, seasons=seasons).point
        answer = {"forecast": forecast.double().tolist()}
        return pd.DataFrame(answer if local else {**answer, "season": seasons})


mlflow.models.set_model(ForecasterPyfunc())
