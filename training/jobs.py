"""Training jobs for the CLI: one model after another, or several side by side in processes.

The side-by-side workers live here, in an importable module, because spawned processes look
their functions up by module name (`python -m training` runs its CLI as `__main__`).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.sharedctypes import Synchronized

from mlflow.exceptions import MlflowException

from training.config import TrainConfig
from training.console import configure_output
from training.data import DataError, SeriesData
from training.pipeline import TrainResult, train
from training.registry import configure_tracking


class TrainingError(Exception):
    """A model that cannot be trained or stored, with the message the user sees."""


def train_one(
    config: TrainConfig,
    tracking_uri: str | None,
    progress: bool,
    series: SeriesData | None,
    progress_line: int = 0,
) -> TrainResult:
    """`training.pipeline.train`, its data and store errors as a `TrainingError` naming the model."""
    print(f"== training {config.name} ({config.cell})", flush=True)
    try:
        return train(
            config, tracking_uri=tracking_uri, progress=progress, series=series, progress_line=progress_line
        )
    except (DataError, ValueError) as error:
        raise TrainingError(f"{config.name} ({config.cell}): {error}") from error
    except (OSError, MlflowException) as error:
        raise TrainingError(
            f"{config.name} ({config.cell}): cannot write to the MLflow store: {error}"
        ) from error


_progress_line = 0


def _start_worker(counter: Synchronized) -> None:
    """Worker initialiser: the CLI's output settings, and a progress-bar line of its own."""
    global _progress_line
    configure_output()
    with counter.get_lock():
        _progress_line = counter.value
        counter.value += 1


def _train_in_worker(
    config: TrainConfig, tracking_uri: str | None, progress: bool, series: SeriesData | None
) -> TrainResult:
    return train_one(config, tracking_uri, progress, series, _progress_line)


def train_side_by_side(
    configs: list[TrainConfig],
    jobs: int,
    tracking_uri: str | None,
    progress: bool,
    series: SeriesData | None,
) -> list[TrainResult]:
    """Train `jobs` models at a time in spawned processes (one thread each, as every fit runs:
    `TrainConfig.num_threads`), results in the order of `configs`. Each fit is seeded in its
    own process, so the metrics are those of a sequential run; the parent creates the store
    and the experiment first, so that no two processes initialise the same database."""
    configure_tracking(tracking_uri)
    context = multiprocessing.get_context("spawn")
    counter = context.Value("i", 0)
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(configs)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(counter,),
    ) as pool:
        futures = [
            pool.submit(_train_in_worker, config, tracking_uri, progress, series) for config in configs
        ]
        return [future.result() for future in futures]
