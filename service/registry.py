"""Resolve registered models (`models:/NAME@alias` or a version) to local artifact folders.

`import mlflow` costs seconds of start-up and ~100 MB of memory, while the service needs
three registry calls: which models carry the alias, which version an alias points to, and
where that version's files are. So the service speaks to the registry directly where that
is cheap and exact, and falls back to the MLflow client everywhere else:

- `http(s)://` tracking server: MLflow's public REST API (`/api/2.0/mlflow/...`) and its
  artifact proxy (`/api/2.0/mlflow-artifacts/...`), with the standard library only;
- `sqlite:///` embedded store: a read-only query of the registry tables (the test suite
  checks it against `MlflowClient` on every run, so a schema change fails CI, not users);
- anything else (or a fast path that fails): `mlflow.MlflowClient`, imported on first use.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from models.artifact import CONFIG_FILE, PYFUNC_ARTIFACT
from models.loading import is_artifact

# Inside an MLflow pyfunc model folder, our forecaster artifact sits here.
# where the pyfunc model keeps the artifact directory (training/tracking.py logs it there)
FORECASTER_SUBDIR = Path("artifacts") / PYFUNC_ARTIFACT


class RegistryError(RuntimeError):
    """The registry could not be reached or gave an unusable answer (retry later)."""


class ModelNotFound(LookupError):
    """No such registered model, version or alias (a client error)."""


@dataclass(frozen=True)
class ModelVersionRef:
    name: str
    version: str
    run_id: str
    location: str  # the version's model folder (a local path or a URI)
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)


class Registry(Protocol):
    def champions(self, alias: str) -> list[str]: ...
    def resolve(self, name: str, reference: str) -> ModelVersionRef: ...
    def fetch(self, ref: ModelVersionRef, destination: Path) -> Path:
        """Return a local folder holding the forecaster files (downloading into `destination` if remote)."""
        ...


def open_registry(tracking_uri: str, timeout: float = 10.0) -> Registry:
    scheme = urllib.parse.urlparse(tracking_uri).scheme
    if scheme in ("http", "https"):
        return RestRegistry(tracking_uri, timeout)
    if scheme == "sqlite":
        return SqliteRegistry(tracking_uri)
    return MlflowRegistry(tracking_uri)


def _local_path(location: str) -> Path:
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme in ("", "file"):
        return Path(urllib.parse.unquote(parsed.path if parsed.scheme else location))
    raise RegistryError(f"artifact location {location!r} is not a local path")


def unreadable(path: Path, cause: str) -> RegistryError:
    """The message for a store this process may not read (e.g. a 0700 directory of another
    user mounted into a container that runs as a non-root uid)."""
    return RegistryError(
        f"cannot read {path} as uid {os.getuid()}: {cause} "
        "(the store must be readable by the user the service runs as)"
    )


def _local_forecaster(model_dir: Path) -> Path:
    """A local store needs no copy: the artifact is read where the registry keeps it."""
    source = model_dir / FORECASTER_SUBDIR
    try:
        found = is_artifact(source)
    except OSError as error:
        raise unreadable(source, error.strerror or str(error)) from error
    if not found:
        raise RegistryError(
            f"{source} holds no forecaster, base or ensemble artifact ({CONFIG_FILE} missing)"
        )
    return source


class SqliteRegistry:
    """Read-only queries against the embedded store's registry tables."""

    def __init__(self, tracking_uri: str) -> None:
        path = tracking_uri.removeprefix("sqlite:///")
        self.path = Path(path if path.startswith("/") else Path.cwd() / path)
        self.tracking_uri = tracking_uri

    def _query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        try:
            found = self.path.is_file()
        except OSError as error:
            raise unreadable(self.path, error.strerror or str(error)) from error
        if not found:
            raise RegistryError(f"tracking store {self.path} does not exist (train a model first)")
        try:
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5.0) as connection:
                return connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            if not os.access(self.path, os.R_OK):
                raise unreadable(self.path, str(error)) from error
            raise RegistryError(f"cannot read the registry in {self.path}: {error}") from error

    def champions(self, alias: str) -> list[str]:
        rows = self._query(
            "SELECT DISTINCT name FROM registered_model_aliases WHERE alias = ? ORDER BY name", (alias,)
        )
        return [row[0] for row in rows]

    def resolve(self, name: str, reference: str) -> ModelVersionRef:
        if reference.isdigit():
            version = int(reference)
        else:
            rows = self._query(
                "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?", (name, reference)
            )
            if not rows:
                raise ModelNotFound(f"model {name!r} has no alias {reference!r}")
            version = rows[0][0]
        rows = self._query(
            "SELECT version, run_id, storage_location, source FROM model_versions "
            "WHERE name = ? AND version = ? AND status = 'READY'",
            (name, version),
        )
        if not rows:
            raise ModelNotFound(f"model {name!r} has no version {version}")
        version, run_id, storage_location, source = rows[0]
        tags = self._query(
            "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?", (name, version)
        )
        return ModelVersionRef(name, str(version), run_id or "", storage_location or source, dict(tags))

    def fetch(self, ref: ModelVersionRef, destination: Path) -> Path:
        return _local_forecaster(_local_path(ref.location))


class RestRegistry:
    """MLflow tracking server over its REST API, artifacts through its proxy."""

    def __init__(self, tracking_uri: str, timeout: float) -> None:
        self.base = tracking_uri.rstrip("/")
        self.timeout = timeout

    def _get(self, route: str, **query: str) -> dict:
        url = f"{self.base}{route}?{urllib.parse.urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            if error.code == 404 or "RESOURCE_DOES_NOT_EXIST" in body or "INVALID_PARAMETER_VALUE" in body:
                raise ModelNotFound(f"{route}: {body[:200]}") from error
            raise RegistryError(f"tracking server answered {error.code} for {route}: {body[:200]}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise RegistryError(f"tracking server {self.base} unreachable: {error}") from error

    def champions(self, alias: str) -> list[str]:
        names, token = [], ""
        while True:
            page = self._get("/api/2.0/mlflow/registered-models/search", max_results="1000", page_token=token)
            for model in page.get("registered_models", []):
                if any(entry.get("alias") == alias for entry in model.get("aliases", [])):
                    names.append(model["name"])
            token = page.get("next_page_token", "")
            if not token:
                return sorted(names)

    def resolve(self, name: str, reference: str) -> ModelVersionRef:
        if reference.isdigit():
            version = self._get("/api/2.0/mlflow/model-versions/get", name=name, version=reference)
        else:
            version = self._get("/api/2.0/mlflow/registered-models/alias", name=name, alias=reference)
        info = version["model_version"]
        location = self._get(
            "/api/2.0/mlflow/model-versions/get-download-uri", name=name, version=info["version"]
        )["artifact_uri"]
        tags = {tag["key"]: tag.get("value", "") for tag in info.get("tags", [])}
        return ModelVersionRef(name, str(info["version"]), info.get("run_id", ""), location, tags)

    def fetch(self, ref: ModelVersionRef, destination: Path) -> Path:
        parsed = urllib.parse.urlparse(ref.location)
        if parsed.scheme != "mlflow-artifacts":
            return _local_forecaster(_local_path(ref.location))
        folder = f"{parsed.path.lstrip('/')}/{FORECASTER_SUBDIR.as_posix()}"
        # the files of whichever kind of artifact the version holds (an ensemble's members are folders)
        if not self._download(folder, destination):
            raise RegistryError(f"{folder} on {self.base} holds no forecaster artifact")
        return destination

    def _download(self, folder: str, destination: Path) -> int:
        """Every file below `folder` on the server into `destination`; returns how many."""
        listing = self._get("/api/2.0/mlflow-artifacts/artifacts", path=folder)
        destination.mkdir(parents=True, exist_ok=True)
        count = 0
        for entry in listing.get("files", []):
            name = entry["path"].rsplit("/", 1)[-1]
            remote = f"{folder}/{name}"
            if entry.get("is_dir"):
                count += self._download(remote, destination / name)
                continue
            url = f"{self.base}/api/2.0/mlflow-artifacts/artifacts/{urllib.parse.quote(remote)}"
            try:
                with (
                    urllib.request.urlopen(url, timeout=self.timeout) as response,
                    open(destination / name, "wb") as target,
                ):
                    shutil.copyfileobj(response, target)
            except (urllib.error.URLError, TimeoutError, OSError) as error:
                raise RegistryError(f"cannot download {remote}: {error}") from error
            count += 1
        return count


class MlflowRegistry:
    """The general path: any tracking URI MLflow itself understands."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri

    def _client(self):
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def champions(self, alias: str) -> list[str]:
        try:
            models = self._client().search_registered_models()
        except Exception as error:  # mlflow raises many types for an unreachable store
            raise RegistryError(f"registry {self.tracking_uri} unreachable: {error}") from error
        return sorted(model.name for model in models if alias in (model.aliases or {}))

    def resolve(self, name: str, reference: str) -> ModelVersionRef:
        from mlflow.exceptions import MlflowException

        client = self._client()
        try:
            if reference.isdigit():
                version = client.get_model_version(name, reference)
            else:
                version = client.get_model_version_by_alias(name, reference)
            location = client.get_model_version_download_uri(name, version.version)
        except MlflowException as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise ModelNotFound(str(error)) from error
            raise RegistryError(str(error)) from error
        return ModelVersionRef(name, str(version.version), version.run_id or "", location, dict(version.tags))

    def fetch(self, ref: ModelVersionRef, destination: Path) -> Path:
        import mlflow.artifacts

        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{ref.location.rstrip('/')}/{FORECASTER_SUBDIR.as_posix()}",
                dst_path=str(destination),
                tracking_uri=self.tracking_uri,
            )
        except Exception as error:
            raise RegistryError(f"cannot download {ref.location}: {error}") from error
        return Path(local)
