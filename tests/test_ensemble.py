"""The ensemble artifact, in-process (the CLI, the registry and a real
server are exercised in tests/test_finetune.py)."""

from __future__ import annotations

import torch
from conftest import TINY_BASE, TINY_LONG_SEASONS

from models.artifact import ArtifactMetadata
from models.base_artifact import BaseArtifact
from models.base_network import BaseConfig, BaseNetwork
from models.calibration import Calibration
from models.ensemble_artifact import EnsembleArtifact
from models.loading import is_artifact, load_artifact
from models.priors import PRIORS


def _member(seed: int, season: int = 12, config: BaseConfig = TINY_BASE) -> BaseArtifact:
    torch.manual_seed(seed)
    metadata = ArtifactMetadata(name="sales", season_length=season)
    return BaseArtifact(config, BaseNetwork(config), Calibration(torch.rand(30, 6)), metadata)


def test_the_ensemble_forecasts_the_mean_of_its_members_and_round_trips(tmp_path):
    members = [_member(0), _member(1)]
    history = torch.randn(3, 40).cumsum(dim=1) + 50.0
    forecasts = [member.predict(history, 9, [80], seasons=[12] * 3) for member in members]
    ensemble = EnsembleArtifact(members, ArtifactMetadata(name="sales", season_length=12))
    prediction = ensemble.predict(history, 9, [80])
    torch.testing.assert_close(prediction.point, torch.stack([f.point for f in forecasts]).mean(dim=0))
    # each bound is the mean of the members' bounds
    for bound in (0, 1):
        torch.testing.assert_close(
            prediction.intervals[80][bound],
            torch.stack([f.intervals[80][bound] for f in forecasts]).mean(dim=0),
        )
    ensemble.save(tmp_path / "ensemble")
    assert is_artifact(tmp_path / "ensemble")
    loaded = load_artifact(tmp_path / "ensemble")
    assert isinstance(loaded, EnsembleArtifact) and loaded.kind == "ensemble" and len(loaded.members) == 2
    torch.testing.assert_close(loaded.predict(history, 9, [80]).intervals[80][0], prediction.intervals[80][0])
    assert loaded.fixed_season == 12 and loaded.lookback == TINY_BASE.context_length


def test_base_members_that_read_the_same_candidates_compute_them_once(monkeypatch):
    """The zero-shot and the fine-tuned base of a series mix the same candidates: the ensemble
    computes them once for both, and each member still forecasts exactly as it does alone."""
    other = TINY_LONG_SEASONS
    members = [_member(0), _member(1), _member(2, config=other)]
    history = torch.randn(4, 40).cumsum(dim=1) + 50.0
    alone = [member.predict(history, 6, [80], seasons=[12] * 4) for member in members]
    ensemble = EnsembleArtifact(members, ArtifactMetadata(name="sales", season_length=12))
    computed = []
    candidates = BaseNetwork.candidates
    monkeypatch.setattr(
        BaseNetwork,
        "candidates",
        lambda network, window: computed.append(network) or candidates(network, window),
    )
    together = ensemble._member_forecasts(history, 6, [80], [12] * 4)
    # once for the two alike, once for the member with other priors (within the trained
    # horizon: steps fed back beyond it read each network's own forecast)
    assert [network.config.priors for network in computed] == [TINY_BASE.priors, PRIORS]
    for own, shared in zip(alone, together, strict=True):
        assert torch.equal(own.point, shared.point)
        assert all(torch.equal(own.intervals[80][bound], shared.intervals[80][bound]) for bound in (0, 1))


def test_the_champion_goes_to_this_runs_ensemble_unless_an_earlier_version_scored_better(in_tmp):
    """`promote_chosen` on a real SQLite registry: this run's ensemble wins over this run's lower
    validation scores, but not over an earlier run's."""
    from mlflow import MlflowClient

    from training import tracking

    uri = f"sqlite:///{in_tmp / 'mlflow.db'}"
    tracking.configure_tracking(uri)
    client = MlflowClient()
    client.create_registered_model("sales")

    def version(score: float) -> str:
        created = client.create_model_version(
            "sales", source=str(in_tmp), tags={tracking.SCORE_TAG: str(score)}
        )
        return str(created.version)

    first_run = {version(0.70), version(0.60)}
    assert tracking.promote_best("sales") == "2"
    # this run: its lowest score (0.50) is not the ensemble's (0.65), and the earlier champion (0.60) scored better
    this_run = {version(0.50), version(0.65)}
    assert tracking.promote_chosen("sales", "4", this_run) == "2"
    assert tracking.champion_version("sales") == "2"
    # against an earlier champion that scored worse, the ensemble wins though this run has a lower score
    client.set_registered_model_alias("sales", tracking.CHAMPION_ALIAS, "1")
    assert tracking.promote_chosen("sales", "4", this_run) == "4" == tracking.champion_version("sales")
    # an alias on one of this run's own versions (an interrupted run's) does not keep it from the ensemble
    client.set_registered_model_alias("sales", tracking.CHAMPION_ALIAS, "3")
    assert tracking.promote_chosen("sales", "4", this_run) == "4" and first_run == {"1", "2"}
