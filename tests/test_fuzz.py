"""Fuzzing the HTTP contract: schemathesis over the live OpenAPI schema, and hypothesis
throwing arbitrary JSON at /forecast in-process. Neither may ever see a 5xx."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_server import ready_client, running_service

from service.app import create_app
from service.settings import Settings

SCHEMATHESIS_EXAMPLES = 40


def schemathesis(base: str, *extra: str) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        # a schema-valid history can still be too short for a given model: that 422 is correct
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        str(SCHEMATHESIS_EXAMPLES),
        "--seed",
        "20261123",
        "--request-timeout",
        "10",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_schemathesis_finds_no_violation(trained_store):
    with running_service(trained_store.store_dir, trained_store.tracking_uri) as base:
        run = schemathesis(base)
    assert run.returncode == 0, run.stdout[-6000:]
    # the summary ends "No issues found", or "N warning(s)" (e.g. a slow response on a busy
    # machine) - warnings are not violations; what matters is that cases ran and none failed
    tested = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert tested and int(tested.group(1)) == int(tested.group(2)) > 0, run.stdout[-3000:]


def test_schemathesis_with_api_key(trained_store):
    key = "fuzz-key"
    with running_service(trained_store.store_dir, trained_store.tracking_uri, FORECAST_API_KEY=key) as base:
        run = schemathesis(base, "--header", f"X-API-Key: {key}")
    assert run.returncode == 0, run.stdout[-6000:]


@pytest.fixture(scope="module")
def client(trained_store):
    app = create_app(Settings(tracking_uri=trained_store.tracking_uri, retry_seconds=0.2))
    with ready_client(app) as test_client:
        yield test_client


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)


def request_bodies(name: str) -> st.SearchStrategy[dict]:
    field_values = {
        "model": st.sampled_from([name, "unknown", ""]) | json_values,
        "version": st.none() | st.integers(-3, 5) | st.sampled_from(["champion", "1", "x"]) | json_values,
        "horizon": st.integers(-5, 200) | json_values,
        "history": st.lists(
            st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10, 1000), max_size=60
        )
        | json_values,
        "series": st.lists(
            st.fixed_dictionaries({"history": st.lists(st.floats(1, 1000), max_size=40)}), max_size=3
        )
        | json_values,
        "level": st.lists(st.floats(-10, 110) | json_values, max_size=3) | json_values,
        "start": st.sampled_from(["2020-01-01", "nonsense", "2020-13-45T99:00"]) | json_values,
    }
    return st.fixed_dictionaries({}, optional=field_values) | st.dictionaries(
        st.text(max_size=6), json_values
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arbitrary_json_never_gives_a_server_error(client, trained_store, data):
    body = data.draw(request_bodies(trained_store.name))
    raw = json.dumps(body, allow_nan=True)  # NaN / Infinity literals on purpose
    response = client.post("/forecast", content=raw, headers={"content-type": "application/json"})
    assert response.status_code < 500, (raw, response.text)
    assert response.status_code in (200, 404, 422), (raw, response.status_code, response.text)
    response.json()
