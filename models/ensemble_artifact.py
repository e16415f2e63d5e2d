"""A combination of candidates as one model: the mean of its members' forecasts.

`make train` combines a series' local model (the better cell on validation), the zero-shot and
the fine-tuned base: their errors differ, and on the generalisation sets the mean of the three
beat each of them and any choice among them on validation (benchmarks/results/ablations.md
section 24). The members keep their own folders; the combination has its own calibration,
made from its own validation errors in units of the window's mean absolute step (`unit`).

One folder: `ensemble.json` (format, member folders, metadata), `calibration.pt`, and one
sub-folder per member, each what that member's kind writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from models import calibration
from models.artifact import ArtifactMetadata, Forecast, ForecasterArtifact
from models.base_artifact import BaseArtifact, load_member
from models.base_network import BaseConfig
from models.calibration import Calibration
from models.network import ForecasterConfig
from models.window import normalise_window

ENSEMBLE_FILE = "ensemble.json"
CALIBRATION_FILE = "calibration.pt"
ENSEMBLE_FORMAT = "ensemble-1"
# the latest values the interval unit (their mean absolute step) is read from
UNIT_CONTEXT = 96

Member = ForecasterArtifact | BaseArtifact


def is_ensemble_artifact(directory: str | Path) -> bool:
    return (Path(directory) / ENSEMBLE_FILE).is_file()


def unit(history: torch.Tensor) -> torch.Tensor:
    """history [B, T] (NaN-padded on the left) -> the unit of the combination's intervals [B, 1]:
    the mean absolute step of the latest UNIT_CONTEXT values."""
    return normalise_window(
        history[:, -UNIT_CONTEXT:].to(torch.float32), torch.ones(len(history)), UNIT_CONTEXT
    ).scale


def conformity_scores(history: torch.Tensor, forecast: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """|forecast - target| [B, h] in `unit`s of each history: the one place that makes the
    combination's scores (NaN where the target is)."""
    return calibration.scores(forecast - target, 1.0, unit(history))


@dataclass
class EnsembleArtifact:
    members: list[Member]
    calibration: Calibration
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
        return max([UNIT_CONTEXT, *(member.lookback for member in self.members)])

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

    def detect_seasons(self, histories: Sequence[Sequence[float]]) -> list[int]:
        return [self.fixed_season] * len(histories)

    def seasons_for(self, histories: Sequence[Sequence[float]], season: int | None) -> list[int]:
        return [self.fixed_season] * len(histories)

    def predict(
        self, history: torch.Tensor, horizon: int, levels: Sequence[float] = (), seasons: Sequence[int] = ()
    ) -> Forecast:
        """The mean of the members' forecasts; intervals from the combination's own calibration."""
        self.check_horizon(horizon)
        seasons = list(seasons) or [self.fixed_season] * history.shape[0]
        with torch.inference_mode():
            forecast = torch.stack(
                [member.predict(history, horizon, seasons=seasons).point for member in self.members]
            ).mean(dim=0)
            intervals = {}
            if levels:
                width_unit = unit(history)
                for level in levels:
                    width = self.calibration.half_widths(width_unit, level, horizon)
                    intervals[level] = (forecast - width, forecast + width)
        return Forecast(point=forecast, intervals=intervals)

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        folders = [f"member{index}" for index in range(len(self.members))]
        for member, folder in zip(self.members, folders, strict=True):
            member.save(directory / folder)
        document = {"format": ENSEMBLE_FORMAT, "members": folders, "metadata": self.metadata.to_dict()}
        (directory / ENSEMBLE_FILE).write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        torch.save({"scores": self.calibration.scores}, directory / CALIBRATION_FILE)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> EnsembleArtifact:
        directory = Path(directory)
        document = json.loads((directory / ENSEMBLE_FILE).read_text())
        if document.get("format") != ENSEMBLE_FORMAT:
            raise ValueError(f"unsupported ensemble format {document.get('format')!r} in {directory}")
        members = [load_member(directory / folder) for folder in document["members"]]
        scores = torch.load(directory / CALIBRATION_FILE, weights_only=True, map_location="cpu")["scores"]
        return cls(members, Calibration(scores), ArtifactMetadata.from_dict(document.get("metadata", {})))
