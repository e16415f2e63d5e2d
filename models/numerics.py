"""The forward pass's arithmetic setting, for every caller of an artifact's `predict` (the
service, the pyfunc model, the benchmarks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def subnormals_as_zero() -> Iterator[None]:
    """Float32 values below the normal range (~1e-38) read and written as 0 while the forward
    pass runs: CPU arithmetic on them is many times slower, and the base's in-context fits of
    very regular series produce them (serving.md, session 21). Only for the pass: the setting is
    the thread's processor state, which an application embedding the service shares."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
