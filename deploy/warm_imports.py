"""Image build helper (Dockerfile, builder stage): import the third-party modules that
`python -m service` and `python -m training` load, so Python writes .pyc files for
exactly those, and check that the stripped libtorch still computes.

The list names third-party modules only, so the venv layer does not change when the
project's code does. A module missing from it is still importable at run time; it is
just compiled in memory at each start. Names that do not import are reported, not fatal.
"""

from __future__ import annotations

import importlib
import sys
import time

MODULES = [
    # torch / Lightning (training; the service needs torch only)
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.utils.data",
    "lightning",
    "lightning.pytorch",
    "lightning.pytorch.callbacks",
    "torchmetrics",
    # MLflow client: tracking, registry, pyfunc logging/loading, stores
    "mlflow",
    "mlflow.artifacts",
    "mlflow.client",
    "mlflow.exceptions",
    "mlflow.models",
    "mlflow.models.signature",
    "mlflow.pyfunc",
    "mlflow.tracking",
    "mlflow.store.tracking.rest_store",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.rest_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.store.artifact.local_artifact_repo",
    "mlflow.store.artifact.http_artifact_repo",
    "mlflow.store.artifact.mlflow_artifacts_repo",
    "sqlalchemy",
    "sqlalchemy.dialects.sqlite",
    "alembic",
    "alembic.runtime.migration",
    # data
    "numpy",
    "pandas",
    "yaml",
    "matplotlib",
    "matplotlib.pyplot",
    "utilsforecast",
    "utilsforecast.losses",
    "utilsforecast.evaluation",
    # the statistical baselines of a training run (the `train` extra; absent with EXTRAS=)
    "statsforecast",
    "statsforecast.models",
    # web service
    "fastapi",
    "fastapi.security",
    "fastapi.responses",
    "starlette",
    "pydantic",
    "pydantic_settings",
    "prometheus_client",
    "orjson",
    "uvicorn",
    "uvicorn.main",
    "uvicorn.config",
    "uvicorn.server",
    "uvicorn.logging",
    "uvicorn.lifespan.on",
    "uvicorn.loops.auto",
    "uvicorn.loops.asyncio",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.websockets.auto",
    "h11",
    "anyio",
    "urllib.request",
    "json",
    "logging.config",
    "sqlite3",
]


def main() -> int:
    sys.dont_write_bytecode = False
    started = time.perf_counter()
    missing = []
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as error:  # report, do not fail the build
            missing.append(f"{name} ({type(error).__name__}: {error})")
    import torch

    # the stripped libtorch must still load and compute
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(input_size=3, hidden_size=8, num_layers=2, batch_first=True)
    out, _ = lstm(torch.randn(4, 16, 3))
    assert out.shape == (4, 16, 8) and torch.isfinite(out).all()
    print(
        f"warm_imports: {len(MODULES) - len(missing)}/{len(MODULES)} modules in {time.perf_counter() - started:.1f} s"
    )
    for line in missing:
        print(f"warm_imports: not importable: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
