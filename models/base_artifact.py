"""The base network as something that serves: weights, config, calibration, season handling.

One folder, three files: `base_network.pt` (state_dict), `base_network.json` (the network's
config, the artifact's metadata and facts about the run that made it) and `calibration.pt`
(conformity scores: |forecast - target| in units of the window's scale times its spread -
the in-context one-step error of the network's mix - one row per held-out window). The
pretrained base ships in `models/base/` with scores from held-out corpus series, and with a
second network of the same kind in `models/base/long_seasons/` that also mixes the in-window
autoregression and forecasts the rows it helps (`second_network_rows`): those whose season is at
least LONG_SEASON (hourly, half-hourly, weekly data - ablations.md section 29) and those without
a season (yearly data - section 33). The seasons between get the mean of the two networks, with
intervals from `mean_calibration.pt` (the mean's scores on the same held-out windows - section
35); a base folder without that file serves them with the first network alone. A model
fine-tuned from the base (`make train`) is a folder of one network, the one its season routes
to, with its own series' metadata and validation scores.

A base artifact takes any history of at least `MIN_HISTORY` finite values and a season per
row: given, the model's own (a fine-tuned model keeps its series' season), or detected from
the history (`models.seasonality`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import torch

from models import calibration
from models.artifact import (
    MAX_HORIZON_MULTIPLE,
    ArtifactMetadata,
    Forecast,
    ForecasterArtifact,
    ForecastInputError,
    check_horizon,
    check_readable,
    fed_back,
)
from models.base_network import CONFIG_FILE, WEIGHTS_FILE, BaseConfig, BaseNetwork
from models.calibration import Calibration
from models.seasonality import detect_seasons
from models.window import effective_seasons, normalise_window

CALIBRATION_FILE = "calibration.pt"
# with a second network: conformity scores of the two networks' mean (`conformity_scores`)
MEAN_CALIBRATION_FILE = "mean_calibration.pt"
BASE_FORMAT = "base-1"
# the version tag saying which base folder's files (`folder_digest`) a version of `base` holds
DIGEST_TAG = "base_digest"
SHIPPED_BASE = Path(__file__).resolve().parent / "base"
# the fewest values a forecast starts from: a level and one step for the scale
MIN_HISTORY = 3
# season detection reads at most this many of the latest values (a season needs three cycles)
DETECTION_WINDOW = 512
# the longest season a caller may give: no series has a longer one (one longer than the history
# is simply not used)
MAX_SEASON = 10_000
# rows with a season at least this long go to the second network when the base has one
LONG_SEASON = 24
# the second network's folder, named for its first use (long seasons; now also no season)
LONG_SEASONS_FOLDER = "long_seasons"


def second_network_rows(season: torch.Tensor) -> torch.Tensor:
    """Which rows [B] the base's second network forecasts, by the season each row uses (after
    `models.window.effective_seasons`): at least LONG_SEASON, or none (1)."""
    return (season >= LONG_SEASON) | (season <= 1)


def forecast_and_unit(
    networks: Sequence[BaseNetwork], history: torch.Tensor, horizon: int, season: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """history [B, T] (NaN-padded on the left), season [B] -> (the forecast [B, horizon], fed
    back beyond the trained horizon; the unit of its intervals [B, 1]: the window's scale times
    the in-context spread of the network's mix) - of one network, or the mean of both of a base's
    networks (what it serves for seasons 2 to LONG_SEASON - 1, ablations.md section 35)."""
    return _mean(forecasts_and_units(networks, history, horizon, season))


def forecasts_and_units(
    networks: Sequence[BaseNetwork], history: torch.Tensor, horizon: int, season: torch.Tensor
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """`forecast_and_unit` of each network, the window and its candidates computed once: the
    networks must agree on the window and backtest settings, and each one's candidates must be
    among the others' widest set (the zero-shot and the fine-tuned base of one series; the
    base's two networks, whose closed-form candidates are the same). Steps beyond the trained
    horizon are fed back per network."""
    widest = max(networks, key=lambda network: len(network.config.candidates))
    names = widest.config.candidates
    settings = {network.config.window_settings for network in networks}
    if len(settings) != 1 or not all(set(n.config.candidates) <= set(names) for n in networks):
        raise ValueError("networks that read different candidates cannot share them")
    lookback = widest.config.context_length
    context = history[:, -lookback:].to(torch.float32)
    results = []
    with torch.inference_mode():
        window = normalise_window(context, season, lookback)
        priors, errors = widest.candidates(window)
        for network in networks:
            own = network.config.candidates
            if own == names:
                candidates = (priors, errors)
            else:
                columns = torch.tensor([names.index(name) for name in own])
                candidates = (priors[:, :, columns], None if errors is None else errors[:, columns])
            z, spread = network.forecast_and_spread(window, candidates)
            forecast = fed_back(
                context, window.decode(z), horizon, lookback, partial(_forecast, network, season)
            )
            results.append((forecast, window.scale * spread))
    return results


def _mean(parts: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    return (
        torch.stack([forecast for forecast, _ in parts]).mean(dim=0),
        torch.stack([unit for _, unit in parts]).mean(dim=0),
    )


def _forecast(network: BaseNetwork, season: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
    window = normalise_window(context, season, network.config.context_length)
    return window.decode(network(window))


def conformity_scores(
    networks: Sequence[BaseNetwork], history: torch.Tensor, target: torch.Tensor, season: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(the forecast of `target` [B, h] from `history` by one network or the mean of a base's two,
    its conformity scores [B, h]: |error| in the unit of `forecast_and_unit`, NaN where the target
    is). The one place that makes a base artifact's scores; `BaseArtifact.predict` reads them in
    the same unit."""
    forecast, unit = forecast_and_unit(networks, history, target.shape[1], season)
    return forecast, calibration.scores(forecast - target, 1.0, unit)


def is_base_artifact(directory: str | Path) -> bool:
    return (Path(directory) / CONFIG_FILE).is_file()


@dataclass
class BaseArtifact:
    config: BaseConfig
    network: BaseNetwork
    calibration: Calibration
    metadata: ArtifactMetadata = field(default_factory=ArtifactMetadata)
    facts: dict = field(default_factory=dict)
    # the second network (`second_network_rows`); None: this network forecasts every row
    long_seasons: BaseArtifact | None = None
    # with a second network: the calibration of the two networks' mean, which then serves the
    # rows the first network would (ablations.md section 35); None: the first network alone
    mean_calibration: Calibration | None = None
    kind = "base"

    def __post_init__(self) -> None:
        self.network.eval()

    def for_season(self, season: int) -> BaseArtifact:
        """What forecasts series of this season, as an artifact of its own - the second network,
        the mean of both (`mean_calibration` set), or the first network alone: `make train`'s
        zero-shot candidate, and through `network` the one its fine-tuned candidate trains."""
        if self.long_seasons is not None and bool(second_network_rows(torch.tensor([season]))[0]):
            return self.long_seasons
        if self.is_mean:
            return self
        return replace(self, long_seasons=None, mean_calibration=None)

    @property
    def is_mean(self) -> bool:
        """Whether its rows with seasons 2-23 get the mean of two networks."""
        return self.long_seasons is not None and self.mean_calibration is not None

    def unrouted(self, history: torch.Tensor, seasons: Sequence[int]) -> bool:
        """Whether `predict` forecasts every row of `history` by `own_networks`: none goes to the
        second network (what `predict_together` may then compute with other artifacts)."""
        if self.long_seasons is None:
            return True
        return self.is_mean and not bool(self._routed_rows(history, seasons).any())

    def _routed_rows(self, history: torch.Tensor, seasons: Sequence[int]) -> torch.Tensor:
        """The rows [B] `predict` gives the second network, by the season each would use: none
        when the context holds less than one."""
        count = torch.isfinite(history[:, -self.lookback :]).sum(dim=1)
        return second_network_rows(effective_seasons(torch.as_tensor(seasons), count))

    @property
    def own_networks(self) -> list[BaseNetwork]:
        """The networks its rows with seasons 2-23 are forecast by: both of a pair, else its own."""
        return [self.network, self.long_seasons.network] if self.is_mean else [self.network]  # type: ignore[union-attr]

    def scored_forecast(
        self, history: torch.Tensor, target: torch.Tensor, season: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(the forecast of `target` [B, h] from `history`, its conformity scores [B, h]) for rows
        that all have the season class of this artifact's calibration: the mean's for a pair
        (rows with seasons 2-23), else its own network's."""
        return conformity_scores(self.own_networks, history, target, season)

    def with_scores(self, scores: Calibration, metadata: ArtifactMetadata) -> BaseArtifact:
        """This artifact for one series: its metadata, and `scores` (from `scored_forecast`) as
        the calibration its forecasts read."""
        if self.is_mean:
            return replace(self, mean_calibration=scores, metadata=metadata)
        return replace(self, calibration=scores, metadata=metadata)

    @property
    def own_calibration(self) -> Calibration:
        """The scores the forecasts of `own_networks` are read with."""
        return self.mean_calibration if self.is_mean else self.calibration  # type: ignore[return-value]

    @property
    def cell(self) -> str | None:
        """The recurrent encoder's cell; None without one."""
        return self.config.encoder_cell

    @property
    def min_history(self) -> int:
        return MIN_HISTORY

    @property
    def lookback(self) -> int:
        """The latest values a forecast reads (season detection reads up to DETECTION_WINDOW)."""
        return max(artifact.config.context_length for artifact in self._networks())

    @property
    def trained_horizon(self) -> int:
        """The steps every network forecasts directly (longer ones are fed back)."""
        return min(artifact.config.horizon for artifact in self._networks())

    @property
    def max_horizon(self) -> int:
        return self.trained_horizon * MAX_HORIZON_MULTIPLE

    def _networks(self) -> list[BaseArtifact]:
        return [self] if self.long_seasons is None else [self, self.long_seasons]

    @property
    def requires_positive(self) -> bool:
        return False

    @property
    def fixed_season(self) -> int | None:
        """A fine-tuned model's season (from its training series); None for the zero-shot base."""
        return self.metadata.season_length if self.metadata.name and self.metadata.season_length else None

    def check_horizon(self, horizon: int) -> None:
        check_horizon(horizon, self.trained_horizon)

    def check_history(self, history: Sequence[float]) -> None:
        if len(history) < MIN_HISTORY:
            raise ForecastInputError(
                f"history has {len(history)} values; this model needs at least {MIN_HISTORY}", "too_short"
            )
        check_readable(history[-DETECTION_WINDOW:])

    def seasons_for(self, histories: Sequence[Sequence[float]], season: int | None) -> list[int]:
        """The season each forecast uses: the one asked for, the model's own, or detected."""
        chosen = season if season is not None else self.fixed_season
        return [chosen] * len(histories) if chosen is not None else self.detect_seasons(histories)

    def detect_seasons(self, histories: Sequence[Sequence[float]]) -> list[int]:
        """The season each history shows (`models.seasonality`), all tested at once."""
        return detect_seasons([history[-DETECTION_WINDOW:] for history in histories])

    def predict(
        self, history: torch.Tensor, horizon: int, levels: Sequence[float] = (), seasons: Sequence[int] = ()
    ) -> Forecast:
        """history [B, T] (NaN-padded on the left), one season per row (default: none) ->
        `horizon` steps; beyond the trained horizon the forecast is fed back as history, and
        the interval widths grow with sqrt(step / H) (`Calibration.half_widths`). Rows whose
        season is at least LONG_SEASON and within their context, and rows without a season, go
        to the second network; the others to the mean of both (`_predict`)."""
        self.check_horizon(horizon)
        seasons = list(seasons) or [1] * history.shape[0]
        long = self._routed_rows(history, seasons)
        if self.long_seasons is None or not bool(long.any()):
            return self._predict(history, horizon, levels, seasons)
        if bool(long.all()):
            return self.long_seasons._predict(history, horizon, levels, seasons)
        point = torch.empty(history.shape[0], horizon)
        intervals = {level: (torch.empty_like(point), torch.empty_like(point)) for level in levels}
        for artifact, rows in ((self.long_seasons, long), (self, ~long)):
            part = artifact._predict(
                history[rows], horizon, levels, [s for s, r in zip(seasons, rows.tolist(), strict=True) if r]
            )
            point[rows] = part.point
            for level, (lower, upper) in part.intervals.items():
                intervals[level][0][rows], intervals[level][1][rows] = lower, upper
        return Forecast(point=point, intervals=intervals)

    def _predict(
        self, history: torch.Tensor, horizon: int, levels: Sequence[float], seasons: Sequence[int]
    ) -> Forecast:
        """`predict` of every row by this artifact's own network, or with a second network and
        `mean_calibration`, by the two networks' mean."""
        return predict_together([self], history, horizon, levels, seasons)[0]

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        document = {
            "format": BASE_FORMAT,
            "config": self.config.to_dict(),
            "metadata": self.metadata.to_dict(),
            **self.facts,
        }
        (directory / CONFIG_FILE).write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
        torch.save(self.network.state_dict(), directory / WEIGHTS_FILE)
        torch.save({"scores": self.calibration.scores}, directory / CALIBRATION_FILE)
        if self.long_seasons is not None:
            self.long_seasons.save(directory / LONG_SEASONS_FOLDER)
            if self.mean_calibration is not None:
                torch.save({"scores": self.mean_calibration.scores}, directory / MEAN_CALIBRATION_FILE)
        return directory

    @classmethod
    def load(cls, directory: str | Path = SHIPPED_BASE) -> BaseArtifact:
        directory = Path(directory)
        document = json.loads((directory / CONFIG_FILE).read_text())
        if document.get("format") != BASE_FORMAT:
            raise ValueError(f"unsupported base artifact format {document.get('format')!r} in {directory}")
        config = BaseConfig.from_dict(document.pop("config"))
        metadata = ArtifactMetadata.from_dict(document.pop("metadata", {}))
        document.pop("format")
        network = BaseNetwork(config)
        network.load_state_dict(torch.load(directory / WEIGHTS_FILE, weights_only=True, map_location="cpu"))
        scores = torch.load(directory / CALIBRATION_FILE, weights_only=True, map_location="cpu")["scores"]
        long = directory / LONG_SEASONS_FOLDER
        long_seasons = cls.load(long) if is_base_artifact(long) else None
        # a base saved before section 35 has no mean calibration: its first network serves alone
        mean_file = directory / MEAN_CALIBRATION_FILE
        mean_calibration = (
            Calibration(torch.load(mean_file, weights_only=True, map_location="cpu")["scores"])
            if long_seasons is not None and mean_file.is_file()
            else None
        )
        return cls(
            config,
            network,
            Calibration(scores),
            metadata,
            facts=document,
            long_seasons=long_seasons,
            mean_calibration=mean_calibration,
        )


def predict_together(
    artifacts: Sequence[BaseArtifact],
    history: torch.Tensor,
    horizon: int,
    levels: Sequence[float],
    seasons: Sequence[int],
) -> list[Forecast]:
    """Each artifact's forecast of the same rows (not routed) by its own network, or a pair's
    by the mean of its two, with its own intervals; the candidates computed once for every
    network (`forecasts_and_units`)."""
    season = torch.as_tensor(seasons, dtype=torch.long)
    networks = [network for artifact in artifacts for network in artifact.own_networks]
    parts = iter(forecasts_and_units(networks, history, horizon, season))
    forecasts = []
    for artifact in artifacts:
        forecast, unit = _mean([next(parts) for _ in artifact.own_networks])
        forecasts.append(_with_intervals(forecast, unit, artifact.own_calibration, levels, horizon))
    return forecasts


def _with_intervals(
    forecast: torch.Tensor, unit: torch.Tensor, scores: Calibration, levels: Sequence[float], horizon: int
) -> Forecast:
    intervals = {}
    for level in levels:
        width = scores.half_widths(unit, level, horizon)
        intervals[level] = (forecast - width, forecast + width)
    return Forecast(point=forecast, intervals=intervals)


def folder_digest(folder: str | Path) -> str:
    """SHA-256 of a base folder's files (with its long-season network's), paths and bytes: which
    weights, configs and calibrations a registered version of `base` holds (its tag `DIGEST_TAG`)."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(path for path in folder.rglob("*") if path.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_member(folder: str | Path) -> ForecasterArtifact | BaseArtifact:
    """The network artifact in `folder`: a local forecaster or a base network."""
    return BaseArtifact.load(folder) if is_base_artifact(folder) else ForecasterArtifact.load(folder)
