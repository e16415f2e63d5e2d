"""The pyfunc model served by a real `mlflow models serve` process: integer histories work, and
bad params or histories get MLflow's 400 with one clear sentence, not a stack trace."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from live_server import mlflow_models_serve


@pytest.fixture(scope="module")
def mlflow_serve(trained_store, tmp_path_factory) -> Iterator[str]:
    """`mlflow models serve` on the trained store's champion, as the README documents it."""
    workdir = tmp_path_factory.mktemp("mlflow_serve")
    with mlflow_models_serve(
        f"models:/{trained_store.name}@champion", trained_store.tracking_uri, workdir
    ) as base:
        yield base


def _invoke(base: str, history: list, **params: object) -> httpx.Response:
    body: dict = {"dataframe_records": [{"history": history}]}
    if params:
        body["params"] = params
    return httpx.post(base + "/invocations", json=body, timeout=30)


def test_integer_histories_forecast_like_floats(mlflow_serve, trained_store):
    artifact = trained_store.result.artifact
    history = [round(value) for value in artifact.metadata.tail]
    as_integers = _invoke(mlflow_serve, history, horizon=3)
    as_floats = _invoke(mlflow_serve, [float(value) for value in history], horizon=3)
    assert as_integers.status_code == 200, as_integers.text
    forecast = as_integers.json()["predictions"][0]["forecast"]
    assert len(forecast) == 3 and forecast == as_floats.json()["predictions"][0]["forecast"]
    # a local model's season is its series': its answer has no season column
    assert set(as_integers.json()["predictions"][0]) == {"forecast"}
    # without params: the trained horizon
    default = _invoke(mlflow_serve, history).json()["predictions"][0]["forecast"]
    assert len(default) == artifact.config.horizon


@pytest.mark.parametrize(
    ("params", "history_length", "message"),
    [
        ({"horizon": 0}, None, "horizon must be >= 1, got 0"),
        ({"horizon": -5}, None, "horizon must be >= 1, got -5"),
        ({"horizon": 1000}, None, "horizon 1000 is over this model's cap"),
        ({}, 3, "row 0: history has 3 values; this model needs at least"),
    ],
)
def test_bad_params_and_histories_get_one_clear_sentence(
    mlflow_serve, trained_store, params, history_length, message
):
    tail = trained_store.result.artifact.metadata.tail
    response = _invoke(mlflow_serve, tail[-history_length:] if history_length else tail, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in body["message"]
    assert "Traceback" not in response.text and "stack_trace" not in body


def test_a_non_numeric_history_is_refused_with_a_message(mlflow_serve, trained_store):
    history = ["x", *trained_store.result.artifact.metadata.tail]
    response = _invoke(mlflow_serve, history)
    assert response.status_code == 400
    assert "history must be a list of numbers" in response.json()["message"]
