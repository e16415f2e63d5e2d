"""Training end to end: backtest protocol, determinism, MLflow logging and registration,
the pyfunc model, champion selection and the CLI."""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from mlflow import MlflowClient

from models.artifact import ForecasterArtifact
from models.base_artifact import DIGEST_TAG, SHIPPED_BASE, folder_digest
from models.calibration import Calibration
from models.network import Forecaster, ForecasterConfig
from models.scaling import WindowScaler
from training.__main__ import main
from training.backtest import (
    mase_scale,
    naive_forecast,
    rolling_origins,
    run_backtest,
    seasonal_naive_forecast,
)
from training.config import TrainConfig
from training.pipeline import fit_artifact, load_series, train

METRICS = ("mase", "mae", "rmse", "smape")

# --- backtest protocol (../shared/BENCHMARK.md) ----------------------------------------------


@pytest.mark.parametrize(
    ("n", "test", "horizon", "stride", "windows"),
    [
        (144, 24, 12, 1, 13),  # passengers multi-step
        (144, 24, 1, 1, 24),  # passengers next-step
        (1860, 250, 5, 5, 50),  # price multi-step
        (1860, 250, 1, 1, 250),  # price next-step
        (17520, 1344, 48, 48, 28),  # weather multi-step
        (17520, 1344, 1, 1, 1344),  # weather next-step
    ],
)
def test_rolling_origins_match_the_benchmark(n, test, horizon, stride, windows):
    origins = rolling_origins(n, test, horizon, stride)
    assert len(origins) == windows
    assert origins[0] == n - test
    assert origins[-1] + horizon <= n
    assert (np.diff(origins) == stride).all()


@pytest.mark.parametrize(
    ("series", "length", "windows"), [("passengers", 144, 13), ("price", 1860, 50), ("weather", 17520, 28)]
)
def test_builtin_configs_follow_the_benchmark_protocol(series, length, windows):
    config = TrainConfig.builtin(series)
    data = load_series(config)
    assert len(data) == length
    config = config.resolve(data)
    assert (
        len(rolling_origins(len(data), config.test_size, config.horizon, config.multi_step_stride)) == windows
    )


def test_naive_and_seasonal_naive_on_a_toy_series():
    values = np.arange(20, dtype=float) * 10
    origins = np.array([10, 13])
    np.testing.assert_array_equal(naive_forecast(values, origins, 3), [[90, 90, 90], [120, 120, 120]])
    # season 4: the last full season before the origin, repeated
    np.testing.assert_array_equal(
        seasonal_naive_forecast(values, origins, 6, 4),
        [[60, 70, 80, 90, 60, 70], [90, 100, 110, 120, 90, 100]],
    )
    # season 1 is the naive forecast
    np.testing.assert_array_equal(
        seasonal_naive_forecast(values, origins, 3, 1), naive_forecast(values, origins, 3)
    )


def _toy_artifact(context: int, horizon: int, train: np.ndarray, season: int) -> ForecasterArtifact:
    torch.manual_seed(0)
    config = ForecasterConfig(
        context_length=context, horizon=horizon, cell="gru", hidden_size=4, ensemble_size=1
    )
    scaler = WindowScaler.fit(train, season)
    return ForecasterArtifact(config, scaler, Forecaster(config), Calibration(torch.rand(8, horizon)))


def test_backtest_scores_baselines_by_the_protocol():
    """Seasonal naive on a series whose test part repeats its last season exactly has MASE 0;
    naive's MASE is its MAE over the in-sample seasonal-naive scale of the pre-test part."""
    season, test, horizon = 4, 12, 4
    pattern = np.array([10.0, 14.0, 12.0, 8.0])
    rng = np.random.default_rng(0)
    noisy = np.tile(pattern, 8) + rng.normal(0, 1, 32)
    values = np.concatenate([noisy, np.tile(pattern, 4)])  # last season before test + test: exact
    n = len(values)
    artifact = _toy_artifact(8, horizon, values[: n - test], season)
    result = run_backtest(artifact, values, test, horizon, 1, season, levels=(80,))

    origins = rolling_origins(n, test, horizon, 1)
    np.testing.assert_array_equal(result.origins, origins)
    assert result.actual.shape == (len(origins), horizon)
    assert {"model", "naive", "seasonal_naive"} <= set(result.forecasts)
    for forecast in result.forecasts.values():
        assert forecast.shape == result.actual.shape

    scale = mase_scale(values[: n - test], season)
    assert scale == pytest.approx(np.mean(np.abs(values[season : n - test] - values[: n - test - season])))
    assert scale > 0
    assert result.metrics["seasonal_naive"]["mase"] == 0.0
    assert result.metrics["seasonal_naive"]["mae"] == 0.0

    naive = np.stack([np.full(horizon, values[o - 1]) for o in origins])
    errors = np.abs(result.actual - naive)
    expected = {
        "mae": errors.mean(),
        "mase": errors.mean() / scale,
        "rmse": np.sqrt((errors**2).mean(axis=1)).mean(),  # mean over windows of per-window RMSE
        "smape": (200 * errors / (np.abs(result.actual) + np.abs(naive))).mean(),
    }
    for metric in METRICS:
        assert result.metrics["naive"][metric] == pytest.approx(expected[metric]), metric
    assert 0.0 <= result.coverage[80] <= 1.0


def test_backtest_never_lets_the_model_see_the_future():
    """The model's forecast at origin o must not change when values from o on change."""
    season, test, horizon = 4, 12, 4
    values = 50 + np.sin(np.arange(60)) * 5
    artifact = _toy_artifact(8, horizon, values[:-test], season)
    base = run_backtest(artifact, values, test, horizon, 1, season)
    for index, origin in enumerate(base.origins):
        changed = values.copy()
        changed[origin:] *= 3
        again = run_backtest(artifact, changed, test, horizon, 1, season)
        np.testing.assert_array_equal(again.forecasts["model"][index], base.forecasts["model"][index])
        np.testing.assert_array_equal(again.forecasts["naive"][index], base.forecasts["naive"][index])


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_the_same_forecast(tiny_fit):
    config, series, first = tiny_fit
    second = fit_artifact(config, series, logger=None, progress=False)
    history = torch.tensor(series.values[None, -config.context_length :], dtype=torch.float32)
    a = first.predict(history, config.horizon, (80,))
    b = second.predict(history, config.horizon, (80,))
    torch.testing.assert_close(a.point, b.point, atol=1e-6, rtol=0)
    torch.testing.assert_close(a.intervals[80][0], b.intervals[80][0], atol=1e-6, rtol=0)
    assert first.metadata.val_mase == pytest.approx(second.metadata.val_mase, abs=1e-9)


def test_another_seed_gives_another_model(tiny_fit):
    config, series, first = tiny_fit
    other = fit_artifact(replace(config, seed=config.seed + 1), series, logger=None, progress=False)
    history = torch.tensor(series.values[None, -config.context_length :], dtype=torch.float32)
    assert not torch.equal(
        first.predict(history, config.horizon).point, other.predict(history, config.horizon).point
    )


# --- the shared trained store -----------------------------------------------------------------


def test_run_logs_params_history_metrics_and_plot(trained_store, tmp_path):
    client = trained_store.client()
    result = trained_store.result
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"

    params = run.data.params
    for field in fields(TrainConfig):
        assert field.name in params, f"param {field.name} not logged"
    assert params["cell"] == "lstm" and params["hidden_size"] == "8"
    assert params["horizon"] == "12" and params["season_length"] == "12"

    epochs = trained_store.config.max_epochs
    train_loss = client.get_metric_history(result.run_id, "train_loss")
    val_loss = client.get_metric_history(result.run_id, "val_loss")
    # one validation point per epoch (early stopping never triggers within 2 epochs); at
    # least one training point per epoch (a refit phase may log more)
    assert len(val_loss) == epochs, f"val_loss: {len(val_loss)} points for {epochs} epochs"
    assert len({point.step for point in val_loss}) == epochs
    assert len(train_loss) >= epochs, f"train_loss: {len(train_loss)} points for {epochs} epochs"
    assert all(math.isfinite(point.value) for point in [*train_loss, *val_loss])

    metrics = run.data.metrics
    for horizon in (12, 1):
        for metric in METRICS:
            for prefix in ("test", "naive_test", "seasonal_naive_test"):
                key = f"{prefix}_{metric}_h{horizon}"
                assert key in metrics and math.isfinite(metrics[key]), key
        assert 0.0 <= metrics[f"test_coverage_80_h{horizon}"] <= metrics[f"test_coverage_95_h{horizon}"] <= 1
    assert metrics["test_mase_h12"] == pytest.approx(result.backtests[12].metrics["model"]["mase"])
    assert metrics["val_mase"] == pytest.approx(result.val_mase)
    assert len(result.backtests[12].origins) == 13 and len(result.backtests[1].origins) == 24

    assert [a.path for a in client.list_artifacts(result.run_id, "plots")] == ["plots/backtest.png"]
    plot = Path(client.download_artifacts(result.run_id, "plots/backtest.png", str(tmp_path)))
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_model_is_registered_with_champion_alias(trained_store):
    client = trained_store.client()
    result = trained_store.result
    assert result.version == result.champion == "1"
    champion = client.get_model_version_by_alias(trained_store.name, "champion")
    assert str(champion.version) == result.version
    assert champion.run_id == result.run_id
    assert float(champion.tags["val_mase"]) == pytest.approx(result.val_mase, rel=1e-5)
    assert champion.tags["cell"] == "lstm"


def test_champion_pyfunc_predicts_like_the_in_memory_artifact(trained_store):
    trained_store.activate()
    model = mlflow.pyfunc.load_model(f"models:/{trained_store.name}@champion")
    artifact = trained_store.result.artifact
    context = artifact.min_history
    series = load_series(trained_store.config).values
    histories = [series[-context:].tolist(), series[-context - 7 : -7].tolist()]

    answer = model.predict(pd.DataFrame({"history": histories}))
    expected = artifact.predict(torch.tensor(histories, dtype=torch.float32), artifact.config.horizon).point
    assert list(answer.columns) == ["forecast"]
    got = np.array(answer["forecast"].tolist())
    np.testing.assert_allclose(got, expected.double().numpy(), rtol=0, atol=1e-6)

    longer = model.predict(pd.DataFrame({"history": histories[:1]}), params={"horizon": 30})
    expected = artifact.predict(torch.tensor(histories[:1], dtype=torch.float32), 30).point
    np.testing.assert_allclose(np.array(longer["forecast"].tolist()), expected.double().numpy(), atol=1e-6)


def test_registered_artifact_round_trips(trained_store, tmp_path):
    """The artifact stored in the registry is the one trained: same forecasts and intervals."""
    trained_store.activate()
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{trained_store.name}@champion", dst_path=str(tmp_path)
    )
    loaded = ForecasterArtifact.load(Path(local) / "artifacts" / "forecaster")
    artifact = trained_store.result.artifact
    history = torch.tensor([artifact.metadata.tail], dtype=torch.float32)
    before, after = artifact.predict(history, 12, (80, 95)), loaded.predict(history, 12, (80, 95))
    assert torch.equal(before.point, after.point)
    for level in (80, 95):
        assert torch.equal(before.intervals[level][0], after.intervals[level][0])
        assert torch.equal(before.intervals[level][1], after.intervals[level][1])
    assert loaded.metadata.test_metrics["h12"]["metrics"]["model"]["mase"] == pytest.approx(
        trained_store.result.backtests[12].metrics["model"]["mase"]
    )


# --- a store of our own: several versions, the CLI --------------------------------------------


@pytest.fixture(scope="module")
def scratch_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scratch_store")


@pytest.fixture
def scratch_store(scratch_dir, monkeypatch) -> str:
    """A SQLite store separate from `trained_store`; MLflow's global URIs are restored after."""
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    monkeypatch.chdir(scratch_dir)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    yield f"sqlite:///{scratch_dir / 'mlflow.db'}"
    mlflow.set_tracking_uri(previous[0])
    mlflow.set_registry_uri(previous[1])


def test_champion_moves_to_the_lowest_val_mase(scratch_store, make_series, make_frame, write_csv, tiny):
    path = write_csv(make_frame(make_series(96)))
    base = TrainConfig(name="two-versions", data=str(path), **tiny)
    first = train(base, tracking_uri=scratch_store, progress=False)
    # an (almost) untrained second version and a better-trained third one
    second = train(replace(base, learning_rate=1e-9, seed=7), tracking_uri=scratch_store, progress=False)
    third = train(replace(base, max_epochs=4, seed=3), tracking_uri=scratch_store, progress=False)
    assert (first.version, second.version, third.version) == ("1", "2", "3")

    client = MlflowClient(tracking_uri=scratch_store, registry_uri=scratch_store)
    scores = {
        str(version.version): float(version.tags["val_mase"])
        for version in client.search_model_versions("name = 'two-versions'")
    }
    assert len(set(scores.values())) == 3, scores
    best = min(scores, key=scores.get)
    assert str(client.get_model_version_by_alias("two-versions", "champion").version) == best
    assert third.champion == best
    assert first.champion == "1"
    assert second.champion == ("2" if scores["2"] < scores["1"] else "1")


def test_cli_trains_a_user_csv(scratch_store, make_series, make_frame, write_csv, capsys):
    frame = make_frame(make_series(80)).astype({"value": object})
    frame.loc[20, "value"] = None  # refused without --fill, so this also checks --fill
    path = write_csv(frame, "user.csv")
    argv = [
        "--csv", str(path), "--name", "cli-series", "--cell", "gru", "--horizon", "6",
        "--hidden-size", "8", "--num-layers", "1", "--ensemble-size", "1", "--max-epochs", "2",
        "--windows-per-epoch", "64", "--batch-size", "32", "--no-progress", "--from-scratch",
        "--tracking-uri", scratch_store,
    ]  # fmt: skip
    assert main(argv) == 2
    assert "--fill" in capsys.readouterr().err
    assert main([*argv, "--fill", "interpolate"]) == 0
    assert "cli-series" in capsys.readouterr().out

    client = MlflowClient(tracking_uri=scratch_store, registry_uri=scratch_store)
    champion = client.get_model_version_by_alias("cli-series", "champion")
    params = client.get_run(champion.run_id).data.params
    assert (params["cell"], params["horizon"], params["freq"], params["season_length"]) == (
        "gru", "6", "MS", "12",
    )  # fmt: skip


TINY_CLI = [
    "--cell", "gru", "--horizon", "6", "--hidden-size", "8", "--num-layers", "1",
    "--ensemble-size", "1", "--max-epochs", "2", "--windows-per-epoch", "64", "--batch-size", "32",
    "--no-progress",
]  # fmt: skip


@pytest.mark.parametrize("name", ["o'brien", "sales/v1", "ventes-été", "_private", "my sales"])
def test_cli_refuses_a_name_the_service_cannot_serve_before_training(name, scratch_store, capsys):
    assert main(["--csv", "unused.csv", "--name", name, "--tracking-uri", scratch_store, *TINY_CLI]) == 2
    assert "cannot be served" in capsys.readouterr().err
    assert MlflowClient(tracking_uri=scratch_store).search_runs(["0"]) == []


def test_cli_refuses_a_constant_series_with_a_message(scratch_store, make_frame, write_csv, capsys):
    path = write_csv(make_frame(np.full(80, 7.0)), "flat.csv")
    assert main(["--csv", str(path), "--name", "flat", "--tracking-uri", scratch_store, *TINY_CLI]) == 2
    assert "is constant over its training part" in capsys.readouterr().err


def test_a_series_that_turns_non_positive_late_is_not_modelled_on_a_log_scale(
    scratch_store, make_series, make_frame, write_csv, tiny
):
    values = make_series(80)
    values[-3:] = 0.0  # only in the test part: the training part alone would choose the log scale
    path = write_csv(make_frame(values), "late_zeros.csv")
    result = train(
        TrainConfig(name="late-zeros", data=str(path), **tiny), tracking_uri=scratch_store, progress=False
    )
    assert not result.artifact.scaler.log
    # so the served model takes its own stored series as history
    tail = torch.as_tensor(result.artifact.metadata.tail).unsqueeze(0)
    assert torch.isfinite(result.artifact.predict(tail, 3).point).all()


def test_cli_warns_once_about_a_shrunk_horizon_and_registers_the_base_it_starts_from(
    make_series, make_frame, write_csv, scratch_store, caplog
):
    """50 monthly points: the default horizon 12 shrinks to 6; the CSV is resolved once for
    every cell, so the warning is logged once, not once per cell plus once for the check. The
    candidates start from the shipped base, which is registered as `base` on this fresh store
    (so `make train` then `make serve` answers "model": "base")."""
    path = write_csv(make_frame(make_series(50)))
    options = [option for option in TINY_CLI if option not in ("--cell", "gru", "--horizon", "6")]
    with caplog.at_level(logging.WARNING, logger="training.config"):
        code = main(
            [
                "--csv",
                str(path),
                "--name",
                "short",
                "--cell",
                "lstm",
                "gru",
                "--tracking-uri",
                scratch_store,
                *options,
            ]
        )
    assert code == 0
    assert len([r for r in caplog.records if "too few for the default horizon" in r.getMessage()]) == 1
    client = MlflowClient(tracking_uri=scratch_store, registry_uri=scratch_store)
    assert client.get_model_version_by_alias("base", "champion").tags[DIGEST_TAG] == folder_digest(
        SHIPPED_BASE
    )


def test_cli_refuses_negative_profile_seasons_before_training(scratch_store, capsys):
    code = main(
        ["--series", "passengers", "--profile-seasons", "-1", "--tracking-uri", scratch_store, *TINY_CLI]
    )
    assert code == 2
    assert "--profile-seasons must be >= 0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="profile_seasons"):
        WindowScaler.fit(np.arange(1.0, 30.0), season_length=12, profile_seasons=-1)


def test_cli_trains_side_by_side_with_the_metrics_of_a_sequential_run(
    scratch_dir, scratch_store, make_series, make_frame, write_csv
):
    """--jobs 2: the two cells train in two spawned processes against one SQLite store (the
    parent creates it first); each fit is seeded in its process, so every metric is the
    sequential run's, and both versions are registered with the better one as champion."""
    path = write_csv(make_frame(make_series(80)), "user.csv")
    tiny = [arg if arg != "gru" else "lstm" for arg in TINY_CLI]
    cells = tiny.index("lstm")
    tiny[cells : cells + 1] = ["lstm", "gru"]
    stores = {jobs: f"sqlite:///{scratch_dir / f'jobs{jobs}.db'}" for jobs in (1, 2)}
    argv = {
        jobs: [
            "--csv",
            str(path),
            "--name",
            "sided",
            "--tracking-uri",
            store,
            "--jobs",
            str(jobs),
            "--from-scratch",
            *tiny,
        ]
        for jobs, store in stores.items()
    }
    assert main(argv[1]) == 0
    # as `make train` runs it: spawned workers must find their functions outside `__main__`
    done = subprocess.run([sys.executable, "-m", "training", *argv[2]], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]

    def metrics(store: str) -> dict[str, dict[str, float]]:
        client = MlflowClient(tracking_uri=store, registry_uri=store)
        runs = client.search_runs(client.search_experiments()[0].experiment_id.split())
        return {run.data.tags["cell"]: run.data.metrics for run in runs}

    sequential, side_by_side = metrics(stores[1]), metrics(stores[2])
    assert set(side_by_side) == {"lstm", "gru"}
    for cell in ("lstm", "gru"):
        for key in ("val_mase", "test_mase_h6", "test_mase_h1"):
            assert side_by_side[cell][key] == pytest.approx(sequential[cell][key], rel=1e-6)
    client = MlflowClient(tracking_uri=stores[2], registry_uri=stores[2])
    assert len(client.search_model_versions("name='sided'")) == 2
    best = min(sequential, key=lambda cell: sequential[cell]["val_mase"])
    assert client.get_model_version_by_alias("sided", "champion").tags["cell"] == best


def test_if_missing_with_every_champion_in_place_imports_neither_mlflow_nor_lightning(
    trained_store, tmp_path
):
    """`make run` a second time: the check is the service's registry query, not `import mlflow`.
    (The first time registers the shipped base, which does import MLflow; a copy of the store
    keeps the shared one as the other tests expect it.)"""
    store = tmp_path / "mlflow.db"
    shutil.copy(trained_store.tracking_uri.removeprefix("sqlite:///"), store)
    check = (
        "import sys; from training.__main__ import main; "
        f"code = main(['--series', 'passengers', '--cell', 'lstm', '--if-missing', '--tracking-uri', "
        f"'sqlite:///{store}']); "
        "print(code, 'mlflow' in sys.modules, 'lightning' in sys.modules)"
    )
    first, second = (
        subprocess.run(
            [sys.executable, "-c", check], capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
        for _ in range(2)
    )
    assert first.returncode == 0 and "registered the base model" in first.stdout, first.stdout + first.stderr
    assert second.stdout.splitlines()[-1] == "0 False False", second.stdout + second.stderr
    assert "already has a champion; nothing to train" in second.stdout


def test_if_missing_on_a_store_that_does_not_exist_trains(tmp_path):
    from training.__main__ import champions

    assert champions(f"sqlite:///{tmp_path / 'absent.db'}") == set()
