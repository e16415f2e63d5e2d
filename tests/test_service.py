"""End-to-end: a real uvicorn server over a real (temporary) MLflow store, real HTTP."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest
import torch
from live_server import running_service
from mlflow import MlflowClient


@pytest.fixture(scope="module")
def server(trained_store):
    with running_service(trained_store.store_dir, trained_store.tracking_uri) as base:
        yield base


@pytest.fixture(scope="module")
def artifact(trained_store):
    return trained_store.result.artifact


def post(base: str, body: dict, **kwargs) -> httpx.Response:
    return httpx.post(f"{base}/forecast", json=body, timeout=30, **kwargs)


def reload(base: str, **kwargs) -> httpx.Response:
    # a reload reads the registry (the service's first MLflow import): seconds on a loaded machine
    return httpx.post(f"{base}/models/reload", timeout=60, **kwargs)


def history_of(artifact, offset: int = 0) -> list[float]:
    tail = artifact.metadata.tail
    return [value * (1 + 0.01 * offset) for value in tail]


def in_process(artifact, history: list[float], horizon: int, levels=()):
    return artifact.predict(torch.tensor([history]), horizon, levels)


@pytest.mark.parametrize("horizon", [1, 5, 12, 30])
def test_forecast_matches_in_process_model(server, trained_store, artifact, horizon):
    history = history_of(artifact, 3)
    response = post(server, {"model": trained_store.name, "horizon": horizon, "history": history})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["horizon"] == horizon
    assert len(body["forecast"]) == horizon
    assert body["model"]["name"] == trained_store.name
    assert body["model"]["version"] == trained_store.result.version
    assert body["model"]["run_id"] == trained_store.result.run_id
    expected = in_process(artifact, history, horizon).point[0]
    assert torch.allclose(torch.tensor(body["forecast"]), expected, rtol=1e-5)


def test_batch_equals_single_requests(server, trained_store, artifact):
    # different lengths, all between min_history and lookback: each row has its own seasonal profile
    assert artifact.min_history + 30 < len(artifact.metadata.tail) <= artifact.lookback
    histories = {f"s{i}": history_of(artifact, i)[10 * i :] for i in range(4)}
    batch = post(
        server,
        {
            "model": trained_store.name,
            "horizon": 6,
            "level": [80],
            "series": [{"id": key, "history": value} for key, value in histories.items()],
        },
    )
    assert batch.status_code == 200, batch.text
    answers = batch.json()["forecasts"]
    assert [answer["id"] for answer in answers] == list(histories)
    # float32: a padded batch computes the profile by another route than a lone row (a few ulp)
    for answer in answers:
        single = post(
            server,
            {"model": trained_store.name, "horizon": 6, "level": [80], "history": histories[answer["id"]]},
        ).json()
        assert answer["forecast"] == pytest.approx(single["forecast"], rel=1e-5)
        assert answer["intervals"]["80"]["lower"] == pytest.approx(
            single["intervals"]["80"]["lower"], rel=1e-5
        )


def test_omitted_history_continues_the_trained_series(server, trained_store, artifact):
    omitted = post(server, {"model": trained_store.name, "horizon": 4}).json()
    explicit = post(
        server, {"model": trained_store.name, "horizon": 4, "history": artifact.metadata.tail}
    ).json()
    assert omitted["forecast"] == pytest.approx(explicit["forecast"], rel=1e-6)
    assert omitted["timestamps"] == artifact.metadata.future_timestamps[:4]
    assert explicit["timestamps"] is None


def test_start_gives_timestamps(server, trained_store, artifact):
    body = {
        "model": trained_store.name,
        "horizon": 3,
        "history": artifact.metadata.tail,
        "start": "2020-01-01",
    }
    answer = post(server, body).json()
    assert answer["timestamps"] == ["2020-02-01T00:00:00", "2020-03-01T00:00:00", "2020-04-01T00:00:00"]


def test_intervals_nest_and_contain_the_forecast(server, trained_store, artifact):
    horizon = artifact.config.horizon + 6  # past the trained horizon too
    answer = post(server, {"model": trained_store.name, "horizon": horizon, "level": [80, 95]}).json()
    point = torch.tensor(answer["forecast"])
    inner, outer = answer["intervals"]["80"], answer["intervals"]["95"]
    assert torch.all(torch.tensor(outer["lower"]) <= torch.tensor(inner["lower"]))
    assert torch.all(torch.tensor(inner["lower"]) <= point)
    assert torch.all(point <= torch.tensor(inner["upper"]))
    assert torch.all(torch.tensor(inner["upper"]) <= torch.tensor(outer["upper"]))


def test_model_routes(server, trained_store, artifact):
    listed = httpx.get(f"{server}/models").json()["models"]
    assert [model["name"] for model in listed] == [trained_store.name]
    info = httpx.get(f"{server}/models/{trained_store.name}").json()
    assert info["min_history"] == artifact.min_history
    assert info["trained_horizon"] == artifact.config.horizon
    assert info["cell"] == artifact.config.cell
    assert "h" + str(artifact.config.horizon) in info["test_metrics"]
    assert httpx.get(f"{server}/models/unknown").status_code == 404
    assert httpx.get(f"{server}/health").json() == {"status": "ok"}
    assert httpx.get(f"{server}/ready").status_code == 200
    assert httpx.get(f"{server}/no/such/path").status_code == 404
    metrics = httpx.get(f"{server}/metrics")
    assert metrics.status_code == 200 and "x-request-id" in metrics.headers
    # counted by route template (not by raw path) and status class; /metrics itself is not counted
    assert 'http_requests_total{handler="/models/{name}",method="GET",status="4xx"}' in metrics.text
    assert 'http_requests_total{handler="none",method="GET",status="4xx"}' in metrics.text
    assert 'http_request_duration_seconds_bucket{handler="/health",le="0.005",method="GET"}' in metrics.text
    assert 'handler="/metrics"' not in metrics.text


def bad_requests(name: str, tail: list[float]) -> list[tuple[dict, int, list]]:
    """(body, status, loc) for each bad-input rule of SPEC.md."""
    return [
        ({"model": name, "history": [*tail[:-1], "abc"]}, 422, ["body", "history", len(tail) - 1]),
        ({"model": name, "history": tail[:3]}, 422, ["body", "history"]),
        ({"model": name, "series": []}, 422, ["body", "series"]),
        (
            {"model": name, "series": [{"id": "a", "history": tail}, {"id": "b", "history": tail[:2]}]},
            422,
            ["body", "series", 1, "history"],
        ),
        ({"model": name, "horizon": 0}, 422, ["body", "horizon"]),
        ({"model": name, "horizon": 100_000}, 422, ["body", "horizon"]),
        ({"model": name, "horizon": 10_000}, 422, ["body", "horizon"]),
        ({"model": name, "level": [100]}, 422, ["body", "level", 0]),
        ({"model": name, "level": [0]}, 422, ["body", "level", 0]),
        ({"model": name, "level": [80, 0.95]}, 422, ["body", "level", 1]),
        ({"model": name, "history": [-v for v in tail]}, 422, ["body", "history"]),
        ({"model": name, "history": tail, "series": [{"history": tail}]}, 422, ["body"]),
        ({"model": name, "unexpected": 1}, 422, ["body", "unexpected"]),
        ({"horizon": 3}, 422, ["body", "model"]),
        ({"model": "no-such-model"}, 404, None),
        ({"model": name, "version": 999}, 404, None),
        ({"model": name, "version": "no-such-alias"}, 404, None),
    ]


def test_every_bad_input_gets_its_4xx_naming_the_field(server, trained_store, artifact):
    for body, status, loc in bad_requests(trained_store.name, artifact.metadata.tail):
        response = post(server, body)
        assert response.status_code == status, (body, response.text)
        detail = response.json()["detail"]
        if loc is None:
            assert isinstance(detail, str) and detail
        else:
            assert loc in [error["loc"] for error in detail], (body, detail)
            assert all(error["msg"] for error in detail)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "x", "history": [NaN]}',
        b'{"model": "x", "history": [Infinity]}',
        b"not json",
        b"",
        b"[1, 2]",
        b'{"model": ',
    ],
)
def test_non_json_and_non_finite_bodies_are_422_not_500(server, raw):
    response = httpx.post(f"{server}/forecast", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_non_finite_literals_still_name_the_field(server):
    """orjson refuses NaN / Infinity literals; the fallback parser keeps the field-level 422."""
    raw = b'{"model": "x", "history": [1.0, NaN]}'
    response = httpx.post(f"{server}/forecast", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert ["body", "history", 1] in [error["loc"] for error in response.json()["detail"]]


def test_a_fraction_as_level_is_refused_as_not_a_percentage(server, trained_store):
    response = post(server, {"model": trained_store.name, "level": [0.95]})
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "level", 0]
    assert "percentages" in problem["msg"] and "send 95" in problem["msg"]
    assert post(server, {"model": trained_store.name, "level": [1, 99.5]}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-type": "application/x-www-form-urlencoded"}, {"content-type": "text/plain"}],
    ids=["none", "form (curl -d)", "text"],
)
def test_json_without_its_content_type_is_415_naming_the_header(server, trained_store, headers):
    raw = f'{{"model": "{trained_store.name}", "horizon": 2}}'.encode()
    response = httpx.post(f"{server}/forecast", content=raw, headers=headers)
    assert response.status_code == 415, response.text
    assert "Content-Type: application/json" in response.json()["detail"]
    for content_type in ("application/json; charset=utf-8", "application/vnd.forecast+json"):
        accepted = httpx.post(f"{server}/forecast", content=raw, headers={"content-type": content_type})
        assert accepted.status_code == 200, (content_type, accepted.text)


def test_every_status_of_the_json_contract_is_declared(server):
    declared = httpx.get(f"{server}/openapi.json").json()["paths"]["/forecast"]["post"]["responses"]
    assert {"200", "404", "413", "415", "422"} <= set(declared)


def test_body_over_the_limit_is_413(server):
    oversized = b'{"model": "x", "history": [' + b"1," * 1_200_000 + b"1]}"
    assert (
        httpx.post(
            f"{server}/forecast", content=oversized, headers={"content-type": "application/json"}
        ).status_code
        == 413
    )

    def chunks():
        yield b'{"model": "x", "history": ['
        for _ in range(300):
            yield b"1," * 5000
        yield b"1]}"

    streamed = httpx.post(
        f"{server}/forecast", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


def test_request_id_is_echoed(server, trained_store):
    response = post(server, {"model": trained_store.name}, headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


def test_api_key_when_configured(trained_store):
    with running_service(
        trained_store.store_dir, trained_store.tracking_uri, FORECAST_API_KEY="s3cret"
    ) as base:
        body = {"model": trained_store.name}
        assert post(base, body).status_code == 401
        assert post(base, body, headers={"x-api-key": "wrong"}).status_code == 401
        assert post(base, body, headers={"x-api-key": "s3cret"}).status_code == 200
        assert reload(base).status_code == 401
        assert reload(base, headers={"x-api-key": "s3cret"}).json()["ok"] is True
        assert httpx.get(f"{base}/health").status_code == 200


def test_reload_swaps_to_the_newly_promoted_version(trained_store, tmp_path):
    # a copy of the store, so promoting here leaves the shared fixture alone
    for item in ("mlflow.db",):
        shutil.copy(trained_store.store_dir / item, tmp_path / item)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    current = client.get_model_version_by_alias(trained_store.name, "champion")
    with running_service(tmp_path, uri) as base:
        before = post(base, {"model": trained_store.name}).json()["model"]["version"]
        assert before == str(current.version)
        unchanged = reload(base).json()
        assert unchanged["models"][0]["status"] == "unchanged"
        promoted = client.create_model_version(trained_store.name, current.source, run_id=current.run_id)
        client.set_registered_model_alias(trained_store.name, "champion", promoted.version)
        report = reload(base).json()
        assert report["ok"] is True
        assert report["models"][0] == {
            "name": trained_store.name,
            "status": "updated",
            "version": str(promoted.version),
            "previous_version": before,
            "error": None,
        }
        assert post(base, {"model": trained_store.name}).json()["model"]["version"] == str(promoted.version)
        # an explicit older version is still answerable
        pinned = post(base, {"model": trained_store.name, "version": int(before)}).json()
        assert pinned["model"]["version"] == before


def test_failed_reload_keeps_the_old_model(trained_store, tmp_path):
    shutil.copy(trained_store.store_dir / "mlflow.db", tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    current = client.get_model_version_by_alias(trained_store.name, "champion")
    broken_dir = tmp_path / "broken" / "artifacts" / "forecaster"
    broken_dir.mkdir(parents=True)
    (broken_dir / "forecaster.json").write_text("{not json")
    with running_service(tmp_path, uri) as base:
        broken = client.create_model_version(
            trained_store.name, str(tmp_path / "broken"), run_id=current.run_id
        )
        client.set_registered_model_alias(trained_store.name, "champion", broken.version)
        report = reload(base).json()
        assert report["ok"] is False
        assert report["models"][0]["status"] == "failed" and report["models"][0]["error"]
        answer = post(base, {"model": trained_store.name})
        assert answer.status_code == 200
        assert answer.json()["model"]["version"] == str(current.version)


def test_not_ready_until_the_store_has_a_champion(trained_store, tmp_path):
    uri = f"sqlite:///{tmp_path / 'missing.db'}"
    with running_service(tmp_path, uri, wait_ready=False) as base:
        ready = httpx.get(f"{base}/ready")
        assert ready.status_code == 503
        assert ready.json()["ready"] is False and ready.json()["error"]
        assert httpx.get(f"{base}/health").status_code == 200
        assert post(base, {"model": "anything"}).status_code == 404
        # the store appears (as a tracking server coming back would): the service recovers
        shutil.copy(trained_store.store_dir / "mlflow.db", tmp_path / "missing.db")
        deadline = time.monotonic() + 30
        while httpx.get(f"{base}/ready").status_code != 200:
            assert time.monotonic() < deadline, httpx.get(f"{base}/ready").text
            time.sleep(0.2)
        assert post(base, {"model": trained_store.name}).status_code == 200


def test_an_empty_api_key_setting_means_no_key(monkeypatch):
    from service.settings import Settings

    monkeypatch.setenv("FORECAST_API_KEY", "")
    assert Settings().api_key is None
    monkeypatch.setenv("FORECAST_API_KEY", "k")
    assert Settings().api_key.get_secret_value() == "k"
