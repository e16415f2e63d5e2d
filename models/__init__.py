"""Pure-torch forecasting networks and the saved forecaster artifact.

Nothing here imports Lightning, MLflow or FastAPI: training and serving both build on it.
"""

from models.artifact import Forecast, ForecasterArtifact
from models.network import CELLS, HEADS, Forecaster, ForecasterConfig

__all__ = ["CELLS", "HEADS", "Forecast", "Forecaster", "ForecasterArtifact", "ForecasterConfig"]
