"""The ensemble candidate of a series, the champion.

After a series' candidates are trained, `combine` makes one more: the mean of its local model
(the cell with the lower validation MASE), its zero-shot and its fine-tuned base
(`models.ensemble_artifact`). It is scored like every candidate - validation MASE on the same
whole validation windows (the mean of the members' own validation forecasts), the rolling-origin
backtest of the mean of the members' held-out fits (interval bounds: the means of theirs) -
then logged and registered as candidate `ensemble`, its members' served models inside it.

The champion is the ensemble. Choosing among the candidates on the validation part loses to
not choosing: the lowest validation MASE scored 1.000x AutoETS on the generalisation sets where
the mean scored 0.950x; keeping a member only where a paired t-test over the validation windows
said it was better still lost on the test part, on the 94 goal rows (every member it picked,
benchmarks/results/ablations.md section 37) and on 39 fresh M3 series (always the ensemble
0.990x its MASE, section 39).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import torch

from models.ensemble_artifact import EnsembleArtifact
from training import tracking
from training.backtest import validation_mase
from training.baselines import Baselines
from training.config import TrainConfig, load_panel, trained_on
from training.data import SeriesData
from training.pipeline import TrainResult, backtest_panel, series_metadata

ENSEMBLE = "ensemble"
BASE_MEMBERS = ("zero-shot", "fine-tuned")


def members_of(results: Sequence[TrainResult]) -> list[TrainResult] | None:
    """The local candidate with the lowest validation MASE, the zero-shot and the fine-tuned
    base of one series' results; None when one is missing (e.g. `--from-scratch`)."""
    by_label = {result.cell: result for result in results}
    local = [result for result in results if result.cell not in (*BASE_MEMBERS, ENSEMBLE)]
    if not local or any(label not in by_label for label in BASE_MEMBERS):
        return None
    return [min(local, key=lambda result: result.val_mase), *(by_label[label] for label in BASE_MEMBERS)]


def combine(
    members: list[TrainResult],
    panel: list[SeriesData],
    tracking_uri: str | None,
    baselines: Baselines | None = None,
    register: bool = True,
) -> TrainResult:
    """The ensemble candidate of one series (or panel) from its members' results, logged and
    registered as the champion (unless an earlier run's version scored better on validation)."""
    started = time.perf_counter()
    local = members[0]
    config = replace(TrainConfig.from_dict(local.artifact.metadata.train_config), candidate=ENSEMBLE)
    # every series is stored and served; the members trained and were scored on those with a window
    stored, panel = panel, trained_on(config, panel)
    forecasts = [
        torch.stack([member.validation[index] for member in members]).mean(dim=0)
        for index in range(len(panel))
    ]
    val_mase = validation_mase([series.values for series in panel], config, forecasts)
    served = EnsembleArtifact([member.artifact for member in members])
    metadata = series_metadata(stored, config, served.lookback, config.horizon)
    metadata.train_config = config.to_dict()
    metadata.val_mase = val_mase
    # the interval bounds are the members': the fewest scores any of them was calibrated on
    metadata.calibration_windows = min(
        member.artifact.metadata.calibration_windows or 0 for member in members
    )
    served.metadata = metadata
    held_out = EnsembleArtifact([member.held_out for member in members], metadata)
    with tracking.training_run(config, tracking_uri) as logger:
        backtests, series_backtests = backtest_panel(held_out, config, panel)
        tracking.log_results(
            held_out,
            backtests,
            series_backtests,
            panel,
            f"{config.name} ({ENSEMBLE})",
            time.perf_counter() - started,
        )
        tracking.log_provenance(
            {
                "members": ", ".join(f"{member.cell} (version {member.version})" for member in members),
                "val_mase_from": "the mean of the members' validation forecasts",
                "calibration_from": "each interval bound is the mean of the members' bounds",
                "test_metrics_from": "the mean of the members' held-out fits",
                "served_from": "the mean of the members' served models",
                "champion_rule": "ensemble: the champion is the ensemble of every run with the base candidates",
            },
            {},
        )
        if baselines is not None:
            tracking.log_baselines(baselines, baselines.candidate_mase(panel, config, forecasts))
        version, champion = None, None
        if register:
            version = tracking.register(served, config.name, ENSEMBLE)
            rivals = {member.version for member in members} | {version}
            champion = tracking.promote_chosen(config.name, version, rivals)
    return TrainResult(
        name=config.name,
        cell=ENSEMBLE,
        run_id=logger.run_id,
        version=version,
        champion=champion,
        val_mase=val_mase,
        backtests=backtests,
        series_backtests=series_backtests,
        artifact=served,
        seconds=time.perf_counter() - started,
        held_out=held_out,
        validation=forecasts,
    )


def combine_all(
    results: Sequence[TrainResult],
    tracking_uri: str | None,
    series: list[SeriesData] | None = None,
    baselines: dict[str, Baselines] | None = None,
) -> list[TrainResult]:
    """`combine` for every series among `results` that has all three members (`series`: the
    user file's, already read; else each series is read again from its config)."""
    combined = []
    for name in dict.fromkeys(result.name for result in results):
        members = members_of([result for result in results if result.name == name])
        if members is None:
            continue
        config = TrainConfig.from_dict(members[0].artifact.metadata.train_config)
        panel = series if series is not None else load_panel(config)
        combined.append(combine(members, panel, tracking_uri, (baselines or {}).get(name)))
    return combined
