"""The corpus file: variable-length float32 series plus per-series metadata, in one `.npz`.

Layout (every array plain numpy, so `np.load` reads it without pickles): `values` holds all
series end to end, `offsets[i]:offsets[i + 1]` is series i; `ids`, `kinds`, `freqs` are
unicode arrays and `season_lengths` an int32 array (0 = unknown), one entry per series.

The zip members are written with a fixed timestamp, so the same corpus gives the same bytes
(numpy's own `savez` stamps the current time into the archive).

Reading needs numpy only: no torch, Lightning or pandas.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
SOURCE_KINDS = ("real", "kernel_synth", "structural", "mixup")
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class CorpusSeries:
    """One series of the corpus and what is known about it."""

    id: str
    kind: str
    freq: str | None
    season_length: int | None
    values: np.ndarray


@dataclass(frozen=True)
class Corpus:
    """All series of a corpus, stored flat; index it or iterate over `CorpusSeries`."""

    values: np.ndarray
    offsets: np.ndarray
    ids: np.ndarray
    kinds: np.ndarray
    freqs: np.ndarray
    season_lengths: np.ndarray

    def __post_init__(self) -> None:
        count = len(self.ids)
        if len(self.offsets) != count + 1 or self.offsets[0] != 0 or self.offsets[-1] != len(self.values):
            raise ValueError("offsets do not match the values and the number of series")
        if not (len(self.kinds) == len(self.freqs) == len(self.season_lengths) == count):
            raise ValueError("every metadata array needs one entry per series")
        if np.any(np.diff(self.offsets) < 1):
            raise ValueError("every series needs at least one value")
        unknown_kinds = set(self.kinds.tolist()) - set(SOURCE_KINDS)
        if unknown_kinds:
            raise ValueError(f"unknown source kinds {sorted(unknown_kinds)}")
        if len(set(self.ids.tolist())) != count:
            raise ValueError("series ids must be unique")

    @classmethod
    def from_series(cls, items: Sequence[CorpusSeries]) -> Corpus:
        lengths = np.array([len(item.values) for item in items], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        values = (
            np.concatenate([np.asarray(item.values, dtype=np.float32) for item in items])
            if items
            else np.zeros(0, dtype=np.float32)
        )
        return cls(
            values=values,
            offsets=offsets,
            ids=np.array([item.id for item in items], dtype=np.str_),
            kinds=np.array([item.kind for item in items], dtype=np.str_),
            freqs=np.array([item.freq or "" for item in items], dtype=np.str_),
            season_lengths=np.array([item.season_length or 0 for item in items], dtype=np.int32),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> CorpusSeries:
        season = int(self.season_lengths[index])
        freq = str(self.freqs[index])
        return CorpusSeries(
            id=str(self.ids[index]),
            kind=str(self.kinds[index]),
            freq=freq or None,
            season_length=season or None,
            values=self.values[self.offsets[index] : self.offsets[index + 1]],
        )

    def __iter__(self) -> Iterator[CorpusSeries]:
        return (self[index] for index in range(len(self)))

    @property
    def series(self) -> list[np.ndarray]:
        """The value arrays (views into `values`), in corpus order."""
        return [
            self.values[start:end] for start, end in zip(self.offsets[:-1], self.offsets[1:], strict=True)
        ]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def of_kind(self, kind: str) -> list[CorpusSeries]:
        return [item for item in self if item.kind == kind]


def save_corpus(corpus: Corpus, path: Path) -> None:
    """Write `corpus` to `path` (an `.npz`), byte-identical for identical corpora."""
    arrays = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int32),
        "values": corpus.values.astype(np.float32, copy=False),
        "offsets": corpus.offsets.astype(np.int64, copy=False),
        "ids": corpus.ids,
        "kinds": corpus.kinds,
        "freqs": corpus.freqs,
        "season_lengths": corpus.season_lengths.astype(np.int32, copy=False),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            member = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, buffer.getvalue())
    # A build interrupted half-way must not leave a truncated corpus under the real name.
    partial.replace(path)


def load_corpus(path: str | Path) -> Corpus:
    """Read a corpus written by `save_corpus` (or `python -m training.corpus`)."""
    with np.load(Path(path), allow_pickle=False) as stored:
        version = int(stored["format_version"])
        if version != FORMAT_VERSION:
            raise ValueError(f"{path}: corpus format {version}, this code reads {FORMAT_VERSION}")
        return Corpus(
            values=stored["values"],
            offsets=stored["offsets"],
            ids=stored["ids"],
            kinds=stored["kinds"],
            freqs=stored["freqs"],
            season_lengths=stored["season_lengths"],
        )
