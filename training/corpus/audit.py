"""Independent checks of a built corpus against the rules: what the tests (and a reviewer) run.

- the manifest lists exactly the corpus's real series, with their lengths;
- every real series is its source's values up to the dataset's cut, re-read from the package
  (a post-cut point, or any altered value, is a finding);
- no series of any kind (real, synthetic, mixed) contains a run of a `data/` or
  `benchmarks/data/` series, and no real series is on the deny-list.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.corpus import datasets, real
from training.corpus.exclusion import ContentMatcher, denied, reference_series
from training.corpus.store import Corpus


def manifest_findings(corpus: Corpus, manifest: list[dict[str, str]]) -> list[str]:
    real_lengths = {
        str(series_id): int(length)
        for series_id, kind, length in zip(corpus.ids, corpus.kinds, corpus.lengths, strict=True)
        if kind == "real"
    }
    listed = {row["id"]: int(row["points"]) for row in manifest}
    findings = [
        f"{series_id}: real series missing from the manifest"
        for series_id in real_lengths.keys() - listed.keys()
    ]
    findings += [
        f"{series_id}: in the manifest, not in the corpus"
        for series_id in listed.keys() - real_lengths.keys()
    ]
    findings += [
        f"{series_id}: {real_lengths[series_id]} points in the corpus, {listed[series_id]} in the manifest"
        for series_id in real_lengths.keys() & listed.keys()
        if real_lengths[series_id] != listed[series_id]
    ]
    return findings


def cut_findings(corpus: Corpus, sources: list[str], r_packages: tuple[str, ...] | None = None) -> list[str]:
    """Every real series compared with its source re-read and cut independently of the build."""
    expected: dict[str, np.ndarray] = {}
    for dataset in real.load_source_datasets(sources, r_packages):
        for series in datasets.cut_dataset(dataset, min_points=1):
            expected[series.id] = np.asarray(series.values, dtype=np.float32)
    findings = []
    for item in corpus:
        if item.kind != "real":
            continue
        source = expected.get(item.id)
        if source is None:
            findings.append(f"{item.id}: no such series in the sources {sources}")
        elif len(item.values) > len(source):
            findings.append(f"{item.id}: {len(item.values) - len(source)} points after its dataset's cut")
        elif not np.array_equal(item.values, source[: len(item.values)]) or len(item.values) < len(source):
            findings.append(f"{item.id}: values differ from the source up to the cut")
    return findings


def leak_findings(corpus: Corpus, reference_dirs: tuple[Path, ...]) -> list[str]:
    matcher = ContentMatcher(reference_series(reference_dirs))
    findings = []
    for item in corpus:
        if item.kind == "real" and (why := denied(item.id)) is not None:
            findings.append(f"{item.id}: on the deny-list ({why})")
        found = matcher.match(item.values)
        if found is not None:
            findings.append(f"{item.id} ({item.kind}): contains {found.reference}: {found.detail}")
    return findings
