"""A combination of candidates as one model: the mean of its members' forecasts.

`make train` combines a series' local model (the better cell on validation), the zero-shot and
the fine-tuned base: their errors differ, and on the generalisation sets the mean of the three
beat each of them and any choice among them on validation (benchmarks/results/ablations.md
section 24). Its interval bounds are the means of its members' bounds, each member calibrated
on its own validation errors: on the generalisation sets that covered as nominal as the
members do, where intervals calibrated on the combination's own (few) validation errors did
not (section 24).

One folder: `ensemble.json` (format, member folders, metadata) and one sub-folder per member,
each what that member's kind writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from models.artifact import ArtifactMetadata, Forecast, ForecasterArtifact
from models.base_artifact import BaseArtifact, load_member, predict_together
from models.base_network import BaseConfig
from models.network import ForecasterConfig

ENSEMBLE_FILE = "ensemble.json"
ENSEMBLE_FORMAT = "ensemble-1"

Member = ForecasterArtifact | BaseArtifact


def is_ensemble_artifact(directory: str | Path) -> bool:
    return (Path(directory) / ENSEMBLE_FILE).is_file()


@dataclass
class EnsembleArtifact:
    members: list[Member]
    metadata: ArtifactMetadata = field(default_factory=ArtifactMetadata)
    kind = "ensemble"

    @property
    def config(self) -> ForecasterConfig | BaseConfig:
        """The first member's configuration: the local model's, as `make train` combines them."""
        return self.members[0].config

    @property
    def cell(self) -> str | None:
        return self.members[0].cell

    @property
    def min_history(self) -> int:
        return max(member.min_history for member in self.members)

    @property
    def lookback(self) -> int:
        return max(member.lookback for member in self.members)

    @property
    def max_horizon(self) -> int:
        return min(member.max_horizon for member in self.members)

    @property
    def requires_positive(self) -> bool:
        return any(member.requires_positive for member in self.members)

    @property
    def fixed_season(self) -> int:
        """The season every forecast uses: its series'."""
        return int(self.metadata.season_length)

    def check_horizon(self, horizon: int) -> None:
        for member in self.members:
            member.check_horizon(horizon)

    def check_history(self, history: Sequence[float]) -> None:
        for member in self.members:
            member.check_history(history)

    def seasons_for(self, histories: Sequence[Sequence[float]], season: int | None) -> list[int]:
        return [self.fixed_season] * len(histories)

    def predict(
        self, history: torch.Tensor, horizon: int, levels: Sequence[float] = (), seasons: Sequence[int] = ()
    ) -> Forecast:
        """The mean of the members' forecasts, each interval bound the mean of theirs."""
        self.check_horizon(horizon)
        seasons = list(seasons) or [self.fixed_season] * history.shape[0]
        forecasts = self._member_forecasts(history, horizon, levels, seasons)
        return Forecast(
            point=torch.stack([forecast.point for forecast in forecasts]).mean(dim=0),
            intervals={
                level: tuple(
                    torch.stack([forecast.intervals[level][bound] for forecast in forecasts]).mean(dim=0)
                    for bound in (0, 1)
                )
                for level in levels
            },
        )

    def _member_forecasts(
        self, history: torch.Tensor, horizon: int, levels: Sequence[float], seasons: Sequence[int]
    ) -> list[Forecast]:
        """Each member's forecast, in order; base members that read the same candidates (the
        zero-shot and the fine-tuned base: one network, or the zero-shot pair of seasons 2-23
        when every row has such a season) compute them once."""
        forecasts: dict[int, Forecast] = {}
        shared: dict[tuple, list[int]] = {}
        for index, member in enumerate(self.members):
            if isinstance(member, BaseArtifact) and member.unrouted(history, seasons):
                shared.setdefault(member.config.candidate_settings, []).append(index)
            else:
                forecasts[index] = member.predict(history, horizon, levels, seasons)
        for indices in shared.values():
            together = [self.members[index] for index in indices]
            forecasts.update(
                zip(indices, predict_together(together, history, horizon, levels, seasons), strict=True)
            )
        return [forecasts[index] for index in range(len(self.members))]

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        folders = [f"member{index}" for index in range(len(self.members))]
        for member, folder in zip(self.members, folders, strict=True):
            member.save(directory / folder)
        document = {"format": ENSEMBLE_FORMAT, "members": folders, "metadata": self.metadata.to_dict()}
        (directory / ENSEMBLE_FILE).write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> EnsembleArtifact:
        directory = Path(directory)
        document = json.loads((directory / ENSEMBLE_FILE).read_text())
        if document.get("format") != ENSEMBLE_FORMAT:
            raise ValueError(f"unsupported ensemble format {document.get('format')!r} in {directory}")
        members = [load_member(directory / folder) for folder in document["members"]]
        return cls(members, ArtifactMetadata.from_dict(document.get("metadata", {})))
