"""Candidates from the base network, through the real CLI into a real SQLite MLflow store: a
user CSV gets a local, a zero-shot and a fine-tuned model and their ensemble, `champion` goes
to the ensemble, the statistical baselines are logged next to them, and the
fine-tuned model that is registered was refit through the last point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import TINY, TINY_BASE, mlflow_pointed_at, seasonal_series, series_frame
from live_server import mlflow_tracking_server, running_service
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from test_panel_training import panel_frame, run_cli

from models.artifact import CHAMPION_ALIAS, PYFUNC_ARTIFACT, left_padded
from models.base_artifact import BaseArtifact, load_member
from models.ensemble_artifact import EnsembleArtifact
from models.loading import load_artifact
from models.window import normalise_window
from service.registry import MlflowRegistry, RestRegistry
from training.base_loss import base_window_loss
from training.baselines import BASELINES, MAX_SEASON, validation_baselines
from training.config import TrainConfig
from training.data import SeriesData
from training.finetune import FINE_TUNED, BaseCandidate, training_windows
from training.pipeline import backtest, fit_artifact, load_series, series_metadata, train

FINE_TUNE_CLI = [
    *(f"--{key.replace('_', '-')}={value}" for key, value in TINY.items()),
    "--finetune-max-epochs=3",
    "--finetune-patience=1",
]
LENGTH = 96


@pytest.fixture(scope="module")
def candidates_store(
    tiny_base: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, np.ndarray, str]:
    """A monthly series trained once with the default candidates into its own store."""
    store_dir = tmp_path_factory.mktemp("candidates")
    values = seasonal_series(LENGTH)
    series_frame(values).to_csv(store_dir / "sales.csv", index=False)
    tracking_uri = f"sqlite:///{store_dir / 'mlflow.db'}"
    done = run_cli(
        "--csv", "sales.csv", "--name", "sales", "--cell", "gru", "--horizon", "6", "--base", str(tiny_base),
        "--no-progress", "--jobs", "2", "--tracking-uri", tracking_uri, *FINE_TUNE_CLI, cwd=store_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return tracking_uri, values, done.stdout


def _client(tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _registered(
    tracking_uri: str,
    version: ModelVersion,
    destination: Path,
    load: Callable[[str], Any] = BaseArtifact.load,
) -> Any:
    """The artifact a registered version holds (in its source, the logged model `models:/m-...`)."""
    model = _client(tracking_uri).get_logged_model(version.source.removeprefix("models:/"))
    folder = mlflow.artifacts.download_artifacts(
        artifact_uri=f"{model.artifact_location}/artifacts/{PYFUNC_ARTIFACT}", dst_path=str(destination)
    )
    return load(folder)


def _versions_by_candidate(client: MlflowClient, name: str) -> dict[str, ModelVersion]:
    return {
        version.tags["candidate"]: version for version in client.search_model_versions(f"name = '{name}'")
    }


def test_the_default_run_registers_every_candidate_and_their_ensemble(candidates_store):
    tracking_uri, _, stdout = candidates_store
    client = _client(tracking_uri)
    versions = _versions_by_candidate(client, "sales")
    assert sorted(versions) == ["ensemble", "fine-tuned", "gru", "zero-shot"]
    scores = {candidate: float(version.tags["val_mase"]) for candidate, version in versions.items()}
    # the champion is the ensemble, printed by the run
    assert f"sales: the champion rule chose the ensemble (version {versions['ensemble'].version})" in stdout
    champion = client.get_model_version_by_alias("sales", CHAMPION_ALIAS)
    assert champion.tags["candidate"] == "ensemble"
    for candidate, version in versions.items():
        run = client.get_run(version.run_id)
        assert run.data.tags["candidate"] == ("local" if candidate == "gru" else candidate)
        assert run.data.metrics["val_mase"] == pytest.approx(scores[candidate], rel=1e-5)
        # every candidate is backtested on the test part, as `make benchmark` reads it
        assert {"test_mase_h6", "test_mase_h1", "test_coverage_80_h6"} <= set(run.data.metrics)
        assert {"val_mase_from", "test_metrics_from", "served_from"} <= set(run.data.tags)
    ensemble_tags = client.get_run(versions["ensemble"].run_id).data.tags
    for candidate in ("gru", "zero-shot", "fine-tuned"):
        assert f"sales       {candidate}" in stdout
        assert f"{candidate} (version {versions[candidate].version})" in ensemble_tags["members"]
    assert ensemble_tags["champion_rule"].startswith("ensemble")


def test_the_zero_shot_candidate_is_the_base_as_it_serves_the_season(candidates_store, tiny_base, tmp_path):
    """A monthly series' zero-shot candidate is the mean of the base's two networks, as `"model":
    "base"` serves monthly rows, calibrated on the series' own validation windows; the fine-tuned
    candidate trains the first network alone."""
    tracking_uri, values, _ = candidates_store
    versions = _versions_by_candidate(_client(tracking_uri), "sales")
    zero_shot = _registered(tracking_uri, versions["zero-shot"], tmp_path / "zero")
    fine_tuned = _registered(tracking_uri, versions["fine-tuned"], tmp_path / "fine")
    assert zero_shot.is_mean and zero_shot.metadata.season_length == 12
    assert fine_tuned.long_seasons is None and fine_tuned.mean_calibration is None
    base = BaseArtifact.load(tiny_base)
    # scored on the series, not the pretraining windows
    assert not torch.equal(zero_shot.mean_calibration.scores, base.mean_calibration.scores)
    history = left_padded([values[-base.lookback :].tolist()])
    torch.testing.assert_close(
        zero_shot.predict(history, 6, seasons=[12]).point, base.predict(history, 6, seasons=[12]).point
    )


def test_the_ensemble_serves_the_mean_of_its_members(candidates_store, tmp_path):
    tracking_uri, values, _ = candidates_store
    versions = _versions_by_candidate(_client(tracking_uri), "sales")
    ensemble = _registered(tracking_uri, versions["ensemble"], tmp_path / "ensemble", EnsembleArtifact.load)
    members = {
        candidate: _registered(tracking_uri, versions[candidate], tmp_path / candidate, load_member)
        for candidate in ("gru", "zero-shot", "fine-tuned")
    }
    history = left_padded([values.tolist()[-ensemble.lookback :]])
    forecasts = [member.predict(history, 6, seasons=[12]).point for member in members.values()]
    torch.testing.assert_close(ensemble.predict(history, 6).point, torch.stack(forecasts).mean(dim=0))
    assert ensemble.metadata.tail[-1] == pytest.approx(values[-1]) and ensemble.fixed_season == 12


def test_every_run_logs_the_baselines_on_the_same_validation_windows(candidates_store):
    tracking_uri, values, _ = candidates_store
    client = _client(tracking_uri)
    logged = [
        {name: client.get_run(version.run_id).data.metrics[f"val_mase_{name}"] for name in BASELINES}
        for version in _versions_by_candidate(client, "sales").values()
    ]
    assert all(scores == logged[0] for scores in logged) and len(logged) == 4
    assert all(np.isfinite(value) and value > 0 for value in logged[0].values())
    # the same numbers as scoring them again on the run's resolved split
    run = client.get_run(next(iter(_versions_by_candidate(client, "sales").values())).run_id)
    config = TrainConfig(
        name="sales",
        data="sales.csv",
        season_length=12,
        horizon=6,
        test_size=int(run.data.params["test_size"]),
        val_size=int(run.data.params["val_size"]),
    )
    assert validation_baselines([values], config).val_mase == pytest.approx(logged[0])


def test_the_fine_tuned_model_is_refit_through_the_last_point(candidates_store, tiny_base, tmp_path):
    tracking_uri, values, _ = candidates_store
    client = _client(tracking_uri)
    version = _versions_by_candidate(client, "sales")["fine-tuned"]
    served = _registered(tracking_uri, version, tmp_path)
    assert served.metadata.tail == pytest.approx(values[-TINY_BASE.context_length :].tolist())
    assert served.fixed_season == 12 and served.metadata.test_metrics["h6"]["metrics"]["model"]["mase"] > 0
    base = BaseArtifact.load(tiny_base)
    assert any(
        not torch.equal(tuned, pretrained)
        for tuned, pretrained in zip(
            served.network.state_dict().values(), base.network.state_dict().values(), strict=True
        )
    )
    tags = client.get_run(version.run_id).data.tags
    assert "every point" in tags["served_from"] and "validation parts" in tags["test_metrics_from"]


def test_the_served_fit_learns_from_the_points_the_held_out_fit_never_saw(tiny_base):
    values = seasonal_series(LENGTH)
    stamps = series_frame(values)["time"]
    series = SeriesData("sales", values, pd.DatetimeIndex(stamps), "MS", 12)
    config = TrainConfig(name="sales", data="sales.csv", candidate=FINE_TUNED, finetune_max_epochs=2, **TINY)
    config = config.resolve(series)
    base = BaseArtifact.load(tiny_base)
    candidate = BaseCandidate(config, [values], base)
    metadata = series_metadata([series], config, base.lookback, base.config.horizon)
    held_out = candidate.held_out(metadata, None, False)
    served = candidate.served(held_out, False)
    # the served fit's windows reach the last point; the held-out fit's stop before the test part
    targets = training_windows([values], config, base).tensors[1]
    assert torch.isclose(targets[-1, 0], torch.tensor(values[-1], dtype=torch.float32))
    held_out_targets = training_windows([values[: -config.test_size]], config, base).tensors[1]
    seen = held_out_targets[torch.isfinite(held_out_targets)].numpy()
    assert not np.isin(values[-config.test_size :].astype(np.float32), seen).any()
    assert any(
        not torch.equal(a, b)
        for a, b in zip(
            served.network.state_dict().values(), held_out.network.state_dict().values(), strict=True
        )
    )
    assert served.metadata is held_out.metadata and served.calibration is held_out.calibration


def test_fine_tuning_windows_carry_their_candidates_computed_once(tiny_base):
    """The candidates depend on the window, not on the weights: the windows carry them, and the
    loss from them is the loss the network computes from the window itself."""
    values = seasonal_series(LENGTH)
    config = TrainConfig(name="sales", data="sales.csv", candidate=FINE_TUNED, **TINY)
    config = config.resolve(SeriesData("sales", values, None, None, 12))
    base = BaseArtifact.load(tiny_base)
    history, target, season, forecasts, errors = training_windows([values], config, base).tensors
    window = normalise_window(history, season, base.config.context_length)
    expected_forecasts, expected_errors = base.network.candidates(window)
    torch.testing.assert_close(forecasts, expected_forecasts)
    torch.testing.assert_close(errors, expected_errors)
    with torch.no_grad():
        loss = base_window_loss(base.network, history, target, season, candidates=(forecasts, errors))
        torch.testing.assert_close(loss, base_window_loss(base.network, history, target, season))


def test_from_scratch_registers_only_the_local_model(tmp_path):
    series_frame(seasonal_series(LENGTH)).to_csv(tmp_path / "sales.csv", index=False)
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = run_cli(
        "--csv", "sales.csv", "--name", "sales", "--cell", "gru", "--horizon", "6", "--from-scratch",
        "--no-progress", "--tracking-uri", tracking_uri, *FINE_TUNE_CLI, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    client = _client(tracking_uri)
    versions = _versions_by_candidate(client, "sales")
    assert list(versions) == ["gru"]
    assert not any(key.startswith("val_mase_") for key in client.get_run(versions["gru"].run_id).data.metrics)


def test_a_panel_fine_tunes_one_network_over_every_series(tiny_base, tmp_path):
    frame = panel_frame()
    frame.to_csv(tmp_path / "stores.csv", index=False)
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = run_cli(
        "--csv", "stores.csv", "--name", "stores", "--cell", "lstm", "--base", str(tiny_base),
        "--no-progress", "--tracking-uri", tracking_uri, *FINE_TUNE_CLI, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    client = _client(tracking_uri)
    version = _versions_by_candidate(client, "stores")["fine-tuned"]
    served = _registered(tracking_uri, version, tmp_path / "download")
    assert sorted(served.metadata.series) == sorted(frame["store"].unique())
    for name, stored in served.metadata.series.items():
        sales = frame[frame["store"] == name]["sales"].to_numpy()
        assert stored["tail"] == pytest.approx(sales[-TINY_BASE.context_length :].tolist())
    run = client.get_run(version.run_id)
    assert run.data.metrics["series"] == 4 and "val_mase_AutoETS" in run.data.metrics


def test_a_baseline_that_cannot_run_is_reported_missing(make_series):
    config = TrainConfig(
        name="long-season", data="x.csv", season_length=MAX_SEASON + 1, horizon=6, test_size=12, val_size=12
    )
    result = validation_baselines([make_series(200, season=MAX_SEASON + 1)], config)
    assert result.val_mase == {} and sorted(result.missing) == sorted(BASELINES)
    assert all(f"season {MAX_SEASON + 1}" in reason for reason in result.missing.values())


def test_a_base_folder_without_a_base_is_refused_before_training(tmp_path):
    done = run_cli("--csv", "unused.csv", "--name", "sales", "--base", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "holds no base artifact" in done.stderr


def test_the_local_model_is_refit_through_the_last_point(in_tmp, make_series, make_frame, write_csv, tiny):
    path = write_csv(make_frame(make_series(80)))
    config = TrainConfig(name="local", data=str(path), horizon=6, **tiny)
    result = train(config, tracking_uri=f"sqlite:///{in_tmp / 'mlflow.db'}", progress=False, register=False)
    series = load_series(config)
    resolved = config.resolve(series)
    held_out = fit_artifact(resolved, series)
    # the backtest scored the held-out fit; the served network is another, trained on every point
    assert backtest(held_out, resolved, series.values)[6].metrics == result.backtests[6].metrics
    assert any(
        not torch.equal(a, b)
        for a, b in zip(
            result.artifact.network.state_dict().values(), held_out.network.state_dict().values(), strict=True
        )
    )
    assert result.artifact.metadata.tail[-1] == pytest.approx(series.values[-1])
    tags = _client(f"sqlite:///{in_tmp / 'mlflow.db'}").get_run(result.run_id).data.tags
    assert tags["served_from"].startswith("refitted on every point")


def test_candidates_leave_the_alias_to_the_ensemble(tiny_base, in_tmp, make_series, make_frame, write_csv):
    """A service follows `champion` while `make train` runs: the candidates register without
    moving it, and it moves once, to the ensemble, when that is registered."""
    from training.ensemble import combine, members_of
    from training.tracking import champion_version

    path = write_csv(make_frame(make_series(96)))
    uri = f"sqlite:///{in_tmp / 'mlflow.db'}"
    local = TrainConfig(
        name="sales", data=str(path), horizon=6, base=str(tiny_base), finetune_max_epochs=3, **TINY
    )
    results = [
        train(replace(local, candidate=kind), tracking_uri=uri, progress=False, promote=False)
        for kind in ("local", "zero-shot", FINE_TUNED)
    ]
    assert [result.version for result in results] == ["1", "2", "3"]
    assert [result.champion for result in results] == [None, None, None]
    assert champion_version("sales") is None
    ensemble = combine(members_of(results), [load_series(local)], uri)
    assert ensemble.champion == ensemble.version == champion_version("sales")


def test_a_fine_tuned_model_serves_its_series_through_a_real_server(candidates_store, tmp_path):
    """The fine-tuned candidate, pinned, behind a real `python -m service`: it continues its own
    series with its stored tail and timestamps, keeps its season, and answers what the artifact
    computes in-process."""
    tracking_uri, values, _ = candidates_store
    fine_tuned = _versions_by_candidate(_client(tracking_uri), "sales")["fine-tuned"]
    artifact = _registered(tracking_uri, fine_tuned, tmp_path / "download")
    season = artifact.fixed_season
    assert season is not None and artifact.metadata.tail[-1] == pytest.approx(values[-1])
    with running_service(
        tmp_path, tracking_uri, FORECAST_MODELS="sales", FORECAST_VERSIONS=f"sales={fine_tuned.version}"
    ) as base:
        info = httpx.get(f"{base}/models/sales").json()
        assert (info["kind"], info["version"], info["season_length"]) == (
            "base",
            str(fine_tuned.version),
            season,
        )
        answer = httpx.post(f"{base}/forecast", json={"model": "sales", "horizon": 6, "level": [80]}).json()
        wrong = httpx.post(f"{base}/forecast", json={"model": "sales", "horizon": 6, "season": season + 1})
    history = left_padded([artifact.metadata.tail[-artifact.lookback :]])
    expected = artifact.predict(history, 6, [80], [season])
    assert answer["forecast"] == pytest.approx(expected.point[0].tolist(), rel=1e-5)
    assert answer["intervals"]["80"]["lower"] == pytest.approx(
        expected.intervals[80][0][0].tolist(), rel=1e-5
    )
    assert (answer["season"], answer["season_source"]) == (season, "model")
    assert answer["timestamps"] == artifact.metadata.future_timestamps[:6]
    assert wrong.status_code == 422 and f"season {season}" in wrong.text


def test_the_ensemble_serves_through_a_real_server(candidates_store, tmp_path):
    """The ensemble, pinned, behind a real `python -m service`: it continues its series from the
    stored tail, says what it is, and answers what the artifact computes in-process."""
    tracking_uri, _, _ = candidates_store
    version = _versions_by_candidate(_client(tracking_uri), "sales")["ensemble"]
    artifact = _registered(tracking_uri, version, tmp_path / "download", EnsembleArtifact.load)
    with running_service(
        tmp_path, tracking_uri, FORECAST_MODELS="sales", FORECAST_VERSIONS=f"sales={version.version}"
    ) as base:
        info = httpx.get(f"{base}/models/sales").json()
        answer = httpx.post(f"{base}/forecast", json={"model": "sales", "horizon": 6, "level": [80]}).json()
        wrong = httpx.post(f"{base}/forecast", json={"model": "sales", "horizon": 6, "season": 7})
        short = httpx.post(f"{base}/forecast", json={"model": "sales", "history": [1.0, 2.0], "horizon": 6})
    assert (info["kind"], info["cell"], info["season_length"]) == ("ensemble", "gru", 12)
    history = left_padded([artifact.metadata.tail[-artifact.lookback :]])
    expected = artifact.predict(history, 6, [80])
    assert answer["forecast"] == pytest.approx(expected.point[0].tolist(), rel=1e-5)
    assert answer["intervals"]["80"]["lower"] == pytest.approx(
        expected.intervals[80][0][0].tolist(), rel=1e-5
    )
    assert answer["timestamps"] == artifact.metadata.future_timestamps[:6]
    assert wrong.status_code == 422 and "season 12" in wrong.text
    assert short.status_code == 422 and "at least" in short.text


def test_an_ensemble_is_fetched_whole_from_a_tracking_server_that_serves_artifacts(tiny_base, tmp_path):
    """As in the compose deployment: trained through `mlflow server --serve-artifacts`, the
    ensemble's member folders come down with it (`RestRegistry.fetch`), equal to MLflow's own."""
    series_frame(seasonal_series(LENGTH)).to_csv(tmp_path / "sales.csv", index=False)
    with mlflow_tracking_server(
        f"sqlite:///{tmp_path / 'server.db'}", tmp_path, tmp_path / "served"
    ) as server:
        done = run_cli(
            "--csv", "sales.csv", "--name", "sales", "--cell", "gru", "--horizon", "6", "--base", str(tiny_base),
            "--no-progress", "--tracking-uri", server, *FINE_TUNE_CLI, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        version = _versions_by_candidate(_client(server), "sales")["ensemble"].version
        rest, reference = RestRegistry(server, 10.0), MlflowRegistry(server)
        ref = rest.resolve("sales", version)
        assert ref.location.startswith("mlflow-artifacts:")
        mine = rest.fetch(ref, tmp_path / "rest")
        theirs = reference.fetch(reference.resolve("sales", version), tmp_path / "reference")
    files = sorted(path.relative_to(theirs) for path in theirs.rglob("*") if path.is_file())
    assert files == sorted(path.relative_to(mine) for path in mine.rglob("*") if path.is_file())
    assert any(len(path.parts) > 1 for path in files)  # the members' folders
    assert all((mine / path).read_bytes() == (theirs / path).read_bytes() for path in files)
    assert load_artifact(mine).kind == "ensemble"


def test_the_ensemble_pyfunc_forecasts_like_the_artifact(candidates_store, tmp_path):
    tracking_uri, values, _ = candidates_store
    version = _versions_by_candidate(_client(tracking_uri), "sales")["ensemble"]
    artifact = _registered(tracking_uri, version, tmp_path / "download", EnsembleArtifact.load)
    history = values[-60:].tolist()
    with mlflow_pointed_at(tmp_path):
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        model = mlflow.pyfunc.load_model(f"models:/sales/{version.version}")
        answer = model.predict(pd.DataFrame({"history": [history]}), params={"horizon": 6})
    expected = artifact.predict(left_padded([history[-artifact.lookback :]]), 6).point[0]
    assert answer["forecast"][0] == pytest.approx(expected.tolist(), rel=1e-5)
    assert answer["season"][0] == 12


def test_a_series_without_dates_trains_and_serves_without_timestamps(tiny_base, tmp_path):
    """A CSV whose time column numbers the steps (R's `time()` of a `ts` without dates): every
    candidate trains on it with the season its values show, and the champion continues it through
    a real server, with no timestamps to give."""
    values = seasonal_series(LENGTH)
    pd.DataFrame({"rownames": range(1, LENGTH + 1), "time": range(1, LENGTH + 1), "value": values}).to_csv(
        tmp_path / "usage.csv", index=False
    )
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = run_cli(
        "--csv", "usage.csv", "--name", "usage", "--cell", "gru", "--horizon", "6", "--base", str(tiny_base),
        "--no-progress", "--tracking-uri", tracking_uri, *FINE_TUNE_CLI, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "numbers the steps (1, 2, ...)" in done.stderr and "season 12 detected" in done.stderr
    versions = _versions_by_candidate(_client(tracking_uri), "usage")
    assert sorted(versions) == ["ensemble", "fine-tuned", "gru", "zero-shot"]
    ensemble = _registered(tracking_uri, versions["ensemble"], tmp_path / "download", EnsembleArtifact.load)
    assert ensemble.metadata.last_timestamp is None and ensemble.metadata.future_timestamps == []
    assert ensemble.fixed_season == 12 and ensemble.metadata.tail[-1] == pytest.approx(values[-1])
    with running_service(tmp_path, tracking_uri, FORECAST_MODELS="usage") as base:
        answer = httpx.post(f"{base}/forecast", json={"model": "usage", "horizon": 6})
        dated = httpx.post(
            f"{base}/forecast", json={"model": "usage", "horizon": 6, "start": "2020-01-01", "freq": "MS"}
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["timestamps"] is None and body["season"] == 12 and len(body["forecast"]) == 6
    history = left_padded([ensemble.metadata.tail[-ensemble.lookback :]])
    assert body["forecast"] == pytest.approx(ensemble.predict(history, 6).point[0].tolist(), rel=1e-5)
    # a caller who knows the dates gives the last one (`start`), as for any history
    assert dated.status_code == 200, dated.text
    assert dated.json()["timestamps"][:2] == ["2020-02-01T00:00:00", "2020-03-01T00:00:00"]
