"""Training configuration: one dataclass, filled from a YAML file and CLI overrides, with
defaults derived from the series itself so a user CSV trains without tuning.

The network's settings are `models.network.NetworkSettings`, which `TrainConfig` extends:
declared once, validated when the config is built.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import yaml

from models.artifact import MODEL_NAME_PATTERN
from models.base_artifact import SHIPPED_BASE
from models.network import ForecasterConfig, NetworkSettings
from models.scaling import TRANSFORMS
from training.data import DataError, SeriesData, load_csv
from training.panel import find_id_column, load_panel_csv

log = logging.getLogger(__name__)

# The built-in configs/ and data/ (config files name their data relative to this root): the
# top of the source tree in a checkout or an editable install, training/builtin/ inside an
# installed wheel (pyproject.toml, [tool.setuptools.package-dir]).
_PACKAGE_DIR = Path(__file__).resolve().parent
BUILTIN_ROOT = next(
    (root for root in (_PACKAGE_DIR / "builtin", _PACKAGE_DIR.parent) if (root / "configs").is_dir()),
    _PACKAGE_DIR.parent,
)
CONFIG_DIR = BUILTIN_ROOT / "configs"
BUILTIN_SERIES = ("passengers", "price", "weather")
DEFAULT_CELLS = ("lstm", "gru")
# "ensemble" is combined from the others (training.ensemble), never trained itself
CANDIDATES = ("local", "zero-shot", "fine-tuned", "ensemble")
MIN_TRAIN_WINDOWS = 16
LONG_SERIES_SEASONS = 50
MAX_RECURRENT_STEPS = 24
SHORTEST_SEASON_CONTEXT = 12


@dataclass
class TrainConfig(NetworkSettings):
    name: str
    data: str
    # a panel file's series id column (one model over all its series); None: one series
    id_column: str | None = None
    time_column: str | None = None
    value_column: str | None = None
    freq: str | None = None
    season_length: int | None = None
    fill: str | None = None
    # split and protocol (None = derived from the series)
    horizon: int | None = None
    test_size: int | None = None
    val_size: int | None = None
    multi_step_stride: int | None = None
    # network (the architecture itself: NetworkSettings)
    context_length: int | None = None
    # context in seasons when context_length is not given (None: 2, or 4 on long series)
    context_seasons: int | None = None
    patch_length: int | None = None
    # seasons of history the seasonal profile input is rebuilt from (models.scaling); 0 = none.
    # A forecast then reads up to this many seasons: with only the context it is less accurate
    # on trending seasonal series (ablations.md sections 8 and 12)
    profile_seasons: int = 20
    # "auto": log or none, whichever ridge skip has the lower rolling-origin CV error in the
    # series' units (log only tried on a positive series); "log" / "none" force one
    transform: str = "auto"
    # start the linear skip at a ridge fit whose penalty is picked on validation
    skip_init: str = "ridge"
    # keep the ridge skip fixed: Adam steps would pull it off its closed-form optimum, and
    # the recurrent part then learns only the correction
    train_skip: bool = False
    # optimisation
    max_epochs: int = 60
    patience: int = 8
    min_epochs: int = 1
    # after early stopping, retrain on train + validation for the best epoch count
    refit: bool = True
    batch_size: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    gradient_clip: float = 1.0
    windows_per_epoch: int = 4096
    min_windows_per_epoch: int = 1024
    seed: int = 42
    num_threads: int = 1
    # what the run trains: "local" (a network of its own, from scratch), "zero-shot" (the base
    # network as pretrained) or "fine-tuned" (the base network trained further on the series)
    candidate: str = "local"
    # the base artifact the zero-shot and fine-tuned candidates start from (None: models/base/)
    base: str | None = None
    # fine-tuning adjusts pretrained weights: fewer epochs and smaller steps than a fit from scratch
    finetune_max_epochs: int = 20
    finetune_patience: int = 3
    finetune_learning_rate: float = 3e-4

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.candidate not in CANDIDATES:
            raise DataError(f"candidate must be one of {CANDIDATES}, got {self.candidate!r}")
        if not re.fullmatch(MODEL_NAME_PATTERN, self.name) or len(self.name) > 200:
            raise DataError(
                f"name {self.name!r} cannot be served: use letters, digits, '_', '.' or '-' "
                "(starting with a letter or digit, at most 200 characters)"
            )
        if self.transform not in TRANSFORMS:
            raise DataError(f"transform must be one of {TRANSFORMS}, got {self.transform!r}")
        if self.profile_seasons < 0:
            raise DataError(
                f"--profile-seasons must be >= 0 (0 = no seasonal profile), got {self.profile_seasons}"
            )

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: object) -> TrainConfig:
        values = yaml.safe_load(Path(path).read_text()) or {}
        return cls.from_dict({**values, **{k: v for k, v in overrides.items() if v is not None}})

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)

    @classmethod
    def builtin(cls, series: str, **overrides: object) -> TrainConfig:
        if series not in BUILTIN_SERIES:
            raise ValueError(f"unknown built-in series {series!r}; choose from {BUILTIN_SERIES}")
        config = cls.from_yaml(CONFIG_DIR / f"{series}.yaml", **overrides)
        data = Path(config.data)
        return config if data.is_absolute() else replace(config, data=str(BUILTIN_ROOT / data))

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def base_path(self) -> Path:
        """The base artifact a zero-shot or fine-tuned candidate starts from."""
        return Path(self.base) if self.base else SHIPPED_BASE

    @property
    def label(self) -> str:
        """What tells this run's model from the series' other candidates: its cell, or how it uses the base."""
        return self.cell if self.candidate == "local" else self.candidate

    def resolve(self, series: SeriesData) -> TrainConfig:
        """Fill every None from the series: horizon = one season, context = two, splits sized to fit.

        A short series gives up, in this order, test/validation length (down to one horizon),
        context (down to one season), and - only when no horizon was asked for - horizon
        (halved, down to a quarter of the default); an explicit value is never changed, only checked.
        """
        for option in ("horizon", "test_size", "val_size", "context_length", "multi_step_stride"):
            value = getattr(self, option)
            if value is not None and value < 1:
                raise DataError(f"--{option.replace('_', '-')} must be >= 1, got {value}")
        m = series.season_length
        default = self.horizon or (m if m > 1 else 5)
        shortest = max(1, default // 4)  # below a quarter season the default forecast is not worth having
        horizon = default
        while True:
            try:
                resolved = self._resolve_for_horizon(series, horizon)
            except DataError:
                if self.horizon is not None or horizon // 2 < shortest:
                    raise
                horizon //= 2
                continue
            if horizon < default:
                # a panel's horizon is its median series' (`resolve_panel`): name the series
                which = f"series {series.name!r}, of median length, has " if series.name != self.name else ""
                log.warning(
                    "%s: %s%d points, too few for the default horizon %d; trained for horizon %d "
                    "(longer forecasts are extended recursively)",
                    self.name,
                    which,
                    len(series),
                    default,
                    horizon,
                )
            return resolved

    def resolve_panel(self, series: Sequence[SeriesData]) -> TrainConfig:
        """`resolve` against the shortest series that affords it, so that every series shares
        its horizon, context and split sizes (each split by its own end). Without a horizon
        asked for, the horizon is the one the median-length series affords - the default
        unless most series are short - so that a few short series (stores opened this year) do
        not shorten every series' forecasts. A series too short for one training window under
        them is not trained on (`trained_on`) but is stored with the others: the model
        forecasts it from its tail when that covers the model's history."""
        by_length = sorted(series, key=len)
        if not by_length:
            raise DataError(f"{self.data}: a panel without series")
        config = self
        if self.horizon is None:
            # when the median series affords no window, the shortest series that affords one decides
            with contextlib.suppress(DataError):
                config = replace(self, horizon=self.resolve(by_length[len(by_length) // 2]).horizon)
        for candidate in by_length[:-1]:
            with contextlib.suppress(DataError):
                return config.resolve(candidate)
        return config.resolve(by_length[-1])

    @property
    def window_points(self) -> int:
        """The points one training window takes out of a series (a resolved config): context,
        horizon, validation and test part."""
        return self.context_length + self.horizon + self.val_size + self.test_size

    def _resolve_for_horizon(self, series: SeriesData, horizon: int) -> TrainConfig:
        m = series.season_length
        n = len(series)
        for option in ("test_size", "val_size"):
            value = getattr(self, option)
            if value is not None and value < horizon:
                raise DataError(
                    f"--{option.replace('_', '-')} {value} is shorter than the horizon {horizon}: "
                    "it would hold no complete forecast window"
                )
        test = self.test_size or max(horizon, min(n // 5, 4 * max(horizon, m)))
        val = self.val_size or test
        # two seasons of context; four when the series is long enough to afford them
        seasons = self.context_seasons or (4 if m > 1 and n - test - val >= LONG_SERIES_SEASONS * m else 2)
        context = self.context_length or max(2 * horizon, seasons * m, 8)

        def windows() -> int:
            return n - test - val - context - horizon + 1

        while windows() < MIN_TRAIN_WINDOWS and (
            (self.test_size is None and test > horizon) or (self.val_size is None and val > horizon)
        ):
            test = test - 1 if self.test_size is None and test > horizon else test
            val = val - 1 if self.val_size is None and val > horizon else val
        # a short series gives up context down to one season, or to a year of a monthly series
        # when the season is longer (two years of weekly data cannot afford 52 weeks of context)
        while (
            self.context_length is None
            and context > max(horizon, min(m, SHORTEST_SEASON_CONTEXT), 4)
            and windows() < MIN_TRAIN_WINDOWS
        ):
            context -= 1
        if windows() < MIN_TRAIN_WINDOWS:
            raise DataError(self._too_short_message(series, horizon, context, val, test))
        return replace(
            self,
            freq=series.freq,
            season_length=m,
            horizon=horizon,
            test_size=test,
            val_size=val,
            context_length=context,
            multi_step_stride=self.multi_step_stride or 1,
            # the encoder runs over at most ~MAX_RECURRENT_STEPS patches of the context
            patch_length=self.patch_length or -(-context // MAX_RECURRENT_STEPS),
        )

    def _points_needed(self, horizon: int, context: int, val: int, test: int) -> int:
        # the first training window takes context + horizon points, each further one one more
        return context + horizon + MIN_TRAIN_WINDOWS - 1 + val + test

    def _too_short_message(self, series: SeriesData, horizon: int, context: int, val: int, test: int) -> str:
        """What the series lacks, part by part, and whether a shorter horizon would fit."""
        n = len(series)
        needed = self._points_needed(horizon, context, val, test)
        message = (
            f"series {series.name!r} has {n} points; horizon {horizon} needs at least {needed}: "
            f"context {context} + horizon {horizon} + {MIN_TRAIN_WINDOWS - 1} more for the "
            f"{MIN_TRAIN_WINDOWS} training windows + validation {val} + test {test}. "
        )
        # the least any horizon needs: horizon 1, the shortest context and splits resolve allows
        context_1 = self.context_length or max(1, min(series.season_length, SHORTEST_SEASON_CONTEXT), 4)
        least = self._points_needed(1, context_1, self.val_size or 1, self.test_size or 1)
        if horizon > 1 and n >= least:
            return (
                message
                + "A shorter horizon fits: --horizon 1 (make train ... HORIZON=1) needs "
                + f"{least}."
            )
        return message + f"No horizon fits: the least this series needs is {least} points (horizon 1)."

    def network_config(self, profile_length: int = 0) -> ForecasterConfig:
        if self.context_length is None or self.horizon is None:
            raise ValueError("resolve() the config against its series first")
        return ForecasterConfig(
            **self.network_settings(),
            context_length=self.context_length,
            horizon=self.horizon,
            patch_length=self.patch_length or 1,
            profile_length=profile_length,
        )


def trained_on(config: TrainConfig, series: Sequence[SeriesData]) -> list[SeriesData]:
    """The series of a panel that a resolved config trains on: those with `window_points`."""
    return [one for one in series if len(one) >= config.window_points]


def set_aside_warning(config: TrainConfig, series: Sequence[SeriesData]) -> str | None:
    """What a panel run says about the series it does not train on (None: it trains on all)."""
    short = [f"{one.name!r} ({len(one)} points)" for one in series if len(one) < config.window_points]
    if not short:
        return None
    shown = ", ".join(short[:10]) + (f" and {len(short) - 10} more" if len(short) > 10 else "")
    return (
        f"{config.name}: {len(short)} of {len(series)} series are too short for one training window "
        f"(context {config.context_length} + horizon {config.horizon} + validation {config.val_size} "
        f"+ test {config.test_size} = {config.window_points} points) and are not trained on: {shown}; "
        "the model is trained on the others; a request for one of these is answered from its stored "
        "values when they cover the model's context, else refused naming the series"
    )


def with_id_column(config: TrainConfig) -> TrainConfig:
    """`config` with its file's id column: the one given, else the inferred one (None: one series)."""
    id_column = find_id_column(config.data, config.id_column, config.time_column, config.value_column)
    return replace(config, id_column=id_column)


def load_panel(config: TrainConfig) -> list[SeriesData]:
    """Every series a config trains on: a panel's through `load_panel_csv`, a single series
    (no `id_column`) through `load_series`, as it was before panels."""
    if config.id_column is None:
        return [load_series(config)]
    return load_panel_csv(config.data, config.name, id_column=config.id_column, **_reading(config)).series


def load_series(config: TrainConfig) -> SeriesData:
    return load_csv(config.data, config.name, **_reading(config))


def _reading(config: TrainConfig) -> dict:
    """How the config says to read its file (columns, calendar, fill)."""
    return {
        "time_column": config.time_column,
        "value_column": config.value_column,
        "freq": config.freq,
        "season_length": config.season_length,
        "fill": config.fill,
    }
