"""python -m training.pretrain: pretrain the global base network on the corpus (`make pretrain`).

Windows come from the corpus (`make corpus`) through `training/corpus_windows.py`. The same
command runs on one process or data-parallel (`--devices N --num-nodes K`: DDP over gloo on
CPU), logs params and per-epoch losses to MLflow, checkpoints every epoch and resumes from the
last checkpoint of its checkpoint directory. At the end rank 0 calibrates the network on the
held-out validation windows and writes the base artifact (`models.base_artifact`: weights,
config with the run's facts, calibration) to `--output`. The defaults rebuild the shipped base.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from dataclasses import fields
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.strategies import DDPStrategy
from lightning.pytorch.utilities import rank_zero_only

from models.allocator import DEFAULT_KEEP_FREED_MB, keep_freed_memory
from models.artifact import ArtifactMetadata, tracking_uri_or_default
from models.base_artifact import (
    LONG_SEASON,
    LONG_SEASONS_FOLDER,
    MEAN_CALIBRATION_FILE,
    SHIPPED_BASE,
    BaseArtifact,
    conformity_scores,
    is_base_artifact,
)
from models.base_network import BaseConfig, BaseNetwork
from models.calibration import Calibration
from models.priors import PRIORS
from training.base_loss import base_window_loss
from training.corpus.build import DEFAULT_OUTPUT as DEFAULT_CORPUS
from training.corpus_windows import Batch, CorpusDataModule
from training.tracking import EXPERIMENT, configure_tracking

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHECKPOINTS = PROJECT_ROOT / ".cache" / "pretrain" / "checkpoints"
RUN_ID_FILE = "mlflow_run_id"
# the checkpoint a rerun resumes from, rewritten after every epoch
LAST_CHECKPOINT = "last.ckpt"
# BaseConfig settings chosen after training, not trained with (ablations.md sections 45-46)
POST_TRAINING_SETTINGS = ("later_step_sharpness",)
LATER_STEP_SHARPNESS = 0.75


class PretrainModule(L.LightningModule):
    """L1 loss in each window's normalised space over the targets a window has - divided by the
    window's seasonal step with `seasonal_loss` (a per-window MASE, what the benchmark scores),
    else by its mean absolute step - AdamW with cosine decay over `schedule_epochs`."""

    def __init__(
        self,
        network: BaseNetwork,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        schedule_epochs: int = 20,
        seed: int = 0,
        seasonal_loss: bool = True,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            {
                "network": network.config.to_dict(),
                "learning_rate": learning_rate,
                "weight_decay": weight_decay,
                "schedule_epochs": schedule_epochs,
                "seed": seed,
                "seasonal_loss": seasonal_loss,
            }
        )
        self.network = network
        self.seasonal_loss = seasonal_loss
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.schedule_epochs = schedule_epochs
        self.seed = seed

    def on_train_batch_start(self, batch: Batch, batch_index: int) -> None:
        # dropout masks seeded per step and rank, not by the global generator's position (which
        # Lightning's and the data loaders' own draws move): a resumed run draws what an
        # uninterrupted one would
        state = np.random.SeedSequence([self.seed, self.global_step, self.global_rank]).generate_state(1)
        torch.manual_seed(int(state[0]))

    def _loss(self, batch: Batch) -> torch.Tensor:
        history, target, season, _ = batch
        return base_window_loss(self.network, history, target, season, self.seasonal_loss)

    def training_step(self, batch: Batch, batch_index: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, sync_dist=True)
        return loss

    def validation_step(self, batch: Batch, batch_index: int) -> None:
        self.log("val_loss", self._loss(batch), on_epoch=True, prog_bar=True, sync_dist=True)

    def configure_optimizers(self) -> dict:
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(self.schedule_epochs, 1))
        return {"optimizer": optimizer, "lr_scheduler": schedule}


@torch.no_grad()
def validation_calibration(network: BaseNetwork, data: CorpusDataModule) -> Calibration:
    """Conformity scores of the held-out corpus series' validation windows
    (`models.base_artifact.conformity_scores`), NaN where a window ran past its series' end."""
    network.eval()
    rows = [
        conformity_scores([network], history, target, season)[1]
        for history, target, season, _ in data.val_dataloader()
    ]
    return Calibration(torch.cat(rows))


@torch.no_grad()
def write_mean_calibration(folder: Path, data: CorpusDataModule) -> Path | None:
    """When `folder` holds both networks of a base: the conformity scores of their mean on the
    validation windows of `data` (the windows both networks held out when they were pretrained
    with the same seed, as `make pretrain` does), saved beside them; None otherwise."""
    if not (is_base_artifact(folder) and is_base_artifact(folder / LONG_SEASONS_FOLDER)):
        return None
    base = BaseArtifact.load(folder)
    assert base.long_seasons is not None
    networks = [base.network, base.long_seasons.network]
    base.mean_calibration = Calibration(
        torch.cat(
            [
                conformity_scores(networks, history, target, season)[1]
                for history, target, season, _ in data.val_dataloader()
            ]
        )
    )
    base.save(folder)
    return folder / MEAN_CALIBRATION_FILE


class ShardLog(Callback):
    """Writes, per rank, the training windows it read (by epoch) and its final network weights
    to `directory / rank{global_rank}.pt`: evidence that DDP sharded the windows and kept the
    replicas identical."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.windows: dict[int, list[int]] = defaultdict(list)

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch: Batch, batch_index: int
    ) -> None:
        self.windows[trainer.current_epoch] += batch[3].tolist()

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {"windows": dict(self.windows), "state_dict": module.network.state_dict()}
        torch.save(record, self.directory / f"rank{trainer.global_rank}.pt")


def _checked_resume(checkpoint: Path, module: PretrainModule, data: CorpusDataModule) -> None:
    """Refuse to resume a checkpoint written with other settings (its weights would not fit,
    or the run would silently mix two set-ups)."""
    stored = torch.load(checkpoint, map_location="cpu", weights_only=True)
    for key, current in (("hyper_parameters", module.hparams), ("datamodule_hyper_parameters", data.hparams)):
        if dict(stored.get(key, {})) != dict(current):
            raise SystemExit(
                f"{checkpoint} was written with other settings ({key}: {dict(stored.get(key, {}))} "
                f"!= {dict(current)}); use another --checkpoint-dir or delete it to start afresh"
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.pretrain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus file (make corpus)")
    parser.add_argument(
        "--long-seasons",
        action="store_true",
        help=f"the base's second network, for seasons of {LONG_SEASON} and longer and rows without a season: "
        f"every prior (the in-window autoregression too), into {SHIPPED_BASE.name}/{LONG_SEASONS_FOLDER}/ "
        "with checkpoints of its own",
    )
    parser.add_argument(
        "--output", type=Path, help=f"where the weights and config go (default: {SHIPPED_BASE})"
    )
    parser.add_argument(
        "--checkpoint-dir",
        type=Path,
        help=f"checkpoints; resumes from last.ckpt (default: {DEFAULT_CHECKPOINTS})",
    )
    parser.add_argument(
        "--tracking-uri", help="MLflow store (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)"
    )
    parser.add_argument(
        "--devices", type=int, default=1, help="processes per node (DDP when devices * nodes > 1)"
    )
    parser.add_argument("--num-nodes", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=150)
    parser.add_argument(
        "--max-minutes",
        type=float,
        help="training-time budget, counted across resumes (the checkpoint keeps the time spent)",
    )
    parser.add_argument(
        "--schedule-epochs", type=int, help="cosine learning-rate decay length (default: max epochs)"
    )
    parser.add_argument("--windows-per-epoch", type=int, default=20_000, help="over all processes")
    parser.add_argument("--val-windows", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=256, help="per process")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seasonal-loss",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="errors in units of each window's seasonal step (MASE's scale) instead of its mean absolute step",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--shard-log", type=Path, help="write each rank's windows and final weights here")
    parser.add_argument(
        "--later-step-sharpness",
        type=float,
        default=LATER_STEP_SHARPNESS,
        help="the mixing logits of steps 2 and later times this, set after training and before "
        "calibrating (below 1: a softer mix; ablations.md sections 45-46)",
    )
    defaults = BaseConfig()
    for field in fields(BaseConfig):
        if field.name in POST_TRAINING_SETTINGS:
            continue
        default = getattr(defaults, field.name)
        flag = f"--{field.name.replace('_', '-')}"
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif isinstance(default, tuple):
            # default: the config's, or every prior with --long-seasons
            parser.add_argument(flag, nargs="+", choices=PRIORS)
        else:
            parser.add_argument(flag, type=type(default), default=default)
    args = parser.parse_args(argv)
    if args.long_seasons:
        args.output = args.output or SHIPPED_BASE / LONG_SEASONS_FOLDER
        args.checkpoint_dir = args.checkpoint_dir or DEFAULT_CHECKPOINTS.parent / LONG_SEASONS_FOLDER
        args.priors = args.priors or PRIORS
    args.output = args.output or SHIPPED_BASE
    args.checkpoint_dir = args.checkpoint_dir or DEFAULT_CHECKPOINTS
    args.priors = args.priors or defaults.priors
    for name in (
        "devices",
        "num_nodes",
        "max_epochs",
        "windows_per_epoch",
        "val_windows",
        "batch_size",
        "threads",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.max_minutes is not None and args.max_minutes <= 0:
        parser.error("--max-minutes must be > 0")
    if not args.later_step_sharpness > 0:
        parser.error("--later-step-sharpness must be > 0")
    if not args.corpus.is_file():
        parser.error(f"no corpus at {args.corpus}: build it with `make corpus`")
    try:
        # trained as pretrained networks always were; the post-training settings come after the fit
        args.config = BaseConfig(
            **{
                f.name: getattr(args, f.name)
                for f in fields(BaseConfig)
                if f.name not in POST_TRAINING_SETTINGS
            }
        )
    except ValueError as error:
        parser.error(str(error))
    return args


def pretrain(args: argparse.Namespace) -> Path:
    """Train (or resume) and write the weights; returns the output directory."""
    started = time.monotonic()
    torch.set_num_threads(args.threads)
    L.seed_everything(args.seed, workers=True, verbose=False)
    network = BaseNetwork(args.config)
    module = PretrainModule(
        network,
        args.learning_rate,
        args.weight_decay,
        args.schedule_epochs or args.max_epochs,
        args.seed,
        args.seasonal_loss,
    )
    data = CorpusDataModule(
        args.corpus, args.config, args.batch_size, args.windows_per_epoch, args.val_windows, seed=args.seed
    )
    last = args.checkpoint_dir / LAST_CHECKPOINT
    resume = last if last.is_file() else None
    if resume is not None:
        _checked_resume(resume, module, data)

    # before Lightning launches the other processes, only this process's place in the launch is known
    launch_rank = int(os.environ.get("NODE_RANK", 0)) * args.devices + int(os.environ.get("LOCAL_RANK", 0))
    if launch_rank == 0:
        configure_tracking(args.tracking_uri)
    run_id_file = args.checkpoint_dir / RUN_ID_FILE
    logger = MLFlowLogger(
        experiment_name=os.environ.get("MLFLOW_EXPERIMENT_NAME", EXPERIMENT),
        run_name="pretrain-base",
        tracking_uri=tracking_uri_or_default(args.tracking_uri),
        # a resumed run continues the MLflow run of the interrupted one
        run_id=run_id_file.read_text().strip() if resume is not None and run_id_file.is_file() else None,
    )
    if launch_rank == 0:
        args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        run_id_file.write_text(logger.run_id)
        tags = {"job": "pretrain", "devices": args.devices, "num_nodes": args.num_nodes}
        tags |= {"max_epochs": args.max_epochs, "max_minutes": args.max_minutes, "resumed_from": resume}
        for key, value in tags.items():
            logger.experiment.set_tag(logger.run_id, key, str(value))

    processes = args.devices * args.num_nodes
    # last.ckpt after every epoch: the latest checkpoint is the only one kept, under the name a
    # rerun resumes from (Lightning's save_last alone writes it at the end of training only)
    checkpoint = ModelCheckpoint(
        dirpath=args.checkpoint_dir,
        filename=LAST_CHECKPOINT.removesuffix(".ckpt"),
        save_top_k=1,
        enable_version_counter=False,
    )
    trainer = L.Trainer(
        accelerator="cpu",
        devices=args.devices,
        num_nodes=args.num_nodes,
        strategy=DDPStrategy(process_group_backend="gloo") if processes > 1 else "auto",
        max_epochs=args.max_epochs,
        max_time={"minutes": args.max_minutes} if args.max_minutes else None,
        deterministic=True,
        gradient_clip_val=1.0,
        logger=logger,
        callbacks=[checkpoint] + ([ShardLog(args.shard_log)] if args.shard_log else []),
        enable_progress_bar=not args.no_progress,
        enable_model_summary=False,
        reload_dataloaders_every_n_epochs=1,
        log_every_n_steps=1,
    )
    trainer.fit(module, datamodule=data, ckpt_path=str(resume) if resume else None)
    if trainer.is_global_zero:
        network.config.later_step_sharpness = args.later_step_sharpness
        facts = {
            "epochs": trainer.current_epoch,
            "global_step": trainer.global_step,
            "corpus": args.corpus.name,
            "processes": processes,
            # this invocation's wall time; a resumed run's earlier parts are in its MLflow run
            "seconds": round(time.monotonic() - started, 1),
            "mlflow_run_id": logger.run_id,
        }
        artifact = BaseArtifact(
            network.config,
            network,
            validation_calibration(network, data),
            ArtifactMetadata(name="", season_length=0),
            facts={"pretrain": facts},
        )
        artifact.save(args.output)
        for file in sorted(args.output.iterdir()):
            if file.is_file() and file.name != MEAN_CALIBRATION_FILE:
                logger.experiment.log_artifact(logger.run_id, str(file), artifact_path="base")
        # the mean of the two networks serves seasons 2-23 (ablations.md section 35): calibrated
        # by whichever run finds the other network already written
        mean_file = write_mean_calibration(args.output.parent if args.long_seasons else args.output, data)
        if mean_file is not None:
            logger.experiment.log_artifact(logger.run_id, str(mean_file), artifact_path="base")
        logger.experiment.log_metric(logger.run_id, "pretrain_seconds", time.monotonic() - started)
        logger.experiment.log_metric(logger.run_id, "weights_bytes", float(network.parameter_bytes()))
    return args.output


def main(argv: list[str] | None = None) -> None:
    # every step frees and reallocates tensors of several MB (ablations.md section 31)
    keep_freed_memory(DEFAULT_KEEP_FREED_MB)
    args = parse_args(argv)
    output = pretrain(args)
    if rank_zero_only.rank == 0:
        print(f"base network written to {output}")


if __name__ == "__main__":
    main()
