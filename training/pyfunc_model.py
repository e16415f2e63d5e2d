"""MLflow pyfunc entry point, logged as "model from code" (no pickled Python objects), so
`mlflow models serve -m models:/NAME@champion` serves the same artifact the service loads.

Input: a DataFrame with a `history` column (one list of observations per row, oldest first;
integers or floats); param `horizon` (default: the trained horizon). Output: a `forecast`
column. A history or horizon the model cannot take is refused with MLflow's invalid-input
error (HTTP 400 from `mlflow models serve`) by the same checks the service runs.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PythonModel, PythonModelContext

from models.artifact import PYFUNC_ARTIFACT, ForecasterArtifact, ForecastInputError, left_padded


def _invalid(message: str) -> MlflowException:
    return MlflowException.invalid_parameter_value(message)


def _numbers(history: Any, row: int) -> list[float]:
    """One row's history as floats; the signature admits any list so that integers pass."""
    try:
        return [float(value) for value in history]
    except (TypeError, ValueError):
        raise _invalid(f"row {row}: history must be a list of numbers") from None


class ForecasterPyfunc(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        self.artifact = ForecasterArtifact.load(context.artifacts[PYFUNC_ARTIFACT])

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        horizon = (params or {}).get("horizon")
        horizon = self.artifact.config.horizon if horizon is None else int(horizon)
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
        rows = [history[-self.artifact.lookback :] for history in histories]
        forecast = self.artifact.predict(left_padded(rows), horizon).point
        return pd.DataFrame({"forecast": forecast.double().tolist()})


mlflow.models.set_model(ForecasterPyfunc())
