"""Pretraining windows from the corpus, and the `LightningDataModule` that shards them.

Each epoch draws `windows_per_epoch` windows - a random series, weighted so that no frequency's
panel dominates, and a random cut point - from a table seeded by (seed, epoch), so every DDP rank
builds the same table and Lightning's `DistributedSampler` hands each rank its own share of it.
Validation windows come from a held-out slice of series, drawn once.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from models.base_network import BaseConfig
from training.corpus import Corpus, load_corpus

# A fixed stream of the seed for the validation windows (training streams are (seed, epoch)).
VALIDATION_STREAM = 10_000


# (history [B, C], target [B, H] NaN past a series' end, season [B], window index [B])
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def sampling_weights(corpus: Corpus, candidates: np.ndarray) -> np.ndarray:
    """Probabilities over `candidates` (series indices): each group of series of one source kind
    and frequency gets a share proportional to the square root of its size, split evenly among
    its series - 4,625 yearly series then weigh like 68 series, not 4,625."""
    groups = [f"{corpus.kinds[i]}/{corpus.freqs[i]}" for i in candidates]
    sizes = Counter(groups)
    weights = np.array([1.0 / math.sqrt(sizes[group]) for group in groups])
    return weights / weights.sum()


class CorpusWindows(Dataset):
    """Windows cut from corpus series: item i is the `history_lengths[i]` values before
    `cuts[i]` of series `series[i]` (NaN-padded on the left to the context) and the
    `horizon` values from the cut on (NaN past the series' end)."""

    def __init__(
        self,
        corpus: Corpus,
        series: np.ndarray,
        cuts: np.ndarray,
        history_lengths: np.ndarray,
        config: BaseConfig,
    ) -> None:
        self.corpus = corpus
        self.series = series
        self.cuts = cuts
        self.history_lengths = history_lengths
        self.context_length = config.context_length
        self.horizon = config.horizon

    def __len__(self) -> int:
        return len(self.series)

    def __getitem__(self, index: int) -> Batch:
        series, cut, length = int(self.series[index]), int(self.cuts[index]), int(self.history_lengths[index])
        values = self.corpus.values[self.corpus.offsets[series] : self.corpus.offsets[series + 1]]
        history = np.full(self.context_length, np.nan, dtype=np.float32)
        history[self.context_length - length :] = values[cut - length : cut]
        target = np.full(self.horizon, np.nan, dtype=np.float32)
        future = values[cut : cut + self.horizon]
        target[: len(future)] = future
        season = int(self.corpus.season_lengths[series])
        return torch.from_numpy(history), torch.from_numpy(target), torch.tensor(season), torch.tensor(index)


def draw_windows(
    corpus: Corpus,
    candidates: np.ndarray,
    count: int,
    rng: np.random.Generator,
    config: BaseConfig,
    min_history: int,
    short_share: float,
) -> CorpusWindows:
    """`count` windows of `candidates` (weighted by `sampling_weights`), cut uniformly where
    they have at least `min_history` values before and, where the series is long enough, a
    whole horizon after; a `short_share` of them keep only a random part of their context, so
    the network learns short histories too."""
    series = rng.choice(candidates, size=count, p=sampling_weights(corpus, candidates))
    lengths = corpus.lengths[series]
    first = np.minimum(min_history, lengths - 1)
    last = np.maximum(first, lengths - config.horizon)
    cuts = first + np.floor(rng.random(count) * (last - first + 1)).astype(np.int64)
    available = np.minimum(cuts, config.context_length)
    shortened = min_history + np.floor(rng.random(count) * (available - min_history + 1)).astype(np.int64)
    short = rng.random(count) < short_share
    history_lengths = np.where(short, np.minimum(shortened, available), available)
    return CorpusWindows(corpus, series, cuts, np.maximum(history_lengths, 1), config)


class CorpusDataModule(L.LightningDataModule):
    """Training windows drawn afresh each epoch (`reload_dataloaders_every_n_epochs=1`) and a
    fixed validation set from held-out series. No shuffling here: the table is already in
    random order, and under DDP Lightning's `DistributedSampler` gives rank r the windows
    r, r + N, r + 2N, ... of it."""

    def __init__(
        self,
        corpus: Corpus | str | Path,
        config: BaseConfig,
        batch_size: int = 256,
        windows_per_epoch: int = 20_000,
        val_windows: int = 2_000,
        val_share: float = 0.05,
        min_history: int = 8,
        short_share: float = 0.2,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            {
                "corpus": str(corpus) if not isinstance(corpus, Corpus) else "in memory",
                "batch_size": batch_size,
                "windows_per_epoch": windows_per_epoch,
                "val_windows": val_windows,
                "val_share": val_share,
                "min_history": min_history,
                "short_share": short_share,
                "seed": seed,
            }
        )
        self.source = corpus
        self.config = config
        self.batch_size = batch_size
        self.windows_per_epoch = windows_per_epoch
        self.val_windows = val_windows
        self.val_share = val_share
        self.min_history = min_history
        self.short_share = short_share
        self.seed = seed
        self.corpus: Corpus | None = None

    def setup(self, stage: str) -> None:
        if self.corpus is not None:
            return
        self.corpus = self.source if isinstance(self.source, Corpus) else load_corpus(self.source)
        usable = np.flatnonzero(self.corpus.lengths > self.min_history)
        if len(usable) < 2:
            raise ValueError(
                f"the corpus has {len(usable)} series longer than {self.min_history} values; need 2"
            )
        order = np.random.default_rng([self.seed, VALIDATION_STREAM]).permutation(usable)
        held_out = max(1, round(self.val_share * len(order)))
        self.val_series, self.train_series = np.sort(order[:held_out]), np.sort(order[held_out:])
        self.validation = draw_windows(
            self.corpus,
            self.val_series,
            self.val_windows,
            np.random.default_rng([self.seed, VALIDATION_STREAM, 1]),
            self.config,
            self.min_history,
            self.short_share,
        )

    def train_dataloader(self) -> DataLoader:
        epoch = self.trainer.current_epoch if self.trainer is not None else 0
        ranks = self.trainer.world_size if self.trainer is not None else 1
        # a whole number of windows per rank: the sampler would otherwise repeat some to even out
        count = math.ceil(self.windows_per_epoch / ranks) * ranks
        windows = draw_windows(
            self.corpus,
            self.train_series,
            count,
            np.random.default_rng([self.seed, epoch]),
            self.config,
            self.min_history,
            self.short_share,
        )
        return DataLoader(windows, batch_size=self.batch_size, shuffle=False)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.validation, batch_size=self.batch_size, shuffle=False)
