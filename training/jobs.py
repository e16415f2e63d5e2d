"""Training jobs for the CLI: one model after another, or several side by side in processes.

Side by side, the workers draw nothing: each reports its epochs to the parent, which draws one
progress bar per model, and everything a worker prints (warnings, MLflow's messages) is held
back and printed under the bars when that model is done - two processes writing to one
terminal garble each other's lines.

The workers live here, in an importable module, because spawned processes look their
functions up by module name (`python -m training` runs its CLI as `__main__`).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.queues import Queue

import lightning as L
from lightning.pytorch.callbacks import Callback
from mlflow.exceptions import MlflowException
from tqdm import tqdm

from training.baselines import Baselines
from training.config import TrainConfig
from training.console import configure_output
from training.data import DataError, SeriesData
from training.pipeline import TrainResult, train
from training.tracking import configure_tracking


class TrainingError(Exception):
    """A model that cannot be trained or stored, with the message the user sees."""


def train_one(
    config: TrainConfig,
    tracking_uri: str | None,
    progress: bool | Callback,
    series: list[SeriesData] | None,
    baselines: Baselines | None = None,
    promote: bool = True,
) -> TrainResult:
    """`training.pipeline.train`, its data and store errors as a `TrainingError` naming the model."""
    try:
        return train(
            config,
            tracking_uri=tracking_uri,
            progress=progress,
            series=series,
            baselines=baselines,
            promote=promote,
        )
    except (DataError, ValueError) as error:
        raise TrainingError(f"{config.name} ({config.label}): {error}") from error
    except (OSError, MlflowException) as error:
        raise TrainingError(
            f"{config.name} ({config.label}): cannot write to the MLflow store: {error}"
        ) from error


class EpochReporter(Callback):
    """In a worker: tells the parent when a fit starts and after every epoch."""

    def __init__(self, queue: Queue, job: int) -> None:
        self.queue = queue
        self.job = job
        self.fits = 0

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.fits += 1
        # the first fit early-stops on validation; the later ones refit for its epoch count
        self.queue.put(("fit", self.job, "fit" if self.fits == 1 else "refit", trainer.max_epochs))

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        loss = trainer.callback_metrics.get("val_loss")
        self.queue.put(
            ("epoch", self.job, trainer.current_epoch + 1, math.nan if loss is None else float(loss))
        )


@dataclass
class JobOutcome:
    result: TrainResult | None
    error: str | None
    output: str  # what the worker printed while training this model


_queue: Queue | None = None


def _start_worker(queue: Queue) -> None:
    """Worker initialiser: the CLI's output settings, and the queue to the parent's bars."""
    global _queue
    configure_output()
    _queue = queue


@contextmanager
def _captured_output() -> Iterator[list[str]]:
    """Everything written to this process's stdout and stderr (file descriptors 1 and 2, so
    output from libraries that hold their own reference to the streams too), as one text."""
    captured: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, original in zip((1, 2), saved, strict=True):
                os.dup2(original, fd)
                os.close(original)
            sink.seek(0)
            captured.append(sink.read().decode(errors="replace"))


def _train_in_worker(
    job: int,
    config: TrainConfig,
    tracking_uri: str | None,
    progress: bool,
    series: list[SeriesData] | None,
    baselines: Baselines | None,
    promote: bool,
) -> JobOutcome:
    reporter = EpochReporter(_queue, job) if progress and _queue is not None else False
    result = error = None
    with _captured_output() as output:
        try:
            result = train_one(config, tracking_uri, reporter, series, baselines, promote)
        except TrainingError as failure:
            error = str(failure)
    return JobOutcome(result, error, "".join(output))


class _Bars:
    """The parent's progress bars, one line per model, drawn by one thread from the queue."""

    def __init__(self, configs: list[TrainConfig], queue: Queue, progress: bool) -> None:
        self.queue = queue
        self.bars = (
            [
                tqdm(
                    total=None,
                    desc=f"{c.name} ({c.label})",
                    position=i,
                    leave=True,
                    unit="epoch",
                    dynamic_ncols=True,
                )
                for i, c in enumerate(configs)
            ]
            if progress
            else []
        )
        for bar in self.bars:
            bar.set_postfix_str("waiting")
        self.thread = threading.Thread(target=self._draw, daemon=True)
        self.thread.start()

    def _draw(self) -> None:
        while (message := self.queue.get()) is not None:
            kind, job, *values = message
            if kind == "fit" and self.bars:
                phase, epochs = values
                self.bars[job].reset(total=epochs)
                self.bars[job].set_postfix_str(phase)
            elif kind == "epoch" and self.bars:
                epoch, loss = values
                self.bars[job].update(epoch - self.bars[job].n)
                self.bars[job].set_postfix_str(f"val_loss {loss:.3f}" if math.isfinite(loss) else "refit")
            elif kind == "done":
                self._done(job, *values)

    def _done(self, job: int, outcome: JobOutcome) -> None:
        if self.bars:
            result = outcome.result
            summary = (
                f"failed: {outcome.error}" if result is None else f"done, version {result.version or '-'}"
            )
            self.bars[job].set_postfix_str(summary)
            self.bars[job].refresh()
        if outcome.output.strip():
            tqdm.write(outcome.output.rstrip(), file=sys.stderr)

    def finished(self, job: int, future: Future) -> None:
        error = future.exception()
        outcome = future.result() if error is None else JobOutcome(None, str(error), "")
        self.queue.put(("done", job, outcome))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        for bar in self.bars:
            bar.close()


def train_side_by_side(
    configs: list[TrainConfig],
    jobs: int,
    tracking_uri: str | None,
    progress: bool,
    series: list[SeriesData] | None,
    baselines: dict[str, Baselines] | None = None,
    promote: bool = True,
) -> list[TrainResult]:
    """Train `jobs` models at a time in spawned processes (one thread each, as every fit runs:
    `TrainConfig.num_threads`), results in the order of `configs`. Each fit is seeded in its
    own process, so the metrics are those of a sequential run; the parent creates the store
    and the experiment first, so that no two processes initialise the same database.
    `baselines`: by series name, logged into each of its candidates' runs; `promote`: as
    `training.pipeline.train`'s."""
    configure_tracking(tracking_uri)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    bars = _Bars(configs, queue, progress)
    try:
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(configs)),
            mp_context=context,
            initializer=_start_worker,
            initargs=(queue,),
        ) as pool:
            futures = []
            for job, config in enumerate(configs):
                future = pool.submit(
                    _train_in_worker,
                    job,
                    config,
                    tracking_uri,
                    progress,
                    series,
                    (baselines or {}).get(config.name),
                    promote,
                )
                future.add_done_callback(lambda done, job=job: bars.finished(job, done))
                futures.append(future)
            outcomes = [future.result() for future in futures]
    finally:
        bars.close()
    failed = [outcome.error for outcome in outcomes if outcome.result is None]
    if failed:
        raise TrainingError("; ".join(failed))
    return [outcome.result for outcome in outcomes]
