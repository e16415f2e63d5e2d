"""The service's registry fast paths must agree with MLflow's own client.

The SQLite path reads the registry tables directly and the REST path speaks to a real
`mlflow server`: if an MLflow upgrade changes either, these tests fail here, not in use.
"""

from __future__ import annotations

import pytest
from live_server import free_port, mlflow_tracking_server

from service.registry import (
    MlflowRegistry,
    ModelNotFound,
    RegistryError,
    RestRegistry,
    SqliteRegistry,
    open_registry,
)


def test_open_registry_picks_the_backend():
    assert isinstance(open_registry("sqlite:///x.db"), SqliteRegistry)
    assert isinstance(open_registry("http://mlflow:5000"), RestRegistry)
    assert isinstance(open_registry("file:///tmp/mlruns"), MlflowRegistry)


def assert_same_answers(fast, reference, name: str, tmp_path) -> None:
    assert fast.champions("champion") == reference.champions("champion") == [name]
    for reference_name in ("champion", "1"):
        mine, theirs = fast.resolve(name, reference_name), reference.resolve(name, reference_name)
        assert (mine.name, mine.version, mine.run_id) == (theirs.name, theirs.version, theirs.run_id)
        # the version's tags (`make run` reads base's digest tag through these paths)
        assert mine.tags == theirs.tags and {"candidate", "cell"} <= set(theirs.tags)
        mine_dir = fast.fetch(mine, tmp_path / "fast" / reference_name)
        theirs_dir = reference.fetch(theirs, tmp_path / "reference" / reference_name)
        for file_name in ("forecaster.json", "weights.pt", "calibration.pt"):
            assert (mine_dir / file_name).read_bytes() == (theirs_dir / file_name).read_bytes()
    for missing in ("no-such-alias", "999"):
        with pytest.raises(ModelNotFound):
            fast.resolve(name, missing)


def test_sqlite_fast_path_matches_mlflow_client(trained_store, tmp_path):
    assert_same_answers(
        SqliteRegistry(trained_store.tracking_uri),
        MlflowRegistry(trained_store.tracking_uri),
        trained_store.name,
        tmp_path,
    )


@pytest.fixture(scope="module")
def mlflow_server(trained_store):
    with mlflow_tracking_server(trained_store.tracking_uri, trained_store.store_dir) as base:
        yield base


def test_rest_path_matches_mlflow_client(trained_store, mlflow_server, tmp_path):
    assert_same_answers(
        RestRegistry(mlflow_server, 10.0), MlflowRegistry(mlflow_server), trained_store.name, tmp_path
    )


def test_rest_path_reports_an_unreachable_server():
    with pytest.raises(RegistryError, match="unreachable"):
        RestRegistry(f"http://127.0.0.1:{free_port()}", 2.0).champions("champion")


def test_sqlite_path_reports_a_missing_store(tmp_path):
    with pytest.raises(RegistryError, match="does not exist"):
        SqliteRegistry(f"sqlite:///{tmp_path / 'none.db'}").champions("champion")
