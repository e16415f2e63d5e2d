"""Every route reads the store and the settings through service.deps: overriding a
dependency (as a test or an embedding application would) changes what each route sees."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.deps import get_app_settings, get_store
from service.registry import open_registry
from service.settings import Settings
from service.store import ModelStore


@pytest.fixture
def client(trained_store):
    app = create_app(Settings(tracking_uri=trained_store.tracking_uri, retry_seconds=0.2, poll_seconds=0))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        deadline = time.monotonic() + 30
        while test_client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, test_client.get("/ready").text
            time.sleep(0.1)
        yield test_client
        app.dependency_overrides.clear()


def test_every_route_takes_the_store_from_the_dependency(client, trained_store, tmp_path):
    name = trained_store.name
    assert client.post("/forecast", json={"model": name}).status_code == 200
    # a real store over a registry that does not exist yet: nothing is served from it
    settings = Settings(tracking_uri=f"sqlite:///{tmp_path / 'empty.db'}")
    empty = ModelStore(settings, open_registry(settings.tracking_uri))
    client.app.dependency_overrides[get_store] = lambda: empty
    assert client.post("/forecast", json={"model": name}).status_code == 404
    assert client.post("/forecast", json={"model": name, "version": 1}).status_code == 404
    assert client.get("/ready").status_code == 503
    assert client.get("/models").json() == {"models": []}
    assert client.get(f"/models/{name}").status_code == 404
    assert client.post("/models/reload").json()["ok"] is False


def test_forecast_takes_the_settings_from_the_dependency(client, trained_store):
    tail = trained_store.result.artifact.metadata["tail"]
    body = {"model": trained_store.name, "series": [{"history": tail}, {"history": tail}]}
    assert client.post("/forecast", json=body).status_code == 200
    client.app.dependency_overrides[get_app_settings] = lambda: Settings(max_batch=1)
    refused = client.post("/forecast", json=body)
    assert refused.status_code == 422
    assert "limit of 1" in refused.json()["detail"][0]["msg"]
