"""`python -m training.pretrain` on a tiny corpus: the base network's priors, a run logged to a
real SQLite MLflow store, resuming from a checkpoint, and DDP over two real CPU processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
import pytest
import torch
from conftest import MLFLOW_VARIABLES

from models.artifact import ArtifactMetadata
from models.base_artifact import (
    LONG_SEASON,
    LONG_SEASONS_FOLDER,
    MEAN_CALIBRATION_FILE,
    BaseArtifact,
    folder_digest,
    forecast_and_unit,
)
from models.base_network import BaseConfig, BaseNetwork
from models.calibration import Calibration
from models.priors import CLOSED_FORM_PRIORS, DEFAULT_PRIORS, FIRST_PRIORS, PRIORS
from models.window import pad_histories
from training.corpus.build import CorpusConfig, synthetic_series
from training.corpus.store import Corpus, CorpusSeries, save_corpus
from training.pretrain import LAST_CHECKPOINT, LATER_STEP_SHARPNESS, main, parse_args

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TINY_NETWORK = ["--context-length", "24", "--horizon", "6", "--hidden-size", "8", "--num-layers", "1"]
TINY_RUN = ["--windows-per-epoch", "64", "--val-windows", "32", "--batch-size", "16", "--no-progress"]


@pytest.fixture(scope="module")
def corpus_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Structural and KernelSynth series plus short yearly 'real' ones (a panel like gapminder's)."""
    items = synthetic_series(CorpusConfig(seed=1, kernel_synth=2, structural=30, mixup=0), [])
    rng = np.random.default_rng(0)
    for index in range(12):
        steps = rng.normal(0.5, 1.0, int(rng.integers(15, 40)))
        items.append(
            CorpusSeries(f"real:yearly{index}", "real", "Y", None, (50 + steps.cumsum()).astype("f4"))
        )
    path = tmp_path_factory.mktemp("corpus") / "corpus.npz"
    save_corpus(Corpus.from_series(items), path)
    return path


def run_args(
    corpus: Path, directory: Path, epochs: int, checkpoints: str = "checkpoints", output: str = "base"
) -> list[str]:
    return [
        "--corpus", str(corpus),
        "--output", str(directory / output),
        "--checkpoint-dir", str(directory / checkpoints),
        "--tracking-uri", f"sqlite:///{directory / 'mlflow.db'}",
        "--max-epochs", str(epochs),
        "--schedule-epochs", "2",
        *TINY_NETWORK,
        *TINY_RUN,
    ]  # fmt: skip


def test_default_base_stays_small() -> None:
    assert BaseNetwork(BaseConfig()).parameter_bytes() < 10_000_000


def test_a_base_saved_before_its_config_named_the_priors_loads_as_the_first_eight(tmp_path: Path) -> None:
    """Bases registered by older releases (fine-tuned members too) keep serving after an upgrade."""
    config = BaseConfig(context_length=24, horizon=6, hidden_size=8, num_layers=1, priors=FIRST_PRIORS)
    torch.manual_seed(0)
    network = BaseNetwork(config)
    with torch.no_grad():  # a trained mix, not the symmetric start
        network.mixer.weight.add_(0.1 * torch.randn_like(network.mixer.weight))
    base = BaseArtifact(
        config, network, Calibration(torch.rand(40, 6)), ArtifactMetadata(name="", season_length=0)
    )
    document_path = base.save(tmp_path / "old") / "base_network.json"
    document = json.loads(document_path.read_text())
    del document["config"]["priors"]
    document_path.write_text(json.dumps(document))

    loaded = BaseArtifact.load(tmp_path / "old")
    assert loaded.config.priors == FIRST_PRIORS and "seasonal_drift" not in loaded.config.candidates
    histories = pad_histories([100 + 5 * np.sin(np.arange(40) * 2 * np.pi / 4) + np.arange(40)], 24)
    expected = base.predict(histories, 6, levels=[80], seasons=[4])
    torch.testing.assert_close(loaded.predict(histories, 6, levels=[80], seasons=[4]).point, expected.point)
    # new networks mix the nine closed-form priors and Holt-Winters; the shipped long-season one
    # adds the autoregression
    assert BaseConfig().priors == (*CLOSED_FORM_PRIORS, "holt_winters")


def test_later_steps_mix_the_candidates_more_softly_and_step_one_stays(tmp_path: Path) -> None:
    """`later_step_sharpness` scales the mixing logits of steps 2 and later (ablations.md sections
    45-46): the first step's mix - the one-step forecast and the interval unit - is the pretrained
    one; a base saved before the setting existed loads with 1, forecasting as it did."""
    config = BaseConfig(context_length=24, horizon=6, hidden_size=8, num_layers=1)
    torch.manual_seed(0)
    network = BaseNetwork(config)
    rng = np.random.default_rng(0)
    histories = pad_histories(
        [100 + 5 * np.sin(np.arange(40) * 2 * np.pi / 4) + rng.normal(0, 1, 40) for _ in range(3)], 24
    )
    base = BaseArtifact(
        config, network, Calibration(torch.rand(40, 6)), ArtifactMetadata(name="", season_length=0)
    )
    sharp = base.predict(histories, 6, levels=[80], seasons=[4] * 3)
    document_path = base.save(tmp_path / "old") / "base_network.json"
    document = json.loads(document_path.read_text())
    del document["config"]["later_step_sharpness"]
    document_path.write_text(json.dumps(document))
    old = BaseArtifact.load(tmp_path / "old")
    assert old.config.later_step_sharpness == 1.0
    torch.testing.assert_close(old.predict(histories, 6, levels=[80], seasons=[4] * 3).point, sharp.point)

    network.config.later_step_sharpness = 0.5
    soft = base.predict(histories, 6, levels=[80], seasons=[4] * 3)
    torch.testing.assert_close(soft.point[:, 0], sharp.point[:, 0])
    torch.testing.assert_close(soft.intervals[80][0][:, 0], sharp.intervals[80][0][:, 0])
    assert not torch.allclose(soft.point[:, 1:], sharp.point[:, 1:])
    with pytest.raises(ValueError, match="later_step_sharpness"):
        BaseConfig(later_step_sharpness=0.0)


def test_rows_with_long_seasons_or_none_go_to_the_second_network(tiny_base: Path, tmp_path: Path) -> None:
    """Seasons of 24 and more, and none, go to the second network; seasons between get the mean
    of both networks, with intervals from the mean's own calibration (ablations.md section 35)."""
    base = BaseArtifact.load(tiny_base)
    assert base.long_seasons is not None and "autoregressive" in base.long_seasons.config.priors
    assert base.mean_calibration is not None
    # untrained, both networks pick the same candidate: shift the second one's correction
    with torch.no_grad():
        base.long_seasons.network.correction.bias.add_(0.5)
    rng = np.random.default_rng(0)
    histories = pad_histories([100 + rng.normal(size=60).cumsum() for _ in range(4)], base.lookback)
    seasons = [12, LONG_SEASON, 1, 48]
    routed = base.predict(histories, 6, [80], seasons)
    # what make train's zero-shot candidate of each season is: the pair for seasons 2-23
    assert base.for_season(12) is base and base.for_season(4) is base
    second = base.for_season(LONG_SEASON)
    assert second is base.long_seasons and base.for_season(48) is second and base.for_season(1) is second
    short = replace(base, long_seasons=None, mean_calibration=None)
    # a season longer than the context (24 values) is none (models.window): that row goes with
    # the rows without a season
    alone = second.predict(histories[[1, 2, 3]], 6, [80], [LONG_SEASON, 1, 48])
    torch.testing.assert_close(routed.point[[1, 2, 3]], alone.point)
    torch.testing.assert_close(routed.intervals[80][0][[1, 2, 3]], alone.intervals[80][0])
    first, other = (
        short.predict(histories[[0]], 6, seasons=[12]),
        second.predict(histories[[0]], 6, seasons=[12]),
    )
    torch.testing.assert_close(routed.point[[0]], (first.point + other.point) / 2)
    # the two networks differ: the routing is what gives those rows their forecast
    for row, season in ((1, LONG_SEASON), (2, 1)):
        assert not torch.allclose(
            short.predict(histories[[row]], 6, seasons=[season]).point, routed.point[[row]]
        )
    assert not torch.allclose(first.point, routed.point[[0]])
    # the registered base's digest covers the long-season network's files and the mean's scores
    copy = BaseArtifact.load(tiny_base).save(tmp_path / "copy")
    assert folder_digest(copy) == folder_digest(tiny_base)
    for changed in ("long_seasons/calibration.pt", MEAN_CALIBRATION_FILE):
        (copy / changed).write_bytes(b"other")
        assert folder_digest(copy) != folder_digest(tiny_base)
        BaseArtifact.load(tiny_base).save(copy)


def test_the_mean_of_the_networks_is_calibrated_in_its_own_unit(tiny_base: Path, tmp_path: Path) -> None:
    """The mean's widths are its calibration's quantiles times the mean of the two networks'
    units; a base saved before section 35 (no mean calibration) serves its first network alone."""
    base = BaseArtifact.load(tiny_base)
    rng = np.random.default_rng(2)
    histories = pad_histories([50 + rng.normal(size=40).cumsum() for _ in range(3)], base.lookback)
    season = torch.tensor([4, 12, 7])
    forecast, unit = forecast_and_unit([base.network, base.long_seasons.network], histories, 6, season)
    served = base.predict(histories, 6, [80], season.tolist())
    torch.testing.assert_close(served.point, forecast)
    torch.testing.assert_close(
        served.intervals[80][1] - served.point, base.mean_calibration.half_widths(unit, 80, 6)
    )
    folder = base.save(tmp_path / "before")
    (folder / MEAN_CALIBRATION_FILE).unlink()
    before = BaseArtifact.load(folder)
    assert before.mean_calibration is None and before.for_season(12).long_seasons is None
    torch.testing.assert_close(
        before.predict(histories, 6, [80], season.tolist()).point,
        before.for_season(12).predict(histories, 6, [80], season.tolist()).point,
    )


def test_pretraining_the_second_network_calibrates_the_mean(corpus_path: Path, in_tmp: Path) -> None:
    """Whichever run finds the other network written calibrates the two networks' mean on its
    validation windows and logs the file."""
    tmp_path = in_tmp  # MLflow's global URIs restored after: later tests' clients are not pointed here
    base_folder = tmp_path / "base"
    main(run_args(corpus_path, tmp_path, epochs=1, checkpoints="first", output="base"))
    assert not (base_folder / MEAN_CALIBRATION_FILE).exists()
    main(
        [
            *run_args(corpus_path, tmp_path, epochs=1, checkpoints="second", output="base/long_seasons"),
            "--long-seasons",
        ]
    )
    base = BaseArtifact.load(base_folder)
    assert base.mean_calibration is not None and base.mean_calibration.scores.shape == (32, 6)
    assert base.mean_calibration.windows > 0
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    logged = [{item.path for item in client.list_artifacts(run.info.run_id, "base")} for run in runs]
    assert sorted(f"base/{MEAN_CALIBRATION_FILE}" in paths for paths in logged) == [False, True]


def test_the_shipped_base_routes_long_seasons_to_a_network_with_the_autoregression() -> None:
    shipped = BaseArtifact.load()
    assert "autoregressive" not in shipped.config.priors and shipped.long_seasons is not None
    assert (
        "autoregressive" in shipped.long_seasons.config.priors and shipped.long_seasons.long_seasons is None
    )


def test_long_seasons_pretrains_every_prior_into_its_own_folder(corpus_path: Path) -> None:
    """`make pretrain`'s second run: the long-season network, beside the default one."""
    default = parse_args(["--corpus", str(corpus_path)])
    long = parse_args(["--corpus", str(corpus_path), "--long-seasons"])
    assert default.config.priors == DEFAULT_PRIORS and long.config.priors == PRIORS
    assert long.output == default.output / LONG_SEASONS_FOLDER
    assert long.checkpoint_dir != default.checkpoint_dir
    chosen = parse_args(
        ["--corpus", str(corpus_path), "--long-seasons", "--priors", "naive", "autoregressive"]
    )
    assert chosen.config.priors == ("naive", "autoregressive")


def test_pretrain_logs_to_mlflow_and_writes_a_loadable_base(corpus_path: Path, in_tmp: Path) -> None:
    main(run_args(corpus_path, in_tmp, epochs=2))

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{in_tmp / 'mlflow.db'}")
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert run.data.params["network/cell"] == "gru" and run.data.params["windows_per_epoch"] == "64"
    assert run.data.tags["job"] == "pretrain"
    for metric in ("train_loss", "val_loss"):
        history = client.get_metric_history(run.info.run_id, metric)
        assert len(history) == 2 and all(np.isfinite(m.value) for m in history)
    logged = {item.path for item in client.list_artifacts(run.info.run_id, "base")}
    assert logged == {"base/base_network.pt", "base/base_network.json", "base/calibration.pt"}

    # the checkpoint directory now holds this run: other settings are refused, not mixed in
    with pytest.raises(SystemExit, match="other settings"):
        main([*run_args(corpus_path, in_tmp, epochs=3), "--hidden-size", "16"])

    base = BaseArtifact.load(in_tmp / "base")
    histories = [np.linspace(10, 20, 7), 100 + 5 * np.sin(np.arange(60) * 2 * np.pi / 4)]
    forecasts = base.predict(pad_histories(histories, 24), 6, levels=[80], seasons=[12, 4])
    assert forecasts.point.shape == (2, 6) and bool(torch.isfinite(forecasts.point).all())
    # calibrated on the held-out validation windows: one score row per window
    assert base.calibration.scores.shape == (32, 6) and base.calibration.windows > 0
    # the later steps' softer mix is set after the fit, before calibrating (not trained with)
    assert base.config.later_step_sharpness == LATER_STEP_SHARPNESS < 1
    lower, upper = forecasts.intervals[80]
    assert bool((lower < forecasts.point).all()) and bool((forecasts.point < upper).all())


def test_resumed_run_ends_with_the_uninterrupted_runs_weights(corpus_path: Path, in_tmp: Path) -> None:
    main(run_args(corpus_path, in_tmp, epochs=2, checkpoints="straight", output="straight"))
    main(run_args(corpus_path, in_tmp, epochs=1, checkpoints="resumed", output="first"))
    main(run_args(corpus_path, in_tmp, epochs=2, checkpoints="resumed", output="resumed"))

    first, resumed, straight = (
        BaseArtifact.load(in_tmp / name).network.state_dict() for name in ("first", "resumed", "straight")
    )
    assert any(not torch.equal(first[key], straight[key]) for key in straight)
    for key, value in straight.items():
        assert torch.equal(resumed[key], value), key
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{in_tmp / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    # the resumed run continued the interrupted run's MLflow run: both epochs in one history,
    # the same as the uninterrupted run's
    assert len(runs) == 2
    histories = {
        run.data.tags["resumed_from"] != "None": [
            (m.step, m.value) for m in client.get_metric_history(run.info.run_id, "val_loss")
        ]
        for run in runs
    }
    assert len(histories[True]) == 2 and histories[True] == histories[False]


def test_a_killed_run_resumes_from_its_last_finished_epoch(corpus_path: Path, in_tmp: Path) -> None:
    """SIGKILL mid-run (no handler runs): the checkpoint of the last finished epoch is on disk,
    and the rerun goes on from it to the end."""
    tmp_path = in_tmp  # MLflow's global URIs restored after: later tests' clients are not pointed here
    env = {key: value for key, value in os.environ.items() if key not in MLFLOW_VARIABLES}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    epochs = 40
    command = [sys.executable, "-m", "training.pretrain", *run_args(corpus_path, tmp_path, epochs=epochs)]
    last = tmp_path / "checkpoints" / LAST_CHECKPOINT
    process = subprocess.Popen(command, cwd=tmp_path, env=env)
    try:
        deadline = time.monotonic() + 120
        while not last.is_file() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        # the checkpoint exists while the run is still going
        assert process.poll() is None and last.is_file()
    finally:
        process.kill()
        process.wait()
    interrupted_at = torch.load(last, map_location="cpu", weights_only=False)["epoch"]
    assert interrupted_at < epochs - 1

    main(run_args(corpus_path, tmp_path, epochs=epochs))
    facts = json.loads((tmp_path / "base" / "base_network.json").read_text())["pretrain"]
    assert facts["epochs"] == epochs
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert run.data.tags["resumed_from"] == str(last)
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) >= epochs


def test_ddp_ranks_read_disjoint_shards_and_end_identical(corpus_path: Path, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in MLFLOW_VARIABLES}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    command = [sys.executable, "-m", "training.pretrain", *run_args(corpus_path, tmp_path, epochs=2)]
    command += ["--devices", "2", "--shard-log", str(tmp_path / "shards")]
    subprocess.run(command, cwd=tmp_path, env=env, check=True, timeout=240)

    ranks = [torch.load(tmp_path / "shards" / f"rank{rank}.pt", weights_only=True) for rank in (0, 1)]
    for epoch in (0, 1):
        seen = [set(rank["windows"][epoch]) for rank in ranks]
        assert seen[0].isdisjoint(seen[1])
        assert seen[0] | seen[1] == set(range(64))
    for key, value in ranks[0]["state_dict"].items():
        assert torch.equal(ranks[1]["state_dict"][key], value), key
    written = BaseArtifact.load(tmp_path / "base").network.state_dict()
    assert all(torch.equal(written[key], value) for key, value in ranks[0]["state_dict"].items())
