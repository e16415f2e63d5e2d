"""The ensemble candidate of a series and the champion rule.

After a series' candidates are trained, `combine` makes one more: the mean of its local model
(the cell with the lower validation MASE), its zero-shot and its fine-tuned base
(`models.ensemble_artifact`). It is scored like every candidate - validation MASE on the same
whole validation windows (the mean of the members' own validation forecasts), the rolling-origin
backtest of the mean of the members' held-out fits (interval bounds: the means of theirs) -
then logged and registered as candidate `ensemble`, its members' served models inside it.

The champion rule (`choose`): the ensemble, unless one member's validation errors are lower
in a one-sided paired t-test over non-overlapping validation windows (Student's t). Replayed
on the generalisation sets, taking the lowest validation MASE among four candidates scored
1.000x AutoETS and the combination 0.950x; the rule keeps a member only where validation shows
it is better with evidence (benchmarks/results/ablations.md sections 24-27).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from statistics import NormalDist

import torch

from models.ensemble_artifact import EnsembleArtifact
from training import tracking
from training.backtest import validation_errors
from training.baselines import Baselines
from training.config import TrainConfig, load_panel
from training.data import SeriesData
from training.pipeline import TrainResult, backtest_panel, series_metadata

ENSEMBLE = "ensemble"
BASE_MEMBERS = ("zero-shot", "fine-tuned")
# a member replaces the combination only when a one-sided paired t-test of its validation
# losses against the combination's (one per non-overlapping window) is significant at this level
SIGNIFICANCE = 0.025


def members_of(results: Sequence[TrainResult]) -> list[TrainResult] | None:
    """The local candidate with the lowest validation MASE, the zero-shot and the fine-tuned
    base of one series' results; None when one is missing (e.g. `--from-scratch`)."""
    by_label = {result.cell: result for result in results}
    local = [result for result in results if result.cell not in (*BASE_MEMBERS, ENSEMBLE)]
    if not local or any(label not in by_label for label in BASE_MEMBERS):
        return None
    return [min(local, key=lambda result: result.val_mase), *(by_label[label] for label in BASE_MEMBERS)]


def _validation(
    panel: list[SeriesData], config: TrainConfig, forecasts: list[torch.Tensor]
) -> tuple[torch.Tensor, float]:
    """For one candidate's whole-window validation forecasts (one [n, H] per series): (the loss
    of every H-th window - |error| / the series' MASE scale, averaged over its steps - and the
    validation MASE over every window: the mean over the series)."""
    losses, mases = [], []
    for series, forecast in zip(panel, forecasts, strict=True):
        errors = validation_errors(series.values, config, forecast)
        # windows H steps apart (back from the last origin) share no step: overlapping ones
        # would count one error up to H times as separate evidence
        losses.append(errors.mean(dim=1).flip(0)[:: config.horizon])
        mases.append(float(errors.mean()))
    return torch.cat(losses), sum(mases) / len(mases)


def _t_statistic(differences: torch.Tensor) -> float:
    """Paired t-statistic of at least two differences; -inf for identical negative ones."""
    spread = float(differences.std()) / math.sqrt(len(differences))
    mean = float(differences.mean())
    return mean / spread if spread > 0 else (-math.inf if mean < 0 else 0.0)


def critical_t(dof: int, tail: float = SIGNIFICANCE) -> float:
    """The quantile 1 - `tail` of Student's t with `dof` degrees of freedom: exact for 1 and 2,
    else the Cornish-Fisher expansion around the normal quantile (Abramowitz & Stegun 26.7.5;
    within 0.2 % from 3 degrees of freedom, tested against scipy, which training does not need)."""
    p = 1.0 - tail
    if dof == 1:
        return math.tan(math.pi * (p - 0.5))
    if dof == 2:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    z = NormalDist().inv_cdf(p)
    terms = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(term / dof ** (power + 1) for power, term in enumerate(terms))


def choose(member_losses: Sequence[torch.Tensor], combined_losses: torch.Tensor) -> int | None:
    """The member that replaces the combination (its index), or None: the member with the most
    negative paired t-statistic of its validation losses minus the combination's, if below
    minus Student's t quantile for that many windows (-12.7 with 2, -3.18 with 4, -2.05 with 28)."""
    windows = len(combined_losses)
    if windows < 2:
        return None
    statistics = [_t_statistic(losses - combined_losses) for losses in member_losses]
    best = min(range(len(statistics)), key=statistics.__getitem__)
    return best if statistics[best] < -critical_t(windows - 1) else None


def combine(
    members: list[TrainResult],
    panel: list[SeriesData],
    tracking_uri: str | None,
    baselines: Baselines | None = None,
    register: bool = True,
) -> tuple[TrainResult, str]:
    """The ensemble candidate of one series (or panel) from its members' results, logged and
    registered; and the champion label the rule chooses (`choose`), which the `champion` alias
    points at unless an older version of the model scored better on validation."""
    started = time.perf_counter()
    local = members[0]
    config = replace(TrainConfig.from_dict(local.artifact.metadata.train_config), candidate=ENSEMBLE)
    member_losses = [_validation(panel, config, member.validation)[0] for member in members]
    forecasts = [
        torch.stack([member.validation[index] for member in members]).mean(dim=0)
        for index in range(len(panel))
    ]
    losses, val_mase = _validation(panel, config, forecasts)
    served = EnsembleArtifact([member.artifact for member in members])
    metadata = series_metadata(panel, config, served.lookback, config.horizon)
    metadata.train_config = config.to_dict()
    metadata.val_mase = val_mase
    # the interval bounds are the members': the fewest scores any of them was calibrated on
    metadata.calibration_windows = min(
        member.artifact.metadata.calibration_windows or 0 for member in members
    )
    served.metadata = metadata
    held_out = EnsembleArtifact([member.held_out for member in members], metadata)
    chosen_index = choose(member_losses, losses)
    chosen = ENSEMBLE if chosen_index is None else members[chosen_index].cell
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
                "champion_rule": f"{chosen}: the ensemble unless a member's validation losses are lower "
                f"in a one-sided paired t-test over non-overlapping windows at {SIGNIFICANCE:g}",
            },
            {},
        )
        if baselines is not None:
            tracking.log_baselines(baselines, baselines.candidate_mase(panel, config, forecasts))
        version, champion = None, None
        if register:
            version = tracking.register(served, config.name, ENSEMBLE)
            chosen_version = version if chosen_index is None else members[chosen_index].version
            rivals = {member.version for member in members} | {version}
            champion = tracking.promote_chosen(config.name, chosen_version, rivals)
    result = TrainResult(
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
    return result, chosen


def combine_all(
    results: Sequence[TrainResult],
    tracking_uri: str | None,
    series: list[SeriesData] | None = None,
    baselines: dict[str, Baselines] | None = None,
) -> list[tuple[TrainResult, str]]:
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
