"""MLflow pyfunc entry point, logged as "model from code" (no pickled Python objects), so
`mlflow models serve -m models:/NAME@champion` serves the same artifact the service loads.

Input: a DataFrame with a `history` column (one list of observations per row, oldest first);
param `horizon` (default: the trained horizon). Output: a `forecast` column.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext

from models.artifact import ForecasterArtifact, left_padded


class ForecasterPyfunc(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        self.artifact = ForecasterArtifact.load(context.artifacts["forecaster"])

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        horizon = int((params or {}).get("horizon") or self.artifact.config.horizon)
        context_length = self.artifact.min_history
        histories = [list(history)[-self.artifact.lookback :] for history in model_input["history"]]
        short = [len(history) for history in histories if len(history) < context_length]
        if short:
            raise ValueError(f"every history needs at least {context_length} values, got {short[0]}")
        forecast = self.artifact.predict(left_padded(histories), horizon).point
        return pd.DataFrame({"forecast": forecast.double().tolist()})


mlflow.models.set_model(ForecasterPyfunc())
