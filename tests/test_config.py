"""Training configuration: the network settings declared once and checked before fitting, the
CLI's options derived from them, and what a too-short series is told."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from models.network import NetworkSettings
from training.__main__ import OVERRIDES, main, parse_args
from training.config import MIN_TRAIN_WINDOWS, TrainConfig
from training.data import DataError, load_csv


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [("hidden_size", 0, "hidden_size must be >= 1"), ("cell", "tcn", "cell must be one of"),
     ("dropout", 1.5, "dropout must be in"), ("transform", "sqrt", "transform must be one of")],
)  # fmt: skip
def test_a_bad_setting_is_refused_when_the_config_is_built(setting, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(name="x", data="unused.csv", **{setting: value})


def test_a_bad_yaml_setting_fails_before_anything_is_read_or_fitted(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("name: bad\ndata: does-not-exist.csv\nhidden_size: -3\n")
    assert main(["--config", str(config), "--name", "bad", "--no-progress"]) == 2
    assert "hidden_size must be >= 1, got -3" in capsys.readouterr().err


def test_every_network_setting_is_a_cli_option_with_its_field_type():
    network = [f.name for f in fields(NetworkSettings) if f.name != "cell"]
    assert set(network) <= set(OVERRIDES)
    args = parse_args(["--hidden-size", "16", "--dropout", "0.2", "--no-linear-skip", "--ensemble-size", "2"])
    assert (args.hidden_size, args.dropout, args.linear_skip, args.ensemble_size) == (16, 0.2, False, 2)
    with pytest.raises(SystemExit):
        parse_args(["--hidden-size", "wide"])


def _monthly(write_csv, make_frame, make_series, n: int):
    path = write_csv(make_frame(make_series(n)))
    return path, load_csv(path, "short")


def test_a_series_no_horizon_fits_is_told_the_least_it_needs(write_csv, make_frame, make_series):
    path, series = _monthly(write_csv, make_frame, make_series, 10)
    with pytest.raises(DataError) as error:
        TrainConfig(name="short", data=str(path)).resolve(series)
    message = str(error.value)
    # the parts named add up to the total, training windows included
    needed = int(re.search(r"needs at least (\d+):", message).group(1))
    parts = message.split(": ", 1)[1].split(". ")[0].split(" + ")
    assert needed == sum(int(re.search(r"\d+", part).group()) for part in parts)
    assert f"{MIN_TRAIN_WINDOWS} training windows" in message
    assert "No horizon fits: the least this series needs is 30 points" in message
    assert "--horizon" not in message


def test_a_series_a_shorter_horizon_fits_is_told_which(write_csv, make_frame, make_series):
    path, series = _monthly(write_csv, make_frame, make_series, 30)
    with pytest.raises(DataError, match=r"--horizon 1 \(make train \.\.\. HORIZON=1\) needs 30"):
        TrainConfig(name="short", data=str(path)).resolve(series)
    resolved = TrainConfig(name="short", data=str(path), horizon=1).resolve(series)
    assert resolved.horizon == 1 and resolved.context_length == 12
