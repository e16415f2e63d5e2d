"""In-memory model store: what the service serves, loaded from the registry.

Requests read `served` (a dict that is never mutated, only replaced), so a reload swaps
every model at once and a request always sees one complete model. Loads, reloads, start-up
retries and the periodic alias polls are serialised by a lock; a failed load keeps the old
model serving.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from models.loading import Artifact, load_artifact
from models.network import ForecasterConfig
from service.registry import ModelNotFound, ModelVersionRef, Registry, RegistryError
from service.schemas import ModelInfo, Readiness, ReloadOutcome, ReloadReport
from service.settings import Settings

log = logging.getLogger("service.store")
PINNED_CACHE_SIZE = 8
# GET /models/{name} lists at most this many of a panel model's series ids
LISTED_SERIES_IDS = 100
SHUTTING_DOWN = "shutting down: requests in flight are finishing; send new ones to another replica"


@dataclass(frozen=True)
class LoadedModel:
    ref: ModelVersionRef
    artifact: Artifact
    loaded_at: str

    @property
    def kind(self) -> str:
        return self.artifact.kind

    @property
    def fixed_season(self) -> int | None:
        """The season every forecast of this model uses; None when it is per request (zero-shot base)."""
        return self.artifact.fixed_season

    @property
    def cell(self) -> str | None:
        """The recurrent cell (an ensemble's: its local member's); None for a base network
        without a recurrent encoder."""
        return self.artifact.cell

    def info(self) -> ModelInfo:
        config = self.artifact.config
        metadata = self.artifact.metadata
        stored = metadata.series or {}
        local = config if isinstance(config, ForecasterConfig) else None
        return ModelInfo(
            name=self.ref.name,
            version=self.ref.version,
            run_id=self.ref.run_id,
            kind=self.kind,
            cell=self.cell,
            head=local.head if local else None,
            layers=config.num_layers if self.cell else None,
            hidden_size=config.hidden_size if self.cell else None,
            bidirectional=local.bidirectional if local else None,
            ensemble_size=local.ensemble_size if local else None,
            context_length=config.context_length,
            trained_horizon=config.horizon,
            max_horizon=self.artifact.max_horizon,
            min_history=self.artifact.min_history,
            lookback=self.artifact.lookback,
            log_transform=self.artifact.requires_positive,
            freq=metadata.freq,
            season_length=self.fixed_season,
            last_timestamp=metadata.last_timestamp,
            series_count=len(stored),
            series_ids=list(stored)[:LISTED_SERIES_IDS],
            val_mase=metadata.val_mase,
            test_metrics=metadata.test_metrics,
            loaded_at=self.loaded_at,
        )


class ModelStore:
    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry
        self.served: dict[str, LoadedModel] = {}
        self.expected: list[str] = list(settings.models)
        self.error: str | None = None
        self.shutting_down = False
        self._lock = threading.Lock()
        self._pinned: OrderedDict[tuple[str, str], LoadedModel] = OrderedDict()
        self._download_root = Path(settings.cache_dir or tempfile.mkdtemp(prefix="forecast-models-"))

    @property
    def loaded(self) -> bool:
        served = self.served
        return bool(self.expected) and all(name in served for name in self.expected)

    @property
    def ready(self) -> bool:
        return self.loaded and not self.shutting_down

    def readiness(self) -> Readiness:
        if self.shutting_down:
            return Readiness(ready=False, models=self.status(), error=SHUTTING_DOWN)
        ready = self.ready
        return Readiness(ready=ready, models=self.status(), error=None if ready else self.error)

    def begin_shutdown(self) -> None:
        """Readiness drops at once, so a load balancer stops routing here; requests that
        still arrive are answered as before."""
        self.shutting_down = True

    def status(self) -> dict[str, str]:
        served = self.served
        return {name: served[name].ref.version if name in served else "loading" for name in self.expected}

    def _load(self, ref: ModelVersionRef) -> LoadedModel:
        folder = self.registry.fetch(ref, self._download_root / ref.name / ref.version)
        try:
            artifact = load_artifact(folder)
        except Exception as error:  # a corrupt file raises UnpicklingError, EOFError, TypeError, ...
            raise RegistryError(
                f"artifact of {ref.name} v{ref.version} at {folder} is unusable: {error}"
            ) from error
        return LoadedModel(
            ref=ref, artifact=artifact, loaded_at=datetime.now(UTC).isoformat(timespec="seconds")
        )

    def reload(self) -> ReloadReport:
        """Re-resolve every served model's alias (or pinned version); swap in what changed."""
        with self._lock:
            # any error is reported (and retried by the loader), never raised into its thread
            try:
                names = list(self.settings.models) or self.registry.champions(self.settings.alias)
            except Exception as error:
                self.error = str(error)
                log.warning("registry unavailable: %s", error)
                return ReloadReport(
                    ok=False, models=[ReloadOutcome(name="*", status="failed", error=str(error))]
                )
            if not names:
                self.error = f"no registered model has the alias {self.settings.alias!r} yet"
                return ReloadReport(ok=False, models=[])
            current = self.served
            updated = dict(current)
            outcomes = []
            for name in names:
                outcomes.append(self._refresh(name, current.get(name), updated))
            self.expected = names
            self.served = updated
            failures = [outcome for outcome in outcomes if outcome.status == "failed"]
            self.error = "; ".join(f"{o.name}: {o.error}" for o in failures) or None
            return ReloadReport(ok=not failures, models=outcomes)

    def _refresh(
        self, name: str, previous: LoadedModel | None, updated: dict[str, LoadedModel]
    ) -> ReloadOutcome:
        old_version = previous.ref.version if previous else None
        try:
            ref = self.registry.resolve(name, self.settings.versions.get(name, self.settings.alias))
            if previous is not None and previous.ref == ref:
                return ReloadOutcome(
                    name=name, status="unchanged", version=ref.version, previous_version=old_version
                )
            updated[name] = self._load(ref)
        except Exception as error:  # whatever went wrong, the old version keeps serving
            log.warning("loading %s failed, keeping version %s: %s", name, old_version, error)
            return ReloadOutcome(
                name=name,
                status="failed",
                version=old_version,
                previous_version=old_version,
                error=str(error),
            )
        log.info("serving %s version %s (was %s)", name, ref.version, old_version)
        status = "loaded" if previous is None else "updated"
        return ReloadOutcome(name=name, status=status, version=ref.version, previous_version=old_version)

    def get(self, name: str) -> LoadedModel:
        model = self.served.get(name)
        if model is None:
            raise ModelNotFound(f"model {name!r} is not served; served models: {sorted(self.served)}")
        return model

    def get_version(self, name: str, reference: str) -> LoadedModel:
        """A specific version or alias of a served model (blocking: may hit the registry)."""
        served = self.get(name)
        if reference in (served.ref.version, self.settings.versions.get(name, self.settings.alias)):
            return served
        ref = self.registry.resolve(name, reference)
        key = (name, ref.version)
        with self._lock:
            cached = self._pinned.get(key)
            if cached is not None:
                self._pinned.move_to_end(key)
                return cached
            model = self._load(ref)
            self._pinned[key] = model
            if len(self._pinned) > PINNED_CACHE_SIZE:
                self._pinned.popitem(last=False)
            return model

    def keep_loading(self, stop: threading.Event) -> None:
        """Until the service stops: `reload` every `retry_seconds` while a model is missing,
        then every `poll_seconds`, so the service follows alias moves made in the registry
        (a failed poll keeps the served models). With `poll_seconds` 0 the thread ends once
        every model is loaded."""
        poll_seconds = self.settings.poll_seconds
        while not stop.is_set():
            report = self.reload()
            loaded = self.loaded
            if loaded and report.ok and not poll_seconds:
                return
            stop.wait(poll_seconds if loaded and poll_seconds else self.settings.retry_seconds)
