"""`python -m training`: train, backtest, log and register forecasters.

python -m training                                   # LSTM + GRU for every built-in series
python -m training --series price --cell gru
python -m training --csv sales.csv --name sales [--freq D] [--season 7] [--horizon 14]
python -m training --csv stores.csv --name stores [--id-column store]   # ONE model over every series

Every series gets these candidates, each an MLflow run and a registered version: a local
network per cell trained from scratch, and, from the shipped base network (models/base/),
the zero-shot base and the base fine-tuned on the series, then their ensemble (the mean of
the best local network and the two base candidates), which `champion` goes to (README,
"Training"); AutoETS / AutoTheta / AutoARIMA are scored on the same validation windows and
logged in every run. --from-scratch trains the local networks only (champion: the lowest
validation MASE). The shipped base is registered as model `base` too.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import types
import typing
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from models.allocator import DEFAULT_KEEP_FREED_MB, keep_freed_memory
from models.artifact import BASE_MODEL, CHAMPION_ALIAS, tracking_uri_or_default
from models.base_artifact import DIGEST_TAG, SHIPPED_BASE, folder_digest, is_base_artifact
from models.base_network import CONFIG_FILE
from models.network import CELLS, HEADS, NetworkSettings
from training.config import (
    BUILTIN_SERIES,
    DEFAULT_CELLS,
    TrainConfig,
    load_panel,
    set_aside_warning,
    trained_on,
    with_id_column,
)
from training.console import configure_output
from training.data import SeriesData
from training.series import FILL_METHODS

if TYPE_CHECKING:
    from training.baselines import Baselines
    from training.pipeline import TrainResult

# Options that set a TrainConfig field of the same name: every network setting, and these.
# Each option's type comes from the field's annotation; choices where the field has a fixed set.
TRAINING_OPTIONS = (
    "horizon",
    "context_length",
    "profile_seasons",
    "max_epochs",
    "patience",
    "batch_size",
    "learning_rate",
    "windows_per_epoch",
    "test_size",
    "val_size",
    "seed",
    "finetune_max_epochs",
    "finetune_patience",
    "finetune_learning_rate",
)
# `--cell` takes several values (one model each): not a plain field option
OVERRIDES = tuple(f.name for f in fields(NetworkSettings) if f.name != "cell") + TRAINING_OPTIONS
CHOICES = {"head": HEADS}


def _add_field_option(group: argparse._ArgumentGroup, name: str) -> None:
    kind = typing.get_type_hints(TrainConfig)[name]
    if isinstance(kind, types.UnionType):  # `int | None`: the option's type is the non-None one
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    flag = f"--{name.replace('_', '-')}"
    if kind is bool:
        group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
    else:
        group.add_argument(flag, type=kind, choices=CHOICES.get(name))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_argument_group("what to train")
    source.add_argument("--series", nargs="+", choices=BUILTIN_SERIES, help="built-in series (default: all)")
    source.add_argument("--csv", help="a user CSV: header, time column, value column")
    source.add_argument("--name", help="registered model name for --csv")
    source.add_argument("--config", help="a YAML config (keys of training.config.TrainConfig)")
    source.add_argument(
        "--id-column",
        help="series id column of a panel --csv (default: the one text column whose values repeat, else "
        "a whole-number column whose values the dates repeat across; none: the file is one series)",
    )
    source.add_argument(
        "--time-column",
        help="time column of --csv (default: the first, or the first holding dates when the first holds numbers)",
    )
    source.add_argument(
        "--value-column", help="value column of --csv (default: the next one besides time and id)"
    )
    source.add_argument("--freq", help="pandas frequency alias (default: inferred)")
    source.add_argument("--season", type=int, help="season length (default: from the frequency)")
    source.add_argument("--fill", choices=FILL_METHODS, help="fill missing values instead of refusing them")
    model = parser.add_argument_group("model")
    model.add_argument(
        "--cell", nargs="+", choices=CELLS, help=f"cells to train (default: {' '.join(DEFAULT_CELLS)})"
    )
    for option in OVERRIDES:
        _add_field_option(model, option)
    run = parser.add_argument_group("run")
    run.add_argument(
        "--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)"
    )
    run.add_argument(
        "--from-scratch",
        action="store_true",
        help="train local networks only: no zero-shot or fine-tuned candidate from the base, no baselines",
    )
    run.add_argument(
        "--base",
        help=f"base artifact the zero-shot and fine-tuned candidates start from (default: {SHIPPED_BASE})",
    )
    run.add_argument("--if-missing", action="store_true", help="skip series that already have a champion")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="models trained side by side, one process and one core each (default: 1)",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    if args.csv and not args.name:
        parser.error("--csv needs --name (the registered model name)")
    if args.csv and args.series:
        parser.error("use either --csv or --series")
    if args.base and args.from_scratch:
        parser.error("--base is for the candidates started from the base; --from-scratch trains none")
    if args.base and not is_base_artifact(args.base):
        parser.error(f"--base {args.base} holds no base artifact ({CONFIG_FILE} missing)")
    return args


def build_configs(args: argparse.Namespace) -> list[TrainConfig]:
    overrides = {option: getattr(args, option) for option in OVERRIDES}
    cells = args.cell or list(DEFAULT_CELLS)
    configs = []
    if args.csv or args.config:
        user = dict(
            name=args.name,
            data=args.csv,
            freq=args.freq,
            season_length=args.season,
            fill=args.fill,
            id_column=args.id_column,
            time_column=args.time_column,
            value_column=args.value_column,
            **overrides,
        )
        for cell in cells:
            if args.config:
                configs.append(TrainConfig.from_yaml(args.config, cell=cell, **user))
            else:
                configs.append(
                    TrainConfig.from_dict({k: v for k, v in {**user, "cell": cell}.items() if v is not None})
                )
    else:
        for series in args.series or BUILTIN_SERIES:
            configs.extend(TrainConfig.builtin(series, cell=cell, **overrides) for cell in cells)
    return configs


def main(argv: list[str] | None = None) -> int:
    configure_output()
    # training frees and reallocates tensors of several MB every step (ablations.md section 31)
    keep_freed_memory(DEFAULT_KEEP_FREED_MB)
    args = parse_args(argv)
    try:
        configs = build_configs(args)
        # every cell trains on the same user file: read, check and resolve it once, before the
        # heavy imports (a bad file is refused in seconds; its warnings are printed once)
        series = None
        if args.csv:
            found = with_id_column(configs[0])
            series = load_panel(found)
            resolved = found.resolve_panel(series)
            if (warning := set_aside_warning(resolved, series)) is not None:
                print(f"warning: {warning}", file=sys.stderr)
            configs = [replace(resolved, cell=config.cell) for config in configs]
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.from_scratch:
        if is_base_artifact(args.base or SHIPPED_BASE):
            configs = with_base_candidates(configs, args.base)
            # what the candidates start from is served too: `make train` then `make serve` on a
            # fresh store answers "model": "base" as `make run` does
            if not args.if_missing and args.base is None:
                register_shipped_base(args.tracking_uri)
        else:
            print(
                f"no base network in {SHIPPED_BASE} (`make pretrain` builds it): training local models only",
                file=sys.stderr,
            )
    if args.if_missing:
        trained = champions(args.tracking_uri)
        register_shipped_base(args.tracking_uri)
        configs = [config for config in configs if config.name not in trained]
        if not configs:
            print("every requested series already has a champion; nothing to train")
            return 0
    # Lightning and MLflow take seconds to import: a bad file or option is refused before, and
    # `make run` with every champion in place serves without waiting for them
    from training.jobs import TrainingError, train_one, train_side_by_side

    started = time.perf_counter()
    results: list[TrainResult] = []
    try:
        baselines = score_baselines(configs, series)
        # with the base candidates the alias moves once, to the ensemble:
        # a service polling meanwhile must not serve whichever candidate scored best so far
        promote = all(config.candidate == "local" for config in configs)
        if args.jobs > 1 and len(configs) > 1:
            results = train_side_by_side(
                configs, args.jobs, args.tracking_uri, not args.no_progress, series, baselines, promote
            )
        else:
            for config in configs:
                print(f"== training {config.name} ({config.label})", flush=True)
                results.append(
                    train_one(
                        config,
                        args.tracking_uri,
                        not args.no_progress,
                        series,
                        baselines.get(config.name),
                        promote,
                    )
                )
        results += ensembles(results, args.tracking_uri, series, baselines)
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_summary(results, time.perf_counter() - started)
    return 0


def ensembles(
    results: list[TrainResult],
    tracking_uri: str | None,
    series: list[SeriesData] | None,
    baselines: dict[str, Baselines],
) -> list[TrainResult]:
    """The ensemble candidate of every series trained with the base candidates, its champion
    printed (`training.ensemble`)."""
    from training.ensemble import combine_all
    from training.jobs import TrainingError

    try:
        combined = combine_all(results, tracking_uri, series, baselines)
    except (ValueError, OSError) as error:
        raise TrainingError(f"ensemble: {error}") from error
    for result in combined:
        kept = (
            ""
            if result.champion == result.version
            else f"; champion stays version {result.champion}, which scored better"
        )
        print(
            f"{result.name}: the champion rule chose the ensemble (version {result.version}){kept}",
            flush=True,
        )
    return combined


def with_base_candidates(configs: list[TrainConfig], base: str | None) -> list[TrainConfig]:
    """After each series' local candidates, its zero-shot and fine-tuned ones."""
    candidates: list[TrainConfig] = []
    for _, group in itertools.groupby(configs, key=lambda config: config.name):
        local = list(group)
        candidates += local
        candidates += [replace(local[0], candidate=kind, base=base) for kind in ("zero-shot", "fine-tuned")]
    return candidates


def score_baselines(configs: list[TrainConfig], series: list[SeriesData] | None) -> dict[str, Baselines]:
    """The statistical baselines' validation MASE of every series that has a candidate from the
    base (`series`: the user file's, already read), by series name; printed as they come."""
    from training.baselines import validation_baselines
    from training.jobs import TrainingError

    scored: dict[str, Baselines] = {}
    for config in configs:
        if config.candidate == "local" or config.name in scored:
            continue
        try:
            panel = series if series is not None else load_panel(config)
            resolved = config.resolve_panel(panel)
        except (ValueError, OSError) as error:
            raise TrainingError(f"{config.name}: {error}") from error
        result = validation_baselines([one.values for one in trained_on(resolved, panel)], resolved)
        scored[config.name] = result
        scores = [f"{name} {value:.3f}" for name, value in result.val_mase.items()]
        scores += [f"{name} missing ({reason})" for name, reason in result.missing.items()]
        on = f" (on {len(result.series)} of {len(panel)} series)" if result.sampled else ""
        print(f"{config.name}: validation MASE of the baselines{on}: {', '.join(scores)}", flush=True)
    return scored


def champions(tracking_uri: str | None) -> set[str]:
    """The model names that have a champion, by the service's own registry lookup: a query of
    the store, without `import mlflow` (seconds). A store that does not exist yet has none."""
    from service.registry import RegistryError, open_registry

    uri = tracking_uri_or_default(tracking_uri)
    try:
        return set(open_registry(uri).champions(CHAMPION_ALIAS))
    except RegistryError:
        return set()


def champion_holds(tracking_uri: str | None, folder: Path) -> bool:
    """Whether `base`'s champion holds the files of `folder`, by the service's registry lookup
    (no `import mlflow`, so a `make run` with everything in place starts serving at once)."""
    from service.registry import ModelNotFound, RegistryError, open_registry

    try:
        ref = open_registry(tracking_uri_or_default(tracking_uri)).resolve(BASE_MODEL, CHAMPION_ALIAS)
    except (ModelNotFound, RegistryError):
        return False
    return ref.tags.get(DIGEST_TAG) == folder_digest(folder)


def register_shipped_base(tracking_uri: str | None, folder: Path = SHIPPED_BASE) -> None:
    """The shipped base as model `base` unless a version of it holds the same files, so `make run`
    serves it at once - on a fresh store, after an upgrade or a `make pretrain` rebuild; without
    a base artifact (`make pretrain` builds it) one line says so and training goes on."""
    if not is_base_artifact(folder):
        print(f"no base model in {folder} (`make pretrain` builds it): model {BASE_MODEL!r} is not served")
        return
    if champion_holds(tracking_uri, folder):
        return
    from training.shipped_base import register_base

    try:
        version = register_base(tracking_uri, folder)
    except (ValueError, OSError) as error:
        print(f"error: the base model in {folder} was not registered: {error}", file=sys.stderr)
        return
    if version is not None:
        print(f"registered the base model in {folder} as {BASE_MODEL!r} version {version} ({CHAMPION_ALIAS})")


def print_summary(results: list[TrainResult], seconds: float) -> None:
    """One row per model; "champion" is the version the alias points at once every job has
    ended (a job that finished first saw only the versions registered before it)."""
    from training.tracking import champion_version

    champions = {result.name: champion_version(result.name) for result in results if result.version}
    width = max([len(result.name) for result in results] + [10]) + 2
    print(
        f"\n{'series':<{width}}{'candidate':<12}{'version':<9}{'champion':<10}{'val MASE':>9}  test MASE (model / snaive)  seconds"
    )
    for result in results:
        tests = "  ".join(
            f"h{h}: {bt.metrics['model']['mase']:.3f}/{bt.metrics['seasonal_naive']['mase']:.3f}"
            for h, bt in result.backtests.items()
        )
        print(
            f"{result.name:<{width}}{result.cell:<12}{result.version or '-':<9}{champions.get(result.name) or '-':<10}"
            f"{result.val_mase:>9.3f}  {tests}  {result.seconds:.1f}"
        )
    print(f"trained {len(results)} model(s) in {seconds:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
