"""The shipped base served as model `base`: registered as `python -m training --if-missing` does
into a real SQLite MLflow store (next to a local model), served by a real `python -m service`
process and by a real `mlflow models serve`. A tiny untrained base stands in for the shipped one:
these tests are about the interface, not the accuracy."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import pytest
from conftest import TINY_BASE, TINY_LONG_SEASONS, mlflow_pointed_at, seasonal_series
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from live_server import free_port, mlflow_models_serve, ready_client, running_service, wait_until_answering
from mlflow import MlflowClient

from models.artifact import left_padded
from models.base_artifact import DIGEST_TAG, BaseArtifact
from models.calibration import Calibration
from models.seasonality import detect_season
from service.app import create_app
from service.registry import RestRegistry
from service.settings import Settings
from training.__main__ import champion_holds, register_shipped_base
from training.shipped_base import register_base
from training.tracking import configure_tracking, promote_best, register

MONTHLY = [round(value, 3) for value in seasonal_series(60, season=12, seed=3)]
HOURLY = [round(value, 3) for value in seasonal_series(72, season=24, seed=4)]


@pytest.fixture(scope="module")
def base_store(tiny_base, trained_store, tmp_path_factory) -> tuple[Path, str]:
    """A new store: the base registered by the step `--if-missing` runs first, and the trained
    passengers model registered next to it (a local model with season 12 and freq MS)."""
    store_dir = tmp_path_factory.mktemp("base_store")
    tracking_uri = f"sqlite:///{store_dir / 'mlflow.db'}"
    with mlflow_pointed_at(store_dir):
        register_shipped_base(tracking_uri, tiny_base)
        configure_tracking(tracking_uri)
        with mlflow.start_run():
            register(trained_store.result.artifact, trained_store.name, "local")
            promote_best(trained_store.name)
    return store_dir, tracking_uri


@pytest.fixture(scope="module")
def server(base_store) -> Iterator[str]:
    store_dir, tracking_uri = base_store
    with running_service(store_dir, tracking_uri) as base:
        yield base


def forecast(server: str, **body: object) -> httpx.Response:
    return httpx.post(f"{server}/forecast", json={"model": "base", **body}, timeout=30)


def expected(tiny_base: Path, history: list[float], horizon: int, season: int, levels=()) -> dict:
    """The in-process forecast of the same artifact."""
    artifact = BaseArtifact.load(tiny_base)
    prediction = artifact.predict(left_padded([history[-artifact.lookback :]]), horizon, levels, [season])
    return {
        "forecast": prediction.point[0].tolist(),
        **{level: [bound[0].tolist() for bound in pair] for level, pair in prediction.intervals.items()},
    }


def test_the_base_is_registered_once_as_champion(base_store, tiny_base, capsys):
    _, tracking_uri = base_store
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    (version,) = client.search_model_versions("name = 'base'")
    assert str(client.get_model_version_by_alias("base", "champion").version) == str(version.version) == "1"
    run = client.get_run(version.run_id)
    assert run.data.tags["job"] == "register-base" and run.data.params["context_length"] == "24"
    with mlflow_pointed_at(base_store[0]):
        assert register_base(tracking_uri, tiny_base) is None
        register_shipped_base(tracking_uri, tiny_base)
    assert len(client.search_model_versions("name = 'base'")) == 1
    assert capsys.readouterr().out == ""


def test_a_new_base_folder_is_registered_once_and_becomes_champion(tiny_base, tmp_path):
    """An upgrade or a `make pretrain` rebuild: `make run` serves the base in models/base/."""
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    rebuilt = tmp_path / "rebuilt"
    artifact = BaseArtifact.load(tiny_base)
    artifact.calibration = Calibration(artifact.calibration.scores * 2.0)
    artifact.save(rebuilt)
    with mlflow_pointed_at(tmp_path):
        assert register_base(tracking_uri, tiny_base) == "1"
        # a version registered by a release before the tag holds the same files, unknown to it
        client.delete_model_version_tag("base", "1", DIGEST_TAG)
        assert register_base(tracking_uri, tiny_base) == "2"
        assert register_base(tracking_uri, tiny_base) is None
        assert register_base(tracking_uri, rebuilt) == "3"
        assert register_base(tracking_uri, rebuilt) is None
        # `make run`'s check, without mlflow: the champion holds the rebuilt folder, not the first
        assert champion_holds(tracking_uri, rebuilt) and not champion_holds(tracking_uri, tiny_base)
    assert str(client.get_model_version_by_alias("base", "champion").version) == "3"


def test_without_a_base_artifact_one_line_says_so(tmp_path, capsys):
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    register_shipped_base(tracking_uri, tmp_path / "base")
    (line,) = capsys.readouterr().out.splitlines()
    assert "make pretrain" in line and "'base' is not served" in line
    assert not (tmp_path / "mlflow.db").exists()


def test_models_route_describes_both_kinds(server):
    info = httpx.get(f"{server}/models/base", timeout=30).json()
    assert info["kind"] == "base" and info["name"] == "base" and info["version"] == "1"
    assert info["season_length"] is None and info["head"] is None and info["ensemble_size"] is None
    assert (info["min_history"], info["context_length"], info["trained_horizon"]) == (3, 24, 6)
    assert info["max_horizon"] == 60 and info["series_count"] == 0
    kinds = {
        model["name"]: model["kind"] for model in httpx.get(f"{server}/models", timeout=30).json()["models"]
    }
    assert kinds == {"base": "base", "passengers": "local"}


def test_a_given_season_is_used_and_said(server, tiny_base):
    response = forecast(server, history=MONTHLY, horizon=6, season=12, level=[80])
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model"]["kind"] == "base" and answer["model"]["name"] == "base"
    assert (answer["season"], answer["season_source"]) == (12, "given")
    reference = expected(tiny_base, MONTHLY, 6, 12, [80])
    assert answer["forecast"] == pytest.approx(reference["forecast"], rel=1e-6)
    assert [answer["intervals"]["80"]["lower"], answer["intervals"]["80"]["upper"]] == [
        pytest.approx(bound, rel=1e-6) for bound in reference[80]
    ]
    assert answer["timestamps"] is None


def test_without_a_season_it_is_detected_and_said(server, tiny_base):
    assert detect_season(MONTHLY) == 12
    answer = forecast(server, history=MONTHLY, horizon=8).json()
    assert (answer["season"], answer["season_source"]) == (12, "detected")
    assert answer["forecast"] == pytest.approx(expected(tiny_base, MONTHLY, 8, 12)["forecast"], rel=1e-6)
    # a history with no season: 1, and the forecast differs from the seasonal one
    trend = [float(value) for value in range(40)]
    answer = forecast(server, history=trend, horizon=3).json()
    assert (answer["season"], answer["season_source"]) == (1, "detected")


def test_a_season_longer_than_the_history_falls_back_to_none(server, tiny_base):
    answer = forecast(server, history=MONTHLY[:20], horizon=2, season=500).json()
    assert (answer["season"], answer["season_source"]) == (500, "given")
    assert answer["forecast"] == pytest.approx(expected(tiny_base, MONTHLY[:20], 2, 1)["forecast"], rel=1e-6)


def test_freq_and_start_give_timestamps(server):
    answer = forecast(server, history=MONTHLY, horizon=3, freq="MS", start="2020-12-01T00:00:00").json()
    assert answer["timestamps"] == ["2021-01-01T00:00:00", "2021-02-01T00:00:00", "2021-03-01T00:00:00"]
    answer = forecast(server, history=MONTHLY, horizon=2, freq="30min", start="2020-12-01T23:30:00").json()
    assert answer["timestamps"] == ["2020-12-02T00:00:00", "2020-12-02T00:30:00"]


def test_a_batch_takes_a_season_per_series(server, tiny_base):
    weekly = [10.0 + (day % 7 == 5) * 8.0 + 0.1 * day for day in range(42)]
    body = {
        "horizon": 4,
        "season": 4,
        "freq": "D",
        "series": [
            {"id": "monthly", "history": MONTHLY, "season": 12, "start": "2021-01-31T00:00:00"},
            {"id": "top", "history": MONTHLY[:30]},
            {"id": "weekly", "history": weekly, "season": 7},
            {"id": "hourly", "history": HOURLY, "season": 24},
        ],
    }
    response = forecast(server, **body)
    assert response.status_code == 200, response.text
    items = response.json()["forecasts"]
    assert [(item["id"], item["season"], item["season_source"]) for item in items] == [
        ("monthly", 12, "given"),
        ("top", 4, "given"),
        ("weekly", 7, "given"),
        ("hourly", 24, "given"),  # forecast by the long-season network
    ]
    for item, history in zip(items, (MONTHLY, MONTHLY[:30], weekly, HOURLY), strict=True):
        reference = expected(tiny_base, history, 4, item["season"])["forecast"]
        assert item["forecast"] == pytest.approx(reference, rel=1e-5), item["id"]
    assert items[0]["timestamps"][0] == "2021-02-01T00:00:00" and items[1]["timestamps"] is None
    # without a season anywhere, each series' own is detected
    detected = forecast(server, horizon=2, series=[{"history": MONTHLY}, {"history": weekly}]).json()
    assert [(item["season"], item["season_source"]) for item in detected["forecasts"]] == [
        (12, "detected"),
        (detect_season(weekly), "detected"),
    ]


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"season": 0}, ["body", "season"], ["greater than or equal to 1"]),
        ({"season": -1}, ["body", "season"], ["greater than or equal to 1"]),
        ({"season": 1.5}, ["body", "season"], ["integer"]),
        ({"season": "x"}, ["body", "season"], ["integer"]),
        ({"season": 10_001}, ["body", "season"], ["less than or equal to 10000"]),
        (
            {"history": None, "series": [{"history": MONTHLY, "season": 0}]},
            ["body", "series", 0, "season"],
            ["1"],
        ),
        ({"history": [1.0, 2.0]}, ["body", "history"], ["2 values", "at least 3"]),
        # finite in JSON, infinite in the float32 the networks compute in
        ({"history": [1e300, 2e300, 3e300, 4e300]}, ["body", "history"], ["finite numbers within"]),
        (
            {"history": None, "series": [{"history": MONTHLY}, {"history": [1.0, -1e39, 2.0]}]},
            ["body", "series", 1, "history"],
            ["finite numbers within"],
        ),
        ({"horizon": 61}, ["body", "horizon"], ["cap of 60"]),
        ({"horizon": 0}, ["body", "horizon"], ["greater than or equal to 1"]),
        ({"freq": "fortnightly"}, ["body", "freq"], ["unknown frequency 'fortnightly'"]),
        ({"level": [0.95]}, ["body", "level", 0], ["percentages"]),
        ({"history": None}, ["body", "history"], ["no series of its own", "`history`"]),
        ({"history": None, "series": [{"id": "a"}]}, ["body", "series", 0, "id"], ["no stored series 'a'"]),
    ],
)
def test_bad_input_to_the_base_is_a_422_naming_the_field(server, body, loc, words):
    request = {"model": "base", "history": MONTHLY, **body}
    response = httpx.post(
        f"{server}/forecast", json={k: v for k, v in request.items() if v is not None}, timeout=30
    )
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(error["loc"][: len(loc)] == loc for error in errors), errors
    message = " ".join(error["msg"] for error in errors)
    assert all(word in message for word in words), message


def test_non_finite_values_are_a_422_naming_the_value(server):
    for literal in (b"NaN", b"Infinity"):
        raw = b'{"model": "base", "history": [1.0, 2.0, 3.0, ' + literal + b"]}"
        response = httpx.post(
            f"{server}/forecast", content=raw, headers={"content-type": "application/json"}, timeout=30
        )
        assert response.status_code == 422, response.text
        assert ["body", "history", 3] in [error["loc"] for error in response.json()["detail"]]


def test_a_local_model_keeps_the_season_and_freq_it_was_trained_with(server, trained_store):
    name, history = trained_store.name, trained_store.result.artifact.metadata.tail

    def post(**body: object) -> httpx.Response:
        return httpx.post(f"{server}/forecast", json={"model": name, "horizon": 2, **body}, timeout=30)

    same = post(history=history, season=12, freq="MS")
    assert same.status_code == 200, same.text
    assert (same.json()["season"], same.json()["season_source"]) == (12, "model")
    assert same.json()["model"]["kind"] == "local"
    assert same.json()["forecast"] == post(history=history).json()["forecast"]
    for body, loc, words in [
        ({"season": 7}, ["body", "season"], ["trained with season 12", "send 12"]),
        ({"series": [{"history": history, "season": 7}]}, ["body", "series", 0, "season"], ["season 12"]),
        ({"freq": "D"}, ["body", "freq"], ["'MS'"]),
    ]:
        response = post(**body)
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == loc and all(word in error["msg"] for word in words), error


@pytest.fixture(scope="module")
def mlflow_serve_base(base_store, tmp_path_factory) -> Iterator[str]:
    """`mlflow models serve -m models:/base@champion`, as the README documents it."""
    _, tracking_uri = base_store
    with mlflow_models_serve("models:/base@champion", tracking_uri, tmp_path_factory.mktemp("serve")) as base:
        yield base


def test_mlflow_models_serve_forecasts_with_the_base(mlflow_serve_base, tiny_base):
    def invoke(**params: object) -> httpx.Response:
        body = {"dataframe_records": [{"history": MONTHLY}, {"history": [round(v) for v in MONTHLY[:20]]}]}
        return httpx.post(f"{mlflow_serve_base}/invocations", json={**body, "params": params}, timeout=30)

    given = invoke(horizon=3, season=12)
    assert given.status_code == 200, given.text
    rows = given.json()["predictions"]
    assert [row["season"] for row in rows] == [12, 12]
    assert rows[0]["forecast"] == pytest.approx(expected(tiny_base, MONTHLY, 3, 12)["forecast"], rel=1e-6)
    detected = invoke().json()["predictions"]
    assert detected[0]["season"] == 12 and len(detected[0]["forecast"]) == TINY_BASE.horizon
    for params, message in [
        ({"season": 0}, "season must be an integer from 1"),
        ({"horizon": 61}, "cap of 60"),
    ]:
        response = invoke(**params)
        assert response.status_code == 400, response.text
        assert message in response.json()["message"] and "Traceback" not in response.text
    assert all(math.isfinite(value) for row in detected for value in row["forecast"])


def test_a_tracking_server_registers_and_hands_out_either_kind(tiny_base, trained_store, tmp_path):
    """Through `mlflow server` with its artifact proxy, the service's REST path downloads the files
    each version lists: the base's and a local model's."""
    port = free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "mlflow", "server",
                "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
                "--artifacts-destination", str(tmp_path / "artifacts"),
                "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            ],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        )  # fmt: skip
    tracking_uri = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(process, f"{tracking_uri}/health", log_path, timeout=90)
        with mlflow_pointed_at(tmp_path):
            assert register_base(tracking_uri, tiny_base) == "1"
            configure_tracking(tracking_uri)
            with mlflow.start_run():
                register(trained_store.result.artifact, trained_store.name, "local")
                promote_best(trained_store.name)
        registry = RestRegistry(tracking_uri, 10.0)
        base_ref = registry.resolve("base", "champion")
        assert base_ref.location.startswith("mlflow-artifacts:")
        base = BaseArtifact.load(registry.fetch(base_ref, tmp_path / "fetched" / "base"))
        assert base.config == TINY_BASE
        assert (
            base.long_seasons is not None and base.long_seasons.config == TINY_LONG_SEASONS
        )  # the subfolder too
        local_dir = registry.fetch(registry.resolve(trained_store.name, "1"), tmp_path / "fetched" / "local")
        assert sorted(path.name for path in local_dir.iterdir()) == [
            "calibration.pt",
            "forecaster.json",
            "weights.pt",
        ]
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def in_process(base_store) -> Iterator[TestClient]:
    """The service over the base store, in this process (fast enough for hundreds of examples)."""
    _, tracking_uri = base_store
    with ready_client(create_app(Settings(tracking_uri=tracking_uri, retry_seconds=0.2))) as client:
        yield client


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_history_season_and_horizon_to_the_base_is_answered_without_a_server_error(in_process, data):
    """Values of every magnitude (to float64's extremes), constant and short histories, seasons
    beyond the history, horizons past the trained one: a 200 with finite numbers, or a 422."""
    values = (
        st.floats(allow_nan=False, allow_infinity=False) | st.floats(-1e6, 1e6) | st.sampled_from([0.0, 1.0])
    )
    histories = st.lists(values, min_size=1, max_size=120) | st.builds(
        lambda value, size: [value] * size, values, st.integers(1, 80)
    )
    seasons = st.sampled_from([{}, {"season": 1}, {"season": 12}, {"season": 500}])
    rows = data.draw(
        st.lists(
            st.builds(lambda history, season: {"history": history, **season}, histories, seasons),
            min_size=1,
            max_size=3,
        )
    )
    body = {"model": "base", "horizon": data.draw(st.integers(1, 60)), "series": rows, "level": [80]}
    response = in_process.post("/forecast", json=body)
    assert response.status_code in (200, 422), (body, response.text)
    if response.status_code == 200:
        for item in response.json()["forecasts"]:
            numbers = [
                *item["forecast"],
                *item["intervals"]["80"]["lower"],
                *item["intervals"]["80"]["upper"],
            ]
            assert all(math.isfinite(number) for number in numbers), (body, item)
