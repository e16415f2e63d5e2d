"""Any artifact training writes and the service loads, by the files in its folder."""

from __future__ import annotations

from pathlib import Path

from models.artifact import CONFIG_FILE, ForecasterArtifact
from models.base_artifact import BaseArtifact, is_base_artifact, load_member
from models.ensemble_artifact import EnsembleArtifact, is_ensemble_artifact

# a local forecaster, a base network (zero-shot or fine-tuned), or a combination of them
Artifact = ForecasterArtifact | BaseArtifact | EnsembleArtifact


def is_artifact(folder: str | Path) -> bool:
    """Whether `folder` holds an artifact of any kind."""
    folder = Path(folder)
    return (folder / CONFIG_FILE).is_file() or is_base_artifact(folder) or is_ensemble_artifact(folder)


def load_artifact(folder: str | Path) -> Artifact:
    """The artifact in `folder`, whichever kind training or `make pretrain` wrote there."""
    return EnsembleArtifact.load(folder) if is_ensemble_artifact(folder) else load_member(folder)
