"""models.allocator: memory a request frees stays with the process for the next one, and
worker threads allocate from that same heap."""

from __future__ import annotations

import subprocess
import sys

import pytest

from models.allocator import keep_freed_memory

# in a fresh interpreter: RSS growth (MB) left by allocating and freeing a 24 MB tensor
FREED = """
import sys, torch
from models.allocator import keep_freed_memory
applied = keep_freed_memory(int(sys.argv[1]))
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
torch.ones(1000).sum()  # torch's own lazy set-up is not what is measured
before = rss_mb()
block = torch.ones(6 * 2**20)
del block
print(applied, rss_mb() - before)
"""
# in a fresh interpreter: how many malloc arenas (glibc's malloc_info) after a thread allocated
ARENAS = """
import ctypes, sys, tempfile, threading, torch
from models.allocator import keep_freed_memory
keep_freed_memory(int(sys.argv[1]))
worker = threading.Thread(target=lambda: [torch.ones(1000), [bytearray(1000) for _ in range(100)]])
worker.start()
worker.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.NamedTemporaryFile("r") as report:
    stream = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(report.read().count("<heap nr="))
"""

glibc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")


def run_probe(probe: str, megabytes: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", probe, str(megabytes)], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


@glibc
def test_a_freed_tensor_stays_with_the_process_only_when_asked() -> None:
    applied, grown = run_probe(FREED, 256)
    assert applied == "True" and float(grown) > 20
    applied, grown = run_probe(FREED, 0)
    assert applied == "False" and float(grown) < 10


@glibc
def test_a_worker_thread_allocates_from_the_one_shared_heap() -> None:
    assert run_probe(ARENAS, 256) == ["1"]
    assert run_probe(ARENAS, 0) == ["2"]


def test_zero_leaves_the_allocator_alone() -> None:
    assert keep_freed_memory(0) is False
