"""The saved forecaster: save/load round trip, no unpickling of code, predict contract."""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from models.artifact import (
    CALIBRATION_FILE,
    CONFIG_FILE,
    WEIGHTS_FILE,
    ArtifactMetadata,
    ForecasterArtifact,
    left_padded,
)
from models.calibration import Calibration
from models.network import Forecaster, ForecasterConfig
from models.scaling import WindowScaler

CONTEXT, HORIZON, LEVELS = 24, 6, (80.0, 95.0)
MARKER = "pwned.txt"


def _touch(path: str) -> None:  # what a malicious pickle would run on load
    Path(path).write_text("executed")


class Payload:
    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (_touch, (self.path,))


@pytest.fixture(params=[0, 3], ids=["no-profile", "profile"])
def artifact(make_series, request) -> ForecasterArtifact:
    torch.manual_seed(0)
    scaler = WindowScaler.fit(make_series(60), season_length=12, profile_seasons=request.param)
    config = ForecasterConfig(
        context_length=CONTEXT,
        horizon=HORIZON,
        cell="gru",
        hidden_size=8,
        ensemble_size=2,
        profile_length=scaler.profile_length,
    )
    calibration = Calibration(torch.rand(20, HORIZON))
    metadata = ArtifactMetadata(name="toy", freq="MS", season_length=12, val_mase=0.5)
    return ForecasterArtifact(config, scaler, Forecaster(config), calibration, metadata)


@pytest.fixture
def history(make_series) -> torch.Tensor:
    return torch.tensor(np.stack([make_series(40, seed=1), make_series(40, seed=2)]), dtype=torch.float32)


def test_save_writes_json_and_tensors_only(artifact, tmp_path):
    directory = artifact.save(tmp_path / "forecaster")
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [CONFIG_FILE, WEIGHTS_FILE, CALIBRATION_FILE]
    )
    document = json.loads((directory / CONFIG_FILE).read_text())
    assert document["config"] == artifact.config.to_dict()
    assert document["scaler"] == artifact.scaler.to_dict()
    assert document["metadata"] == artifact.metadata.to_dict()


@pytest.mark.parametrize("horizon", [1, HORIZON, 3 * HORIZON + 1])
def test_round_trip_gives_identical_forecasts_and_intervals(artifact, history, tmp_path, horizon):
    loaded = ForecasterArtifact.load(artifact.save(tmp_path / "forecaster"))
    assert loaded.config == artifact.config
    assert loaded.scaler == artifact.scaler
    assert loaded.metadata == artifact.metadata
    before = artifact.predict(history, horizon, LEVELS)
    after = loaded.predict(history, horizon, LEVELS)
    assert before.point.shape == (2, horizon)
    assert torch.equal(before.point, after.point)
    assert set(after.intervals) == set(LEVELS)
    for level in LEVELS:
        assert torch.equal(before.intervals[level][0], after.intervals[level][0])
        assert torch.equal(before.intervals[level][1], after.intervals[level][1])


@pytest.mark.parametrize("target", [WEIGHTS_FILE, CALIBRATION_FILE])
def test_load_refuses_a_tampered_pickle(artifact, tmp_path, target):
    directory = artifact.save(tmp_path / "forecaster")
    marker = tmp_path / MARKER
    torch.save({"payload": Payload(marker)}, directory / target)
    with pytest.raises(pickle.UnpicklingError):
        ForecasterArtifact.load(directory)
    assert not marker.exists(), "loading the artifact executed pickled code"


def test_load_rejects_an_unknown_format_version(artifact, tmp_path):
    directory = artifact.save(tmp_path / "forecaster")
    document = json.loads((directory / CONFIG_FILE).read_text())
    document["format_version"] = 999
    (directory / CONFIG_FILE).write_text(json.dumps(document))
    with pytest.raises(ValueError, match="format"):
        ForecasterArtifact.load(directory)


def test_a_format_1_artifact_still_forecasts_as_it_did(artifact, history, tmp_path):
    """Format 1 fed the seasonal profile to the encoder as well as to the linear skip; such an
    artifact still loads, and its encoder still reads the profile."""
    torch.manual_seed(1)
    network = Forecaster(artifact.config)
    for parameter in network.parameters():  # heads start at zero: randomise so the encoder counts
        torch.nn.init.uniform_(parameter, -0.5, 0.5)
    current = ForecasterArtifact(
        artifact.config, artifact.scaler, network, artifact.calibration, artifact.metadata
    )
    directory = current.save(tmp_path / "forecaster")
    document = json.loads((directory / CONFIG_FILE).read_text())
    document["format_version"] = 1
    del document["config"]["profile_in_encoder"]
    (directory / CONFIG_FILE).write_text(json.dumps(document))
    old_config = replace(artifact.config, profile_in_encoder=True)
    old_network = Forecaster(old_config)
    old_network.load_state_dict(network.state_dict())
    expected = ForecasterArtifact(old_config, artifact.scaler, old_network, artifact.calibration).predict(
        history, HORIZON
    )
    loaded = ForecasterArtifact.load(directory)
    assert loaded.config == old_config
    assert torch.equal(loaded.predict(history, HORIZON).point, expected.point)
    # with a profile the two formats forecast differently, so the flag is what kept it
    differs = not torch.equal(current.predict(history, HORIZON).point, expected.point)
    assert differs == bool(artifact.config.profile_length)


def test_interval_half_widths_are_the_calibration_quantile_times_the_width_scale(artifact, history):
    forecast = artifact.predict(history, HORIZON, (80.0,))
    lower, upper = forecast.intervals[80.0]
    n = artifact.calibration.scores.shape[0]
    quantile = torch.quantile(artifact.calibration.scores, math.ceil((n + 1) * 0.8) / n, dim=0)
    half_width = artifact.scaler.width_scale(history, CONTEXT) * quantile
    transform = artifact.scaler.transform
    torch.testing.assert_close(transform(upper) - transform(forecast.point), half_width)
    torch.testing.assert_close(transform(forecast.point) - transform(lower), half_width)


def test_each_step_takes_its_conformal_quantile_over_the_errors_it_has(artifact, history):
    """Rows near the validation part's end are NaN for the steps past it: step j's quantile uses
    its own n (origin r of 20 reaches min(H, 20 - r) steps: step 1 has 20 errors, step 6 has 15)."""
    calibration = artifact.calibration.scores.clone()
    for row in range(20):
        calibration[row, min(HORIZON, 20 - row) :] = torch.nan
    ragged = replace(artifact, calibration=Calibration(calibration))
    forecast = ragged.predict(history, HORIZON, (80.0,))
    expected = []
    for step in range(HORIZON):
        column = calibration[:, step]
        column = column[~column.isnan()]
        n = len(column)
        expected.append(torch.quantile(column, min(math.ceil((n + 1) * 0.8) / n, 1.0)))
    half_width = ragged.scaler.width_scale(history, CONTEXT) * torch.stack(expected)
    transform = ragged.scaler.transform
    torch.testing.assert_close(transform(forecast.intervals[80.0][1]) - transform(forecast.point), half_width)
    assert [int(n) for n in ragged.calibration.counts] == [20 - step for step in range(HORIZON)]


def test_a_format_2_artifact_keeps_its_window_scale_intervals(artifact, history, tmp_path):
    """Formats 1 and 2 stored calibration residuals in window-scale units and no interval_scale."""
    directory = artifact.save(tmp_path / "forecaster")
    document = json.loads((directory / CONFIG_FILE).read_text())
    assert document["format_version"] == 5 and document["scaler"]["interval_scale"] == "trimmed_seasonal"
    document["format_version"] = 2
    del document["scaler"]["interval_scale"]
    (directory / CONFIG_FILE).write_text(json.dumps(document))
    loaded = ForecasterArtifact.load(directory)
    assert loaded.scaler == replace(artifact.scaler, interval_scale="step")
    forecast = loaded.predict(history, HORIZON, (95.0,))
    _, _, window_scale = loaded.scaler.encode(history, CONTEXT)
    n = artifact.calibration.scores.shape[0]
    quantile = torch.quantile(artifact.calibration.scores, math.ceil((n + 1) * 0.95) / n, dim=0)
    transform = loaded.scaler.transform
    torch.testing.assert_close(
        transform(forecast.intervals[95.0][1]) - transform(forecast.point), window_scale * quantile
    )


def test_a_format_3_artifact_keeps_its_untrimmed_seasonal_widths(artifact, history, tmp_path):
    """Format 3 calibrated in plain mean |seasonal difference| units; it must keep serving in them."""
    directory = artifact.save(tmp_path / "forecaster")
    document = json.loads((directory / CONFIG_FILE).read_text())
    document["format_version"] = 3
    document["scaler"]["interval_scale"] = "seasonal"
    (directory / CONFIG_FILE).write_text(json.dumps(document))
    loaded = ForecasterArtifact.load(directory)
    assert loaded.scaler == replace(artifact.scaler, interval_scale="seasonal")
    forecast = loaded.predict(history, HORIZON, (95.0,))
    n = artifact.calibration.scores.shape[0]
    quantile = torch.quantile(artifact.calibration.scores, math.ceil((n + 1) * 0.95) / n, dim=0)
    transform = loaded.scaler.transform
    torch.testing.assert_close(
        transform(forecast.intervals[95.0][1]) - transform(forecast.point),
        loaded.scaler.width_scale(history, CONTEXT) * quantile,
    )
    assert not torch.equal(
        loaded.scaler.width_scale(history, CONTEXT), artifact.scaler.width_scale(history, CONTEXT)
    )


def test_intervals_contain_the_point_and_widen_with_level(artifact, history):
    forecast = artifact.predict(history, 2 * HORIZON, LEVELS)
    lower80, upper80 = forecast.intervals[80.0]
    lower95, upper95 = forecast.intervals[95.0]
    assert (lower80 <= forecast.point).all() and (forecast.point <= upper80).all()
    assert (lower95 <= lower80).all() and (upper80 <= upper95).all()
    # a log-scaled (positive) series keeps positive bounds
    assert artifact.requires_positive and (lower95 > 0).all()


def test_only_the_last_lookback_values_matter(artifact, history):
    assert artifact.lookback == (36 if artifact.scaler.profile_seasons else CONTEXT) <= history.shape[1]
    longer = torch.cat([torch.full((2, 30), 1e6), history], dim=1)
    assert torch.equal(artifact.predict(history, HORIZON).point, artifact.predict(longer, HORIZON).point)


def test_rows_of_different_lengths_forecast_as_they_would_alone(artifact, history):
    rows = [history[0, -CONTEXT:].tolist(), history[1].tolist()]
    batched = artifact.predict(left_padded(rows), HORIZON, LEVELS)
    for i, row in enumerate(rows):
        alone = artifact.predict(torch.tensor([row]), HORIZON, LEVELS)
        torch.testing.assert_close(batched.point[i : i + 1], alone.point, atol=1e-5, rtol=1e-5)
        for level in LEVELS:
            torch.testing.assert_close(batched.intervals[level][1][i : i + 1], alone.intervals[level][1])


def test_batch_forecast_equals_single_forecasts(artifact, history):
    batched = artifact.predict(history, HORIZON).point
    single = torch.cat([artifact.predict(history[i : i + 1], HORIZON).point for i in range(2)])
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-5)


def test_recursive_forecast_starts_with_the_direct_one(artifact, history):
    direct = artifact.predict(history, HORIZON).point
    recursive = artifact.predict(history, 2 * HORIZON + 3).point
    torch.testing.assert_close(recursive[:, :HORIZON], direct)


def test_predict_rejects_short_history_and_bad_horizons(artifact, history):
    with pytest.raises(ValueError, match=str(CONTEXT)):
        artifact.predict(history[:, : CONTEXT - 1], HORIZON)
    with pytest.raises(ValueError, match="horizon"):
        artifact.predict(history, 0)
    with pytest.raises(ValueError, match="horizon"):
        artifact.predict(history, artifact.max_horizon + 1)
    assert artifact.predict(history, artifact.max_horizon).point.shape == (2, artifact.max_horizon)
    assert artifact.min_history == CONTEXT
