"""ONE model over a panel CSV: trained through the real CLI into a real SQLite MLflow store,
served by a real server that continues every known series from its own stored tail."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY
from live_server import running_service
from mlflow import MlflowClient

from models.artifact import ArtifactMetadata
from training import baselines
from training.backtest import validation_errors
from training.config import TrainConfig, load_panel, set_aside_warning, trained_on
from training.data import DataError, SeriesData
from training.initialise import fit_scaler
from training.pipeline import train

# id -> (first month, points, magnitude): different lengths, starts and scales (1 vs 10,000)
PANEL = {
    "store_1": ("2001-01-01", 72, 1.0),
    "store_2": ("1998-06-01", 96, 10_000.0),
    "store_3": ("2003-03-01", 84, 50.0),
    "store_4": ("2000-09-01", 120, 1.0),
}
# a store opened lately: too short for a training window, stored and named, not trained on
SET_ASIDE = {"store_new": ("2009-09-01", 20, 3.0)}
TINY_CLI = [f"--{key.replace('_', '-')}={value}" for key, value in TINY.items()]


def panel_frame(panel: dict[str, tuple[str, int, float]] = PANEL) -> pd.DataFrame:
    """A long (store, month, sales) frame of positive seasonal series, rows ordered by time."""
    rng = np.random.default_rng(0)
    parts = []
    for name, (start, length, magnitude) in panel.items():
        t = np.arange(length)
        shape = 10.0 + 0.05 * t + 2.0 * np.sin(2 * np.pi * t / 12) + rng.normal(0.0, 0.2, length)
        stamps = pd.date_range(start, periods=length, freq="MS")
        parts.append(
            pd.DataFrame({"store": name, "month": stamps.strftime("%Y-%m-%d"), "sales": magnitude * shape})
        )
    return pd.concat(parts).sort_values(["month", "store"], kind="stable").reset_index(drop=True)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "training", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def panel_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, pd.DataFrame]:
    """The panel trained once by `python -m training` (id column inferred) into its own store."""
    store_dir = tmp_path_factory.mktemp("panel_store")
    frame = panel_frame(PANEL | SET_ASIDE)
    frame.to_csv(store_dir / "stores.csv", index=False)
    tracking_uri = f"sqlite:///{store_dir / 'mlflow.db'}"
    done = run_cli(
        "--csv", "stores.csv", "--name", "stores", "--cell", "lstm", "--no-progress", "--from-scratch",
        "--tracking-uri", tracking_uri, *TINY_CLI, cwd=store_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (store_dir / "train.stderr").write_text(done.stderr)
    return store_dir, tracking_uri, frame


@pytest.fixture(scope="module")
def panel_server(panel_store):
    store_dir, tracking_uri, _ = panel_store
    with running_service(store_dir, tracking_uri) as base:
        yield base


def test_a_panel_trains_one_model_in_one_run(panel_store):
    _, tracking_uri, _ = panel_store
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    versions = client.search_model_versions("name = 'stores'")
    assert [str(version.version) for version in versions] == ["1"]
    runs = client.search_runs([client.get_experiment_by_name("forecasting").experiment_id])
    assert len(runs) == 1 and runs[0].info.run_id == versions[0].run_id
    run = runs[0]
    assert run.data.params["id_column"] == "store" and run.data.metrics["series"] == 4
    table = pd.read_csv(
        io.StringIO(Path(client.download_artifacts(run.info.run_id, "backtest_by_series.csv")).read_text())
    )
    assert sorted(table["series"]) == sorted(PANEL)
    # the run's test metric is the mean over the series of theirs
    assert run.data.metrics["test_mase_h12"] == pytest.approx(table["test_mase_h12"].mean())
    plots = {Path(item.path).name for item in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {f"backtest_{name}.png" for name in PANEL}


def test_every_known_series_is_continued_from_its_own_tail(panel_server, panel_store):
    _, _, frame = panel_store
    info = httpx.get(f"{panel_server}/models/stores", timeout=30).json()
    assert info["series_count"] == 5 and sorted(info["series_ids"]) == sorted(PANEL | SET_ASIDE)
    lookback = info["lookback"]
    given = frame[frame["store"] == "store_4"]["sales"].to_list()[-lookback:]
    body = {
        "model": "stores",
        "horizon": 3,
        "level": [80],
        "series": [{"id": "store_1"}, {"id": "store_2"}, {"id": "mine", "history": given}, {"id": "store_4"}],
    }
    response = httpx.post(f"{panel_server}/forecast", json=body, timeout=30)
    assert response.status_code == 200, response.text
    forecasts = {item["id"]: item for item in response.json()["forecasts"]}
    for name in ("store_1", "store_2", "store_4"):
        rows = frame[frame["store"] == name]
        last = pd.Timestamp(rows["month"].iloc[-1])
        expected = pd.date_range(last, periods=4, freq="MS")[1:]
        assert forecasts[name]["timestamps"] == [stamp.isoformat() for stamp in expected]
        # within a factor of two of the series' last season: each from its own tail and magnitude
        level = rows["sales"].iloc[-12:].mean()
        assert all(0.5 * level < value < 2 * level for value in forecasts[name]["forecast"])
        lower, upper = forecasts[name]["intervals"]["80"].values()
        assert all(
            low <= mid <= up for low, mid, up in zip(lower, forecasts[name]["forecast"], upper, strict=True)
        )
    # the stored tail is the series' own: sending it as a history gives the same forecast
    np.testing.assert_allclose(forecasts["mine"]["forecast"], forecasts["store_4"]["forecast"], rtol=1e-6)
    assert forecasts["mine"]["timestamps"] is None


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"series": [{"id": "store_1"}, {"id": "store_99"}]}, ["body", "series", 1, "id"], ["store_99"]),
        ({}, ["body", "series"], ["5 series", "store_"]),
        ({"series": [{"start": "2020-01-01T00:00:00"}]}, ["body", "series", 0], ["`history`", "`id`"]),
        ({"series": [{"id": "store_1", "start": "2020-01-01T00:00:00"}]}, ["body", "series", 0], ["`start`"]),
    ],
)
def test_a_series_the_model_does_not_know_gets_a_422_naming_it(panel_server, body, loc, words):
    response = httpx.post(f"{panel_server}/forecast", json={"model": "stores", **body}, timeout=30)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"][: len(loc)] == loc
    assert all(word in error["msg"] for word in words), error["msg"]


def test_a_series_set_aside_in_training_is_named_then_and_when_asked_for(panel_store, panel_server):
    """The run trains on the four stores that afford a window and says so; the fifth is stored,
    and a forecast of it from 20 values, fewer than the model reads, is refused naming it."""
    store_dir, _, _ = panel_store
    stderr = (store_dir / "train.stderr").read_text()
    assert "1 of 5 series are too short for one training window" in stderr
    assert "'store_new' (20 points)" in stderr
    response = httpx.post(
        f"{panel_server}/forecast", json={"model": "stores", "series": [{"id": "store_new"}]}, timeout=30
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "series", 0, "id"], error
    assert error["msg"].startswith("the stored values of series 'store_new': history has 20 values"), error


def test_a_bad_series_fails_training_naming_its_id_and_row(tmp_path):
    frame = panel_frame()
    bad = int(np.flatnonzero(frame["store"].to_numpy() == "store_3")[40])
    frame["sales"] = frame["sales"].astype(object)
    frame.loc[bad, "sales"] = "n/a"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    done = run_cli(
        "--csv", "bad.csv", "--name", "bad", "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
        *TINY_CLI, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "'store_3'" in done.stderr and f"row {bad + 1}" in done.stderr, done.stderr
    assert not (tmp_path / "mlflow.db").exists()


def _series(name: str, length: int, magnitude: float = 1.0) -> SeriesData:
    t = np.arange(length)
    values = magnitude * (10.0 + np.sin(2 * np.pi * t / 12) + 0.01 * t)
    return SeriesData(name, values, pd.date_range("2000-01-01", periods=length, freq="MS"), "MS", 12)


def test_the_panel_is_sized_on_its_shortest_series_that_affords_it():
    config = TrainConfig(name="stores", data="stores.csv", id_column="store")
    panel = [_series("long", 240), _series("short", 72), _series("middle", 120)]
    resolved = config.resolve_panel(panel)
    assert resolved == config.resolve(panel[1])


def test_series_too_short_for_one_window_are_set_aside_by_name():
    """A new store with a few months does not block training the others: it is not trained on,
    and the run says which and why."""
    config = TrainConfig(name="stores", data="stores.csv", id_column="store")
    panel = [_series("long", 240), _series("tiny_a", 20), _series("middle", 120), _series("tiny_b", 30)]
    resolved = config.resolve_panel(panel)
    assert resolved == config.resolve(panel[2])
    assert [one.name for one in trained_on(resolved, panel)] == ["long", "middle"]
    warning = set_aside_warning(resolved, panel)
    assert warning is not None and "2 of 4 series are too short" in warning
    assert "'tiny_a' (20 points), 'tiny_b' (30 points)" in warning
    assert set_aside_warning(resolved, panel[::2]) is None
    with pytest.raises(DataError, match="'tiny_a' has 20 points"):  # none affords one: refused
        config.resolve_panel([_series("tiny_a", 20)])


def test_a_set_aside_series_is_stored_and_forecast_from_its_tail(in_tmp):
    """Trained on the series that afford a window, the model stores every series' tail: one
    set aside is forecast from it when it covers the model's history."""
    stamps = pd.date_range("2000-01-01", periods=120, freq="MS")
    panel = [_series("long", 120), _series("middle", 100), _series("new", 40)]
    panel[2] = SeriesData("new", panel[2].values, stamps[-40:], "MS", 12)
    config = TrainConfig(name="stores", data="stores.csv", id_column="store", horizon=6, cell="lstm", **TINY)
    result = train(config, tracking_uri=f"sqlite:///{in_tmp / 'mlflow.db'}", progress=False, series=panel)
    assert len(result.validation) == 2  # scored on the two it trained on
    stored = result.artifact.metadata.series
    assert stored is not None and list(stored) == ["long", "middle", "new"]
    tail = stored["new"]["tail"]
    assert len(tail) >= result.artifact.min_history and tail[-1] == pytest.approx(panel[2].values[-1])
    forecast = result.artifact.predict(torch.tensor([tail], dtype=torch.float32), 6)
    assert forecast.point.shape == (1, 6) and torch.isfinite(forecast.point).all()


def test_one_scaler_keeps_the_smallest_series_scale_floor():
    """A floor taken from the series of 10,000s would flatten every window of the series of 1s."""
    small, large = _series("small", 96).values, _series("large", 96, 10_000.0).values
    scaler = fit_scaler([large, small], 12, "none", 20)
    assert scaler.min_scale == fit_scaler([small], 12, "none", 20).min_scale
    assert fit_scaler([large, small], 12, "auto", 20).log


def test_an_artifact_without_stored_series_still_loads():
    old = ArtifactMetadata.from_dict({"name": "passengers", "tail": [1.0, 2.0], "unknown_later_field": 1})
    assert old.series is None and "series" not in old.to_dict()


def test_the_baselines_of_a_large_panel_are_scored_on_a_sample_and_compared_on_it(in_tmp, monkeypatch):
    """Over MAX_SERIES series, the baselines score an evenly spaced sample (AutoARIMA would take
    an hour for 5,000 series); the run says which, and logs the candidate's own MASE on those
    series - the mean of the same per-series validation MASE its `val_mase` averages over all."""

    assert baselines.sampled_series(30) == list(range(30))
    sample = baselines.sampled_series(5000)
    assert len(sample) == baselines.MAX_SERIES and sample[0] == 0 and sample[-1] == 4999
    assert sample == sorted(set(sample))

    panel_frame().to_csv(in_tmp / "stores.csv", index=False)
    config = TrainConfig(
        name="stores", data=str(in_tmp / "stores.csv"), id_column="store", cell="lstm", **TINY
    )
    panel = load_panel(config)
    tracking_uri = f"sqlite:///{in_tmp / 'mlflow.db'}"
    resolved = config.resolve_panel(panel)
    monkeypatch.setattr(baselines, "MAX_SERIES", 2)
    scored = baselines.validation_baselines([one.values for one in panel], resolved)
    assert scored.series == [0, 3] and scored.sampled and set(scored.val_mase) == set(baselines.BASELINES)
    result = train(config, tracking_uri=tracking_uri, progress=False, series=panel, baselines=scored)

    def mase(indices: list[int]) -> float:
        errors = [validation_errors(panel[k].values, resolved, result.validation[k]).mean() for k in indices]
        return float(np.mean(errors))

    assert mase(list(range(len(panel)))) == pytest.approx(result.val_mase, rel=1e-5)
    run = MlflowClient(tracking_uri=tracking_uri).get_run(result.run_id)
    assert run.data.tags["baseline_series"] == "2 of 4, evenly spaced in the order their ids first appear"
    assert run.data.metrics["val_mase_baseline_series"] == pytest.approx(mase([0, 3]), rel=1e-5)
    assert run.data.metrics["val_mase_AutoETS"] == pytest.approx(scored.val_mase["AutoETS"])


def _panel(lengths: dict[str, int]) -> list[SeriesData]:
    stamps = pd.date_range("2000-01-01", periods=max(lengths.values()), freq="MS")
    return [
        SeriesData(name, np.linspace(1.0, 2.0, length) + np.sin(np.arange(length)), stamps[:length], "MS", 12)
        for name, length in lengths.items()
    ]


def test_a_few_short_series_do_not_shorten_a_panels_horizon(caplog):
    """The default horizon is the one the median series affords: a store with five years of
    history beside older ones is set aside (and served from its tail), not the reason every
    store's forecast is cut short."""
    panel = _panel({"long": 150, "short": 60, "middle": 100})
    with caplog.at_level("WARNING", logger="training.config"):
        resolved = TrainConfig(name="stores", data="stores.csv").resolve_panel(panel)
    assert resolved.horizon == 12 and "too few for the default horizon" not in caplog.text
    assert resolved == TrainConfig(name="stores", data="stores.csv", horizon=12).resolve(panel[2])
    assert [one.name for one in trained_on(resolved, panel)] == ["long", "middle"]
    warning = set_aside_warning(resolved, panel)
    assert warning is not None and "'short' (60 points)" in warning


def test_the_series_that_shortens_a_panels_horizon_is_named(caplog):
    """When most series are short, the horizon is cut to what the median one affords, naming it."""
    panel = _panel({"long": 150, "short": 60, "short_too": 62})
    with caplog.at_level("WARNING", logger="training.config"):
        resolved = TrainConfig(name="stores", data="stores.csv").resolve_panel(panel)
    assert resolved.horizon < 12
    assert (
        "series 'short_too', of median length, has 62 points, too few for the default horizon 12"
        in caplog.text
    )
    assert [one.name for one in trained_on(resolved, panel)] == ["long", "short", "short_too"]


def test_a_panel_whose_series_number_their_steps_trains_without_dates(in_tmp, caplog):
    """Each series counting its own steps (1, 2, 3, ...; different lengths): no calendar, the
    season most series show, one model over all; every stored series continues without dates."""
    frame = panel_frame().rename(columns={"month": "step"})
    frame["step"] = frame.groupby("store").cumcount() + 1
    frame.to_csv(in_tmp / "stores.csv", index=False)
    config = TrainConfig(
        name="stores", data=str(in_tmp / "stores.csv"), id_column="store", cell="lstm", **TINY
    )
    with caplog.at_level("WARNING", logger="training.data"):
        panel = load_panel(config)
    assert all(one.timestamps is None and one.freq is None for one in panel)
    assert {one.season_length for one in panel} == {12}
    assert "column 'step' numbers each series' steps" in caplog.text and "season 12 detected" in caplog.text
    result = train(config, tracking_uri=f"sqlite:///{in_tmp / 'mlflow.db'}", progress=False, series=panel)
    stored = result.artifact.metadata.series
    assert stored is not None and sorted(stored) == sorted(frame["store"].unique())
    assert all(entry["last_timestamp"] is None for entry in stored.values())
    last = frame[frame["store"] == panel[0].name]["sales"].iloc[-1]
    assert stored[panel[0].name]["tail"][-1] == pytest.approx(last)
