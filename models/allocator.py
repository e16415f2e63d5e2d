"""glibc's allocator set for batched tensor work: the service's forward passes and training.

A request for 1,000 series to `base` allocates and frees tensors of several MB dozens of
times, and so does every training step. glibc serves each from a fresh mmap (or trims the heap
after each free), so every one of them page-faults its memory in again: 40 % of that request's
time on a 2-core machine (benchmarks/results/serving.md), a fifth of `make pretrain`'s
(ablations.md section 31). Serving those allocations from the heap and keeping what was freed
for the next one removes that; the price is that the process keeps its peak heap instead of
handing it back to the OS. One arena for all threads: large batches run in the service's
threadpool, and a thread's own arena is made of heaps glibc maps and unmaps (the thresholds
above do not keep those).
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

# mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
# freed heap kept by default (the service's FORECAST_KEEP_FREED_MB, the training commands)
DEFAULT_KEEP_FREED_MB = 256
# the largest mmap threshold glibc accepts on 64-bit: a tensor up to this size comes from the heap
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024


def keep_freed_memory(megabytes: int) -> bool:
    """Allocate tensors up to 32 MB from the heap, keep up to `megabytes` of freed heap for the
    next request or step, and let every thread share that heap (0: leave glibc's defaults).
    Call before the process starts threads. False where the C library is not glibc."""
    if megabytes <= 0:
        return False
    try:
        # the process's own symbols, the C library's among them (find_library would run
        # ldconfig in a subprocess at every start-up)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        log.info("the C library has no mallopt: allocator left as it is")
        return False
    applied = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    applied &= mallopt(M_TRIM_THRESHOLD, megabytes * 1024 * 1024) == 1
    applied &= mallopt(M_ARENA_MAX, 1) == 1
    return applied
